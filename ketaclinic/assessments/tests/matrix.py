"""The assessment routes of the access matrix (patients/tests/test_access_matrix.py), and the state each
needs for an allowed call to succeed: one recorded PHQ-9 of the matrix's patient (`{assessment}`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ketaclinic.accounts.models import User
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import Assessment, Source
from ketaclinic.patients.models import Patient

READERS = {"prescriber", "nurse", "therapist", "frontdesk"}
RECORDERS = {"prescriber", "nurse", "therapist"}
P = "/assessments/patients/{pid}"
A = "/api/v1/patients/{pid}"
MADRS_FORM = {f"item-{n}": "2" for n in range(1, 11)}
PHQ9 = {"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 0], "taken_at": "2026-01-05T09:00:00+00:00"}

# (name, method, url template, body, allowed roles, scoped to the patient's location, API?)
ROUTES: list[tuple[str, str, str, Any, set[str], bool, bool]] = [
    ("assessments page", "get", f"{P}/", None, READERS, True, False),
    ("assessments chart panel", "get", f"{P}/panel/?instrument=madrs", None, READERS, True, False),
    ("assessment entry form", "get", f"{P}/new/madrs/", None, RECORDERS, True, False),
    ("assessment entry", "post", f"{P}/new/madrs/", MADRS_FORM, RECORDERS, True, False),
    ("assessment answers page", "get", f"{P}/{{assessment}}/", None, READERS, True, False),
    ("api record assessment", "post", f"{A}/assessments", PHQ9, RECORDERS, True, True),
    ("api assessments", "get", f"{A}/assessments?instrument=phq9", None, READERS, True, True),
    ("api read assessment", "get", f"{A}/assessments/{{assessment}}", None, READERS, True, True),
    ("api episode", "get", f"{A}/episode?instrument=phq9", None, READERS, True, True),
]
NAMES = {r[0] for r in ROUTES}
SAMPLE_IDS = {"assessment": 1}


def recorded(patient: Patient) -> int:
    """A PHQ-9 of the patient (the same one when asked again, so a retried request names the same row)."""
    made = Assessment.objects.filter(patient=patient, instrument="phq9").order_by("pk").first()
    if made is not None:
        return made.pk
    nurse = User.objects.get(username=f"nurse.{patient.location.slug}")
    data = AssessmentIn.model_validate(PHQ9)
    return do_record_assessment(patient, data, actor=nurse, source=Source.CLINIC).pk


def call(route: tuple[Any, ...], patient: Patient, send: Callable[[str, Any], Any]) -> Any:
    _, _, url, body = route[:4]
    ids = {"assessment": recorded(patient)} if "{assessment}" in url else {}
    return send(url.format(pid=patient.pk, **ids), body)
