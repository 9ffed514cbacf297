"""The audit report: events a clinic admin may review, filtered and sorted by any recorded field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet

from ketaclinic.accounts.models import Membership
from ketaclinic.audit.models import AuditEvent

SORTS = {
    "time": "occurred_at",
    "user": "actor__username",
    "action": "action",
    "outcome": "outcome",
    "patient": "patient__mrn",
    "location": "location__name",
    "via": "via",
}


@dataclass(frozen=True)
class AuditFilter:
    patient_mrn: str = ""
    username: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "time"
    descending: bool = True


def reviewable(location_ids: frozenset[int]) -> QuerySet[AuditEvent]:
    """Events at the admin's locations, and location-less events (logins) of staff who work there."""
    staff = Membership.objects.filter(location_id__in=location_ids).values("user_id")
    return AuditEvent.objects.filter(
        Q(location_id__in=location_ids) | Q(location__isnull=True, actor_id__in=staff)
    )


def apply(events: QuerySet[AuditEvent], flt: AuditFilter, tz: Any) -> QuerySet[AuditEvent]:
    if flt.patient_mrn:
        events = events.filter(patient__mrn__iexact=flt.patient_mrn)
    if flt.username:
        events = events.filter(actor__username__iexact=flt.username)
    if flt.action:
        events = events.filter(action=flt.action)
    if flt.date_from:
        events = events.filter(occurred_at__gte=dt.datetime.combine(flt.date_from, dt.time.min, tzinfo=tz))
    if flt.date_to:
        end = dt.datetime.combine(flt.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        events = events.filter(occurred_at__lt=end)
    # Blank values (system events have no user) sort first ascending on every database.
    column = F(SORTS[flt.sort])
    order = column.desc(nulls_last=True) if flt.descending else column.asc(nulls_first=True)
    return events.select_related("actor", "patient", "location").order_by(order, "-seq")
