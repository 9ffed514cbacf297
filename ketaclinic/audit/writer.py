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

import contextlib
import json
import logging
import os
import selectors
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models.base import ModelState

from ketaclinic.audit.models import AuditEvent

log = logging.getLogger(__name__)

MAX_BATCH = 500  # events per transaction; more wait for the next one
REPLY_TIMEOUT_SECONDS = 60  # above SQLite's 20 s busy timeout: a slow commit is not a lost writer
WARN_EVERY_SECONDS = 60


class WriterRunning(RuntimeError):
    """Another writer answers on the socket: two servers on one data folder."""


def _answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def _identity(path: Path) -> tuple[int, int]:
    """A socket file's inode and change time: an inode number alone is reused at once."""
    info = path.stat()
    return info.st_ino, info.st_ctime_ns


class AuditWriteFailed(RuntimeError):
    """The writer could not commit the event (the database refused it); the request must fail."""


# --- worker side ------------------------------------------------------------------------------------------

_local = threading.local()
_last_warning: float | None = None


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
    if _last_warning is None or now - _last_warning >= WARN_EVERY_SECONDS:
        _last_warning = now
        log.warning(message)


# --- writer side ------------------------------------------------------------------------------------------


# Each field's JSON type, checked before anything is hashed: the hash must be over the value the database
# will hand back (an actor id sent as "1" would be hashed as text and read back as a number).
TYPES: dict[str, tuple[type, ...]] = {
    "actor_id": (int, type(None)),
    "action": (str,),
    "outcome": (str,),
    "object_type": (str,),
    "object_id": (str,),
    "location_id": (int, type(None)),
    "changed_fields": (list,),
    "via": (str,),
    "request_id": (str,),
    "source_ip": (str, type(None)),
    "occurred_at": (str,),
    "patient_id": (str, type(None)),
}
# The fields sent as they are; occurred_at and patient_id travel as text. The writer adds seq and hashes.
FIELDS = tuple(name for name in TYPES if name not in {"occurred_at", "patient_id"})


class Malformed(ValueError):
    """A line that is not an audit event as encode() writes one."""


def decode(line: bytes) -> AuditEvent:
    try:
        body = json.loads(line)
    except ValueError as exc:
        raise Malformed("not JSON") from exc
    if not isinstance(body, dict) or set(body) != set(TYPES):
        raise Malformed("not the fields of an audit event")
    for name, types in TYPES.items():
        value = body[name]
        if not isinstance(value, types) or isinstance(value, bool):
            raise Malformed(f"{name} has the wrong type")
    if not all(isinstance(f, str) for f in body["changed_fields"]):
        raise Malformed("changed_fields holds something other than names")
    try:
        occurred_at = datetime.fromisoformat(body["occurred_at"])
        patient_id = uuid.UUID(body["patient_id"]) if body["patient_id"] else None
    except ValueError as exc:
        raise Malformed("occurred_at or patient_id is not valid") from exc
    if occurred_at.utcoffset() != timedelta(0):
        raise Malformed("occurred_at is not in UTC")  # stored in UTC: the hash must be over that value
    # Every column set here, so Model.__init__ (a tenth of the writer's time per event) has nothing to add.
    event = AuditEvent.__new__(AuditEvent)
    event._state = ModelState()
    event.__dict__.update(
        {name: body[name] for name in FIELDS}, occurred_at=occurred_at, patient_id=patient_id, **_UNCHAINED
    )
    return event


_UNCHAINED = {"id": None, "seq": None, "prev_hash": "", "hash": ""}


def write(lines: list[bytes]) -> list[bytes]:
    """Commit a batch in one transaction; return one reply line per input line, in order.

    When the database refuses the batch, each event is tried again on its own, so that one bad event
    fails only the request that sent it.
    """
    replies: list[bytes] = [b""] * len(lines)
    events: list[tuple[int, AuditEvent]] = []
    for i, line in enumerate(lines):
        try:
            events.append((i, decode(line)))
        except Malformed as exc:
            replies[i] = _reply({"error": f"malformed audit event: {exc}"})
    if events and not _commit([event for _, event in events]) and len(events) > 1:
        for _, event in events:
            _commit([event])
    for i, event in events:
        if event.hash:
            replies[i] = _reply({"seq": event.seq, "prev_hash": event.prev_hash, "hash": event.hash})
        else:
            replies[i] = _reply({"error": "the audit event could not be committed"})
    return replies


def _commit(events: list[AuditEvent]) -> bool:
    from ketaclinic.audit.actions import append  # actions imports this module

    try:
        with transaction.atomic():
            append(events)
    except Exception as exc:  # the writer outlives a bad batch; its workers get the error
        for event in events:  # append() set them before the rollback
            event.seq, event.prev_hash, event.hash = None, "", ""
        log.error("audit writer: %d events not committed: %s", len(events), type(exc).__name__)
        if isinstance(exc, DatabaseError) and not isinstance(exc, IntegrityError):
            connection.close()  # the connection may be what failed: the next batch opens a fresh one
        return False
    return True


def _reply(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


class Writer:
    """The writer's socket, bound at once (workers may connect from then on); run() serves it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if _answers(path):
            raise WriterRunning(f"an audit writer is already serving {path}: is KetaClinic running?")
        path.unlink(missing_ok=True)  # a socket left by a writer that was killed
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Created as the data folder's owner's alone (0600) by the umask: never a moment open to others.
        mask = os.umask(0o177)
        try:
            self.listener.bind(str(path))
        finally:
            os.umask(mask)
        self.identity = _identity(path)  # close() removes the socket only while it is still this one
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
        with contextlib.suppress(FileNotFoundError):
            if _identity(self.path) == self.identity:
                self.path.unlink()

    def _accept(self) -> None:
        while True:  # every worker thread that connected since the last wake-up
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
