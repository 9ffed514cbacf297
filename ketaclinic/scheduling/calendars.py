"""Reading the calendar as grids: a location's day by chair on a time axis, its week by chair and day, a
staff member's visits and shifts, what the hard rules find wrong with what is booked (conflicts, overrides,
unconfirmed visits), and the capacity view. Nothing here writes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Q

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinical import protocols
from ketaclinic.clinical.protocol_files import Phase
from ketaclinic.clinical.protocols import ProtocolId
from ketaclinic.clinical.scheduling import (
    DOSING_KINDS,
    KIND_LABELS,
    VisitKind,
    duration_minutes,
    min_gap_before,
)
from ketaclinic.clinicpolicy.clock import day_bounds, location_zone
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.scheduling import queries
from ketaclinic.scheduling.models import HOLDING, Appointment, OpeningHours, Shift
from ketaclinic.scheduling.rules import (
    CHAIR_KIND,
    CHAIR_LOCATION,
    CHAIR_OVERLAP,
    SUITABLE,
    Resources,
    Site,
    Visit,
    check,
    check_new,
)

SLOT_MINUTES = 15
# The rules that depend on the chair tried; any other refusal holds for every chair at that time.
CHAIR_RULES = frozenset({CHAIR_LOCATION, CHAIR_KIND, CHAIR_OVERLAP})
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


# --- The week grid ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class WeekDay:
    day: dt.date
    closed: str | None  # the closure's reason
    count: int
    lanes: int  # columns of the day: as many as the most visits at once
    placed: list[Placed]
    outside: list[Appointment]
    shifts: list[Shift] = dataclasses.field(default_factory=list)  # a staff member's, on their calendar


@dataclasses.dataclass(frozen=True, slots=True)
class WeekGrid:
    hours: list[tuple[int, str]]  # (grid row, "HH:MM") of each hour line
    rows: int
    days: list[WeekDay]


def _lanes(visits: Sequence[Appointment], chairs: Sequence[Chair]) -> tuple[dict[Any, int], int]:
    """A lane (1-based column) for each visit of one day, as few lanes as the most visits at once need (so
    each block is as wide as the day allows): visits in start order (chairs in name order), each in the lane
    its chair had before when that is free, else the first free lane."""
    order = {c.pk: i for i, c in enumerate(chairs)}
    ends: list[dt.datetime] = []  # the end of the last visit in each lane
    chair_lane: dict[int, int] = {}
    lane_of: dict[Any, int] = {}
    for a in sorted(visits, key=lambda v: (v.starts_at, order.get(v.chair_id, len(order)), v.ends_at)):
        free = [i for i, end in enumerate(ends) if end <= a.starts_at]
        lane = chair_lane.get(a.chair_id)
        if lane not in free:
            lane = free[0] if free else None
        if lane is None:
            ends.append(a.ends_at)
            lane = len(ends) - 1
        else:
            ends[lane] = a.ends_at
        chair_lane[a.chair_id] = lane
        lane_of[a.pk] = lane + 1
    return lane_of, len(ends)


def week_grid(
    location: ClinicLocation,
    schedule: Sequence[dict[str, Any]],
    rows: Sequence[Appointment],
    chairs: Sequence[Chair],
    found: dict[Any, list[str]],
    flagged: set[Any],
    shifts: Sequence[Shift] = (),
) -> WeekGrid:
    """The days as columns on one time axis (the week's earliest opening to its latest closing, 15-minute
    rows), each day split into lanes where visits overlap (a chair keeps its lane while it is free; each
    block names its chair); a visit outside those hours is listed under its day."""
    zone = location_zone(location)
    opens, closes = day_hours(location, [d["date"] for d in schedule])
    first = schedule[0]["date"]
    total = _row_of(dt.datetime.combine(first, closes), dt.datetime.combine(first, opens)) - 1
    days = []
    for entry in schedule:
        day = entry["date"]
        start = dt.datetime.combine(day, opens, tzinfo=zone)
        end = dt.datetime.combine(day, closes, tzinfo=zone)
        todays = [a for a in rows if a.starts_at.astimezone(zone).date() == day]
        inside = [a for a in todays if start <= a.starts_at and a.ends_at <= end]
        lane_of, lanes = _lanes(inside, chairs)
        placed = [
            Placed(
                a,
                lane_of[a.pk],
                _row_of(a.starts_at, start),
                max(_row_of(a.ends_at, start), _row_of(a.starts_at, start) + 1),
                found.get(a.pk, []),
                a.pk in flagged,
            )
            for a in inside
        ]
        outside = [a for a in todays if a not in inside]
        own = [s for s in shifts if s.starts_at.astimezone(zone).date() == day]
        days.append(WeekDay(day, entry["closed"], len(todays), max(lanes, 1), placed, outside, own))
    base = dt.datetime.combine(first, opens)
    at = base.replace(minute=0) if base.minute else base
    hours = []
    while at < dt.datetime.combine(first, closes):
        if at >= base:
            hours.append((_row_of(at, base), at.strftime("%H:%M")))
        at += dt.timedelta(hours=1)
    return WeekGrid(hours, total, days)


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
    free_visits: dict[str, int]  # per dosing kind: further visits every hard rule would allow that day

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
class Step:
    """One visit of an induction course: its ideal day from the course's first, whether that day is fixed
    to the course's weeks (a week's first visit) or to the visit before (a week's later visits), and the
    fewest days after the visit before (the protocol's gap)."""

    offset: int
    anchored: bool
    min_gap: int


@dataclasses.dataclass(frozen=True, slots=True)
class Induction:
    """The induction phase of a modality's protocol (clinical/protocol_data), as the capacity view counts
    it."""

    kind: VisitKind
    protocol: str
    name: str
    steps: tuple[Step, ...]
    days: int  # the days the induction phase spans (its weeks)

    @property
    def sessions(self) -> int:
        return len(self.steps)

    @property
    def weeks(self) -> int:
        return self.days // 7


# The induction course counted for each dosing modality: esketamine's label schedule (twice weekly for four
# weeks) and IV ketamine twice weekly for three weeks (six infusions), each read from its protocol file.
INDUCTION_PROTOCOLS: dict[VisitKind, str] = {
    VisitKind.ESKETAMINE_NASAL: ProtocolId.ESKETAMINE_TRD,
    VisitKind.IV_KETAMINE: ProtocolId.IV_TWICE_WEEKLY_3W,
}


def induction_of(kind: VisitKind) -> Induction:
    """The induction phase of the modality's protocol: its week blocks' ideal days and gaps."""
    protocol = INDUCTION_PROTOCOLS[kind]
    spec = protocols.PROTOCOLS[protocol]
    blocks = [b for b in spec.blocks if b.phase == Phase.INDUCTION]
    steps: list[Step] = []
    for block in blocks:
        for index, ideal in enumerate(block.ideal):
            number = len(steps) + 1
            gap = max(1, min_gap_before(protocol, number)) if number > 1 else 0
            steps.append(Step(block.first_day + ideal, index == 0, gap))
    days = max(b.first_day + b.length for b in blocks)
    return Induction(kind, protocol, spec.name, tuple(steps), days)


@dataclasses.dataclass(frozen=True, slots=True)
class ModalityCapacity:
    """How many induction courses of one modality could start in the horizon, counted on their own (the
    modalities share chairs and nurses: the counts are alternatives, not a sum)."""

    induction: Induction
    visit_minutes: int
    induction_starts: int
    start_days: list[dt.date]  # the day each counted course would start on

    @property
    def kind(self) -> VisitKind:
        return self.induction.kind

    @property
    def label(self) -> str:
        return KIND_LABELS[self.induction.kind]

    @property
    def starts_by_day(self) -> list[tuple[dt.date, int]]:
        counts: dict[dt.date, int] = {}
        for day in self.start_days:
            counts[day] = counts.get(day, 0) + 1
        return sorted(counts.items())


@dataclasses.dataclass(frozen=True, slots=True)
class Capacity:
    days: list[DayUse]
    modalities: list[ModalityCapacity]  # the dosing modalities the location has chairs for
    horizon_days: int

    def of(self, kind: VisitKind) -> ModalityCapacity | None:
        return next((m for m in self.modalities if m.kind == kind), None)


def _minutes(a: dt.datetime, b: dt.datetime) -> int:
    return max(0, int((b - a).total_seconds() // 60))


def _overlap(a: tuple[dt.datetime, dt.datetime], b: tuple[dt.datetime, dt.datetime]) -> int:
    return _minutes(max(a[0], b[0]), min(a[1], b[1]))


def _free_starts(
    day: dt.date,
    site: Site,
    resources: Resources,
    kept: list[Visit],
    chairs: Sequence[int],
    minutes: int,
    kind: VisitKind = VisitKind.ESKETAMINE_NASAL,
) -> list[Visit]:
    """Greedy first fit of hypothetical visits of `kind` over the day in 15-minute steps: every visit the
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
                    kind=kind,
                    starts_at=at.astimezone(dt.UTC),
                    ends_at=(at + dt.timedelta(minutes=minutes)).astimezone(dt.UTC),
                )
                refusals = check_new(visit, [*kept, *placed], resources, now=None)
                if not refusals:
                    placed.append(visit)
                    fitted = True
                    break
                if not any(r.rule_id in CHAIR_RULES for r in refusals):
                    break  # the time itself is refused (hours, prescriber, nurses): no other chair helps
            if not fitted:
                at += dt.timedelta(minutes=SLOT_MINUTES)
    return placed


class _AllEnrolled(dict[str, dt.date]):
    def get(self, key: str, default: Any = None) -> dt.date:
        return dt.date.min


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


def _place_course(start: int, free: list[int], induction: Induction) -> list[int] | None:
    """The day indexes of one course starting on `start`, each with a free visit; None if it does not fit.

    A week's first visit is tried on its ideal day, then the day after and the day before; a later visit of
    the week on its ideal distance from the one before, then a day nearer and a day further; always at least
    the protocol's gap after the visit before."""
    if start >= len(free) or free[start] <= 0:
        return None
    days = [start]
    steps = induction.steps
    for previous, step in itertools.pairwise(steps):
        prev = days[-1]
        if step.anchored:
            target = start + step.offset
            candidates = [target, target + 1, target - 1]
        else:
            ideal = prev + step.offset - previous.offset
            candidates = [ideal, ideal - 1, ideal + 1]
        pick = next(
            (d for d in candidates if d - prev >= step.min_gap and d < len(free) and free[d] > 0), None
        )
        if pick is None:
            return None
        days.append(pick)
    return days


def offered(location: ClinicLocation, chairs: dict[int, Any]) -> list[VisitKind]:
    """The dosing modalities with an induction protocol that the location has a chair or room for."""
    kinds = {info.kind for info in chairs.values() if info.location == location.pk and info.active}
    return [kind for kind in INDUCTION_PROTOCOLS if kinds & SUITABLE[kind]]


def capacity(location: ClinicLocation, first: dt.date, days: int = HORIZON_DAYS) -> Capacity:
    """Chair and nurse use per day over `days` from `first`, and for each dosing modality the location
    offers how many of its induction courses could start in those days.

    Method (stated on the page): for each modality, for each day of the horizon and the induction's weeks
    after it (a course started on its last day runs that long), hypothetical visits of the clinic's visit
    length for the modality are placed greedily in 15-minute steps wherever the booking checker allows one
    beside every visit already kept: free chairs that suit it, opening hours and closures, a prescriber
    present for all of it (esketamine) and the nurse ratio over time. That gives the free visits of each
    day. Then courses are counted greedily, earliest start first: a course takes one free visit on each of
    its induction days (its protocol's weeks, visits and gaps); a start day is counted while its whole
    course still fits. Each modality is counted on its own: they share chairs and nurses.
    """
    policy = policy_for(location)
    inductions = {kind: induction_of(kind) for kind in INDUCTION_PROTOCOLS}
    span = days + max(i.days for i in inductions.values())
    start = day_bounds(location, first)[0]
    end = day_bounds(location, first + dt.timedelta(days=span - 1))[1]
    # The hypothetical patients count as enrolled in the REMS: capacity is the clinic's, not a patient's.
    resources = dataclasses.replace(queries.resources(location, start, end), rems_enrolled_on=_AllEnrolled())
    site = resources.sites[location.pk]
    kept = queries.kept_visits(location, start, end)
    kinds = offered(location, dict(resources.chairs))

    def chairs_for(kind: VisitKind) -> list[int]:
        return [
            pk
            for pk, info in sorted(resources.chairs.items())
            if info.location == location.pk and info.active and info.kind in SUITABLE[kind]
        ]

    dosing_chairs = chairs_for(VisitKind.IV_KETAMINE)
    minutes = {kind: duration_minutes(kind, policy) for kind in kinds}
    ratio = site.nurse_ratio or 0
    uses: list[DayUse] = []
    free: dict[VisitKind, list[int]] = {kind: [] for kind in kinds}
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
        cut = _day_only(site, resources, todays, bounds)
        for kind in kinds:
            if offset < days + inductions[kind].days:
                extra = [] if closed else _free_starts(day, *cut, chairs_for(kind), minutes[kind], kind)
                free[kind].append(len(extra))
        if offset < days:
            booked = sum(_minutes(v.starts_at, v.ends_at) for v in todays if v.chair in dosing_chairs)
            nurse_cap = ratio * sum(_overlap(s, bounds) for s in site.nurse_shifts)
            nurse_used = sum(_minutes(v.starts_at, v.ends_at) for v in todays if v.kind in DOSING_KINDS)
            uses.append(
                DayUse(
                    day,
                    closed,
                    open_minutes * len(dosing_chairs),
                    booked,
                    nurse_cap,
                    nurse_used,
                    {kind.value: free[kind][offset] for kind in kinds},
                )
            )
    modalities = []
    for kind in kinds:
        left = list(free[kind])
        starts: list[dt.date] = []
        for start_day in range(days):
            while True:
                course = _place_course(start_day, left, inductions[kind])
                if course is None:
                    break
                for d in course:
                    left[d] -= 1
                starts.append(first + dt.timedelta(days=start_day))
        modalities.append(ModalityCapacity(inductions[kind], minutes[kind], len(starts), starts))
    return Capacity(uses, modalities, days)


def page_extras(
    location: ClinicLocation, schedule: Sequence[dict[str, Any]], now: dt.datetime
) -> dict[str, Any]:
    """What the calendar page adds to the days views.py lists: the day's time grid by chair (or the week's,
    days as columns, each block naming its chair), the rules each booked visit breaks as things stand, and
    the visits to flag as unconfirmed."""
    from ketaclinic.scheduling import waitlist

    rows = [a for day in schedule for row in day["chairs"] for a in row["appointments"]]
    found = conflicts(location, rows)
    flagged = waitlist.unconfirmed(rows, location, now)
    grids = []
    week = None
    if len(schedule) == 1:
        day = schedule[0]
        chairs = [row["chair"] for row in day["chairs"]]
        grids.append(day_grid(location, day["date"], rows, chairs, found, flagged))
    elif schedule:
        chairs = list(Chair.objects.filter(location=location).order_by("name"))
        week = week_grid(location, schedule, rows, chairs, found, flagged)
    return {"grids": grids, "week": week, "breaks": found, "flagged": flagged}
