"""ketaclinic rules: print the clinical rule catalogue, or check that docs/clinical-rules.md is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.clinical.catalogue import render_markdown

DOC = Path(settings.BASE_DIR) / "docs" / "clinical-rules.md"


class Command(BaseCommand):
    help = "Print the clinical rule catalogue with the policy values in force (Markdown)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check-docs", action="store_true", help="fail if the checked-in copy is stale")
        parser.add_argument("--write-docs", action="store_true", help="regenerate docs/clinical-rules.md")

    def handle(self, *args: Any, **options: Any) -> None:
        text = render_markdown()
        if options["write_docs"]:
            DOC.write_text(text)
            self.stdout.write(f"wrote {DOC}")
        elif options["check_docs"]:
            if not DOC.exists() or DOC.read_text() != text:
                raise CommandError("docs/clinical-rules.md is stale: run `ketaclinic rules --write-docs`")
            self.stdout.write("docs/clinical-rules.md is current")
        else:
            self.stdout.write(text)
