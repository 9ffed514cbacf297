"""Reads for the emergency pages: a user's open grants, a location's grants to review and what was read."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.emergency.access import active_grants
from ketaclinic.emergency.models import EmergencyGrant


def open_grants_of(user: Any) -> QuerySet[EmergencyGrant]:
    return (
        active_grants().filter(user_id=user.pk).select_related("patient", "location").order_by("expires_at")
    )


def to_review(location_ids: Collection[int]) -> QuerySet[EmergencyGrant]:
    """Grants at these locations, those not yet reviewed first, then the newest."""
    return (
        EmergencyGrant.objects.filter(location_id__in=location_ids)
        .select_related("user", "patient", "location", "reviewed_by")
        .order_by(F("reviewed_at").asc(nulls_first=True), "-granted_at", "-pk")
    )


@dataclass(frozen=True, slots=True)
class Read:
    """One request of the grant's user about its patient while it lasted: when, how, what it showed."""

    at: Any
    via: str
    what: tuple[str, ...]
    refused: bool


# How a route's own audit row says what it showed.
_WHAT = {"Patient": "chart and demographics"}
_BOOKKEEPING = (Action.EMERGENCY_GRANT, Action.EMERGENCY_END, Action.EMERGENCY_REVIEW)


def _what(event: AuditEvent) -> str:
    if event.action == Action.ACCESS_DENIED:
        return "refused (not allowed under emergency access)"
    if event.changed_fields:
        return ", ".join(name.replace("_", " ") for name in event.changed_fields)
    return _WHAT.get(event.object_type, event.object_type.lower() + " entry")


def _grant_of(event: AuditEvent, grants: Sequence[EmergencyGrant]) -> EmergencyGrant | None:
    if event.action == Action.EMERGENCY_READ:
        return next((g for g in grants if str(g.pk) == event.object_id), None)
    return next(
        (
            g
            for g in grants
            if (g.user_id, g.patient_id) == (event.actor_id, event.patient_id)
            and g.granted_at <= event.occurred_at <= g.closes_at
        ),
        None,
    )


def reads_under(grants: Sequence[EmergencyGrant]) -> dict[int, list[Read]]:
    """For each grant, each request its user made about its patient while it lasted, in one query.

    A read under a grant leaves an EMERGENCY_READ row naming the grant; the route's own rows of the same
    request (the chart read, an API section read) say what was read, and a refused write leaves a denial.
    """
    if not grants:
        return {}
    window = Q()
    for g in grants:
        window |= Q(
            actor_id=g.user_id,
            patient_id=g.patient_id,
            occurred_at__gte=g.granted_at,
            occurred_at__lte=g.closes_at,
        )
    events = AuditEvent.objects.filter(window).exclude(action__in=_BOOKKEEPING).order_by("seq")
    requests: dict[tuple[int, str], list[AuditEvent]] = {}
    for event in events:
        grant = _grant_of(event, grants)
        if grant is not None:
            requests.setdefault((grant.pk, event.request_id or f"#{event.seq}"), []).append(event)
    found: dict[int, list[Read]] = {g.pk: [] for g in grants}
    for (grant_id, _), group in requests.items():
        shown = [e for e in group if e.action != Action.EMERGENCY_READ]
        found[grant_id].append(
            Read(
                at=group[0].occurred_at,
                via=group[0].via,
                what=tuple(dict.fromkeys(_what(e) for e in shown)) or ("patient record",),
                refused=any(e.action == Action.ACCESS_DENIED for e in group),
            )
        )
    return found
