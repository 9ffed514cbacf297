"""The chart counts in its patient's location: that location's date (ages, the picture) and the clinic policy
in force there, not the server's date or the documented defaults."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from ketaclinic.clinicpolicy import actions as policy_actions
from ketaclinic.clinicpolicy.inputs import PolicyChangeIn
from ketaclinic.patients import queries
from ketaclinic.patients.models import Patient

if TYPE_CHECKING:
    from conftest import World


def test_at_two_in_the_morning_utc_the_chart_of_a_los_angeles_patient_is_still_yesterday(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = world.patient("north")
    assert patient.location.time_zone == "America/Los_Angeles"
    # 02:00 UTC on 28 November is 18:00 on 27 November in Los Angeles: the birthday has not come yet there.
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC))
    Patient.objects.filter(pk=patient.pk).update(date_of_birth=dt.date(1986, 11, 28))
    patient.refresh_from_db()

    chart = queries.chart(patient)
    assert chart.today == dt.date(2026, 11, 27)
    assert chart.picture.age == 39
    html = world.client("nurse.north").get(f"/patients/{patient.pk}/").content.decode()
    assert "(age 39)" in html


def test_the_chart_shows_the_policy_in_force_at_its_location(world: World) -> None:
    north, south = world.patient("north"), world.patient("south")
    policy_actions.do_change_policy(
        north.location,
        PolicyChangeIn(values={"trd_min_trial_weeks": 8}, reason="Local protocol: eight-week trials"),
        actor=world.user("admin.north"),
        expected_version=0,
    )

    def weeks(who: str, patient: Patient) -> str:
        html = world.client(who).get(f"/patients/{patient.pk}/").content.decode()
        return html.split("a trial is adequate")[1].split("at an adequate dose")[0]

    assert "8 weeks" in weeks("nurse.north", north)
    assert "6 weeks" in weeks("nurse.south", south)
