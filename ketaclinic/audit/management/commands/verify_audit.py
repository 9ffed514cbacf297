"""ketaclinic verify_audit: recompute the audit hash chain and report the first altered or missing event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.audit.actions import verify_chain


class Command(BaseCommand):
    help = "Verify that no audit event was altered, removed or reordered."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(f"audit chain broken at event #{report.first_bad_seq}: {report.problem}")
        self.stdout.write(f"audit chain intact: {report.checked} events")
