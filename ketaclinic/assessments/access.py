"""Loading a patient's assessments for a user: through the patient's access getter, then the role.

A patient outside the user's locations is 404; inside them, a role without the permission is 403; an
assessment id under another patient is 404, audited as a probe. Every denial leaves an audit row. Writes
never go through break-glass: entering an assessment needs ASSESSMENT_RECORD at the patient's location.
"""

from __future__ import annotations

from typing import Any

from ketaclinic.accounts.access import can, grants
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments.models import Assessment, AssessmentRequest
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny_entry, deny_patient
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.access import get_patient_for
from ketaclinic.patients.models import Patient

_LARGEST_ID = 2**63 - 1


def patient_for(
    user: Any, patient_id: object, perm: Perm | None = None, *, origin: Origin = SYSTEM
) -> Patient:
    """The patient, readable by the user; with `perm`, the user must hold it at the patient's location
    (403 inside the user's locations, 404 outside them, as a write never uses an emergency grant)."""
    patient = get_patient_for(user, patient_id, origin=origin)
    if perm is not None and not can(user, perm, patient.location_id):
        deny_patient(user, origin, patient)
        raise Forbidden if patient.location_id in grants(user) else NotFound
    return patient


def _id(value: object) -> int:
    try:
        number = int(str(value))
    except ValueError as exc:
        raise NotFound from exc
    return number


def get_patient_assessment_for(
    user: Any, patient_id: object, assessment_id: object, *, origin: Origin = SYSTEM
) -> Assessment:
    """One assessment of this patient; another patient's assessment id is NotFound, audited as a probe."""
    patient = patient_for(user, patient_id, origin=origin)
    aid = _id(assessment_id)
    found = None
    if 0 < aid <= _LARGEST_ID:
        found = Assessment.objects.filter(pk=aid, patient=patient).select_related("created_by").first()
    if found is None:
        deny_entry(user, origin, patient, Assessment, aid)
        raise NotFound
    found.patient = patient
    return found


def get_patient_request_for(
    user: Any, patient_id: object, request_id: object, *, origin: Origin = SYSTEM
) -> AssessmentRequest:
    """One assessment request of this patient; another patient's request id is NotFound, audited."""
    patient = patient_for(user, patient_id, origin=origin)
    rid = _id(request_id)
    found = None
    if 0 < rid <= _LARGEST_ID:
        found = AssessmentRequest.objects.filter(pk=rid, patient=patient).first()
    if found is None:
        deny_entry(user, origin, patient, AssessmentRequest, rid)
        raise NotFound
    found.patient = patient
    return found
