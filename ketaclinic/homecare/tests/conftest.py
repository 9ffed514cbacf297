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
