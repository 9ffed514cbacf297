"""Send a message once: claim its key, send it, mark it sent.

The outbox belongs to delivery, as the idempotency store belongs to the API's transport: its rows are
written here, not through a do_* action. What a message is for (a link sent, a reminder) is audited by the
action that asked for it.

`claim` runs in the caller's transaction (with whatever the message is for: a self-report link's new
secret, its audit row); `deliver` runs after that commits, so a message is never sent for a change that
rolled back. A claim whose process died before `deliver` finished is stale after STALE and may be claimed
again; a failed one is retried up to MAX_ATTEMPTS. A sent message is never sent again: restarting the task
runner, or running a task twice, sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ketaclinic.messaging import senders
from ketaclinic.messaging.models import Message, MessageChannel, MessageStatus

log = logging.getLogger(__name__)

STALE = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Outgoing:
    """A message put together for sending: held in memory only, never stored."""

    channel: str
    to: str
    subject: str
    body: str


def already_sent(key: str) -> bool:
    return Message.objects.filter(key=key, status=MessageStatus.SENT).exists()


def claim(key: str, *, kind: str, channel: str, location_id: int, now: dt.datetime) -> Message | None:
    """The message's row, now this caller's to send; None when it was sent or is being sent.

    Call it inside a transaction: the row is locked until that transaction ends.
    """
    if channel not in MessageChannel.values:
        raise ValueError(f"channel: one of {', '.join(MessageChannel.values)}")
    try:
        with transaction.atomic():
            return Message.objects.create(
                key=key, kind=kind, channel=channel, location_id=location_id, created_at=now, claimed_at=now
            )
    except IntegrityError:
        pass
    retry = Q(status=MessageStatus.FAILED, attempts__lt=MAX_ATTEMPTS) | Q(
        status=MessageStatus.QUEUED, claimed_at__lt=now - STALE
    )
    row = Message.objects.select_for_update().filter(retry, key=key).first()
    if row is None:
        return None
    row.attempts += 1
    row.status, row.claimed_at, row.channel, row.error = MessageStatus.QUEUED, now, channel, ""
    row.save(update_fields=["attempts", "status", "claimed_at", "channel", "error"])
    return row


def deliver(message: Message, outgoing: Outgoing) -> bool:
    """Send it through its channel's backend and mark the row; False when the backend failed."""
    send: Callable[[], None]
    if outgoing.channel == MessageChannel.EMAIL:
        send = lambda: senders.send_email(outgoing.to, outgoing.subject, outgoing.body)  # noqa: E731
    else:
        send = lambda: senders.send_sms(outgoing.to, outgoing.body)  # noqa: E731
    try:
        send()
    except Exception as exc:  # any backend's failure: kept as its class name, retried later
        log.warning("message %s (%s) was not sent: %s", message.pk, message.kind, type(exc).__name__)
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.FAILED, error=type(exc).__name__[:80]
        )
        return False
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENT, sent_at=timezone.now())
    return True


def send_after_commit(message: Message, outgoing: Outgoing) -> None:
    """Deliver once the caller's transaction commits (at once outside one)."""
    transaction.on_commit(lambda: deliver(message, outgoing))
