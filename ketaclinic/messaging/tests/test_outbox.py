"""The outbox sends a message once, retries a failure a few times, and keeps no address or text."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.utils import timezone

from conftest import World
from ketaclinic.messaging import outbox, senders
from ketaclinic.messaging.models import Message, MessageStatus


class Broken:
    def send(self, to: str, body: str) -> None:
        raise ConnectionError(f"could not reach {to}")


def _claim(world: World, key: str = "test:1", channel: str = "email") -> Message | None:
    location_id = world.patient("north").location_id
    return outbox.claim(key, kind="test", channel=channel, location_id=location_id, now=timezone.now())


def test_a_message_is_claimed_and_sent_once(world: World) -> None:
    mail.outbox = []
    message = _claim(world)
    assert message is not None
    assert outbox.deliver(message, outbox.Outgoing("email", "pat@example.org", "Hello", "Body"))
    assert _claim(world) is None
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.sent_at is not None
    assert [m.to for m in mail.outbox] == [["pat@example.org"]]
    # No address, subject or text in the row.
    row = Message.objects.filter(pk=message.pk).values().get()
    assert not any("pat@example.org" in str(v) or "Body" in str(v) for v in row.values())


def test_a_failure_is_logged_without_the_address_and_retried_up_to_the_limit(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(senders, "sms_sender", lambda: Broken())
    message = _claim(world, channel="sms")
    assert message is not None
    with caplog.at_level(logging.WARNING):
        assert not outbox.deliver(message, outbox.Outgoing("sms", "555-0199", "", "Body"))
    assert "555-0199" not in caplog.text and "ConnectionError" in caplog.text
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.error == "ConnectionError"
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        again = _claim(world, channel="sms")
        assert again is not None
        outbox.deliver(again, outbox.Outgoing("sms", "555-0199", "", "Body"))
    assert _claim(world, channel="sms") is None  # given up after MAX_ATTEMPTS
