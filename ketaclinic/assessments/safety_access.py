"""Loading a patient, a safety alert or a safety plan for the safety work: the patient through
patients.access.get_patient_for (404 outside the user's locations, 403 inside them without the permission,
each denial audited), then the record under that patient (another patient's id is NotFound, audited)."""

from __future__ import annotations

from typing import Any

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments.models import SafetyAlert, SafetyPlan
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny
from ketaclinic.errors import Forbidden
from ketaclinic.patients.access import get_entry_for, get_patient_for
from ketaclinic.patients.models import Patient


def get_safety_patient_for(user: Any, patient_id: object, *, origin: Origin = SYSTEM) -> Patient:
    """A patient whose safety work the user does: they read the patient and hold `safety.assess` at the
    patient's location (a prescriber who only reads at another location is refused there)."""
    patient = get_patient_for(user, patient_id, origin=origin)
    if Perm.SAFETY_ASSESS not in grants(user).get(patient.location_id, frozenset()):
        deny(user, origin, str(Perm.SAFETY_ASSESS))
        raise Forbidden
    return patient


def get_alert_for(
    user: Any, patient_id: object, alert_id: int, *, write: bool = False, origin: Origin = SYSTEM
) -> SafetyAlert:
    """One of the patient's safety alerts; `write` needs `safety.assess` at the patient's location."""
    if write:
        patient = get_safety_patient_for(user, patient_id, origin=origin)
    else:
        patient = get_patient_for(user, patient_id, origin=origin)
    alert: SafetyAlert = get_entry_for(patient, SafetyAlert, alert_id, user=user, origin=origin)
    alert.patient = patient
    return alert


def get_plan_for(user: Any, patient_id: object, plan_id: int, *, origin: Origin = SYSTEM) -> SafetyPlan:
    """One of the patient's safety plans (reading it is reading the patient)."""
    patient = get_patient_for(user, patient_id, origin=origin)
    plan: SafetyPlan = get_entry_for(patient, SafetyPlan, plan_id, user=user, origin=origin)
    plan.patient = patient
    return plan
