"""The audit writer commits worker events in shared transactions without weakening the audit trail.

What a clinic and an auditor rely on: an event handed to the writer is on disk, chained, before record()
returns; concurrent workers get one unbroken chain; a missing, restarted or failing writer never loses an
event silently; events written inside a transaction still commit or roll back with their change.

These tests run a real Writer (server.py) on a Unix socket in tmp_path, reached through client.py. Its
commits happen on another thread's connection, so they are transactional tests (see the `chain` fixture
for how the flush that ends them gets past the audit table's append-only triggers).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Client, Connection
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_migrate
from django.http import HttpRequest, HttpResponse
from django.test import Client as Browser
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from pytest_django import Settings

from ketaclinic.audit import actions, client, server
from ketaclinic.audit.actions import GENESIS, confirmed_before_answering, record, verify_chain
from ketaclinic.audit.chain import CHAINED, HASHED, SUBMITTED
from ketaclinic.audit.client import AuditWriteFailed
from ketaclinic.audit.context import Origin
from ketaclinic.audit.models import Action, AuditEvent, ChainHead, Outcome, Via
from ketaclinic.audit.server import Writer, WriterRunning
from ketaclinic.patients import queries as patient_queries
from ketaclinic.web.management.commands import serve
from ketaclinic.web.middleware import RequestContextMiddleware

if TYPE_CHECKING:
    from conftest import World

JOIN_SECONDS = 10  # a bound for joins and waits that only a hang would reach


# --- fixtures and helpers -----------------------------------------------------------------------------


# The CREATE TRIGGER statements a flush had to set aside on SQLite, made again after it.
_SET_ASIDE: list[str] = []


def _restore_after_flush(sender: Any, **kwargs: Any) -> None:
    """post_migrate, sent by the flush that ends a transactional test: put back what migrations made."""
    if sender.label != "audit":
        return
    post_migrate.disconnect(dispatch_uid=__name__)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")
        else:
            for statement in _SET_ASIDE:  # the audit trail's and the ledger's no-delete triggers
                cursor.execute(statement)
            _SET_ASIDE.clear()
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})  # migration 0003


@pytest.fixture
def chain(transactional_db: None) -> Iterator[None]:
    """An empty chain at genesis, committed for real (the writer commits on its own connection).

    A transactional test ends with `flush`, which the append-only triggers of the audit trail and the
    ledger refuse (DELETE on SQLite,
    TRUNCATE on PostgreSQL), and which also empties the chain head row that migration 0003 created. So
    before the flush the triggers are set aside on the flushing connection, the way test_chain.py edits
    around them, and after it (post_migrate) they and the head row are put back. A trigger left off would
    let test_chain.py's "refused by the database" tests pass on nothing; they keep passing after this file.
    """
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})
    assert not AuditEvent.objects.exists()
    yield
    post_migrate.connect(_restore_after_flush, weak=False, dispatch_uid=__name__)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # this session only
        else:
            # Every table that refuses DELETE (the audit trail; the ledger's entries, products and lots
            # that the demo's treatment day made): its trigger is kept aside and made again after.
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%no_delete'"
            )
            for name, sql in cursor.fetchall():
                _SET_ASIDE.append(sql)
                cursor.execute(f'DROP TRIGGER "{name}"')


@pytest.fixture(autouse=True)
def fresh_worker_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No kept connection or warning clock carried between tests (both are per process in production)."""
    client._drop()
    monkeypatch.setattr(client, "_last_warning", None)
    yield
    client._drop()


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch the writer commits (one write() call is one transaction)."""
    sizes: list[int] = []
    real = server.write

    def counting(messages: list[bytes]) -> list[bytes]:
        sizes.append(len(messages))
        return real(messages)

    monkeypatch.setattr(server, "write", counting)
    return sizes


@pytest.fixture
def sock_path(tmp_path: Path, settings: Settings) -> Path:
    """The writer's socket path, configured for record() as `ketaclinic serve` does for its workers."""
    path = tmp_path / "audit.sock"
    settings.KETACLINIC_AUDIT_WRITER = str(path)
    return path


