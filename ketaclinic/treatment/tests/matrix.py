"""The treatment routes of the access matrix (patients/tests/test_access_matrix.py), and the state each
needs for an allowed call to succeed: a draft plan to approve, a checked-in session to chart, a discharged
one to sign. The clock is pinned to 9 o'clock at the patient's location while a case is prepared and sent,
and moved as the session's day goes on (a discharge two hours after the dose)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from unittest import mock

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.patients.models import Patient
from ketaclinic.tests import memo
from ketaclinic.treatment import actions, inputs
from ketaclinic.treatment.models import AlertAnswer, ObservationInstrument, SessionAlert
from ketaclinic.treatment.tests.helpers import clear, midday, plan_today, vitals

PRESCRIBER = {"prescriber"}
CHECK_IN = {"prescriber", "nurse", "frontdesk"}
CHARTING = {"prescriber", "nurse"}
READERS = {"prescriber", "nurse", "therapist", "frontdesk"}

S = "/api/v1/sessions/{session}"
P = "/api/v1/treatment-plans/{plan}"
NOW = "{now}"
READING = {
    "taken_at": NOW,
    "systolic_mmhg": 120,
    "diastolic_mmhg": 80,
    "heart_rate_bpm": 70,
    "spo2_percent": 98,
}

# (name, method, url template, body, allowed roles, scoped to the patient's location, API?)
ROUTES: list[tuple[str, str, str, Any, set[str], bool, bool]] = [
    (
        "api create plan",
        "post",
        "/api/v1/patients/{pid}/treatment-plans",
        {
            "modality": "esketamine_nasal",
            "protocol": "esketamine_trd",
            "start_date": "{today}",
            "dose_mg": "56",
            "clinic_days": [0, 1, 2, 3, 4, 5, 6],
        },
        PRESCRIBER,
        True,
        True,
    ),
    ("api list plans", "get", "/api/v1/patients/{pid}/treatment-plans", None, READERS, True, True),
    ("api read plan", "get", P, None, READERS, True, True),
    ("api approve plan", "post", f"{P}/approve", {}, PRESCRIBER, True, True),
    ("api pause plan", "post", f"{P}/pause", {"reason": "Travelling"}, PRESCRIBER, True, True),
    ("api resume plan", "post", f"{P}/resume", {"reason": "Back"}, PRESCRIBER, True, True),
    ("api plan dose", "post", f"{P}/dose", {"dose_mg": "56", "reason": "Keep"}, PRESCRIBER, True, True),
    (
        "api plan frequency",
        "post",
        f"{P}/frequency",
        {"maintenance_sessions": 2, "reason": "More"},
        PRESCRIBER,
        True,
        True,
    ),
    ("api end plan", "post", f"{P}/end", {"reason": "Course complete"}, PRESCRIBER, True, True),
    ("api read session", "get", S, None, READERS, True, True),
    ("api check in", "post", f"{S}/check-in", {}, CHECK_IN, True, True),
    ("api assignment", "post", f"{S}/assignment", {"monitored_by_me": True}, CHARTING, True, True),
    (
        "api pre-dose checks",
        "post",
        f"{S}/pre-dose-checks",
        {"identity_confirmed": True, "ride_home_arranged": True, "medication_changes": False},
        CHARTING,
        True,
        True,
    ),
    ("api vitals", "post", f"{S}/vitals", READING, CHARTING, True, True),
    (
        "api answer alert",
        "post",
        f"{S}/alerts/{{alert}}/answer",
        {"answer": "deferred"},
        CHARTING,
        True,
        True,
    ),
    (
        "api dose",
        "post",
        f"{S}/doses",
        {"amount_mg": "56", "lot_number": "ESK-1", "started_at": NOW},
        CHARTING,
        True,
        True,
    ),
    ("api device", "post", f"{S}/devices/{{device}}", {"used_at": NOW}, CHARTING, True, True),
    ("api dose end", "post", f"{S}/dose-end", {"ended_at": NOW}, CHARTING, True, True),
    (
        "api observation",
        "post",
        f"{S}/observations",
        {"instrument": "moaas", "answers": [5], "taken_at": NOW},
        CHARTING,
        True,
        True,
    ),
    (
        "api adverse event",
        "post",
        f"{S}/adverse-events",
        {
            "code": "headache",
            "severity": "mild",
            "onset_at": NOW,
            "action_taken": "Rest",
            "outcome": "resolving",
        },
        CHARTING,
        True,
        True,
    ),
    (
        "api discharge",
        "post",
        f"{S}/discharge",
        {"ready_to_leave_minutes": 90, "escort_name": "A. Friend"},
        CHARTING,
        True,
        True,
    ),
    ("api sign", "post", f"{S}/sign", {}, CHARTING, True, True),
    (
        "api amend",
        "post",
        f"{S}/amendments",
        {"reason": "Late entry", "note": "Home safely"},
        CHARTING,
        True,
        True,
    ),
]

# The pages: the same steps, posted as forms (times blank: now).
ROUTES += [
    ("plans page", "get", "/treatment/patients/{pid}/plans/", None, READERS, True, False),
    ("treatment panel", "get", "/treatment/patients/{pid}/panel/", None, READERS, True, False),
    (
        "create plan page",
        "post",
        "/treatment/patients/{pid}/plans/",
        {
            "modality": "esketamine_nasal",
            "protocol": "esketamine_trd",
            "dose": "56",
            "start_date": "{today}",
            "clinic_days": ["0", "1", "2", "3", "4", "5", "6"],
        },
        PRESCRIBER,
        True,
        False,
    ),
    ("plan page", "get", "/treatment/plans/{plan}/", None, READERS, True, False),
    ("approve plan page", "post", "/treatment/plans/{plan}/approve/", {}, PRESCRIBER, True, False),
    ("session page", "get", "/treatment/sessions/{session}/", None, READERS, True, False),
    ("check in page", "post", "/treatment/sessions/{session}/check-in/", {}, CHECK_IN, True, False),
    (
        "vitals page",
        "post",
        "/treatment/sessions/{session}/vitals/",
        {"systolic_mmhg": "120", "diastolic_mmhg": "80", "heart_rate_bpm": "70", "spo2_percent": "98"},
        CHARTING,
        True,
        False,
    ),
    (
        "answer alert page",
        "post",
        "/treatment/sessions/{session}/alerts/{alert}/",
        {"answer": "deferred"},
        CHARTING,
        True,
        False,
    ),
]

NAMES = {r[0] for r in ROUTES}
# What the pages' names resolve (the matrix's coverage test formats every page URL with these).
SAMPLE_IDS = {
    "plan": "00000000-0000-4000-8000-000000000000",
    "session": "00000000-0000-4000-8000-000000000000",
    "alert": 1,
}


class _Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.now = at

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@contextmanager
def frozen(patient: Patient) -> Iterator[_Clock]:
    clock = _Clock(midday(patient))
    with mock.patch.object(timezone, "now", lambda: clock.now):
        yield clock


def _staff(patient: Patient, role: str) -> User:
    return User.objects.get(username=f"{role}.{patient.location.slug}")


def prepare(name: str, patient: Patient, clock: _Clock) -> dict[str, Any]:
    """The ids the route's URL names, with the session in the state the route needs; "now" and "today" for
    the body's times."""
    prescriber, nurse = _staff(patient, "prescriber"), _staff(patient, "nurse")
    ids: dict[str, Any] = {}
    if name in {"api create plan", "api list plans", "plans page", "create plan page", "treatment panel"}:
        return ids
    name = {
        "plan page": "api read plan",
        "approve plan page": "api approve plan",
        "session page": "api read session",
        "check in page": "api check in",
        "vitals page": "api vitals",
        "answer alert page": "api answer alert",
    }.get(name, name)
    plan = plan_today(patient, prescriber, approve=name != "api approve plan")
    if name == "api approve plan":
        clear(patient, plan.modality)
    ids["plan"] = plan.pk
    if name == "api resume plan":
        actions.do_pause_plan(plan, inputs.ReasonIn(reason="Away"), actor=prescriber)
    session = plan.sessions.select_related("plan", "patient", "location").get(number=1)
    ids["session"] = session.pk
    if name in {"api read session", "api check in"} or "plan" in name:
        return ids
    session = actions.do_check_in(session, inputs.CheckInIn(), actor=nurse)
    if name in {
        "api assignment",
        "api pre-dose checks",
        "api vitals",
        "api observation",
        "api adverse event",
    }:
        clock.advance(minutes=1)
        return ids
    clock.advance(minutes=2)
    actions.do_record_predose_check(
        session,
        inputs.PreDoseCheckIn(identity_confirmed=True, ride_home_arranged=True, medication_changes=False),
        actor=nurse,
    )
    reading = actions.do_record_vitals(session, vitals(clock.now, systolic=150, diastolic=85), actor=nurse)
    alert = SessionAlert.objects.get(vitals=reading)
    ids["alert"] = alert.pk
    if name == "api answer alert":
        return ids
    answer = inputs.AlertAnswerIn(answer=AlertAnswer.ACKNOWLEDGED, note="Usual for this patient")
    actions.do_answer_alert(alert, answer, actor=nurse)
    clock.advance(minutes=1)
    if name == "api dose":
        return ids
    dose_in = inputs.AdministerIn(amount_mg=Decimal(56), lot_number="ESK-1", started_at=clock.now)
    dose = actions.do_record_dose(session, dose_in, actor=nurse)
    ids["device"] = 2
    clock.advance(minutes=5)
    if name in {"api device", "api dose end"}:
        return ids
    actions.do_use_device(dose, 2, inputs.DeviceUseIn(), actor=nurse)
    clock.advance(minutes=40)
    actions.do_record_vitals(session, vitals(clock.now, systolic=140, diastolic=84), actor=nurse)
    actions.do_record_observation(
        session,
        inputs.ObservationIn(instrument=ObservationInstrument.MOAAS, answers=[5], taken_at=clock.now),
        actor=nurse,
    )
    clock.advance(minutes=80)
    actions.do_record_vitals(session, vitals(clock.now, systolic=128, diastolic=80), actor=nurse)
    clock.advance(minutes=1)
    if name == "api discharge":
        return ids
    actions.do_discharge(
        session, inputs.DischargeIn(ready_to_leave_minutes=60, escort_name="A. Friend"), actor=nurse
    )
    if name == "api sign":
        return ids
    actions.do_sign(session, actor=nurse)
    return ids


