"""The only way the calendar loads what it shows or changes: a location the user works at, an appointment
through its patient's access getter, a patient or plan to book for. Outside the user's locations a record
does not exist (404); inside them without the permission it is 403; every denial is audited."""

from __future__ import annotations

import uuid
from typing import Any

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny, deny_patient
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.access import get_patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment
from ketaclinic.treatment.models import TreatmentSession


def _uuid(value: object) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound from exc


def locations_with(user: Any, perm: Perm) -> list[ClinicLocation]:
    """The user's locations where they hold `perm`, by name."""
    ids = [loc for loc, held in grants(user).items() if perm in held]
    return list(ClinicLocation.objects.filter(pk__in=ids).order_by("name"))


def get_location_for(
    user: Any, location_id: object, perm: Perm, *, origin: Origin = SYSTEM
) -> ClinicLocation:
    """The location asked for (its id; default: the user's first where they hold `perm`)."""
    if location_id in (None, ""):
        mine = locations_with(user, perm)
        if mine:
            return mine[0]
        deny(user, origin, str(perm))
        raise Forbidden
    try:
        pk = int(str(location_id))
    except ValueError:
        pk = 0
    held = grants(user).get(pk)
    if held is None or perm not in held:
        deny(user, origin, str(perm))
        raise NotFound if held is None else Forbidden
    return ClinicLocation.objects.get(pk=pk)


def _permitted(user: Any, patient: Patient, perm: Perm, origin: Origin) -> None:
    held = grants(user).get(patient.location_id)
    if held is None:  # read through a break-glass grant: the calendar is not the emergency's
        deny_patient(user, origin, patient)
        raise NotFound
    if perm not in held:
        deny(user, origin, str(perm))
        raise Forbidden


def get_patient_to_book(user: Any, patient_id: object, *, origin: Origin = SYSTEM) -> Patient:
    patient = get_patient_for(user, patient_id, origin=origin)
    _permitted(user, patient, Perm.SCHEDULE_BOOK, origin)
    return patient


def get_session_of(patient: Patient, session_id: object, *, user: Any, origin: Origin) -> TreatmentSession:
    """One treatment session of the patient; another patient's session is NotFound, audited under this one."""
    session = (
        TreatmentSession.objects.select_related("plan").filter(pk=_uuid(session_id), patient=patient).first()
    )
    if session is None:
        deny_patient(user, origin, patient)
        raise NotFound
    return session


def get_appointment_for(
    user: Any, appointment_id: object, perm: Perm = Perm.SCHEDULE_READ, *, origin: Origin = SYSTEM
) -> Appointment:
    appointment = Appointment.objects.filter(pk=_uuid(appointment_id)).first()
    if appointment is None:
        raise NotFound
    appointment.patient = get_patient_for(user, appointment.patient_id, origin=origin)
    _permitted(user, appointment.patient, perm, origin)
    return appointment
