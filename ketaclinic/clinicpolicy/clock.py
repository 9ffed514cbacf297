"""A location's clock: its zone, its "now" and "today", and the bounds of one of its days.

Stored times are UTC (USE_TZ). Which calendar day a session falls on, what "today" is on the floor board and
the seven days of a REMS form are counted in the location's own zone (`ClinicLocation.time_zone`).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def location_zone(location: ClinicLocation) -> ZoneInfo:
    """The location's time zone."""
    return _zone(location.time_zone)


def local_now(location: ClinicLocation) -> dt.datetime:
    """Now, as an aware datetime in the location's zone."""
    return timezone.now().astimezone(location_zone(location))


def local_today(location: ClinicLocation) -> dt.date:
    """Today's date at the location."""
    return local_now(location).date()


def local_date(location: ClinicLocation, moment: dt.datetime) -> dt.date:
    """The location's calendar date of an aware moment."""
    return moment.astimezone(location_zone(location)).date()


def day_bounds(location: ClinicLocation, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of `day` at the location, in UTC (23 or 25 hours apart on a clock change).

    In UTC because Python subtracts two datetimes of one zone by their wall clocks (always 24 hours here).
    """
    zone = location_zone(location)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)
