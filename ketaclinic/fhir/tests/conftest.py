from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ketaclinic.fhir import actions as fhir_actions
from ketaclinic.fhir.tests.charts import chart
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.tests.helpers import Clock, midday

if TYPE_CHECKING:
    from conftest import World


@pytest.fixture(autouse=True)
def run_after_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's transaction never commits: run the on-commit work (the export task, removing files) at
    once."""
    monkeypatch.setattr(fhir_actions, "after_commit", lambda hook: hook())


@pytest.fixture
def clock(world: World, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """9 o'clock today at the north location."""
    return Clock(monkeypatch, midday(world.patient("north")))


@pytest.fixture
def charted(world: World, clock: Clock) -> Patient:
    """North's first patient with a charted, signed treatment session and a PHQ-9."""
    patient = world.patient("north")
    chart(patient, clock)
    return patient
