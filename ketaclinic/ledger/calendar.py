"""Business days for the theft and significant-loss deadlines (security-checks section 3, CS-08).

The written notice to the DEA Field Division is due within one business day of discovery (21 CFR
1301.76(b)): a loss discovered on a Friday is due on the Monday, one discovered the day before a federal
holiday is due the day after it. A business day is Monday to Friday, not a US federal holiday (5 U.S.C.
6103, with the observed day of a holiday falling on a weekend). Form 106 is due 45 calendar days after
discovery (88 FR 40707).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

FORM_106_DAYS = 45


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` (0 = Monday) of the month; n = -1 for the last."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


@lru_cache(maxsize=32)
def federal_holidays(year: int) -> frozenset[dt.date]:
    """The observed US federal holidays of a year (5 U.S.C. 6103)."""
    fixed = [(1, 1), (6, 19), (7, 4), (11, 11), (12, 25)]
    days = {_observed(dt.date(year, month, day)) for month, day in fixed}
    days |= {
        _nth_weekday(year, 1, 0, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving Day
    }
    # New Year's Day of the next year observed on this year's December 31.
    days.add(_observed(dt.date(year + 1, 1, 1)))
    return frozenset(d for d in days if d.year == year)


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def next_business_day(day: dt.date) -> dt.date:
    """The first business day after `day`."""
    following = day + dt.timedelta(days=1)
    while not is_business_day(following):
        following += dt.timedelta(days=1)
    return following


def loss_deadlines(discovered_on: dt.date) -> tuple[dt.date, dt.date]:
    """(written notice due, Form 106 due) for a loss discovered on the location's date `discovered_on`."""
    return next_business_day(discovered_on), discovered_on + dt.timedelta(days=FORM_106_DAYS)
