"""Failures that cost nothing to repeat, audited without letting a flood bloat the trail.

An API call with a made-up token, or a sign-in refused because its address already failed too often, can
be sent thousands of times a minute. Each is still counted in the trail, but as at most one row per kind
(the audit action) and client address per window, whose `occurrences` says how many failures it stands
for:

- the first failure after a quiet window is written at once, so a flood shows in the trail as it starts;
- the failures after it in that window are counted in a tally (RepeatTally) and carried by the next row
  for the same kind and address: the first failure of a later window, or, once the window has passed,
  whichever failure or sign-in comes next from any address (flush_due);
- a tally and the row that empties it commit in one transaction, so every failure is in exactly one row.

Clients are counted by address: IPv4 as it is, IPv6 by its /64 network (a home or a server usually holds a
whole /64, so counting single IPv6 addresses would count nothing).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin
from ketaclinic.audit.models import RepeatTally

FLUSH_BATCH = 100  # tallies written out per call; the rest wait for the next failure or sign-in
# A quiet tally (nothing pending) is forgotten after this many windows: it would change nothing.
PRUNE_AFTER_WINDOWS = 4


def counted_address(source_ip: str | None) -> str:
    """The address a client is counted by: IPv4 as is, IPv6 as its /64 network's first address."""
    if not source_ip:
        return ""
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False).network_address)
    return str(address)


def record_repeated(action: str, *, origin: Origin, outcome: str) -> None:
    """Count one failure of kind `action` from the origin's address; audit it as the module says."""
    now = timezone.now()
    address = counted_address(origin.source_ip)
    with transaction.atomic():
        tally = _locked_tally(action, address, via=origin.via, outcome=outcome)
        tally.pending += 1
        if _due(tally, now):
            # The row names this request, so the trail links the flood's first failure to its log line.
            here = Origin(via=origin.via, request_id=origin.request_id, source_ip=address or None)
            _write(tally, now, here)
        else:
            tally.save(update_fields=["pending"])
    flush_due(now)


def flush_due(now: datetime | None = None) -> int:
    """Write out every tally whose window has passed with failures pending; return how many rows."""
    now = timezone.now() if now is None else now
    due = RepeatTally.objects.filter(pending__gt=0, reported_at__lte=now - _window())
    written = 0
    for pk in due.order_by("reported_at").values_list("pk", flat=True)[:FLUSH_BATCH]:
        with transaction.atomic():
            tally = RepeatTally.objects.select_for_update().filter(pk=pk).first()
            if tally is not None and tally.pending and _due(tally, now):
                _write(tally, now, Origin(via=tally.via, source_ip=tally.address or None))
                written += 1
    RepeatTally.objects.filter(pending=0, reported_at__lt=now - PRUNE_AFTER_WINDOWS * _window()).delete()
    return written


def _locked_tally(action: str, address: str, *, via: str, outcome: str) -> RepeatTally:
    """The tally for (action, address), created if need be and locked until the transaction ends."""
    while True:
        RepeatTally.objects.bulk_create(
            [RepeatTally(action=action, address=address, via=via, outcome=outcome)], ignore_conflicts=True
        )
        found = RepeatTally.objects.select_for_update().filter(action=action, address=address).first()
        if found is not None:
            return found
        # A quiet tally was pruned between the insert and the lock; the new one cannot be (never reported).


def _due(tally: RepeatTally, now: datetime) -> bool:
    return tally.reported_at is None or tally.reported_at <= now - _window()


def _write(tally: RepeatTally, now: datetime, origin: Origin) -> None:
    record(tally.action, origin=origin, outcome=tally.outcome, occurrences=tally.pending)
    tally.pending, tally.reported_at = 0, now
    tally.save(update_fields=["pending", "reported_at"])


def _window() -> timedelta:
    return timedelta(seconds=settings.KETACLINIC_AUDIT_REPEAT_WINDOW_SECONDS)
