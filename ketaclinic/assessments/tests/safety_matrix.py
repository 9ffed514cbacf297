"""The safety and worklist routes of the access matrix (patients/tests/test_access_matrix.py), and the state
each needs for an allowed call to succeed: an open worsening flag of the matrix's patient (raised by two
PHQ-9s through the actions) and a recorded safety plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import AlertKind, AlertStatus, SafetyAlert, SafetyPlan
from ketaclinic.assessments.safety import do_record_safety_plan
from ketaclinic.assessments.safety_inputs import SafetyPlanIn
from ketaclinic.patients.models import Patient

WORKLIST = {"prescriber", "nurse", "therapist"}
PRESCRIBERS = {"prescriber"}
READERS = {"prescriber", "nurse", "therapist", "frontdesk"}
P = "/safety/patients/{pid}"
A = "/api/v1/patients/{pid}"
CSSRS_NONE = {"q1": "no", "q2": "no", "q6": "no"}
PLAN = {"plan_text": "Call or text 988; 911 in immediate danger."}
REVIEW = {"note": "Reviewed with the patient."}

# (name, method, url template, body, allowed roles, scoped to the patient's location, API?)
ROUTES: list[tuple[str, str, str, Any, set[str], bool, bool]] = [
    ("worklist page", "get", "/worklist/", None, WORKLIST, False, False),
    ("api worklist", "get", "/api/v1/worklist", None, WORKLIST, False, True),
    ("cssrs page", "get", f"{P}/cssrs/", None, PRESCRIBERS, True, False),
    ("cssrs entry", "post", f"{P}/cssrs/", CSSRS_NONE, PRESCRIBERS, True, False),
    ("safety plan page", "get", f"{P}/safety-plan/", None, PRESCRIBERS, True, False),
    ("safety plan entry", "post", f"{P}/safety-plan/", PLAN, PRESCRIBERS, True, False),
    ("worsening review page", "get", f"{P}/alerts/{{alert}}/review/", None, PRESCRIBERS, True, False),
    ("worsening review", "post", f"{P}/alerts/{{alert}}/review/", REVIEW, PRESCRIBERS, True, False),
    ("api safety alerts", "get", f"{A}/safety-alerts", None, READERS, True, True),
    ("api close safety alert", "post", f"{A}/safety-alerts/{{alert}}/close", REVIEW, PRESCRIBERS, True, True),
    ("api record safety plan", "post", f"{A}/safety-plans", PLAN, PRESCRIBERS, True, True),
    ("api read safety plan", "get", f"{A}/safety-plans/{{safety_plan}}", None, READERS, True, True),
]
NAMES = {r[0] for r in ROUTES}


def _phq9(total: int) -> list[int]:
    items = [0] * 9
    for i in range(total):
        items[i % 8] += 1
    return items


def worsening_alert(patient: Patient) -> SafetyAlert:
    """The patient's open worsening flag: a PHQ-9 of 8 two weeks ago, then 16 (the same one on a retry)."""
    found = SafetyAlert.objects.filter(patient=patient, kind=AlertKind.WORSENING).first()
    if found is not None:
        return found
    nurse = User.objects.get(username=f"nurse.{patient.location.slug}")
    before = (timezone.now() - dt.timedelta(days=14)).isoformat()
    for body in (
        {"instrument": "phq9", "answers": _phq9(8), "taken_at": before},
        {"instrument": "phq9", "answers": _phq9(16)},
    ):
        do_record_assessment(patient, AssessmentIn.model_validate(body), actor=nurse)
    return SafetyAlert.objects.get(patient=patient, kind=AlertKind.WORSENING, status=AlertStatus.OPEN)


def safety_plan(patient: Patient) -> SafetyPlan:
    found = SafetyPlan.objects.filter(patient=patient).first()
    if found is not None:
        return found
    prescriber = User.objects.get(username=f"prescriber.{patient.location.slug}")
    return do_record_safety_plan(patient, SafetyPlanIn(plan_text="Call 988."), actor=prescriber)


def call(route: tuple[Any, ...], patient: Patient, send: Callable[[str, Any], Any]) -> Any:
    _, _, url, body, *_ = route
    ids: dict[str, Any] = {"pid": patient.pk}
    if "{alert}" in url:
        ids["alert"] = worsening_alert(patient).pk
    if "{safety_plan}" in url:
        ids["safety_plan"] = safety_plan(patient).pk
    return send(url.format(**ids), body)
