"""The demo's score histories: through the action, months long, and each course ends in the outcome it is
named for (so the demo shows remission, response, no response and relapse in maintenance)."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from conftest import World
from ketaclinic.assessments import demo, queries
from ketaclinic.assessments.episode import Status
from ketaclinic.assessments.models import Assessment

EXPECTED = {
    "remitter": {Status.REMISSION},
    "responder": {Status.RESPONSE},
    "slow_responder": {Status.RESPONSE},
    "non_responder": {Status.NO_RESPONSE},
    "relapse": {Status.LOSS_OF_RESPONSE, Status.RELAPSE},
}


@pytest.mark.parametrize(("name", "course"), demo.COURSES)
def test_each_course_ends_in_its_outcome(world: World, name: str, course: demo.Course) -> None:
    patient = world.patient("north", 3)
    staff = {"nurse": world.user("nurse.north"), "prescriber": world.user("prescriber.north")}
    demo.history(patient, course, timezone.localdate(), random.Random(7), staff)
    phq9 = Assessment.objects.filter(patient=patient, instrument="phq9")
    assert phq9.count() >= 18
    span = phq9.latest("taken_at").taken_at - phq9.earliest("taken_at").taken_at
    assert span.days > 180  # months of history
    assert not any("suicidal_ideation" in a.flags for a in Assessment.objects.filter(patient=patient))
    assert queries.episode(patient, "phq9").status in EXPECTED[name]
    if name == "relapse":
        assert queries.episode(patient, "madrs").status == Status.RELAPSE
