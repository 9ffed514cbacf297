from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.core import mail

from ketaclinic.messaging import outbox
from ketaclinic.messaging.senders import MemorySender
from ketaclinic.treatment.tests.helpers import Clock, midday

if TYPE_CHECKING:
    from conftest import World


@pytest.fixture
def clock(world: World, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """9 o'clock today at the north location, moved by hand."""
    return Clock(monkeypatch, midday(world.patient("north")))


@pytest.fixture(autouse=True)
def deliver_on_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's transaction never commits, so its on-commit hooks never run: deliver at once instead."""
    monkeypatch.setattr(outbox, "send_after_commit", outbox.deliver)


@pytest.fixture(autouse=True)
def empty_outboxes() -> Iterator[None]:
    mail.outbox = []
    MemorySender.outbox.clear()
    yield
    MemorySender.outbox.clear()
