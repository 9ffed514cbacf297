"""A replay shows PHI again, so it is a read: checked against the user's access now, and audited.

What the stored answer shows is found in the audit trail: the first request's own events (by its request
id, kept with the key) name the patients it touched, and a search. A replay loads each of those patients
through the access getter again (a user who lost access since gets the API's 404 or 403, and the denial
is audited there) and records a read of each; a replayed search needs the read permission still, and
records a search. Every replay event names REPLAY. Reading the trail at replay time, rather than when the
answer is stored, keeps the stored request's transaction as short as it can be.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, AuditEvent, Via
from ketaclinic.errors import Forbidden
from ketaclinic.idempotency.models import IdempotencyKey
from ketaclinic.patients.access import get_patient_for

REPLAY = "idempotent_replay"
SEARCHES = frozenset({Action.PATIENT_SEARCH, Action.PATIENT_LIST})
# The first request's events were recorded after its key was claimed and before it answered; the bounds
# only narrow the indexed range (actor, time) that is read.
_BEFORE = dt.timedelta(seconds=5)
_LONGEST_REQUEST = dt.timedelta(minutes=10)


def shown_by(row: IdempotencyKey) -> tuple[list[str], str]:
    """The patients the stored request's audit events name, and its search action ("" if none)."""
    events = AuditEvent.objects.filter(
        actor_id=row.user_id,
        occurred_at__gte=row.created_at - _BEFORE,
        occurred_at__lte=row.created_at + _LONGEST_REQUEST,
        request_id=row.request_id,
    ).values_list("action", "patient_id")
    patient_ids: set[str] = set()
    search_action = ""
    for action, patient_id in events:
        if patient_id is not None:
            patient_ids.add(str(patient_id))
        if action in SEARCHES:
            search_action = action
    return sorted(patient_ids), search_action


def recheck(request: Any, user: Any, row: IdempotencyKey) -> None:
    """Audit the replay of `row` as a read; NotFound or Forbidden when the user may no longer see it."""
    origin = origin_of(request, Via.API)
    patient_ids, search_action = shown_by(row)
    for patient_id in patient_ids:
        patient = get_patient_for(user, patient_id, origin=origin)
        record(
            Action.PATIENT_READ,
            actor=user,
            origin=origin,
            obj=patient,
            patient=patient,
            changed_fields=[REPLAY],
        )
    if search_action:
        if not can(user, Perm.PATIENT_READ):
            deny(user, origin, str(Perm.PATIENT_READ))
            raise Forbidden
        record(search_action, actor=user, origin=origin, changed_fields=[REPLAY])
