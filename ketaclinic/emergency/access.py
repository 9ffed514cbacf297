"""Who may break the glass, for which patient, and the check patients.access.get_patient_for consults.

A grant lets its user READ one patient outside their locations until it expires or is ended, while the
user still holds a role with Perm.EMERGENCY_ACCESS (prescriber, nurse) in the patient's clinic network.
Every read it allows leaves an EMERGENCY_READ audit row naming the grant. Writes are never granted: a
clinician charting in an emergency does it at their own location, and the patient's own clinic keeps the
record (patients.access consults this check for reads only).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin
from ketaclinic.audit.denials import deny, deny_patient
from ketaclinic.audit.models import Action
from ketaclinic.emergency.inputs import EmergencyAccessIn
from ketaclinic.emergency.models import EmergencyGrant
from ketaclinic.errors import InvalidInput, NotFound
from ketaclinic.patients.actions import MRN_PREFIX
from ketaclinic.patients.models import Patient
from ketaclinic.patients.search import fold

# The grants a request has read under, by patient id, kept on the user object for the page's banner.
_USED = "_ketaclinic_emergency_grants"


def active_grants() -> QuerySet[EmergencyGrant]:
    """Grants that give access now: not expired, not ended. Checked on every read, so expiry is immediate."""
    return EmergencyGrant.objects.filter(expires_at__gt=timezone.now(), ended_at__isnull=True)


def may_break_glass(user: Any, patient: Patient) -> bool:
    """A prescriber or nurse somewhere in the patient's clinic network (never across networks)."""
    return can(user, Perm.EMERGENCY_ACCESS) and getattr(user, "network_id", None) == patient.network_id


def read_under_grant(user: Any, patient: Patient, origin: Origin) -> bool:
    """get_patient_for's break-glass check: True (and an audit row) when an active grant covers this read."""
    if not may_break_glass(user, patient):
        return False
    grant = (
        active_grants()
        .filter(user_id=user.pk, patient_id=patient.pk)
        .select_related("location")
        .order_by("-expires_at")
        .first()
    )
    if grant is None:
        return False
    record(Action.EMERGENCY_READ, actor=user, origin=origin, obj=grant, patient=patient)
    used = getattr(user, _USED, None)
    if used is None:
        used = {}
        setattr(user, _USED, used)
    used[patient.pk] = grant
    return True


def grants_used(user: Any) -> list[EmergencyGrant]:
    """The grants this request's reads went through (the banner of the page); no query."""
    return list(getattr(user, _USED, {}).values())


def find_patient(user: Any, data: EmergencyAccessIn) -> Patient:
    """The one patient of the user's network that the MRN, or the exact name and birth date, identifies.

    Raises InvalidInput naming the field when none or several match, or when the user can already open
    the chart (nothing is revealed that the user cannot see otherwise). Entered-in-error registrations are
    never found.
    """
    patients = Patient.objects.filter(network_id=user.network_id, entered_in_error_at__isnull=True)
    if data.mrn_number is not None:
        field = "mrn"
        found = list(patients.filter(mrn=f"{MRN_PREFIX}{data.mrn_number:06d}"))
    elif data.date_of_birth is not None:  # the input model requires it when there is no MRN
        field = "family_name"
        given, family = fold(data.given_name), fold(data.family_name)
        found = [
            p
            for p in patients.filter(date_of_birth=data.date_of_birth)
            if fold(p.given_name) == given and fold(p.family_name) == family
        ]
    else:
        raise InvalidInput({"mrn": "enter the MRN, or the full name and date of birth"})
    if not found:
        raise InvalidInput({field: "no patient in your clinic network matches; check what you typed"})
    if len(found) > 1:
        raise InvalidInput(
            {"mrn": "more than one patient matches this name and date of birth; enter the MRN"}
        )
    patient = found[0]
    if can(user, Perm.PATIENT_READ, patient.location_id):
        raise InvalidInput({field: "this patient is at one of your locations: open the chart from Patients"})
    return patient


def get_grant_for_review(user: Any, grant_id: int, *, origin: Origin) -> EmergencyGrant:
    """A grant at one of the user's audit-reading locations; any other is NotFound (and a denial row)."""
    grant = EmergencyGrant.objects.select_related("patient").filter(pk=grant_id).first()
    if grant is None:
        deny(user, origin, "emergency_grant")
        raise NotFound
    if grant.location_id not in location_ids(user, Perm.AUDIT_READ):
        deny_patient(user, origin, grant.patient)
        raise NotFound
    return grant


def get_own_grant(user: Any, grant_id: int, *, origin: Origin) -> EmergencyGrant:
    """One of the user's own grants (to end it early); another user's is NotFound (and a denial row)."""
    grant = EmergencyGrant.objects.select_related("patient").filter(pk=grant_id).first()
    if grant is None or grant.user_id != user.pk:
        deny(user, origin, "emergency_grant")
        raise NotFound
    return grant
