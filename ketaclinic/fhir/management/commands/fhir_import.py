"""ketaclinic fhir_import FILE --user <username> --location <slug>: import patients from FHIR.

FILE is NDJSON (one resource a line, e.g. the files of a bulk export, concatenated or not) or a JSON Bundle.
Patients are registered as `--user` would register them (that user must write patients at the location,
and record questionnaires there for a file with QuestionnaireResponses), with their history, body
measurements and questionnaires, one transaction per patient; the report lists what was created, skipped
and refused, and why (docs/fhir.md, "Import").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import CLI
from ketaclinic.fhir import importer


class Command(BaseCommand):
    help = "Import patients with their history, measurements and questionnaires from FHIR NDJSON or a Bundle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="+", help="NDJSON or Bundle JSON file(s), read in order")
        parser.add_argument("--user", required=True, help="the staff user the patients are registered by")
        parser.add_argument("--location", required=True, help="the location's slug")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        location = ClinicLocation.objects.filter(slug=options["location"]).first()
        if user is None:
            raise CommandError(f"no active staff user named {options['user']!r}")
        if location is None:
            raise CommandError(f"no location {options['location']!r}")
        if not can(user, Perm.PATIENT_WRITE, location.pk):
            raise CommandError(f"{user.username} may not register patients at {location.slug}")
        items: list[Any] = []
        for name in options["file"]:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"no file {name}")
            try:
                with path.open("rb") as handle:
                    head = handle.read(1)
                    handle.seek(0)
                    if head == b"{" and not path.suffix.endswith("ndjson"):
                        bundle = orjson.loads(handle.read())
                        items.extend(importer.bundle_items(bundle, []))
                    else:
                        items.extend(importer.ndjson_items(handle))
            except (orjson.JSONDecodeError, AttributeError) as exc:
                raise CommandError(f"{name} is neither NDJSON nor a FHIR Bundle") from exc
        # Renumber so the report's entries follow the files' order across several files.
        for index, (item, _url) in enumerate(items):
            item.index = index
        report = importer.import_items(items, actor=user, location=location, origin=CLI)
        for entry in report.entries:
            if entry.status != importer.CREATED:
                self.stdout.write(f"{entry.index + 1}: {entry.resource_type} {entry.status}: {entry.reason}")
        summary = report.summary()
        self.stdout.write(
            f"created {summary['created']}, skipped {summary['skipped']}, refused {summary['refused']} "
            f"({report.count('created', 'Patient')} patients created)"
        )
