"""Loading a session for its REMS form: the session, then its patient through patients.access.get_patient_for
(404 outside the user's locations, 403 inside them without the permission, each denial audited)."""

from __future__ import annotations

import uuid
from typing import Any

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny, deny_patient
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.access import get_patient_for
from ketaclinic.rems.queries import needs_form
from ketaclinic.treatment.models import TreatmentSession


def _uuid(value: object) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound from exc


def get_form_session_for(
    user: Any, session_id: object, *, perm: Perm = Perm.REMS_SUBMIT, origin: Origin = SYSTEM
) -> TreatmentSession:
    """An esketamine session with its patient, plan, location and monitoring staff member, for its form.

    A session that is not esketamine, or that the patient has not yet left, has no form: NotFound after the
    access checks (so the answer says nothing of a session the user may not see), audited under the patient.
    """
    session = (
        TreatmentSession.objects.select_related("plan", "monitored_by").filter(pk=_uuid(session_id)).first()
    )
    if session is None:
        raise NotFound
    session.patient = get_patient_for(user, session.patient_id, origin=origin)
    if perm not in grants(user).get(session.patient.location_id, frozenset()):
        deny(user, origin, str(perm))
        raise Forbidden
    session.location = session.patient.location
    session.plan.patient, session.plan.location = session.patient, session.location
    if not needs_form(session):
        deny_patient(user, origin, session.patient)
        raise NotFound
    return session
