"""Reading the calendar as grids: a location's day by chair on a time axis, its week by chair and day, a
staff member's visits and shifts, what the hard rules find wrong with what is booked (conflicts, overrides,
unconfirmed visits), and the capacity view. Nothing here writes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Q

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinical.scheduling import DOSING_KINDS, VisitKind, duration_minutes
from ketaclinic.clinicpolicy.clock import day_bounds, location_zone
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.scheduling import queries
from ketaclinic.scheduling.models import HOLDING, Appointment, OpeningHours, Shift
from ketaclinic.scheduling.rules import SUITABLE, Resources, Site, Visit, check, check_new

SLOT_MINUTES = 15
DEFAULT_HOURS = (dt.time(8), dt.time(18))
DOSING_VALUES = frozenset(k.value for k in DOSING_KINDS)


# --- Conflicts: the hard rules over what is booked ----------------------------------------------------------


def conflicts(location: ClinicLocation, rows: Sequence[Appointment]) -> dict[Any, list[str]]:
    """For each holding visit, the hard rules it breaks as the calendar stands now (a closure added after it
    was booked, a shift removed, an override): the same checker as booking, run over the whole set."""
    holding = [a for a in rows if a.status in HOLDING]
    if not holding:
        return {}
    start = min(a.starts_at for a in holding)
    end = max(a.ends_at for a in holding)
    resources = queries.resources(location, start, end, patients={a.patient_id for a in holding})
    visits = [
        queries.visit_of(a, a.session.plan if a.session else None, a.session.number if a.session else None)
        for a in holding
    ]
    found: dict[Any, set[str]] = defaultdict(set)
    by_id = {str(a.pk): a.pk for a in holding}
    for refusal in check(visits, resources, now=None):
        if refusal.visit_id in by_id:
            found[by_id[refusal.visit_id]].add(refusal.rule_id)
    return {pk: sorted(rules) for pk, rules in found.items()}


# --- The day grid -------------------------------------------------------------------------------------------


def day_hours(location: ClinicLocation, days: Iterable[dt.date]) -> tuple[dt.time, dt.time]:
    """The earliest opening and latest closing over the days' weekdays (8 to 18 with no hours kept)."""
    weekdays = {d.weekday() for d in days}
    spans = OpeningHours.objects.filter(location=location, weekday__in=weekdays).values_list(
        "opens", "closes"
    )
    if not spans:
        return DEFAULT_HOURS
    return min(s[0] for s in spans), max(s[1] for s in spans)


