from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.scheduling.tests.helpers import set_ratio

if TYPE_CHECKING:
    from conftest import World


@pytest.fixture
def north(world: World) -> ClinicLocation:
    """The demo's north location, its nurse monitoring ratio set to 2."""
    location = ClinicLocation.objects.get(slug="north")
    set_ratio(location, 2)
    return location
