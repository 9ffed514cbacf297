"""Opening, ending and reviewing emergency access: the only code that writes emergency grants.

Each call makes one audit row. The reason stays in the grant row; audit rows name the grant (its id is
the "reason id") and which fields were given, never what was typed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny, deny_patient
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.emergency.access import find_patient
from ketaclinic.emergency.inputs import EmergencyAccessIn, ReviewIn
from ketaclinic.emergency.models import EmergencyGrant
from ketaclinic.errors import Forbidden, InvalidInput
from ketaclinic.patients.models import Patient


def do_open_emergency_access(
    data: EmergencyAccessIn, *, actor: Any, origin: Origin = SYSTEM
) -> EmergencyGrant:
    """Find the patient in the actor's network and grant read access for the policy's minutes.

    The reason is required before any lookup (EmergencyAccessIn). A lookup that finds no one (or someone
    the actor can already read) is recorded as a failed request and changes nothing.
    """
    if not can(actor, Perm.EMERGENCY_ACCESS):
        deny(actor, origin, str(Perm.EMERGENCY_ACCESS))
        raise Forbidden
    try:
        patient = find_patient(actor, data)
    except InvalidInput:
        record(
            Action.EMERGENCY_GRANT,
            actor=actor,
            origin=origin,
            outcome=Outcome.FAILURE,
            changed_fields=[*data.identified_by, "reason"],
        )
        raise
    return _grant(patient, data, actor=actor, origin=origin)


@transaction.atomic
def _grant(patient: Patient, data: EmergencyAccessIn, *, actor: Any, origin: Origin) -> EmergencyGrant:
    now = timezone.now()
    grant = EmergencyGrant.objects.create(
        user=actor,
        patient=patient,
        location_id=patient.location_id,
        reason=data.reason,
        granted_at=now,
        expires_at=now + dt.timedelta(minutes=settings.KETACLINIC_BREAK_GLASS_MINUTES),
    )
    record(
        Action.EMERGENCY_GRANT,
        actor=actor,
        origin=origin,
        obj=grant,
        patient=patient,
        changed_fields=[*data.identified_by, "reason"],
    )
    return grant


def do_end_emergency_access(grant: EmergencyGrant, *, actor: Any, origin: Origin = SYSTEM) -> EmergencyGrant:
    """Close the user's own access now (a grant that has already closed stays as it was)."""
    if grant.user_id != actor.pk:
        deny_patient(actor, origin, grant.patient)
        raise Forbidden
    return _end(grant, actor=actor, origin=origin)


@transaction.atomic
def _end(grant: EmergencyGrant, *, actor: Any, origin: Origin) -> EmergencyGrant:
    grant = EmergencyGrant.objects.select_for_update().get(pk=grant.pk)
    now = timezone.now()
    if grant.ended_at is None and grant.expires_at > now:
        grant.ended_at = now
        grant.save(update_fields=["ended_at"])
        record(
            Action.EMERGENCY_END,
            actor=actor,
            origin=origin,
            obj=grant,
            patient=grant.patient,
            changed_fields=["ended_at"],
        )
    return grant


def do_review_emergency_access(
    grant: EmergencyGrant, data: ReviewIn, *, actor: Any, origin: Origin = SYSTEM
) -> EmergencyGrant:
    """Mark a grant reviewed by an admin of the patient's location; nobody reviews their own access."""
    if grant.user_id == actor.pk or not can(actor, Perm.AUDIT_READ, grant.location_id):
        deny_patient(actor, origin, grant.patient)
        raise Forbidden
    return _review(grant, data, actor=actor, origin=origin)


@transaction.atomic
def _review(grant: EmergencyGrant, data: ReviewIn, *, actor: Any, origin: Origin) -> EmergencyGrant:
    grant = EmergencyGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.reviewed_at is not None:  # reviewed meanwhile (a second click, another admin): keep the first
        return grant
    grant.reviewed_at, grant.reviewed_by, grant.review_note = timezone.now(), actor, data.note
    grant.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
    record(
        Action.EMERGENCY_REVIEW,
        actor=actor,
        origin=origin,
        obj=grant,
        patient=grant.patient,
        changed_fields=["reviewed_at", *(["review_note"] if data.note else [])],
    )
    return grant