@contextmanager
def serving(path: Path) -> Iterator[Writer]:
    """A real Writer on path, run as `ketaclinic serve` runs it, in a thread with its own connection."""
    w = Writer(path)
    stop = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            w.run(keep_going=lambda: not stop.is_set())
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="audit-writer", daemon=True)
    thread.start()
    try:
        yield w
    finally:
        stop.set()
        with suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as wake:
            wake.connect(str(path))  # ends the writer's wait for events at once
        thread.join(JOIN_SECONDS)
        assert not thread.is_alive(), "the writer did not stop"
    assert not failures, f"the writer crashed: {failures[0]!r}"


@contextmanager
def dying_writer(path: Path, hanging_until: threading.Event | None = None) -> Iterator[list[bytes]]:
    """A writer on path that takes one message and goes away without replying (first hanging until the
    event is set, when given); yields what it took."""
    received: list[bytes] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen(1)

        def take_one_and_die() -> None:
            sock, _ = listener.accept()
            with Connection(sock.detach()) as conn:
                received.append(conn.recv_bytes())
                if hanging_until is not None:
                    hanging_until.wait(JOIN_SECONDS)

        thread = threading.Thread(target=take_one_and_die, daemon=True)
        thread.start()
        yield received
        thread.join(JOIN_SECONDS)


def until(done: Callable[[], bool], w: Writer) -> None:
    """Step the writer on this thread until done(); a hang fails the test instead of stalling it."""
    deadline = time.monotonic() + JOIN_SECONDS
    while not done():
        assert time.monotonic() < deadline, "timed out"
        w.step(timeout=0.02)


def _rows() -> dict[int, tuple[str, str]]:
    return {seq: (prev, h) for seq, prev, h in AuditEvent.objects.values_list("seq", "prev_hash", "hash")}


def _ask(path: Path, message: bytes) -> dict[str, Any]:
    """Send one message to the writer, as any local process could, and return its reply."""
    with Client(str(path), family="AF_UNIX") as conn:
        conn.send_bytes(message)
        assert conn.poll(JOIN_SECONDS), "the writer did not reply"
        reply: dict[str, Any] = json.loads(conn.recv_bytes())
        return reply


def _valid_line(**changes: Any) -> bytes:
    body = json.loads(client.encode(AuditEvent(**_event_fields())))
    body.update(changes)
    return json.dumps(body).encode()


def _event_fields() -> dict[str, Any]:
    return {
        "occurred_at": timezone.now(),
        "action": Action.PATIENT_SEARCH,
        "outcome": Outcome.SUCCESS,
        "via": Via.WEB,
        "changed_fields": [],
    }


WEB = Origin(via=Via.WEB, request_id="6f1c2a8e-0000-4000-8000-000000000001", source_ip="192.0.2.41")


# --- through the writer -------------------------------------------------------------------------------


def test_an_event_outside_a_transaction_is_committed_by_the_writer_before_record_returns(
    chain: None, world: World, sock_path: Path, batches: list[int]
) -> None:
    """A nurse reads a chart: the read event is on disk, chained, when record() returns."""
    nurse, patient = world.user("nurse.north"), world.patient("north")
    last = ChainHead.objects.get(pk=1)
    with serving(sock_path):
        event = record(
            Action.PATIENT_READ,
            actor=nurse,
            origin=WEB,
            obj=patient,
            patient=patient,
            changed_fields=["b", "a"],
        )
        # The reply came after the commit: the row is readable from this, another, connection now.
        row = AuditEvent.objects.get(seq=event.seq)

    assert batches == [1], "the event did not go through the writer"
    assert (event.seq, event.prev_hash) == (last.seq + 1, last.hash) and len(event.hash) == 64
    assert (row.prev_hash, row.hash) == (event.prev_hash, event.hash)
    assert (row.occurred_at, row.action, row.via) == (event.occurred_at, Action.PATIENT_READ, Via.WEB)
    assert (row.actor_id, row.patient_id, row.location_id) == (nurse.pk, patient.pk, patient.location_id)
    assert (row.object_type, row.object_id) == ("Patient", str(patient.pk))
    assert (row.request_id, row.source_ip, row.changed_fields) == (WEB.request_id, WEB.source_ip, ["a", "b"])
    assert (ChainHead.objects.get(pk=1).seq, ChainHead.objects.get(pk=1).hash) == (event.seq, event.hash)
    report = verify_chain()
    assert report.ok and report.checked == event.seq


