"""The audit writer: one process that commits the audit events of every worker in shared transactions.

Reads, searches, denials and logins write an audit event outside any transaction of their own, and each
must be durable before its response leaves. Committed one by one from every worker thread, they contend
for SQLite's single write lock: a thread that finds the lock taken sleeps in SQLite's busy handler, and the
holder, between its statements, waits for its own process's GIL. Under load most of a chart request's time
went to that wait (docs/performance.md).

So `ketaclinic serve` runs this writer beside the web workers. A worker sends each such event over a Unix
socket in the data folder (client.py) and waits for the reply; the writer takes every event that has
arrived, chains and inserts them in one transaction (one fsync), and only then replies with each event's
sequence number. Durability is unchanged: the request still answers after its event is on disk.

Messages are framed by multiprocessing.connection (a length, then the bytes; JSON, never pickles). The
socket is bound here, with mode 0600, so that a stale socket can be taken over and only this writer's own
socket file is ever removed; each accepted connection is then a multiprocessing Connection.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import socket
import struct
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models.base import ModelState

from ketaclinic.audit import actions
from ketaclinic.audit.chain import SUBMITTED
from ketaclinic.audit.client import MAX_MESSAGE_BYTES
from ketaclinic.audit.models import AuditEvent

log = logging.getLogger(__name__)

MAX_BATCH = 500  # events per transaction; more wait for the next one
PEER_TIMEOUT_SECONDS = 5  # a message or reply of a few hundred bytes to a worker that is waiting for it


class WriterRunning(RuntimeError):
    """Another writer answers on the socket: two servers on one data folder."""


def answers(path: Path) -> bool:
    """Whether something accepts connections on the socket at path (a live writer)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1)
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


# Each submitted field's JSON type, checked before anything is hashed: the hash must be over the value the
# database will hand back (an actor id sent as "1" would be hashed as text and read back as a number).
TYPES: dict[str, tuple[type, ...]] = {
    "occurred_at": (str,),
    "actor_id": (int, type(None)),
    "action": (str,),
    "outcome": (str,),
    "object_type": (str,),
    "object_id": (str,),
    "patient_id": (str, type(None)),
    "location_id": (int, type(None)),
    "changed_fields": (list,),
    "via": (str,),
    "request_id": (str,),
    "source_ip": (str, type(None)),
    "occurrences": (int,),
    "patient_account_id": (int, type(None)),
}


def check_types(submitted: tuple[str, ...]) -> None:
    """Refuse to start when a field was added to the chain (chain.py) without its type here."""
    if set(TYPES) != set(submitted):
        raise ImportError(f"audit writer: TYPES does not match the submitted fields {sorted(submitted)}")


check_types(SUBMITTED)


class Malformed(ValueError):
    """A message that is not an audit event as client.encode() writes one."""


def _parse_time(text: str) -> datetime:
    occurred_at = datetime.fromisoformat(text)
    if occurred_at.utcoffset() != timedelta(0):
        raise ValueError("not in UTC")  # stored in UTC: the hash must be over that value
    return occurred_at


# The inverse of chain.canonical, for the fields that do not travel as they are.
_PARSE: dict[str, Callable[[Any], Any]] = {"occurred_at": _parse_time, "patient_id": uuid.UUID}


def decode(message: bytes) -> AuditEvent:
    try:
        body = json.loads(message)
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
    for name, parse in _PARSE.items():
        if body[name] is not None:
            try:
                body[name] = parse(body[name])
            except ValueError as exc:
                raise Malformed(f"{name} is not valid") from exc
    # Every column set here, so Model.__init__ (a tenth of the writer's time per event) has nothing to add.
    event = AuditEvent.__new__(AuditEvent)
    event._state = ModelState()
    event.__dict__.update(body, **_UNCHAINED)
    return event


_UNCHAINED = {"id": None, "seq": None, "prev_hash": "", "hash": ""}


def write(messages: list[bytes]) -> list[bytes]:
    """Commit a batch in one transaction; return one reply per message, in order.

    When the database refuses the batch, each event is tried again on its own, so that one bad event
    fails only the request that sent it.
    """
    replies: list[bytes] = [b""] * len(messages)
    events: list[tuple[int, AuditEvent]] = []
    for i, message in enumerate(messages):
        try:
            events.append((i, decode(message)))
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
    try:
        with transaction.atomic():
            actions.append(events)
    except Exception as exc:  # the writer outlives a bad batch; its workers get the error
        for event in events:  # append() set them before the rollback
            # Back to unsaved: an event has no seq until append() numbers it.
            event.seq, event.prev_hash, event.hash = None, "", ""  # type: ignore[assignment]
        log.error("audit writer: %d events not committed: %s", len(events), type(exc).__name__)
        if isinstance(exc, DatabaseError) and not isinstance(exc, IntegrityError):
            connection.close()  # the connection may be what failed: the next batch opens a fresh one
        return False
    return True


def _reply(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


_TIMEOUT = struct.pack("ll", PEER_TIMEOUT_SECONDS, 0)  # struct timeval for SO_RCVTIMEO / SO_SNDTIMEO


class Writer:
    """The writer's socket, bound at once (workers may connect from then on); run() serves it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if answers(path):
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
        self.peers: set[Connection] = set()

    def run(self, keep_going: Callable[[], bool] = lambda: True) -> None:
        """Commit what the workers send, a batch per wake-up, until keep_going() turns false; then close."""
        try:
            while keep_going():
                self.step(timeout=0.5)
        finally:
            self.close()

    def step(self, timeout: float) -> int:
        """Wait up to timeout for events, commit every one that has arrived, reply; return how many."""
        batch: list[tuple[Connection, bytes]] = []
        for key, _ in self.selector.select(timeout=timeout):
            if key.fileobj is self.listener:
                self._accept()
                continue
            peer = key.data
            assert isinstance(peer, Connection)
            try:
                batch.append((peer, peer.recv_bytes(MAX_MESSAGE_BYTES)))
            except (OSError, EOFError):  # gone, too long, or not a framed message: drop the peer
                self._close(peer)
        for start in range(0, len(batch), MAX_BATCH):
            part = batch[start : start + MAX_BATCH]
            for (peer, _), reply in zip(part, write([message for _, message in part]), strict=True):
                try:
                    peer.send_bytes(reply)
                except OSError:
                    self._close(peer)
        return len(batch)

    def close(self) -> None:
        for peer in list(self.peers):
            self._close(peer)
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
            sock.setblocking(True)
            # A peer that stalls mid-message or stops reading costs the writer at most this long.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _TIMEOUT)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _TIMEOUT)
            peer = Connection(sock.detach())
            self.selector.register(peer.fileno(), selectors.EVENT_READ, peer)
            self.peers.add(peer)

    def _close(self, peer: Connection) -> None:
        if peer in self.peers:
            self.selector.unregister(peer.fileno())
            self.peers.discard(peer)
        peer.close()
