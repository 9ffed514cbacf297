"""Reads of assessments for pages and API (the caller has loaded the patient through an access getter)."""

from __future__ import annotations

from django.db.models import QuerySet

from ketaclinic.assessments.episode import Episode, episode_of
from ketaclinic.assessments.models import Assessment
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.patients.models import Patient


def assessments_of(patient: Patient, instrument: str | None = None) -> QuerySet[Assessment]:
    rows = Assessment.objects.filter(patient=patient)
    if instrument:
        rows = rows.filter(instrument=instrument)
    return rows.order_by("-taken_at", "-pk")


def episode(patient: Patient, instrument: str) -> Episode:
    return episode_of(patient, instrument, policy_for(patient.location), patient.location)
