"""The only way to load plans and sessions: each getter takes the user, loads the row, then its patient
through patients.access.get_patient_for (404 outside the user's locations, 403 inside them without the
permission, each denial audited). A record id under another session or plan is NotFound, audited."""

from __future__ import annotations

import uuid
from typing import Any

from ketaclinic import fastload
from ketaclinic.accounts.access import grants
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny, deny_entry
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.access import get_patient_for
from ketaclinic.treatment.models import Dose, SessionAlert, TreatmentPlan, TreatmentSession


def _uuid(value: object) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound from exc


def _permitted(user: Any, patient: Any, perm: Perm, origin: Origin) -> None:
    """Inside the patient's location, the role must hold `perm` (403, audited, naming it)."""
    if perm not in grants(user).get(patient.location_id, frozenset()):
        deny(user, origin, str(perm))
        raise Forbidden


def get_plan_for(
    user: Any, plan_id: object, *, perm: Perm = Perm.PATIENT_READ, origin: Origin = SYSTEM
) -> TreatmentPlan:
    plan = TreatmentPlan.objects.filter(pk=_uuid(plan_id)).first()
    if plan is None:
        raise NotFound
    plan.patient = get_patient_for(user, plan.patient_id, origin=origin)
    _permitted(user, plan.patient, perm, origin)
    plan.location = plan.patient.location
    return plan


def get_session_for(
    user: Any, session_id: object, *, perm: Perm = Perm.PATIENT_READ, origin: Origin = SYSTEM
) -> TreatmentSession:
    # Every charting call starts here: two fastload reads instead of a select_related QuerySet, about 0.8 ms
    # of CPU less a request (docs/performance.md, recording vitals).
    session = fastload.fetch_one(TreatmentSession, id=_uuid(session_id))
    if session is None:
        raise NotFound
    session.plan = fastload.get(TreatmentPlan, id=session.plan_id)
    session.patient = get_patient_for(user, session.patient_id, origin=origin)
    _permitted(user, session.patient, perm, origin)
    session.location = session.patient.location
    session.plan.patient, session.plan.location = session.patient, session.location
    return session


def get_alert_for(session: TreatmentSession, alert_id: int, *, user: Any, origin: Origin) -> SessionAlert:
    """One alert of the session; another session's alert is NotFound (audited under this patient)."""
    alert = SessionAlert.objects.filter(session=session, pk=alert_id).first()
    if alert is None:
        deny_entry(user, origin, session.patient, SessionAlert, alert_id)
        raise NotFound
    alert.session = session
    return alert


def get_dose_for(session: TreatmentSession, *, user: Any, origin: Origin) -> Dose:
    dose = Dose.objects.filter(session=session).first()
    if dose is None:
        raise NotFound
    dose.session = session
    return dose
