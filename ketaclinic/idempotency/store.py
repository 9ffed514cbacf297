"""Stored answers: claim a key, fill it with the answer, replay it, prune the old ones.

These rows belong to the API's transport, as login sessions do, not to the clinic's records: they are
written here, not through a do_* action, and leave no audit row of their own. What a request did is
audited by the actions it called; what a replay shows again is checked and audited by replay.py.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from ketaclinic.idempotency.keys import HEADER, REPLAYED_HEADER
from ketaclinic.idempotency.models import IdempotencyKey

# Each server process deletes expired answers at most this often, after a keyed POST.
PRUNE_EVERY_SECONDS = 3600.0


def window() -> dt.timedelta:
    return dt.timedelta(hours=settings.KETACLINIC_IDEMPOTENCY_HOURS)


def claim(user: Any, key: str, digest: str, now: dt.datetime, request_id: str) -> tuple[IdempotencyKey, bool]:
    """The user's row for `key`: a new one for this request to fill (True), or the answer stored before.

    Call it inside the request's transaction. A request with the same key still in flight holds the new
    row's unique index entry (PostgreSQL) or the write lock (SQLite), so this waits for it to commit and
    then finds its answer. An answer older than the window is gone as far as clients know: replaced.
    """
    for _ in range(3):  # a stale row deleted under us by a concurrent replacement: look again
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    user=user, key=key, fingerprint=digest, created_at=now, request_id=request_id
                )
            return row, True
        except IntegrityError:
            pass
        stored = IdempotencyKey.objects.filter(user=user, key=key).first()
        if stored is not None and stored.created_at >= now - window():
            return stored, False
        if stored is not None:
            IdempotencyKey.objects.filter(pk=stored.pk).delete()
    raise IntegrityError(f"could not claim an {HEADER}")


def fill(row: IdempotencyKey, response: HttpResponse) -> None:
    """Keep the answer whole: status, headers the API set (Location, ETag, Content-Type) and body.

    One UPDATE, and nothing else, between the request's writes and its commit: until then it holds the
    audit chain's head row (and on SQLite the write lock), which every other audited request waits for.
    """
    IdempotencyKey.objects.filter(pk=row.pk).update(
        status_code=response.status_code, headers=dict(response.items()), body=response.content
    )


def replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(row.body), status=row.status_code)
    for name, value in row.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def prune(now: dt.datetime | None = None) -> int:
    """Delete the answers older than the window; the number deleted."""
    cutoff = (now or timezone.now()) - window()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


_last_prune = -PRUNE_EVERY_SECONDS  # so the first keyed POST of a process prunes
_prune_lock = threading.Lock()


def prune_if_due() -> None:
    """Prune when this process has not for PRUNE_EVERY_SECONDS; one thread does it, the others go on."""
    global _last_prune
    with _prune_lock:
        if time.monotonic() - _last_prune < PRUNE_EVERY_SECONDS:
            return
        _last_prune = time.monotonic()
    prune()
