"""Rows of every scheduling table for ketaclinic/tests/test_fastload.py, nulls and values both present: a
booked visit, and one cancelled."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import actions
from ketaclinic.scheduling.tests.helpers import at, book, weekday_ahead


def fill(patient: Patient) -> None:
    location = patient.location
    day = weekday_ahead(location)
    book(patient, at(location, day, 10))
    cancelled = book(patient, at(location, day, 13))
    desk = get_user_model().objects.get(username=f"frontdesk.{location.slug}")
    actions.do_cancel_appointment(cancelled, "Patient asked to move it", actor=desk)
