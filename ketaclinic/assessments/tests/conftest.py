from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.core import mail

from ketaclinic.messaging.senders import MemorySender
from ketaclinic.treatment.tests.helpers import Clock, midday

if TYPE_CHECKING:
    from conftest import World


@pytest.fixture
def clock(world: World, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """9 o'clock today at the north location, moved by hand."""
    return Clock(monkeypatch, midday(world.patient("north")))


@pytest.fixture(autouse=True)
def empty_outboxes() -> Iterator[None]:
    mail.outbox = []
    MemorySender.outbox.clear()
    yield
    MemorySender.outbox.clear()
