from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ketaclinic.treatment.tests.helpers import Clock, midday

if TYPE_CHECKING:
    from conftest import World


@pytest.fixture
def clock(world: World, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """9 o'clock today at the north location."""
    return Clock(monkeypatch, midday(world.patient("north")))


@pytest.fixture(autouse=True)
def deliver_on_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's transaction never commits, so its on-commit hooks never run: deliver at once instead."""
    from ketaclinic.messaging import outbox

    monkeypatch.setattr(outbox, "send_after_commit", outbox.deliver)


@pytest.fixture(autouse=True)
def empty_outbox() -> None:
    from django.core import mail

    mail.outbox = []
