"""Stored answers: claim a key, fill it with the answer, replay it, prune the old ones.

These rows belong to the API's transport, as login sessions do, not to the clinic's records: they are
written here, not through a do_* action, and leave no audit row of their own. What a request did is
audited by the actions it called; what a replay shows again is checked and audited by replay.py.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection
from django.db.models import Field
from django.http import HttpResponse
from django.utils import timezone

from ketaclinic.idempotency.keys import HEADER, REPLAYED_HEADER
from ketaclinic.idempotency.models import IdempotencyKey

# Each server process deletes expired answers at most this often, after a keyed POST.
PRUNE_EVERY_SECONDS = 3600.0


def window() -> dt.timedelta:
    return dt.timedelta(hours=settings.KETACLINIC_IDEMPOTENCY_HOURS)


def claim(user: Any, key: str, digest: str, now: dt.datetime, request_id: str) -> IdempotencyKey | None:
    """None when the key is now this request's (to `fill` or `release`), else the answer stored before.

    Call it inside the request's transaction. A request with the same key still in flight holds the new
    row's unique index entry (PostgreSQL) or the write lock (SQLite), so this waits for it to commit and
    then finds its answer. An answer older than the window is gone as far as clients know: replaced.
    """
    values = [user.pk, key, digest, _prep("created_at", now), 0, _prep("headers", {}), b"", request_id]
    for _ in range(3):  # a stale row deleted under us by a concurrent replacement: look again
        with connection.cursor() as cursor:
            cursor.execute(_sql().claim, values)
            if cursor.rowcount == 1:
                return None
        stored = IdempotencyKey.objects.filter(user=user, key=key).first()
        if stored is not None and stored.created_at >= now - window():
            return stored
        if stored is not None:
            IdempotencyKey.objects.filter(pk=stored.pk).delete()
    raise IntegrityError(f"could not claim an {HEADER}")


def fill(user: Any, key: str, response: HttpResponse) -> None:
    """Keep the answer whole: status, headers the API set (Location, ETag, Content-Type) and body (or the
    `stored_content` the route set, when the body carries a secret that must not be stored).

    One statement, and nothing else, between the request's writes and its commit: until then it holds
    the audit chain's head row (and on SQLite the write lock), which every other audited request waits for.
    """
    headers = _prep("headers", dict(response.items()))
    # An answer carrying a secret shown once (a self-report link) says what to keep instead.
    body = getattr(response, "stored_content", response.content)
    with connection.cursor() as cursor:
        cursor.execute(_sql().fill, [response.status_code, headers, body, user.pk, key])


def release(user: Any, key: str) -> None:
    """Give the key back: the request was refused and changed nothing, so it may be sent again."""
    with connection.cursor() as cursor:
        cursor.execute(_sql().release, [user.pk, key])


# The claim, fill and release of every keyed POST are plain statements: a QuerySet costs about 0.5 ms a
# query on this machine (docs/performance.md), and fill runs while the request holds the audit chain.
_CLAIMED = ("user", "key", "fingerprint", "created_at", "status_code", "headers", "body", "request_id")


@cache
def _fields() -> dict[str, Field[Any, Any]]:
    return {f.name: f for f in IdempotencyKey._meta.concrete_fields}


def _prep(name: str, value: Any) -> Any:
    return _fields()[name].get_db_prep_save(value, connection)


@dataclass(frozen=True)
class _Statements:
    claim: str
    fill: str
    release: str


@cache
def _sql() -> _Statements:
    quote = connection.ops.quote_name
    table = quote(IdempotencyKey._meta.db_table)
    q = {name: quote(field.get_attname_column()[0]) for name, field in _fields().items()}
    columns = ", ".join(q[name] for name in _CLAIMED)
    values = ", ".join(["%s"] * len(_CLAIMED))
    owner = f"{q['user']}, {q['key']}"
    where = f"{q['user']} = %s AND {q['key']} = %s"
    changed = ", ".join(f"{q[name]} = %s" for name in ("status_code", "headers", "body"))
    # Table and column names from the model; every value is a parameter.
    return _Statements(
        claim=f"INSERT INTO {table} ({columns}) VALUES ({values}) ON CONFLICT ({owner}) DO NOTHING",  # noqa: S608
        fill=f"UPDATE {table} SET {changed} WHERE {where}",  # noqa: S608
        release=f"DELETE FROM {table} WHERE {where}",  # noqa: S608
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
