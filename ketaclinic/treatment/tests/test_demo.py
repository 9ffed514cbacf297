"""The demo clinic's treatment floor: today's sessions in every stage at each location."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinicpolicy.clock import day_bounds, local_today
from ketaclinic.demo import data as demo
from ketaclinic.treatment import queries
from ketaclinic.treatment.demo import STAGES
from ketaclinic.treatment.models import TreatmentSession

EXPECTED = {
    "discharged": "discharged",
    "ready": "ready_for_discharge",
    "monitoring": "monitoring",
    "dosing": "dosing",
    "pre_dose": "pre_dose",
    "checked_in": "checked_in",
}


def test_every_stage_that_fits_in_the_locations_day_is_on_the_floor(db: None) -> None:
    demo.load(timezone.localdate(), patients_per_location=12)
    for location in ClinicLocation.objects.all():
        today = local_today(location)
        midnight, _ = day_bounds(location, today)
        fits = [
            EXPECTED[stage]
            for stage, _, minutes in STAGES
            if timezone.now() - dt.timedelta(minutes=minutes) >= midnight + dt.timedelta(minutes=1)
        ]
        sessions = TreatmentSession.objects.filter(location=location, date=today).exclude(status="scheduled")
        stages = sorted(queries.stage(s) for s in sessions.select_related("plan"))
        assert stages == sorted(fits), location.slug
