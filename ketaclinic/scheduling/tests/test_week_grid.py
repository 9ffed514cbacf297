"""The week as a grid (issue 13: "day and week grids per location by chair"): a column per day on the day
grid's time axis, each day split into lanes by chair, every visit placed at its time."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.scheduling import calendars
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.tests.helpers import at, book, chair, local_day, room, weekday_ahead
from ketaclinic.scheduling.views import _days

if TYPE_CHECKING:
    from conftest import World


def test_the_week_places_each_visit_in_its_day_chair_lane_and_time(
    world: World, north: ClinicLocation
) -> None:
    ahead = weekday_ahead(north, 2)
    first = local_day(north, ahead)
    together = [
        book(world.patient("north", 0), at(north, ahead, 10), chair=room(north).pk),
        book(world.patient("north", 1), at(north, ahead, 10), "iv_ketamine", chair=chair(north).pk),
    ]
    nextday = book(world.patient("north", 2), at(north, ahead + 1, 11, 30), chair=room(north).pk)
    schedule = _days(north, first, 7)
    rows = [a for d in schedule for r in d["chairs"] for a in r["appointments"]]
    chairs = Chair.objects.filter(location=north).order_by("name")
    grid = calendars.week_grid(north, schedule, rows, list(chairs), {}, set())
    assert [d.day for d in grid.days] == [first + dt.timedelta(days=n) for n in range(7)]
    opens = calendars.day_hours(north, [d["date"] for d in schedule])[0]

    def row_at(hour: int, minute: int = 0) -> int:  # the 15-minute row of a local time, from the opening
        return (hour * 60 + minute - (opens.hour * 60 + opens.minute)) // 15 + 1

    row_of = {together[0].pk: row_at(10), together[1].pk: row_at(10), nextday.pk: row_at(11, 30)}
    day0 = {p.appointment.pk: p for p in grid.days[0].placed}
    assert sorted(p.column for p in day0.values()) == [1, 2]  # two chairs at once: two lanes
    assert {day0[a.pk].row_start for a in together} == {row_of[together[0].pk]}
    assert day0[together[1].pk].row_end - day0[together[1].pk].row_start == 120 // 15  # IV: 120 minutes
    day1 = grid.days[1].placed
    assert [(p.appointment.pk, p.column) for p in day1] == [(nextday.pk, 1)]
    assert day1[0].row_start == row_of[nextday.pk]
    assert grid.days[0].lanes == 2 and grid.days[2].lanes == 1
    assert grid.hours[0][0] == 1 and grid.rows >= max(p.row_end for p in day0.values()) - 1


def test_overlapping_visits_of_one_chair_get_lanes_of_their_own(world: World, north: ClinicLocation) -> None:
    """A cancelled visit and the one booked in its place share a chair and a time: side by side."""
    ahead = weekday_ahead(north, 2)
    old = book(world.patient("north", 0), at(north, ahead, 10), chair=room(north).pk)
    old.status = "cancelled"  # as the cancel action leaves it; only the grid's lanes are under test here
    again = Appointment(pk=None, chair_id=old.chair_id, starts_at=old.starts_at, ends_at=old.ends_at)
    lanes, count = calendars._lanes([old, again], list(Chair.objects.filter(location=north)))
    assert count == 2 and sorted(lanes.values()) == [1, 2]


def test_the_week_page_is_a_grid(world: World, north: ClinicLocation) -> None:
    ahead = weekday_ahead(north, 2)
    visit = book(world.patient("north"), at(north, ahead, 10), chair=room(north).pk)
    page = world.client("nurse.north").get(
        f"/schedule/?location={north.pk}&start={local_day(north, ahead)}&days=7"
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="wk-grid"' in html and len(re.findall(r'class="wk-day[ "]', html)) == 7
    assert f"/schedule/appointments/{visit.pk}/" in html and world.patient("north").family_name in html
    day = world.client("nurse.north").get(
        f"/schedule/?location={north.pk}&start={local_day(north, ahead)}&days=1"
    )
    assert 'class="sched-grid"' in day.content.decode() and "wk-grid" not in day.content.decode()