THREADS, PER_THREAD = 8, 25


def test_concurrent_workers_get_one_unbroken_chain_in_fewer_transactions(
    chain: None, sock_path: Path, batches: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight worker threads, one writer: distinct consecutive seqs, a valid chain, events batched.

    The writer is stepped here, on the test's thread, so one step can be held back until every worker has
    an event waiting: that step must commit all of them in one transaction.
    """
    all_sent = threading.Event()
    sent = [0]
    lock = threading.Lock()
    real_await_reply = client._await_reply

    def counting_await_reply(conn: Connection) -> bytes:  # called once a message is fully sent
        with lock:
            sent[0] += 1
            if sent[0] == 2 * THREADS:  # every worker's first event is answered, its second is waiting
                all_sent.set()
        return real_await_reply(conn)

    monkeypatch.setattr(client, "_await_reply", counting_await_reply)
    w = Writer(sock_path)
    first_round = threading.Barrier(THREADS + 1, timeout=JOIN_SECONDS)
    results: dict[int, list[AuditEvent]] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        events: list[AuditEvent] = []
        try:
            events.append(record(Action.PATIENT_LIST, origin=Origin(via=Via.API, request_id=f"w{n}-0")))
            results[n] = events
            first_round.wait()
            for i in range(1, PER_THREAD):
                events.append(record(Action.PATIENT_READ, origin=Origin(via=Via.API, request_id=f"w{n}-{i}")))
        except BaseException as exc:
            errors.append(exc)
            first_round.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        until(lambda: len(results) == THREADS or bool(errors), w)
        first_round.wait()
        assert all_sent.wait(JOIN_SECONDS)
        assert w.step(timeout=JOIN_SECONDS) == THREADS
        assert batches[-1] == THREADS
        until(lambda: not any(thread.is_alive() for thread in threads), w)
    finally:
        w.close()
        for thread in threads:
            thread.join(JOIN_SECONDS)
    assert not errors, errors

    returned = [event for events in results.values() for event in events]
    total = THREADS * PER_THREAD
    assert sorted(event.seq for event in returned) == list(range(1, total + 1))
    for events in results.values():  # each worker's own events are in the order it recorded them
        assert [event.seq for event in events] == sorted(event.seq for event in events)
    assert _rows() == {event.seq: (event.prev_hash, event.hash) for event in returned}
    assert {e.request_id for e in AuditEvent.objects.all()} == {e.request_id for e in returned}
    assert sum(batches) == total and len(batches) < total
    report = verify_chain()
    assert report.ok and report.checked == total


def test_events_written_in_transactions_and_through_the_writer_form_one_chain(
    chain: None, sock_path: Path, batches: list[int]
) -> None:
    """do_* actions write their event in their own transaction; reads go to the writer. One chain."""
    returned: list[AuditEvent] = []
    with serving(sock_path):
        for i in range(6):
            if i % 2:
                with transaction.atomic():
                    returned.append(record(Action.PATIENT_UPDATE, changed_fields=["phone"]))
            else:
                returned.append(record(Action.PATIENT_READ, origin=WEB))
    assert batches == [1, 1, 1]  # the three reads, and only they, went through the writer
    assert [event.seq for event in returned] == [1, 2, 3, 4, 5, 6]
    assert [event.prev_hash for event in returned[1:]] == [event.hash for event in returned[:-1]]
    assert _rows() == {event.seq: (event.prev_hash, event.hash) for event in returned}
    report = verify_chain()
    assert report.ok and report.checked == 6


# --- no writer, a gone writer, a restarted writer -------------------------------------------------------


def test_with_no_writer_listening_record_commits_the_event_itself_and_warns_once_a_minute(
    chain: None,
    world: World,
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.KETACLINIC_AUDIT_WRITER = str(tmp_path / "nobody-listens.sock")
    clock = [10_000.0]
    monkeypatch.setattr(client, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    caplog.set_level(logging.WARNING, logger=client.__name__)
    nurse, patient = world.user("nurse.north"), world.patient("north")
    before = AuditEvent.objects.count()

    def read_chart() -> AuditEvent:
        return record(Action.PATIENT_READ, actor=nurse, origin=WEB, obj=patient, patient=patient)

    events = [read_chart()]
    clock[0] += client.WARN_EVERY_SECONDS - 1
    events.append(read_chart())
    warnings = [r for r in caplog.records if r.name == client.__name__]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    clock[0] += 1
    events.append(read_chart())
    warnings = [r for r in caplog.records if r.name == client.__name__]
    assert len(warnings) == 2

    assert [event.seq for event in events] == [before + 1, before + 2, before + 3]
    rows = AuditEvent.objects.filter(seq__in=[event.seq for event in events], patient=patient)
    assert {row.hash for row in rows} == {event.hash for event in events}
    assert verify_chain().ok
    identifying = [patient.given_name, patient.family_name, patient.mrn, str(patient.pk), patient.pk.hex]
    assert WEB.source_ip is not None
    identifying += [nurse.username, WEB.source_ip, WEB.request_id]
    assert not [value for value in identifying if value in caplog.text]


def test_a_writer_that_goes_away_before_replying_loses_no_event(
    chain: None, sock_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The writer read the event and died before answering: the worker commits it itself."""
    caplog.set_level(logging.WARNING, logger=client.__name__)
    with dying_writer(sock_path) as received:
        event = record(Action.LOGIN, origin=WEB)
    assert len(received) == 1 and json.loads(received[0])["request_id"] == WEB.request_id
    assert event.seq == 1 and AuditEvent.objects.get(seq=1).hash == event.hash
    assert [r.levelno for r in caplog.records if r.name == client.__name__] == [logging.WARNING]
    assert verify_chain().ok


def test_a_writer_that_never_replies_holds_a_request_only_until_the_reply_timeout(
    chain: None, sock_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's read of the reply is blocking but bounded (SO_RCVTIMEO): a writer that took the
    event and hangs costs the request REPLY_TIMEOUT_SECONDS, then the worker commits the event itself."""
    monkeypatch.setattr(client, "REPLY_TIMEOUT_SECONDS", 1)
    release = threading.Event()
    with dying_writer(sock_path, hanging_until=release) as received:  # never replies while the worker waits
        started = time.monotonic()
        event = record(Action.LOGIN, origin=WEB)
        waited = time.monotonic() - started
        release.set()
    assert len(received) == 1
    assert 0.9 <= waited < JOIN_SECONDS / 2, waited
    assert event.seq == 1 and AuditEvent.objects.get(seq=1).hash == event.hash
    assert verify_chain().ok


def test_after_the_writer_restarts_the_next_event_reconnects_to_the_new_one(
    chain: None, sock_path: Path, batches: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=client.__name__)
    with serving(sock_path):
        first = record(Action.PATIENT_READ, origin=WEB)
    kept = client._local.conn
    assert kept is not None  # this thread keeps its connection to the writer that just stopped

    with serving(sock_path):
        second = record(Action.PATIENT_READ, origin=WEB)
    assert client._local.conn is not kept
    assert batches == [1, 1], "the second event did not go through the new writer"
    assert not caplog.records, "the worker fell back to committing the event itself"
    assert (first.seq, second.seq) == (1, 2) and second.prev_hash == first.hash
    assert verify_chain().ok


# --- transactions never go to the writer --------------------------------------------------------------


class Rollback(Exception):
    pass


def test_inside_a_transaction_the_event_joins_it_and_rolls_back_with_it(
    chain: None, sock_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_writer(event: AuditEvent) -> bool:
        pytest.fail("an event inside a transaction was sent to the writer")

    monkeypatch.setattr(client, "submit", no_writer)
    with serving(sock_path), pytest.raises(Rollback), transaction.atomic():
        event = record(Action.PATIENT_UPDATE, changed_fields=["phone"])
        assert event.seq == 1 and AuditEvent.objects.filter(seq=1).exists()  # in this transaction
        raise Rollback  # the change it describes failed
    assert not AuditEvent.objects.exists()
    assert ChainHead.objects.get(pk=1).seq == 0
    assert verify_chain().ok


# --- a bad line or a failing database -----------------------------------------------------------------


MALFORMED = {
    "not json": b"not json",
    "empty": b"",
    "a list": b"[]",
    "null": b"null",
    "a string": b'"a string"',
    "no fields": b"{}",
    "missing fields": b'{"action": "patient.read"}',
    "not UTF-8": b"\xff\xfe",
    "an unknown field": _valid_line(extra="field"),
    "a bad time": _valid_line(occurred_at="yesterday"),
    "no time": _valid_line(occurred_at=None),
    "a bad patient id": _valid_line(patient_id="not-a-uuid"),
    "a bad location id": _valid_line(location_id="x"),  # refused by the field, inside write()'s transaction
}


def test_a_malformed_line_is_answered_with_an_error_and_the_writer_carries_on(
    chain: None, sock_path: Path, batches: list[int]
) -> None:
    with serving(sock_path):
        replies = {name: _ask(sock_path, line) for name, line in MALFORMED.items()}
        event = record(Action.PATIENT_READ, origin=WEB)
    accepted = [name for name, reply in replies.items() if "error" not in reply or "seq" in reply]
    assert not accepted
    assert event.seq == 1 and batches == [1] * (len(MALFORMED) + 1)
    report = verify_chain()
    assert report.ok and report.checked == 1


def test_bytes_that_are_not_a_framed_message_cost_only_their_own_connection(
    chain: None, sock_path: Path, batches: list[int]
) -> None:
    """A local process that writes raw bytes (no length prefix) is dropped; the writer carries on."""
    with serving(sock_path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
            raw.settimeout(JOIN_SECONDS)
            raw.connect(str(sock_path))
            raw.sendall(b"not a framed message\n")  # read as a length of about 1.8 GB: refused
            try:
                left = raw.recv(4096)
            except ConnectionResetError:  # closed with the rest of the garbage unread
                left = b""
            assert left == b"", "the writer kept a connection that sent garbage"
        event = record(Action.PATIENT_READ, origin=WEB)
    assert event.seq == 1 and batches == [1]
    assert verify_chain().ok


def test_the_writer_refuses_to_start_when_a_chained_field_has_no_type() -> None:
    server.check_types(SUBMITTED)
    with pytest.raises(ImportError, match="new_column"):
        server.check_types((*SUBMITTED, "new_column"))


def test_what_a_worker_sends_is_every_chained_field_the_writer_does_not_set() -> None:
    body = json.loads(client.encode(AuditEvent(**_event_fields())))
    assert tuple(body) == SUBMITTED
    assert set(SUBMITTED) | set(CHAINED) == set(HASHED)


def test_a_wrongly_typed_patient_id_is_answered_with_an_error_and_the_writer_carries_on(
    chain: None, sock_path: Path, batches: list[int]
) -> None:
    with serving(sock_path):
        reply = _ask(sock_path, _valid_line(patient_id=5))
        event = record(Action.PATIENT_READ, origin=WEB)
    assert "error" in reply
    assert event.seq == 1 and batches == [1, 1]
    assert verify_chain().ok


@pytest.mark.parametrize(
    "change",
    [
        {"actor_id": "<actor>"},  # hashed as text, stored and read back as a number
        {"occurred_at": "2026-11-21T10:00:00"},  # naive
        {"occurred_at": "2026-11-21T12:00:00+02:00"},  # stored in UTC, hashed as sent
    ],
)
def test_an_event_the_chain_could_not_verify_is_refused(
    chain: None, world: World, sock_path: Path, change: dict[str, str]
) -> None:
    actor = world.user("nurse.north")
    change = {k: str(actor.pk) if v == "<actor>" else v for k, v in change.items()}
    before = AuditEvent.objects.count()
    with serving(sock_path):
        reply = _ask(sock_path, _valid_line(**change))
        accepted = _ask(sock_path, _valid_line(actor_id=actor.pk))
    assert "error" in reply and "seq" in accepted
    assert AuditEvent.objects.count() == before + 1
    assert verify_chain().ok


def test_an_event_the_database_refuses_fails_only_its_own_request(chain: None, sock_path: Path) -> None:
    w = Writer(sock_path)
    try:
        with (
            Client(str(sock_path), family="AF_UNIX") as bad,
            Client(str(sock_path), family="AF_UNIX") as good,
        ):
            until(lambda: len(w.peers) == 2, w)  # both accepted
            bad.send_bytes(_valid_line(actor_id=999_999_999))
            good.send_bytes(_valid_line(request_id="innocent"))
            assert w.step(timeout=JOIN_SECONDS) == 2  # one batch, one transaction
            replies = [json.loads(conn.recv_bytes()) for conn in (bad, good)]
    finally:
        w.close()
    assert "error" in replies[0]
    assert "seq" in replies[1], replies[1]


def test_a_failing_commit_fails_the_request_and_writes_nothing(
    chain: None, sock_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The database refuses the batch: record() raises, nothing of it is left, the writer carries on."""
    caplog.set_level(logging.WARNING)
    real_append = actions.append
    failing = [True]

    def append_then_fail(events: list[AuditEvent]) -> None:
        real_append(events)  # the head is bumped and the rows inserted before the failure
        if failing[0]:
            raise DatabaseError("disk I/O error near 'Jane Example'")

    monkeypatch.setattr(actions, "append", append_then_fail)
    with serving(sock_path):
        with pytest.raises(AuditWriteFailed):
            record(Action.PATIENT_READ, origin=WEB)
        assert not AuditEvent.objects.exists()
        assert ChainHead.objects.get(pk=1).seq == 0
        failing[0] = False
        event = record(Action.PATIENT_READ, origin=WEB)
    assert event.seq == 1 and event.prev_hash == GENESIS
    assert verify_chain().ok
    assert [r.levelno for r in caplog.records if r.name == server.__name__] == [logging.ERROR]  # told...
    assert "Jane Example" not in caplog.text  # ...without the database's message, which may hold PHI


# --- a GET's read event, committed while its page is built -----------------------------------------------


def _chart(world: World) -> tuple[Browser, str, Any]:
    """A signed-in nurse's client (server errors answered, not raised), a patient's chart URL, the patient."""
    patient = world.patient("north")
    browser = Browser(raise_request_exception=False)
    browser.force_login(world.user("nurse.north"))
    return browser, reverse("patients:chart", args=[patient.pk]), patient


def test_a_chart_is_built_while_its_read_event_is_committed_and_answers_only_after_the_commit(
    chain: None, world: World, sock_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer holds the chart's read event: the page is built meanwhile, and does not leave until the
    event is on disk."""
    browser, url, patient = _chart(world)
    built = threading.Event()
    real_chart = patient_queries.chart

    def chart_then_tell(*args: Any, **kwargs: Any) -> Any:
        result = real_chart(*args, **kwargs)
        built.set()
        return result

    monkeypatch.setattr(patient_queries, "chart", chart_then_tell)
    answers: list[Any] = []

    def read_chart() -> None:
        try:
            answers.append(browser.get(url))
        finally:
            connection.close()

    w = Writer(sock_path)  # stepped below, on this thread: until then it commits nothing
    reader = threading.Thread(target=read_chart, daemon=True)
    try:
        reader.start()
        assert built.wait(JOIN_SECONDS), "the chart waited for the writer's commit before it was built"
        reader.join(0.3)
        assert reader.is_alive() and not answers, "the chart answered before its read event was committed"
        assert not AuditEvent.objects.filter(action=Action.PATIENT_READ).exists()
        until(lambda: not reader.is_alive(), w)
    finally:
        w.close()
    [answer] = answers
    assert answer.status_code == 200 and patient.family_name in answer.content.decode()
    row = AuditEvent.objects.get(action=Action.PATIENT_READ, patient=patient)
    assert row.request_id == answer["X-Request-ID"]
    assert verify_chain().ok


def test_a_chart_whose_read_event_cannot_be_committed_answers_500_and_shows_nothing_of_the_patient(
    chain: None, world: World, sock_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser, url, patient = _chart(world)

    def failing_append(events: list[AuditEvent]) -> None:
        raise DatabaseError("disk I/O error")

    before = AuditEvent.objects.count()
    monkeypatch.setattr(actions, "append", failing_append)
    with serving(sock_path):
        answer = browser.get(url)
    assert answer.status_code == 500
    page = answer.content.decode()
    assert patient.family_name not in page and patient.mrn not in page
    assert AuditEvent.objects.count() == before and not client.in_flight()


def test_a_writer_that_goes_away_while_the_chart_is_built_loses_no_read_event(
    chain: None, world: World, sock_path: Path
) -> None:
    browser, url, patient = _chart(world)
    with dying_writer(sock_path) as received:
        answer = browser.get(url)
    assert answer.status_code == 200 and len(received) == 1
    row = AuditEvent.objects.get(action=Action.PATIENT_READ, patient=patient)  # committed by the worker
    assert row.request_id == answer["X-Request-ID"] == json.loads(received[0])["request_id"]
    assert verify_chain().ok


def test_a_thread_has_one_event_in_flight_and_each_event_gets_its_own_place_in_the_chain(
    chain: None, sock_path: Path
) -> None:
    with serving(sock_path):
        with confirmed_before_answering():
            first = record(Action.PATIENT_SEARCH, origin=WEB)
            assert client.in_flight() and first.seq is None
            with pytest.raises(RuntimeError, match="in flight"):
                client.send(actions.event(Action.PATIENT_LIST, origin=WEB))
            second = record(Action.PATIENT_LIST, origin=WEB)
            assert first.seq == 1  # confirmed before the second was sent
        assert second.seq == 2 and not client.in_flight()
    assert [e.action for e in AuditEvent.objects.order_by("seq")] == [
        Action.PATIENT_SEARCH,
        Action.PATIENT_LIST,
    ]
    assert verify_chain().ok


def test_an_event_in_flight_is_confirmed_even_when_the_page_fails(chain: None, sock_path: Path) -> None:
    """Nothing is left owed on the thread's connection for its next request to take as its own."""
    with serving(sock_path):
        with pytest.raises(ZeroDivisionError), confirmed_before_answering():
            read = record(Action.PATIENT_READ, origin=WEB)
            _ = 1 / 0
        assert read.seq == 1 and not client.in_flight()
        after = record(Action.PATIENT_SEARCH, origin=WEB)
    assert after.seq == 2 and AuditEvent.objects.get(seq=1).hash == read.hash
    assert verify_chain().ok


@pytest.mark.parametrize(
    ("method", "waits"), [("GET", True), ("HEAD", True), ("POST", False), ("PUT", False)]
)
def test_only_a_get_or_head_answer_waits_for_its_event_a_write_request_waits_at_record(
    chain: None, sock_path: Path, method: str, waits: bool
) -> None:
    """A request that may write confirms each event before going on, as outside any request."""
    seen: list[bool] = []

    def view(request: HttpRequest) -> HttpResponse:
        record(Action.PATIENT_SEARCH, origin=WEB)
        seen.append(client.in_flight())
        return HttpResponse()

    with serving(sock_path):
        RequestContextMiddleware(view)(RequestFactory().generic(method, "/patients/"))
    assert seen == [waits] and not client.in_flight()
    assert AuditEvent.objects.count() == 1


# --- the socket file ----------------------------------------------------------------------------------


def test_the_socket_is_for_the_data_folder_owner_only_and_removed_when_the_writer_stops(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.sock"
    path.write_text("left by a writer that was killed")
    old_umask = os.umask(0)  # the socket would be created world-writable without the chmod
    try:
        w = Writer(path)
    finally:
        os.umask(old_umask)
    mode = path.stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    w.run(keep_going=lambda: False)  # as `ketaclinic serve` does once granian has exited
    assert not path.exists()


def test_serve_puts_the_socket_in_the_data_folder_or_a_private_temp_folder_when_that_is_too_long(
    tmp_path: Path,
) -> None:
    assert serve.socket_path(tmp_path) == tmp_path / serve.SOCKET_NAME
    deep = tmp_path / ("d" * 120)
    path = serve.socket_path(deep)
    try:
        assert path.name == serve.SOCKET_NAME and not path.is_relative_to(deep)
        assert len(str(path)) <= serve.MAX_SOCKET_PATH
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        Writer(path).close()
    finally:
        path.parent.rmdir()


def test_serve_finds_a_bindable_socket_path_for_a_non_ascii_data_folder() -> None:
    data_dir = Path("/srv/ketaclinic/" + "ü" * 60)  # 76 characters, 136 bytes
    path = serve.socket_path(data_dir)
    if path.parent != data_dir:
        path.parent.rmdir()
    assert len(os.fsencode(path)) <= 107  # sun_path is 108 bytes on Linux, with the final NUL


def test_the_first_warning_is_logged_even_on_a_freshly_booted_machine(
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.KETACLINIC_AUDIT_WRITER = str(tmp_path / "nobody-listens.sock")
    monkeypatch.setattr(client, "time", SimpleNamespace(monotonic=lambda: 30.0))  # booted 30 s ago
    caplog.set_level(logging.WARNING, logger=client.__name__)
    assert client.submit(AuditEvent(**_event_fields())) is False
    assert "not reachable" in caplog.text


def test_a_second_server_on_the_same_data_folder_leaves_the_live_writer_alone(
    chain: None, sock_path: Path
) -> None:
    with serving(sock_path):
        with pytest.raises(WriterRunning, match="already serving"):
            Writer(sock_path)
        assert sock_path.exists()
        assert "seq" in _ask(sock_path, _valid_line())  # the first writer still answers


def test_a_writer_removes_only_its_own_socket(tmp_path: Path) -> None:
    path = tmp_path / "audit.sock"
    old = Writer(path)
    old.listener.close()  # the process behind it is gone; its socket file is stale
    new = Writer(path)  # takes the stale path over
    old.close()  # the old one shutting down late must not remove the new one's socket
    assert path.exists()
    new.close()
    assert not path.exists()


def test_a_decoded_event_has_every_column_an_event_built_by_record_has() -> None:
    built = AuditEvent(**_event_fields())
    decoded = server.decode(client.encode(built))
    columns = [f.attname for f in AuditEvent._meta.concrete_fields]
    assert {c: getattr(decoded, c) for c in columns} == {c: getattr(built, c) for c in columns}
    assert decoded._state.adding and decoded._state.db is None
