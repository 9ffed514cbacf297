"""ketaclinic load_outcome_history: add past courses for the outcome report to a demo clinic (the full demo
has them already; the browser journeys' small demo adds them with this)."""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.outcomes import demo


class Command(BaseCommand):
    help = "Add synthetic past courses (plans, sessions, PHQ-9 and MADRS scores) at each demo location."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--per-location", type=int, default=demo.PATIENTS_PER_LOCATION)
        parser.add_argument("--seed", type=int, default=14)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.KETACLINIC_DEMO:
            raise CommandError("synthetic history belongs in demo databases only; set KETACLINIC_DEMO=1")
        locations = list(ClinicLocation.objects.order_by("slug"))
        with transaction.atomic():
            made = demo.load(
                locations,
                timezone.localdate(),
                random.Random(options["seed"]),  # noqa: S311 - demo data, not security
                per_location=options["per_location"],
            )
        self.stdout.write(f"Added {made} past courses.")
