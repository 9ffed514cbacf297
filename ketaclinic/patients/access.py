"""The only way to load patients: every getter takes the user and checks role and location.

Outside the user's locations a patient does not exist (404, so ids cannot be probed); inside them, a role
without the permission gets 403. Both leave an audit row. The one exception is break-glass: an active
emergency grant (ketaclinic/emergency) lets its user read one patient outside their locations.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

from ketaclinic import fastload
from ketaclinic.accounts.access import grants, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny_entry, deny_patient
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.models import Patient

# Break-glass: a check that may let a user READ one patient outside their locations (an active emergency
# grant, ketaclinic/emergency). The emergency app sits above this one and registers its check when it
# starts; it records its own audit event for each read it allows. Writes never consult it.
EmergencyReadCheck = Callable[[Any, Patient, Origin], bool]
_emergency_read_checks: list[EmergencyReadCheck] = []


def allow_emergency_reads(check: EmergencyReadCheck) -> None:
    if check not in _emergency_read_checks:
        _emergency_read_checks.append(check)


def visible_patients(user: Any, perm: Perm = Perm.PATIENT_READ) -> QuerySet[Patient]:
    return Patient.objects.filter(location_id__in=location_ids(user, perm))


def _parse(patient_id: object) -> uuid.UUID:
    if isinstance(patient_id, uuid.UUID):
        return patient_id
    try:
        return uuid.UUID(str(patient_id))
    except ValueError as exc:
        raise NotFound from exc


def get_patient_for(
    user: Any, patient_id: object, *, write: bool = False, origin: Origin = SYSTEM
) -> Patient:
    patient = fastload.fetch_one(Patient, id=_parse(patient_id))
    if patient is None:
        raise NotFound
    patient.location = fastload.fetch_one(ClinicLocation, id=patient.location_id)  # type: ignore[assignment]
    held = grants(user).get(patient.location_id)
    needed = Perm.PATIENT_WRITE if write else Perm.PATIENT_READ
    if held is None or needed not in held:
        if not write and any(check(user, patient, origin) for check in _emergency_read_checks):
            return patient
        deny_patient(user, origin, patient)
        raise NotFound if held is None else Forbidden
    return patient


def get_entry_for(patient: Patient, model: Any, entry_id: int, *, user: Any, origin: Origin) -> Any:
    """One history entry of a patient loaded through get_patient_for; another patient's entry is NotFound.

    The miss is audited like any refused access: an id that is not this patient's is a probe, or a mistake
    worth seeing in the trail.
    """
    entry = model.objects.filter(patient=patient, pk=entry_id).first()
    if entry is None:
        deny_entry(user, origin, patient, model, entry_id)
        raise NotFound
    return entry
