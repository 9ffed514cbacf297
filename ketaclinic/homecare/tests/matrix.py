"""The home-program routes of the access matrix (patients/tests/test_access_matrix.py) and of the read-event
walk (patients/tests/test_read_events.py), and the state each needs for an allowed call to succeed: a program
of the matrix's patient, and for a release a dose whose check-in went missing (made through the actions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.homecare import actions
from ketaclinic.homecare.inputs import HomeProgramIn, PreDoseIn, TakenIn
from ketaclinic.homecare.models import DoseOutcome, HomeDose, HomeProgram, ProgramStatus
from ketaclinic.patients.models import Patient
from ketaclinic.portal.actions import do_accept_invitation, do_invite_patient
from ketaclinic.portal.inputs import InviteIn, PasswordIn

READERS = {"prescriber", "nurse", "therapist", "frontdesk"}
PRESCRIBERS = {"prescriber"}
P = "/home-programs/patients/{pid}"
A = "/api/v1/patients/{pid}/home-program"
NEW = {"route": "sublingual", "dose_mg": "50", "min_days_between_doses": 3, "start_date": "2026-12-01"}
STATUS = {"status": "paused", "reason": "Travelling"}
RELEASE = {"reason": "Spoke with the patient"}

# (name, method, url template, body, allowed roles, scoped to the patient's location, API?, needs)
_ROUTES: list[tuple[str, str, str, Any, set[str], bool, bool, str]] = [
    ("home program page", "get", f"{P}/", None, READERS, True, False, "program"),
    ("home program prescribe", "post", f"{P}/", NEW, PRESCRIBERS, True, False, ""),
    ("home program status", "post", f"{P}/status/", STATUS, PRESCRIBERS, True, False, "program"),
    ("home program release", "post", f"{P}/release/", RELEASE, PRESCRIBERS, True, False, "held"),
    ("api home program", "get", A, None, READERS, True, True, "program"),
    ("api prescribe home program", "post", A, NEW, PRESCRIBERS, True, True, ""),
    ("api home program status", "post", f"{A}/status", STATUS, PRESCRIBERS, True, True, "program"),
    ("api home doses", "get", f"{A}/doses", None, READERS, True, True, "program"),
    ("api release home hold", "post", f"{A}/release-hold", RELEASE, PRESCRIBERS, True, True, "held"),
]
ROUTES: list[tuple[str, str, str, Any, set[str], bool, bool]] = [r[:7] for r in _ROUTES]
NAMES = {r[0] for r in ROUTES}
NEEDS = {r[0]: r[7] for r in _ROUTES}


def program(patient: Patient) -> HomeProgram:
    found = HomeProgram.objects.filter(patient=patient).exclude(status=ProgramStatus.ENDED).first()
    if found is not None:
        return found
    prescriber = User.objects.get(username=f"prescriber.{patient.location.slug}")
    start = local_date(patient.location, timezone.now()) - dt.timedelta(days=3)
    body = {**NEW, "start_date": start.isoformat()}
    return actions.do_prescribe_home_program(patient, HomeProgramIn.model_validate(body), actor=prescriber)


def held(patient: Patient) -> HomeDose:
    """A dose taken 26 hours ago whose check-in went missing: the next dose is held."""
    made = program(patient)
    found = HomeDose.objects.filter(program=made, outcome=DoseOutcome.TAKEN).first()
    if found is not None:
        return found
    nurse = User.objects.get(username=f"nurse.{patient.location.slug}")
    email = f"home-{patient.mrn.lower()}@example.org"
    _, secret = do_invite_patient(patient, InviteIn(email=email), actor=nurse)
    password = "correct horse battery staple"
    account = do_accept_invitation(secret, PasswordIn(password=password, password_again=password))
    then = timezone.now() - dt.timedelta(hours=26)
    pre = PreDoseIn.model_validate(
        {
            "systolic_mmhg": 120,
            "diastolic_mmhg": 75,
            "heart_rate_bpm": 70,
            "monitor_name": "Sam",
            "monitor_relationship": "partner",
            "confirmed_safe": True,
            "submit_key": "matrix",
        }
    )
    dose = actions.do_record_pre_dose(account, pre, now=then)
    taken = TakenIn.model_validate({"taken_at": then.isoformat(), "taken_mg": "50"})
    return actions.do_record_taken(account, dose.pk, taken, now=then)


def prepare(name: str, patient: Patient) -> None:
    need = NEEDS[name]
    if need == "program":
        program(patient)
    elif need == "held":
        held(patient)


def call(route: tuple[Any, ...], patient: Patient, send: Callable[[str, Any], Any]) -> Any:
    name, _, url, body, *_ = route
    prepare(name, patient)
    return send(url.format(pid=patient.pk), body)
