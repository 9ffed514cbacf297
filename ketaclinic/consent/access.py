"""Which consent documents a user may see, and loading a patient for a consent to be witnessed.

Documents hold no PHI: staff read those of the locations where they read charts or keep the documents.
A patient outside the user's locations is 404; a role that may not witness, 403; both audited.
"""

from __future__ import annotations

from typing import Any

from ketaclinic.accounts.access import can, grants
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny_patient
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.access import get_patient_for
from ketaclinic.patients.models import Patient

DOCUMENT_READERS = frozenset({Perm.PATIENT_READ, Perm.CONSENT_DOCUMENTS})


def document_location_ids(user: Any) -> list[int]:
    return sorted(loc for loc, perms in grants(user).items() if perms & DOCUMENT_READERS)


def document_editor_location_ids(user: Any) -> list[int]:
    return sorted(loc for loc, perms in grants(user).items() if Perm.CONSENT_DOCUMENTS in perms)


def patient_for_witness(user: Any, patient_id: object, *, origin: Origin = SYSTEM) -> Patient:
    patient = get_patient_for(user, patient_id, write=True, origin=origin)
    if not can(user, Perm.CONSENT_WITNESS, patient.location_id):
        deny_patient(user, origin, patient)
        raise Forbidden
    return patient


def document_id(value: object) -> int:
    try:
        return int(str(value))
    except ValueError as exc:
        raise NotFound from exc
