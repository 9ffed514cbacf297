"""The only way the calendar loads what it shows or changes: a location the user works at, an appointment
through its patient's access getter, a patient or plan to book for. Outside the user's locations a record
does not exist (404); inside them without the permission it is 403; every denial is audited.

Front desk (SCHEDULE_BOOK) books any visit. A therapist (SCHEDULE_BOOK_OWN) books, moves and cancels only
their own preparation and integration sessions at a location where they hold it: the kind is checked before
any lookup (a dosing visit is 403 at once), the clinician of each record after it (a colleague's session is
403), and they never book against a hard rule (an override stays the front desk's)."""

from __future__ import annotations

import uuid
from typing import Any

from ketaclinic.accounts.access import can, grants
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny, deny_patient
from ketaclinic.errors import Forbidden, InvalidInput, NotFound
from ketaclinic.patients.access import get_patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment, AppointmentKind
from ketaclinic.treatment.models import TreatmentSession

# The kinds of visit a therapist books as their own session (Perm.SCHEDULE_BOOK_OWN).
THERAPIST_KINDS = frozenset({AppointmentKind.PREPARATION.value, AppointmentKind.INTEGRATION.value})


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


def may_book(user: Any, kind: object = None) -> bool:
    """Whether the role books anything like it anywhere (before any lookup): front desk any visit, a
    therapist a preparation or integration session (any of them, with `kind` None)."""
    if can(user, Perm.SCHEDULE_BOOK):
        return True
    return can(user, Perm.SCHEDULE_BOOK_OWN) and (kind is None or str(kind) in THERAPIST_KINDS)


def require_booking(user: Any, kind: object = None, *, origin: Origin = SYSTEM) -> None:
    """403 (audited) for a role that books nothing of the kind anywhere."""
    if not may_book(user, kind):
        deny(user, origin, str(Perm.SCHEDULE_BOOK))
        raise Forbidden


def _books_own(user: Any, location_id: int, kind: object) -> bool:
    """A therapist's own session here: they hold SCHEDULE_BOOK_OWN at the location, not SCHEDULE_BOOK."""
    return (
        str(kind) in THERAPIST_KINDS
        and not can(user, Perm.SCHEDULE_BOOK, location_id)
        and can(user, Perm.SCHEDULE_BOOK_OWN, location_id)
    )


def get_patient_to_book(
    user: Any, patient_id: object, *, origin: Origin = SYSTEM, kind: object = None
) -> Patient:
    """The patient to book a visit for: front desk of their location, or (a therapy `kind`) a therapist
    there."""
    patient = get_patient_for(user, patient_id, origin=origin)
    if kind is not None and _books_own(user, patient.location_id, kind):
        return patient
    _permitted(user, patient, Perm.SCHEDULE_BOOK, origin)
    return patient


def therapist_of(location: ClinicLocation, kind: object, clinician_id: int) -> Any:
    """The therapist a therapy session at the location is booked with (422 naming `clinician_id` for
    another kind of visit, or anyone who does not book their own sessions there)."""
    from ketaclinic.accounts.models import User

    if str(kind) not in THERAPIST_KINDS:
        raise InvalidInput({"clinician_id": "only a preparation or integration session is with a therapist"})
    staff = User.objects.filter(pk=clinician_id, is_active=True, network_id=location.network_id).first()
    if staff is None or not can(staff, Perm.SCHEDULE_BOOK_OWN, location.pk):
        raise InvalidInput({"clinician_id": "not a therapist of the patient's location"})
    return staff


def booking_clinician(
    user: Any,
    patient: Patient,
    kind: object,
    clinician_id: int | None,
    *,
    override_reason: str = "",
    origin: Origin = SYSTEM,
) -> Any:
    """Who the visit is booked with, after get_patient_to_book. A therapist books with themselves (naming a
    colleague is 403) and never against a rule (an override reason is 403). Front desk books with no one, or
    with the therapist named for a therapy session (422 naming `clinician_id` otherwise)."""
    if _books_own(user, patient.location_id, kind):
        if (clinician_id is not None and clinician_id != user.pk) or override_reason:
            deny(user, origin, str(Perm.SCHEDULE_BOOK))
            raise Forbidden
        return user
    if clinician_id is None:
        return None
    return therapist_of(patient.location, kind, clinician_id)


def get_session_of(patient: Patient, session_id: object, *, user: Any, origin: Origin) -> TreatmentSession:
    """One treatment session of the patient; another patient's session is NotFound, audited under this one."""
    session = (
        TreatmentSession.objects.select_related("plan").filter(pk=_uuid(session_id), patient=patient).first()
    )
    if session is None:
        deny_patient(user, origin, patient)
        raise NotFound
    return session


def is_own_session(user: Any, appointment: Appointment) -> bool:
    """The appointment is a therapy session with the user, at a location where they book their own."""
    return (
        appointment.clinician_id == user.pk
        and str(appointment.kind) in THERAPIST_KINDS
        and can(user, Perm.SCHEDULE_BOOK_OWN, appointment.location_id)
    )


def get_appointment_for(
    user: Any,
    appointment_id: object,
    perm: Perm = Perm.SCHEDULE_READ,
    *,
    origin: Origin = SYSTEM,
    own: bool = False,
) -> Appointment:
    """The appointment, if the user holds `perm` at its patient's location; with `own`, a therapist's own
    session will do too (reading, moving or cancelling it)."""
    appointment = Appointment.objects.filter(pk=_uuid(appointment_id)).first()
    if appointment is None:
        raise NotFound
    appointment.patient = get_patient_for(user, appointment.patient_id, origin=origin)
    if own and is_own_session(user, appointment) and grants(user).get(appointment.patient.location_id):
        return appointment
    _permitted(user, appointment.patient, perm, origin)
    return appointment


def refuse_own_override(user: Any, appointment: Appointment, override_reason: str, *, origin: Origin) -> None:
    """A therapist moves their session only where every rule allows it: an override reason is 403."""
    if override_reason and not can(user, Perm.SCHEDULE_BOOK, appointment.location_id):
        deny(user, origin, str(Perm.SCHEDULE_BOOK))
        raise Forbidden
