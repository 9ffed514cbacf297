"""Rows of every scheduling table for ketaclinic/tests/test_fastload.py, nulls and values both present: a
booked visit, and one cancelled; a week's proposal with a visit placed and one refused; a reminder confirmed
and one not; a waitlist entry with preferred times and one without, its slot offer; a live calendar feed and
a revoked one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import actions
from ketaclinic.scheduling.models import (
    CalendarFeed,
    Proposal,
    ProposedVisit,
    SlotOffer,
    VisitConfirmation,
    WaitlistEntry,
)
from ketaclinic.scheduling.tests.helpers import at, book, weekday_ahead


def fill(patient: Patient) -> None:
    location = patient.location
    day = weekday_ahead(location)
    book(patient, at(location, day, 10))
    cancelled = book(patient, at(location, day, 13))
    desk = get_user_model().objects.get(username=f"frontdesk.{location.slug}")
    actions.do_cancel_appointment(cancelled, "Patient asked to move it", actor=desk)
    _calendar_rows(patient, booked=book(patient, at(location, day, 15)), freed=cancelled, desk=desk)


def _calendar_rows(patient: Patient, *, booked: Any, freed: Any, desk: Any) -> None:
    location, now = patient.location, timezone.now()
    chair = Chair.objects.filter(location=location).order_by("pk").first()
    assert chair is not None
    week = timezone.localdate() + dt.timedelta(days=7)
    proposal = Proposal.objects.create(
        location=location, week_start=week, time_limit_seconds=2.5, created_at=now, created_by=desk
    )
    Proposal.objects.create(
        location=location,
        week_start=week,
        time_limit_seconds=10,
        seconds=1.25,
        status="done",
        proven_optimal=True,
        unplaced=[{"reason": "no chair"}],
        created_at=now,
        created_by=desk,
        finished_at=now,
        accepted_at=now,
    )
    starts = now + dt.timedelta(days=8)
    ProposedVisit.objects.create(
        proposal=proposal,
        patient=patient,
        kind="consultation",
        chair=chair,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        appointment=booked,
    )
    ProposedVisit.objects.create(
        proposal=proposal,
        patient=patient,
        kind="consultation",
        chair=chair,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        status="refused",
        reason="SCHED-CHAIR-OVERLAP",
    )
    VisitConfirmation.objects.create(appointment=booked, token_hash="a" * 64, sent_at=now, confirmed_at=now)
    VisitConfirmation.objects.create(appointment=freed, token_hash="b" * 64, sent_at=now)
    entry = WaitlistEntry.objects.create(
        patient=patient,
        location=location,
        kind="consultation",
        preferred_days=[1, 3],
        preferred_from=dt.time(9),
        preferred_to=dt.time(12, 30),
        added_at=now,
        added_by=desk,
    )
    WaitlistEntry.objects.create(
        patient=patient, location=location, kind="consultation", added_at=now, added_by=desk
    )
    SlotOffer.objects.create(
        entry=entry,
        location=location,
        chair=chair,
        starts_at=starts,
        freed_from=freed,
        token_hash="c" * 64,
        offered_at=now,
        hold_until=now + dt.timedelta(hours=1),
    )
    SlotOffer.objects.create(
        entry=entry,
        location=location,
        chair=chair,
        starts_at=starts,
        appointment=booked,
        status="accepted",
        token_hash="d" * 64,
        offered_at=now,
        hold_until=now,
    )
    CalendarFeed.objects.create(user=desk, token_hash="e" * 64, created_at=now, revoked_at=now)
    CalendarFeed.objects.create(user=desk, token_hash="f" * 64, created_at=now)
