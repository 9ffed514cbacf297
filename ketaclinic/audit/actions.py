"""Writing and checking the audit trail. Every do_* action in KetaClinic calls record() in its transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from django.db import connection, models, transaction
from django.db.models import signals
from django.db.models.base import ModelState
from django.utils import timezone

from ketaclinic.audit import chain, client
from ketaclinic.audit.chain import GENESIS
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import AuditEvent, ChainHead, Outcome

__all__ = [
    "GENESIS",
    "ChainReport",
    "append",
    "confirmed_before_answering",
    "event",
    "record",
    "settle",
    "verify_chain",
]


def record(
    action: str,
    *,
    actor: Any = None,
    origin: Origin = SYSTEM,
    outcome: str = Outcome.SUCCESS,
    obj: Any = None,
    patient: Any = None,
    location_id: int | None = None,
    changed_fields: Iterable[str] = (),
    occurrences: int = 1,
) -> AuditEvent:
    """Append one event to the chain, durably, before returning (or, within confirmed_before_answering(),
    before the request's answer leaves).

    Inside a transaction (every do_* action) the event joins it, so the change and its audit row commit or
    roll back together. Outside one (reads, searches, denials, logins) the event is handed to the audit
    writer when the server runs one (ketaclinic/audit/server.py), which commits events from all workers in
    shared transactions; otherwise it commits here, in a transaction of its own.
    """
    new = event(
        action,
        actor=actor,
        origin=origin,
        outcome=outcome,
        obj=obj,
        patient=patient,
        location_id=location_id,
        changed_fields=changed_fields,
        occurrences=occurrences,
    )
    if not connection.in_atomic_block:
        settle()  # an event still in flight on this thread comes first (one at a time on its connection)
        if _answer.waits and client.send(new):
            return new  # confirmed by settle() when the answer is ready
        if client.submit(new):
            return new
    with transaction.atomic(savepoint=False):
        append([new])
    return new


class _Answering(threading.local):
    waits = False  # within confirmed_before_answering() on this thread


_answer = _Answering()


@contextmanager
def confirmed_before_answering() -> Iterator[None]:
    """Within it, an event record() hands to the audit writer is confirmed on the way out, not at once.

    RequestContextMiddleware runs every GET and HEAD in it. A page's read event then goes to the writer
    and the page is built while the writer commits it; the block's end waits for that commit (or
    raises AuditWriteFailed), so the answer still leaves only after its event is on disk. A worker's
    thread spent about 44% of a served chart waiting for that reply (docs/performance.md); built meanwhile,
    the chart's one-client p50 fell by about a fifth.

    Requests that write are not run in it: their events stay durable before anything after them runs.
    """
    _answer.waits = True
    try:
        yield
    finally:
        _answer.waits = False
        settle()


def settle() -> None:
    """Wait until the event this thread has in flight to the writer is committed (or commit it here)."""
    lost = client.confirm()
    if lost is not None:  # the writer went away after taking it: it may be recorded twice, never not at all
        with transaction.atomic(savepoint=False):
            append([lost])


def event(
    action: str,
    *,
    actor: Any = None,
    origin: Origin = SYSTEM,
    outcome: str = Outcome.SUCCESS,
    obj: Any = None,
    patient: Any = None,
    location_id: int | None = None,
    changed_fields: Iterable[str] = (),
    occurrences: int = 1,
) -> AuditEvent:
    """The event record() would write, not yet written: an action that writes several events in its
    transaction hands them to append() together (three statements for all of them, not three each)."""
    if location_id is None and patient is not None:
        location_id = patient.location_id
    # A patient portal account (ketaclinic/portal) is named in its own column: it is never a staff user.
    patient_account_id = actor.pk if getattr(actor, "is_patient_account", False) else None
    if patient_account_id is not None:
        actor = None
    return _new_event(
        occurred_at=timezone.now(),
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        patient_account_id=patient_account_id,
        action=action,
        outcome=outcome,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient_id=getattr(patient, "pk", None),
        location_id=location_id,
        changed_fields=sorted(changed_fields),
        via=origin.via,
        request_id=origin.request_id,
        source_ip=origin.source_ip,
        occurrences=occurrences,
    )


# What a new event holds before it is chained: no row yet, no place in the chain.
_UNCHAINED = {"id": None, "seq": None, "prev_hash": "", "hash": ""}


def _new_event(**values: Any) -> AuditEvent:
    """AuditEvent(**values), made as the writer makes the events it decodes (audit/server.decode).

    Model.__init__ walks every field and its descriptor for keyword arguments: 20 us an event, against
    2 us to set the attributes, on every audited request. The same unsaved instance; every column is set
    here, or this raises (a column added to AuditEvent must be given by event()), and a model with init
    signals listened to is made through __init__.
    """
    if _init_listened():
        return AuditEvent(**values)
    if values.keys() | _UNCHAINED.keys() != _attnames():
        raise TypeError(f"audit: an event's columns are {sorted(_attnames())}, not {sorted(values)}")
    new = AuditEvent.__new__(AuditEvent)
    new._state = ModelState()
    new.__dict__.update(_UNCHAINED, **values)
    return new


@cache
def _attnames() -> frozenset[str]:
    return frozenset(f.attname for f in AuditEvent._meta.concrete_fields)


def _init_listened() -> bool:
    return bool(signals.pre_init.has_listeners(AuditEvent) or signals.post_init.has_listeners(AuditEvent))


def append(events: list[AuditEvent]) -> None:
    """Chain and insert events, in order, in the current transaction: three statements however many.

    Bumping the head row first locks it, which orders concurrent writers; then the events go in with one
    executemany and the head takes the last event's hash.
    """
    with connection.cursor() as cursor:
        cursor.execute(_BUMP_HEAD, [len(events)])
        last_seq, prev_hash = cursor.fetchone()
        for seq, event in enumerate(events, start=last_seq - len(events) + 1):
            event.seq, event.prev_hash = seq, prev_hash
            event.hash = prev_hash = chain.digest(event)
        preps = _preps()
        rows = [[prep(getattr(e, name)) for name, prep in preps] for e in events]
        cursor.executemany(_insert_sql(), rows)
        cursor.execute(_SET_HEAD, [prev_hash])


_BUMP_HEAD = "UPDATE audit_chainhead SET seq = seq + %s WHERE id = 1 RETURNING seq, hash"
_SET_HEAD = "UPDATE audit_chainhead SET hash = %s WHERE id = 1"


@cache
def _columns() -> list[Any]:
    return [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]


# Columns whose Python value is already what every database takes: the rest go through Django's own
# conversion (datetimes, the UUID and the JSON list differ per database). Field by field, Django's
# get_db_prep_save was a third of the cost of appending an event.
_AS_IS = (models.IntegerField, models.CharField)  # integer keys and sequence numbers, text


@cache
def _preps() -> list[tuple[str, Any]]:
    preps = []
    for f in _columns():
        stored = f.target_field if f.is_relation else f
        preps.append((f.attname, _same if isinstance(stored, _AS_IS) else partial(_django_prep, f)))
    return preps


def _same(value: Any) -> Any:
    return value


def _django_prep(field: Any, value: Any) -> Any:
    return field.get_db_prep_save(value, connection)


@cache
def _insert_sql() -> str:
    columns = _columns()
    names = ", ".join(f.column for f in columns)
    values = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {AuditEvent._meta.db_table} ({names}) VALUES ({values})"  # noqa: S608 - names from the model


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(batch: int = 5000) -> ChainReport:
    """Recompute the chain from the first event; report the first edited, removed or reordered row.

    Each event is checked in the format of the event before it or a newer one (chain.py), never older.
    """
    expected_prev, expected_seq, checked, fmt = GENESIS, 1, 0, min(chain.FORMATS)
    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=batch)
    for event in events:
        if event.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, "an event is missing")
        found = chain.format_of(event, oldest=fmt) if event.prev_hash == expected_prev else None
        if found is None:
            return ChainReport(False, checked, event.seq, "an event was altered")
        fmt = found
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != checked or head.hash != expected_prev):
        return ChainReport(False, checked, checked + 1, "events after the last one present were removed")
    return ChainReport(True, checked)