def _fill(value: Any, now: str, today: str) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, now, today) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, now, today) for v in value]
    if value == NOW:
        return now
    if value == "{today}":
        return today
    return value


# The state prepared for (route, patient) and the clock it was sent at: sending the same route again in one
# test (a retry with the same Idempotency-Key) sends the same request at the same moment.
_PREPARED: dict[tuple[str, Any], tuple[dict[str, Any], dt.datetime]] = memo.per_test()


def _still_there(ids: dict[str, Any]) -> bool:
    from ketaclinic.treatment.models import TreatmentPlan

    return "plan" not in ids or TreatmentPlan.objects.filter(pk=ids["plan"]).exists()


def call(route: tuple[Any, ...], patient: Patient, send: Callable[[str, Any], Any]) -> Any:
    """Prepare the route's state at the pinned clock, then send it (`send(url, body)`) at that clock."""
    name, _, url, body = route[:4]
    with frozen(patient) as clock:
        known = _PREPARED.get((name, patient.pk))
        if known is not None and known[0] and _still_there(known[0]):
            ids, clock.now = known
        else:
            ids = prepare(name, patient, clock)
            _PREPARED[(name, patient.pk)] = (ids, clock.now)
        today = local_date(patient.location, clock.now)
        target = url.format(pid=patient.pk, **ids)
        return send(target, _fill(body, clock.now.isoformat(), today.isoformat()))
