"""A location counts its days in its own time zone."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from ketaclinic.accounts import actions as accounts
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinicpolicy.clock import day_bounds, local_date, local_now, local_today

UTC = dt.UTC


@pytest.fixture
def west(db: None) -> ClinicLocation:
    network = accounts.do_create_network("Clock network", "clock")
    return accounts.do_create_location(network, "West", "west", time_zone="America/Los_Angeles")


def test_today_is_the_locations_date_not_the_servers(west: ClinicLocation) -> None:
    # 03:30 UTC on 1 June is still the evening of 31 May in Los Angeles (UTC-7 in summer).
    with mock.patch.object(timezone, "now", return_value=dt.datetime(2026, 6, 1, 3, 30, tzinfo=UTC)):
        assert local_today(west) == dt.date(2026, 5, 31)
        assert local_now(west).utcoffset() == dt.timedelta(hours=-7)


def test_a_moment_falls_on_the_locations_calendar_day(west: ClinicLocation) -> None:
    assert local_date(west, dt.datetime(2026, 1, 10, 7, 59, tzinfo=UTC)) == dt.date(2026, 1, 9)
    assert local_date(west, dt.datetime(2026, 1, 10, 8, 0, tzinfo=UTC)) == dt.date(2026, 1, 10)


def test_a_day_is_23_or_25_hours_on_a_clock_change(west: ClinicLocation) -> None:
    spring_start, spring_end = day_bounds(west, dt.date(2026, 3, 8))
    autumn_start, autumn_end = day_bounds(west, dt.date(2026, 11, 1))
    assert spring_end - spring_start == dt.timedelta(hours=23)
    assert autumn_end - autumn_start == dt.timedelta(hours=25)
    assert spring_start.astimezone(UTC) == dt.datetime(2026, 3, 8, 8, 0, tzinfo=UTC)


def test_an_unknown_time_zone_is_refused_by_name(db: None) -> None:
    network = accounts.do_create_network("Clock network", "clock")
    with pytest.raises(ValueError, match="time_zone"):
        accounts.do_create_location(network, "Nowhere", "nowhere", time_zone="Mars/Olympus_Mons")


def test_the_demo_locations_keep_pacific_and_eastern_time(db: None) -> None:
    from ketaclinic.demo import data

    data.load(dt.date(2026, 11, 27), patients_per_location=0)
    zones = dict(ClinicLocation.objects.values_list("slug", "time_zone"))
    assert zones == {"north": "America/Los_Angeles", "south": "America/New_York"}