def _row_of(moment: dt.datetime, day_start: dt.datetime) -> int:
    minutes = (moment - day_start).total_seconds() / 60
    return int(minutes // SLOT_MINUTES) + 1


@dataclasses.dataclass(frozen=True, slots=True)
class Placed:
    appointment: Appointment
    column: int
    row_start: int
    row_end: int
    conflicts: list[str]
    unconfirmed: bool


@dataclasses.dataclass(frozen=True, slots=True)
class DayGrid:
    day: dt.date
    hours: list[tuple[int, str]]  # (grid row, "HH:MM") of each hour line
    rows: int
    chairs: list[Chair]
    placed: list[Placed]
    outside: list[Appointment]  # visits that fall outside the grid's hours (shown below it)


def day_grid(
    location: ClinicLocation,
    day: dt.date,
    rows: Sequence[Appointment],
    chairs: Sequence[Chair],
    found: dict[Any, list[str]],
    flagged: set[Any],
) -> DayGrid:
    zone = location_zone(location)
    opens, closes = day_hours(location, [day])
    start = dt.datetime.combine(day, opens, tzinfo=zone)
    end = dt.datetime.combine(day, closes, tzinfo=zone)
    total = _row_of(end, start) - 1
    column = {c.pk: i + 2 for i, c in enumerate(chairs)}
    placed, outside = [], []
    for a in rows:
        if a.starts_at.astimezone(zone).date() != day:
            continue
        if a.chair_id not in column or a.starts_at < start or a.ends_at > end:
            outside.append(a)
            continue
        placed.append(
            Placed(
                a,
                column[a.chair_id],
                _row_of(a.starts_at, start) + 1,
                max(_row_of(a.ends_at, start) + 1, _row_of(a.starts_at, start) + 2),
                found.get(a.pk, []),
                a.pk in flagged,
            )
        )
    hours = []
    at = start.replace(minute=0) if start.minute else start
    while at < end:
        if at >= start:
            hours.append((_row_of(at, start) + 1, at.strftime("%H:%M")))
        at += dt.timedelta(hours=1)
    return DayGrid(day, hours, total, list(chairs), placed, outside)


# --- A staff member's calendar ------------------------------------------------------------------------------


def staff_shifts(user: Any, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    return list(
        Shift.objects.filter(staff=user, starts_at__lt=end, ends_at__gt=start)
        .select_related("location")
        .order_by("starts_at")
    )


def staff_visits(
    user: Any, start: dt.datetime, end: dt.datetime, shifts: Sequence[Shift] | None = None
) -> list[Appointment]:
    """The visits a staff member is on: those booked with them (a therapist's own session), and the dosing
    visits at a location while they are on duty there (a nurse monitors, a prescriber is present)."""
    shifts = staff_shifts(user, start, end) if shifts is None else shifts
    on_duty = Q(clinician=user)
    for s in shifts:
        on_duty |= Q(
            location_id=s.location_id,
            kind__in=DOSING_VALUES,
            starts_at__lt=s.ends_at,
            ends_at__gt=s.starts_at,
        )
    return list(
        Appointment.objects.filter(on_duty, starts_at__lt=end, ends_at__gt=start, status__in=HOLDING)
        .select_related("patient", "chair", "location")
        .order_by("starts_at")
    )


# --- Capacity -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class DayUse:
    day: dt.date
    closed: bool
    chair_open_minutes: int
    chair_booked_minutes: int
    nurse_capacity_minutes: int  # patient-minutes of monitoring the nurses on duty can cover (ratio x time)
    nurse_used_minutes: int
    free_visits: int  # further esketamine visits every hard rule would allow that day

    @property
    def chair_percent(self) -> int | None:
        if not self.chair_open_minutes:
            return None
        return round(100 * self.chair_booked_minutes / self.chair_open_minutes)

    @property
    def nurse_percent(self) -> int | None:
        if not self.nurse_capacity_minutes:
            return None
        return round(100 * self.nurse_used_minutes / self.nurse_capacity_minutes)


@dataclasses.dataclass(frozen=True, slots=True)
class Capacity:
    days: list[DayUse]
    induction_starts: int
    start_days: list[dt.date]  # the day each counted course would start on
    visit_minutes: int
    horizon_days: int

    @property
    def starts_by_day(self) -> list[tuple[dt.date, int]]:
        counts: dict[dt.date, int] = {}
        for day in self.start_days:
            counts[day] = counts.get(day, 0) + 1
        return sorted(counts.items())


def _minutes(a: dt.datetime, b: dt.datetime) -> int:
    return max(0, int((b - a).total_seconds() // 60))


def _overlap(a: tuple[dt.datetime, dt.datetime], b: tuple[dt.datetime, dt.datetime]) -> int:
    return _minutes(max(a[0], b[0]), min(a[1], b[1]))


def _free_starts(
    day: dt.date, site: Site, resources: Resources, kept: list[Visit], chairs: Sequence[int], minutes: int
) -> list[Visit]:
    """Greedy first fit of hypothetical esketamine visits over the day in 15-minute steps: every visit the
    real checker (chairs, opening hours, closures, prescriber windows, nurse ratio) lets in, added one by
    one so each counts against the next."""
    placed: list[Visit] = []
    for opens, closes in site.opening.get(day.weekday(), ()):
        at = dt.datetime.combine(day, opens, tzinfo=site.zone)
        finish = dt.datetime.combine(day, closes, tzinfo=site.zone)
        while at + dt.timedelta(minutes=minutes) <= finish:
            fitted = False
            for chair in chairs:
                visit = Visit(
                    id=f"capacity-{len(placed)}",
                    patient=f"capacity-{len(placed)}",
                    location=site.location,
                    chair=chair,
                    kind=VisitKind.ESKETAMINE_NASAL,
                    starts_at=at.astimezone(dt.UTC),
                    ends_at=(at + dt.timedelta(minutes=minutes)).astimezone(dt.UTC),
                )
                if not check_new(visit, [*kept, *placed], resources, now=None):
                    placed.append(visit)
                    fitted = True
                    break
            if not fitted:
                at += dt.timedelta(minutes=SLOT_MINUTES)
    return placed


class _AllEnrolled(dict[str, dt.date]):
    def get(self, key: str, default: Any = None) -> dt.date:
        return dt.date.min


# An esketamine induction: twice weekly for four weeks, the two visits of a week 2-4 days apart (the
# protocol's day gaps, PROTO-SESSION-SPACING). The counted course takes Monday/Thursday-like offsets and,
# when a day has no room, tries the day before or after that keeps the gap within 2-4 days.
INDUCTION_OFFSETS = (0, 3, 7, 10, 14, 17, 21, 24)
HORIZON_DAYS = 28


def _day_only(
    site: Site, resources: Resources, todays: list[Visit], bounds: tuple[dt.datetime, dt.datetime]
) -> tuple[Site, Resources, list[Visit]]:
    """The site and resources cut to one day's shifts (the checker sweeps every shift it is given)."""

    def near(w: tuple[dt.datetime, dt.datetime]) -> bool:
        return w[0] < bounds[1] and w[1] > bounds[0]

    day_site = dataclasses.replace(
        site,
        prescriber_windows=tuple(w for w in site.prescriber_windows if near(w)),
        nurse_shifts=tuple(w for w in site.nurse_shifts if near(w)),
    )
    day_resources = dataclasses.replace(resources, sites={site.location: day_site})
    return day_site, day_resources, todays


def _place_course(start: int, free: list[int]) -> list[int] | None:
    """The day indexes of one course starting on `start`, each with a free visit; None if it does not fit."""
    if start >= len(free) or free[start] <= 0:
        return None
    days = [start]
    for n, offset in enumerate(INDUCTION_OFFSETS[1:], start=1):
        prev = days[-1]
        if n % 2:  # the week's second visit: 2-4 days after the first
            candidates = [prev + 3, prev + 2, prev + 4]
        else:  # the next week's first visit, near its weekday, at least 2 days on
            target = start + offset
            candidates = [target, target + 1, target - 1]
        pick = next((d for d in candidates if d - prev >= 2 and d < len(free) and free[d] > 0), None)
        if pick is None:
            return None
        days.append(pick)
    return days


def capacity(location: ClinicLocation, first: dt.date, days: int = HORIZON_DAYS) -> Capacity:
    """Chair and nurse use per day over `days` from `first`, and how many esketamine induction courses
    could start in those days.

    Method (stated on the page): for each day of the horizon and the four weeks after it (a course started
    on its last day runs that long), hypothetical esketamine visits of the clinic's visit length are placed
    greedily in 15-minute steps wherever the booking checker allows one beside every visit already kept:
    free chairs that suit it, opening hours and closures, a prescriber present for all of it and the nurse
    ratio over time. That gives the free visits of each day. Then courses are counted greedily, earliest
    start first: a course takes one free visit on each of eight days (twice weekly for four weeks, 2-4 days
    apart); a start day is counted while its whole course still fits.
    """
    minutes = duration_minutes(VisitKind.ESKETAMINE_NASAL, policy_for(location))
    span = days + 28
    start = day_bounds(location, first)[0]
    end = day_bounds(location, first + dt.timedelta(days=span - 1))[1]
    # The hypothetical patients count as enrolled in the REMS: capacity is the clinic's, not a patient's.
    resources = dataclasses.replace(queries.resources(location, start, end), rems_enrolled_on=_AllEnrolled())
    site = resources.sites[location.pk]
    kept = queries.kept_visits(location, start, end)
    chairs = [
        pk
        for pk, info in sorted(resources.chairs.items())
        if info.location == location.pk and info.active and info.kind in SUITABLE[VisitKind.ESKETAMINE_NASAL]
    ]
    dosing_chairs = [
        pk
        for pk, info in resources.chairs.items()
        if info.location == location.pk and info.active and info.kind in SUITABLE[VisitKind.IV_KETAMINE]
    ]
    ratio = site.nurse_ratio or 0
    uses: list[DayUse] = []
    free: list[int] = []
    for offset in range(span):
        day = first + dt.timedelta(days=offset)
        bounds = day_bounds(location, day)
        todays = [v for v in kept if bounds[0] <= v.starts_at < bounds[1]]
        closed = day in site.closures
        open_minutes = 0
        if not closed:
            for opens, closes in site.opening.get(day.weekday(), ()):
                open_minutes += _minutes(
                    dt.datetime.combine(day, opens, tzinfo=site.zone),
                    dt.datetime.combine(day, closes, tzinfo=site.zone),
                )
        booked = sum(_minutes(v.starts_at, v.ends_at) for v in todays if v.chair in dosing_chairs)
        nurse_cap = ratio * sum(_overlap(s, bounds) for s in site.nurse_shifts)
        nurse_used = sum(_minutes(v.starts_at, v.ends_at) for v in todays if v.kind in DOSING_KINDS)
        extra = (
            [] if closed else _free_starts(day, *_day_only(site, resources, todays, bounds), chairs, minutes)
        )
        free.append(len(extra))
        if offset < days:
            uses.append(
                DayUse(
                    day,
                    closed,
                    open_minutes * len(dosing_chairs),
                    booked,
                    nurse_cap,
                    nurse_used,
                    len(extra),
                )
            )
    starts: list[dt.date] = []
    for start_day in range(days):
        while True:
            course = _place_course(start_day, free)
            if course is None:
                break
            for d in course:
                free[d] -= 1
            starts.append(first + dt.timedelta(days=start_day))
    return Capacity(uses, len(starts), starts, minutes, days)


def page_extras(
    location: ClinicLocation, schedule: Sequence[dict[str, Any]], now: dt.datetime
) -> dict[str, Any]:
    """What the calendar page adds to the days views.py lists: the day's time grid by chair, the rules each
    booked visit breaks as things stand, and the visits to flag as unconfirmed."""
    from ketaclinic.scheduling import waitlist

    rows = [a for day in schedule for row in day["chairs"] for a in row["appointments"]]
    found = conflicts(location, rows)
    flagged = waitlist.unconfirmed(rows, location, now)
    grids = []
    if len(schedule) == 1:
        day = schedule[0]
        chairs = [row["chair"] for row in day["chairs"]]
        grids.append(day_grid(location, day["date"], rows, chairs, found, flagged))
    return {"grids": grids, "breaks": found, "flagged": flagged}
