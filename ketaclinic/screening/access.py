"""Loading screenings for a user: through the patient's access getter, then the role at its location.

A screening of a patient outside the user's locations is 404, as the patient is; a screening id under
another patient is 404 (audited as a probe); a role without the permission at the patient's location is
403. Every denial leaves an audit row.
"""

from __future__ import annotations

from typing import Any

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny_entry, deny_patient
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.access import get_patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.screening.models import Screening


def require_at(user: Any, perm: Perm, patient: Patient, origin: Origin) -> None:
    """403 (audited) unless the user holds `perm` at the patient's location."""
    if not can(user, perm, patient.location_id):
        deny_patient(user, origin, patient)
        raise Forbidden


def patient_for(
    user: Any, patient_id: object, perm: Perm | None = None, *, origin: Origin = SYSTEM
) -> Patient:
    """The patient, readable by the user; with `perm`, also writable and `perm` held at its location."""
    patient = get_patient_for(user, patient_id, write=perm is not None, origin=origin)
    if perm is not None:
        require_at(user, perm, patient, origin)
    return patient


_LARGEST_ID = 2**63 - 1


def _id(value: object) -> int:
    try:
        return int(str(value))
    except ValueError as exc:
        raise NotFound from exc


def _row(screening_id: int, **filters: Any) -> Screening | None:
    if not 0 < screening_id <= _LARGEST_ID:  # past any key: no query (the database would refuse it)
        return None
    return Screening.objects.filter(pk=screening_id, **filters).first()


def get_screening_for(
    user: Any, screening_id: object, perm: Perm | None = None, *, origin: Origin = SYSTEM
) -> Screening:
    """A screening through its patient's access getter (404 outside the user's locations)."""
    screening = _row(_id(screening_id))
    if screening is None:
        raise NotFound
    screening.patient = patient_for(user, screening.patient_id, perm, origin=origin)
    return screening


def get_patient_screening_for(
    user: Any, patient_id: object, screening_id: object, perm: Perm | None = None, *, origin: Origin = SYSTEM
) -> Screening:
    """A screening of this patient; another patient's screening id is NotFound, audited as a probe."""
    patient = patient_for(user, patient_id, perm, origin=origin)
    sid = _id(screening_id)
    screening = _row(sid, patient=patient)
    if screening is None:
        deny_entry(user, origin, patient, Screening, sid)
        raise NotFound
    screening.patient = patient
    return screening
