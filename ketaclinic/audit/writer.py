"""The audit writer: one process that commits the audit events of every worker in shared transactions.

Reads, searches, denials and logins write an audit event outside any transaction of their own, and each
must be durable before its response leaves. Committed one by one from every worker thread, they contend
for SQLite's single write lock: a thread that finds the lock taken sleeps in SQLite's busy handler, and the
holder, between its statements, waits for its own process's GIL. Under load most of a chart request's time
went to that wait (docs/performance.md).

So `ketaclinic serve` runs this writer beside the web workers. A worker sends each such event over a Unix
socket in the data folder and waits for the reply; the writer takes every event that has arrived, chains
and inserts them in one transaction (one fsync), and only then replies with each event's sequence number.
Durability is unchanged: the request still answers after its event is on disk.

Events written inside a transaction (every do_* action) never come here: they commit with the change they
describe. When no writer is configured or it cannot be reached, record() commits the event itself. If the
writer goes away after an event was sent but before it replied, the worker commits the event itself too:
it may then be recorded twice, never not at all.
"""

from __future__ import annotations

import json
import logging
import selectors
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.models import AuditEvent

log = logging.getLogger(__name__)

# The fields a worker fills in; the writer adds seq, prev_hash and hash.
FIELDS = (
    "actor_id",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "location_id",
    "changed_fields",
    "via",
    "request_id",
    "source_ip",
)
MAX_BATCH = 500  # events per transaction; more wait for the next one
REPLY_TIMEOUT_SECONDS = 60  # above SQLite's 20 s busy timeout: a slow commit is not a lost writer
WARN_EVERY_SECONDS = 60


class AuditWriteFailed(RuntimeError):
    """The writer could not commit the event (the database refused it); the request must fail."""


# --- worker side ------------------------------------------------------------------------------------------

_local = threading.local()
_last_warning = 0.0


def encode(event: AuditEvent) -> bytes:
    body = {name: getattr(event, name) for name in FIELDS}
    body["occurred_at"] = event.occurred_at.isoformat()
    body["patient_id"] = str(event.patient_id) if event.patient_id else None
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def submit(event: AuditEvent) -> bool:
    """Have the writer commit the event; False when there is no writer to do it (the caller commits it)."""
    path = settings.KETACLINIC_AUDIT_WRITER
    if not path:
        return False
    line = encode(event)
    for _attempt in range(2):  # a kept connection may be to a writer that has since restarted
        sock = _connection(path)
        if sock is None:
            return False
        try:
            sock.sendall(line)
        except OSError:
            _drop()
            continue  # nothing was taken: the writer only reads whole lines
        try:
            reply = _read_line(sock)
        except OSError:
            _drop()
            _warn("the audit writer went away before replying; committing the event here")
            return False
        result = json.loads(reply)
        if "error" in result:
            raise AuditWriteFailed(result["error"])
        event.seq, event.prev_hash, event.hash = result["seq"], result["prev_hash"], result["hash"]
        return True
    return False


def _connection(path: str) -> socket.socket | None:
    sock: socket.socket | None = getattr(_local, "sock", None)
    if sock is not None:
        return sock
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(REPLY_TIMEOUT_SECONDS)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        _warn("the audit writer is not reachable; committing events in the worker")
        return None
    _local.sock, _local.buffer = sock, b""
    return sock


def _read_line(sock: socket.socket) -> bytes:
    buffer: bytes = _local.buffer
    while b"\n" not in buffer:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionResetError("the audit writer closed the connection")
        buffer += chunk
    line, _, _local.buffer = buffer.partition(b"\n")
    return line


def _drop() -> None:
    sock = getattr(_local, "sock", None)
    if sock is not None:
        sock.close()
    _local.sock, _local.buffer = None, b""


def _warn(message: str) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARN_EVERY_SECONDS:
        _last_warning = now
        log.warning(message)


# --- writer side ------------------------------------------------------------------------------------------


def decode(line: bytes) -> AuditEvent:
    body: dict[str, Any] = json.loads(line)
    unknown = set(body) - {*FIELDS, "occurred_at", "patient_id"}
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    event = AuditEvent(**{name: body[name] for name in FIELDS})
    event.occurred_at = datetime.fromisoformat(body["occurred_at"])
    event.patient_id = uuid.UUID(body["patient_id"]) if body["patient_id"] else None
    return event


def write(lines: list[bytes]) -> list[bytes]:
    """Commit a batch in one transaction; return one reply line per input line, in order."""
    from ketaclinic.audit.actions import append  # actions imports this module

    replies: list[bytes | None] = [None] * len(lines)
    events: list[tuple[int, AuditEvent]] = []
    for i, line in enumerate(lines):
        try:
            events.append((i, decode(line)))
        except (ValueError, KeyError, TypeError) as exc:
            replies[i] = _reply({"error": f"malformed audit event: {exc}"})
    if events:
        try:
            with transaction.atomic():
                append([event for _, event in events])
        except DatabaseError as exc:
            log.error("audit writer: %d events not committed: %s", len(events), type(exc).__name__)
            connection.close()  # start the next batch on a fresh connection
            for i, _ in events:
                replies[i] = _reply({"error": "the audit event could not be committed"})
        else:
            for i, event in events:
                replies[i] = _reply({"seq": event.seq, "prev_hash": event.prev_hash, "hash": event.hash})
    return [reply or b"" for reply in replies]


def _reply(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


class Writer:
    """The writer's socket, bound at once (workers may connect from then on); run() serves it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.unlink(missing_ok=True)  # a socket left by a writer that was killed
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        path.chmod(0o600)  # the data folder's owner only, like the database file beside it
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.buffers: dict[socket.socket, bytes] = {}

    def run(self, keep_going: Callable[[], bool] = lambda: True) -> None:
        """Commit what the workers send, a batch per wake-up, until keep_going() turns false; then close."""
        try:
            while keep_going():
                self.step(timeout=0.5)
        finally:
            self.close()

    def step(self, timeout: float) -> int:
        """Wait up to timeout for events, commit every one that has arrived, reply; return how many."""
        batch: list[tuple[socket.socket, bytes]] = []
        for key, _ in self.selector.select(timeout=timeout):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if sock is self.listener:
                self._accept()
                continue
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                self._close(sock)
                continue
            *lines, self.buffers[sock] = (self.buffers[sock] + chunk).split(b"\n")
            batch += [(sock, line) for line in lines]
        for start in range(0, len(batch), MAX_BATCH):
            part = batch[start : start + MAX_BATCH]
            for (sock, _), reply in zip(part, write([line for _, line in part]), strict=True):
                try:
                    sock.sendall(reply)
                except OSError:
                    self._close(sock)
        return len(batch)

    def close(self) -> None:
        for sock in list(self.buffers):
            self._close(sock)
        self.selector.close()
        self.listener.close()
        self.path.unlink(missing_ok=True)

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        sock.settimeout(5)  # replies are a few dozen bytes to a worker that is waiting for them
        self.selector.register(sock, selectors.EVENT_READ)
        self.buffers[sock] = b""

    def _close(self, sock: socket.socket) -> None:
        if sock in self.buffers:
            self.selector.unregister(sock)
            del self.buffers[sock]
        sock.close()
