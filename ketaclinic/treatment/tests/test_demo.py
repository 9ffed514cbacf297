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
        # Scheduled sessions are not on the floor yet, and a visit cancelled today never reaches it (in the
        # first hours of a location's day the calendar's demo may cancel one).
        sessions = TreatmentSession.objects.filter(location=location, date=today).exclude(
            status__in=["scheduled", "cancelled"]
        )
        stages = sorted(queries.stage(s) for s in sessions.select_related("plan"))
        assert stages == sorted(fits), location.slug


def test_the_rems_queue_holds_forms_overdue_and_due_at_each_location(db: None) -> None:
    from ketaclinic.accounts.models import User
    from ketaclinic.rems.queries import queue
    from ketaclinic.treatment.demo import EARLIER_SESSIONS_DAYS_AGO

    demo.load(timezone.localdate(), patients_per_location=16)
    for location in ClinicLocation.objects.all():
        nurse = User.objects.get(username=f"nurse.{location.slug}")
        items = queue(nurse, location)
        today = local_today(location)
        earlier = sorted(today - i.session_date for i in items if i.session_date < today)
        assert earlier == sorted(dt.timedelta(days=d) for d in EARLIER_SESSIONS_DAYS_AGO), location.slug
        statuses = [i.status for i in items]
        assert "overdue" in statuses and "due" in statuses
        assert statuses == sorted(statuses, key=lambda s: s != "overdue")  # overdue first
        for item in items:
            session = TreatmentSession.objects.get(pk=item.session_id)
            assert session.status == "signed" and session.signed_at is not None
            assert local_today(location) - session.date <= dt.timedelta(days=max(EARLIER_SESSIONS_DAYS_AGO))
        # The earlier courses ended: nothing of theirs waits unattended on a past or today's day.
        stale = TreatmentSession.objects.filter(location=location, date__lt=today, status="scheduled")
        assert not stale.exists()
