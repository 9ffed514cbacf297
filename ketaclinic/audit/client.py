"""The worker's side of the audit writer: encode an event and have the writer commit it (server.py).

Reads, searches, denials and logins write an audit event outside any transaction of their own, and each
must be durable before its response leaves. When `ketaclinic serve` runs the writer, record() hands such
an event to it here and waits for the reply, which comes only after the writer's commit.

Messages are framed by the standard library (multiprocessing.connection over AF_UNIX: a length, then
the bytes) and hold JSON, never pickles. Each worker thread keeps its connection.

submit() sends and waits. send() only sends, and confirm() waits later: a GET's read event is committed
while its page is built (audit.actions.confirmed_before_answering). A thread has one event in flight at
most, so replies never need matching to events.

When no writer is configured or it cannot be reached, submit() returns False and record() commits the
event itself. If the writer goes away after an event was sent but before it replied, the same: the event
may then be recorded twice, never not at all.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
import threading
import time
from multiprocessing.connection import Client, Connection
from typing import Any

from django.conf import settings

from ketaclinic.audit.chain import SUBMITTED, canonical
from ketaclinic.audit.models import AuditEvent

log = logging.getLogger(__name__)

REPLY_TIMEOUT_SECONDS = 60  # above SQLite's 20 s busy timeout: a slow commit is not a lost writer
WARN_EVERY_SECONDS = 60
MAX_MESSAGE_BYTES = 64 * 1024  # an event is a few hundred bytes; the writer refuses more


class AuditWriteFailed(RuntimeError):
    """The writer could not commit the event (the database refused it); the request must fail."""


_local = threading.local()
_last_warning: float | None = None


def encode(event: AuditEvent) -> bytes:
    """The event's submitted fields as JSON, each as the chain hashes it (chain.canonical)."""
    body = {name: canonical(name, getattr(event, name)) for name in SUBMITTED}
    return json.dumps(body, separators=(",", ":")).encode()


def submit(event: AuditEvent) -> bool:
    """Have the writer commit the event; False when there is no writer to do it (the caller commits it)."""
    if not send(event):
        return False
    return confirm() is None


def send(event: AuditEvent) -> bool:
    """Hand the event to the writer without waiting for its commit; confirm() waits for it.

    False when there is no writer to take it (the caller commits it). A thread has at most one event in
    flight, so that a reply needs no matching to its event: the caller confirms the one before first
    (audit.actions.settle), and sending a second raises.
    """
    if in_flight():
        raise RuntimeError("audit: an event is still in flight on this thread; settle it first")
    path: str = settings.KETACLINIC_AUDIT_WRITER
    if not path:
        return False
    message = encode(event)
    for _attempt in range(2):  # a kept connection may be to a writer that has since restarted
        conn = _connection(path)
        if conn is None:
            return False
        try:
            conn.send_bytes(message)
        except OSError:
            _drop()
            continue  # nothing was taken: the writer reads whole messages only
        _local.pending = event
        return True
    return False


def in_flight() -> bool:
    """Whether this thread has sent an event whose commit it has not yet confirmed."""
    return getattr(_local, "pending", None) is not None


def confirm() -> AuditEvent | None:
    """Wait for the writer's commit of the event in flight on this thread, if any.

    Returns the event when the writer went away before replying: the caller must commit it (it may then
    be recorded twice, never not at all). Raises AuditWriteFailed when the writer could not commit it.
    """
    event: AuditEvent | None = getattr(_local, "pending", None)
    if event is None:
        return None
    _local.pending = None
    conn: Connection = _local.conn
    try:
        reply = _await_reply(conn)
    except (OSError, EOFError):
        _drop()
        _warn("the audit writer went away before replying; committing the event here")
        return event
    result: dict[str, Any] = json.loads(reply)
    if "error" in result:
        raise AuditWriteFailed(result["error"])
    event.seq, event.prev_hash, event.hash = result["seq"], result["prev_hash"], result["hash"]
    return None


def _await_reply(conn: Connection) -> bytes:
    """The writer's reply to the message just sent: it comes once the event is committed.

    A blocking read, bounded by the socket's receive timeout (_connection sets it): when the writer does
    not reply within REPLY_TIMEOUT_SECONDS the read fails with an OSError (EAGAIN), as a lost writer
    does. Asking Connection.poll() first, as this did, built a selector and made one more system call for
    every event: 7.5 against 4.1 us of CPU per 200-byte round trip when the reply is already there.
    """
    return conn.recv_bytes(MAX_MESSAGE_BYTES)


def _bound_replies(conn: Connection) -> None:
    """Give the connection's socket a receive timeout of REPLY_TIMEOUT_SECONDS (SO_RCVTIMEO).

    The option belongs to the socket, not to a descriptor: it is set through a duplicate, which is then
    closed, and the connection's own reads obey it.
    """
    with socket.socket(fileno=os.dup(conn.fileno())) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", REPLY_TIMEOUT_SECONDS, 0))


def _connection(path: str) -> Connection | None:
    conn: Connection | None = getattr(_local, "conn", None)
    if conn is not None:
        return conn
    try:
        conn = Client(path, family="AF_UNIX")
    except OSError:
        _warn("the audit writer is not reachable; committing events in the worker")
        return None
    _bound_replies(conn)
    _local.conn = conn
    return conn


def _drop() -> None:
    conn: Connection | None = getattr(_local, "conn", None)
    if conn is not None:
        conn.close()
    _local.conn = None
    _local.pending = None


def _warn(message: str) -> None:
    global _last_warning
    now = time.monotonic()
    if _last_warning is None or now - _last_warning >= WARN_EVERY_SECONDS:
        _last_warning = now
        log.warning(message)
