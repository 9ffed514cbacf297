"""Home programs, doses and check-ins for the tests, made through the actions."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.homecare import actions
from ketaclinic.homecare.inputs import HomeCheckInIn, HomeProgramIn, PreDoseIn, TakenIn
from ketaclinic.homecare.models import HomeCheckIn, HomeDose, HomeProgram
from ketaclinic.patients.models import Patient
from ketaclinic.portal.models import PatientAccount

if TYPE_CHECKING:
    from conftest import World

PROGRAM = {"route": "sublingual", "dose_mg": "100", "min_days_between_doses": 3, "monitor_name": "Sam Carer"}
PRE_DOSE = {
    "systolic_mmhg": "122",
    "diastolic_mmhg": "78",
    "heart_rate_bpm": "70",
    "monitor_name": "Sam Carer",
    "monitor_relationship": "partner",
    "confirmed_safe": "yes",
}
CHECKIN_OK = {
    "side_effects": ["nausea"],
    "side_effect_severity": "mild",
    "dissociation": "mild",
    "systolic_mmhg": "125",
    "diastolic_mmhg": "80",
}


def program_for(world: World, patient: Patient, start: dt.date | None = None, **changes: Any) -> HomeProgram:
    prescriber = world.user(f"prescriber.{patient.location.slug}")
    values = {**PROGRAM, "start_date": (start or local_date(patient.location, timezone.now())).isoformat()}
    values.update(changes)
    return actions.do_prescribe_home_program(patient, HomeProgramIn.model_validate(values), actor=prescriber)


def pre_dose(account: PatientAccount, now: dt.datetime, **changes: Any) -> HomeDose:
    values: dict[str, Any] = {
        "systolic_mmhg": 122,
        "diastolic_mmhg": 78,
        "heart_rate_bpm": 70,
        "monitor_name": "Sam Carer",
        "monitor_relationship": "partner",
        "confirmed_safe": True,
        "submit_key": secrets.token_hex(8),
    }
    values.update(changes)
    return actions.do_record_pre_dose(account, PreDoseIn.model_validate(values), now=now)


def taken(account: PatientAccount, dose: HomeDose, at: dt.datetime, mg: str = "100") -> HomeDose:
    data = TakenIn.model_validate({"taken_at": at.isoformat(), "taken_mg": mg})
    return actions.do_record_taken(account, dose.pk, data, now=at)


def checkin(account: PatientAccount, dose: HomeDose, now: dt.datetime, **changes: Any) -> HomeCheckIn:
    values: dict[str, Any] = {
        "side_effects": ["nausea"],
        "side_effect_severity": "mild",
        "dissociation": "mild",
        "systolic_mmhg": 125,
        "diastolic_mmhg": 80,
    }
    values.update(changes)
    return actions.do_record_checkin(account, dose.pk, HomeCheckInIn.model_validate(values), now=now)


def dosed(account: PatientAccount, now: dt.datetime) -> HomeDose:
    """A dose cleared and taken at `now`."""
    return taken(account, pre_dose(account, now), now)


def mg(value: str) -> Decimal:
    return Decimal(value)
