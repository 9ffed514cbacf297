"""Shared set-up for the break-glass tests: grants made through the action, and a second clinic network."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ketaclinic.accounts import actions as accounts
from ketaclinic.accounts.models import User
from ketaclinic.emergency.actions import do_open_emergency_access
from ketaclinic.emergency.inputs import EmergencyAccessIn
from ketaclinic.emergency.models import EmergencyGrant
from ketaclinic.patients import inputs
from ketaclinic.patients.actions import do_register_patient
from ketaclinic.patients.models import Patient, Sex

if TYPE_CHECKING:
    from conftest import World

REASON = "Collapsed in our waiting room; need allergies and medications"
ELSEWHERE_PASSWORD = "elsewhere-password-1"


def open_access(world: World, who: str, patient: Patient, reason: str = REASON) -> EmergencyGrant:
    data = EmergencyAccessIn(mrn=patient.mrn, reason=reason, confirm=True)
    return do_open_emergency_access(data, actor=world.user(who))


def form(patient: Patient, **changes: Any) -> dict[str, str]:
    """The request page's form for this patient by MRN, with a valid reason and the confirmation."""
    return {"mrn": patient.mrn, "reason": REASON, "confirm": "on", **changes}


def elsewhere() -> tuple[User, Patient]:
    """Another clinic network with one location, a nurse there and one patient of theirs."""
    network = accounts.do_create_network("Elsewhere Network", "elsewhere")
    east = accounts.do_create_location(network, "East Clinic", "east")
    nurse = accounts.do_create_staff(network, "nurse.east", ELSEWHERE_PASSWORD)
    clerk = accounts.do_create_staff(network, "frontdesk.east", ELSEWHERE_PASSWORD)
    accounts.do_grant_role(nurse, east, "nurse")
    accounts.do_grant_role(clerk, east, "front_desk")
    patient = do_register_patient(
        inputs.PatientCreate(
            location="east",
            given_name="Ona",
            family_name="Eastwood",
            date_of_birth=dt.date(1980, 5, 17),
            sex=Sex.FEMALE,
        ),
        actor=clerk,
    )
    return nurse, patient
