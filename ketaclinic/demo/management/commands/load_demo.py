"""ketaclinic load_demo: load the demo clinic network once (demo databases only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ketaclinic.demo import data
from ketaclinic.homecare import demo as homecare_demo
from ketaclinic.portal import demo as portal_demo


class Command(BaseCommand):
    help = "Load the demo clinic network (two locations, staff personas, about 80 patients) once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--patients", type=int, default=data.PATIENTS_PER_LOCATION, help="patients per location"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.KETACLINIC_DEMO:
            raise CommandError("the demo clinic has known passwords; load it only with KETACLINIC_DEMO=1")
        loaded = data.load(timezone.localdate(), patients_per_location=options["patients"])
        self.stdout.write("Demo clinic loaded." if loaded else "Demo clinic already loaded; nothing changed.")
        self.stdout.write(f"Demo logins (password '{data.PASSWORD}'): " + ", ".join(data.logins()))
        if data.has_director():
            self.stdout.write(
                f"Clinic director of every location (the network's outcome report): {data.DIRECTOR} "
                f"(password '{data.PASSWORD}')"
            )
        if patient_login := portal_demo.login():
            self.stdout.write(patient_login)
        if home_login := homecare_demo.login():
            self.stdout.write(home_login)
