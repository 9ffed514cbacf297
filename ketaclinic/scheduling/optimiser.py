"""The week's optimiser: place the visits a location still has to book on chairs and times, under every hard
rule of the calendar, with OR-Tools CP-SAT warm-started from a greedy first-fit placement.

Pure: no database, no clock. `build` turns a location's resources (`rules.Site`, its chairs), the visits it
keeps and the visits wanted into a `Week` on a 15-minute grid of local wall-clock time (slot = day * 96 +
minute of the day // 15, so a visit's day is `start // 96`). Every hard rule becomes part of the model:

- opening hours, closures, the prescriber-present window of esketamine, REMS enrolment, starts in the past
  and each patient's unavailable times restrict a visit's start domain; the domain is computed by calling
  the rules' own single-visit functions (rules.py) on every candidate start, so it cannot drift from them;
- chair capacity: one cumulative per kind of chair or room (the chairs of one kind are interchangeable), a
  visit taking exactly one suitable kind; chairs are numbered afterwards by interval colouring;
- the nurse ratio over time: one cumulative of dosing visits whose capacity follows ratio x nurses on duty
  (fixed blocker intervals fill the gap when fewer nurses are on);
- CP-SAT searches in two phases (`solve`): first a model with these cumulatives over the whole week, whose
  default search proves an easy week soonest; then, for a week not proven within FIRST_PHASE_SECONDS, a
  model with both kinds of cumulative split by stretch of time (`stretches`: a day's opening hours, as no
  visit runs across a night), each visit choosing one stretch and day, where a chair pool that only dosing
  visits use and that has at least as many chairs as the nurses can ever monitor is left out (the nurse
  cumulative implies it): its neighbourhood searches go about three times as far per CPU second;
- day gaps of the protocol between the consecutive visits of one course (and the course's visits kept),
  a course filling in session order;
- a patient is in one visit at a time (a NoOverlap per patient, kept visits included).

The objective places as many visits as it can, weighted (induction before maintenance before other visits),
then patients' preferred times and continuity (the time of day the patient usually comes). The greedy
first-fit is the instant answer and CP-SAT's hint; the result is never worse than it. The independent
checker (`rules.check`) re-verifies any result: `visits()` turns a placement back into `rules.Visit`s.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from ketaclinic.clinical import scheduling as clinical
from ketaclinic.clinical.scheduling import DOSING_KINDS, VisitKind, Window
from ketaclinic.scheduling import rules
from ketaclinic.scheduling.rules import ChairInfo, Site, Visit

SLOT_MINUTES = 15
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
DEFAULT_TIME_LIMIT_SECONDS = 10.0
MAX_TIME_LIMIT_SECONDS = 60.0
NUM_WORKERS = 2
# CP-SAT's large-neighbourhood searches start with this work limit (its default is 0.1). Its deterministic
# time undercounts the cumulatives' propagation here, so one call at 0.1 takes seconds: at 0.02 the second
# worker tries about five times as many neighbourhoods, worth +0.4 points of gain on the overloaded week.
LNS_FIRST_DETERMINISTIC_LIMIT = 0.02
# Two phases. The whole-week model's default search proves an easy week soonest (the normal week in 1.5-3.9
# CPU seconds against 4-7 for the split model, a replan in 0.5-0.7 against 0.8-0.9), so it runs first; a
# week not proven by then goes on, hinted with its best, in the model split by stretch, whose neighbourhood
# searches find far better answers on a hard week (overloaded, 30 CPU s: +2.5-4.8% against +0.8-2.7%).
# A first phase of 3 s proves the normal week and a replan (at most 4 s at load 5 on 2 cores); the second
# phase's bound joins the first's, so a week it proves is reported proven too.
FIRST_PHASE_SECONDS = 3.0
MIN_SECOND_PHASE_SECONDS = 1.0

# Objective weights: a placed visit's weight by what it is, then one point per kept preference.
WEIGHT_INDUCTION = 50
WEIGHT_MAINTENANCE = 30
WEIGHT_OTHER = 20
BONUS_PREFERRED = 2
BONUS_CONTINUITY = 1

SOLVER_GREEDY = "greedy"
SOLVER_CPSAT = "cp-sat"
SOLVER_HINT = "hint"


@dataclass(frozen=True, slots=True)
class Want:
    """A visit to place this week: a plan's session still to book or a booking request.

    `preferred` are local time-of-day windows the patient prefers and `preferred_day` the day they prefer
    (a session's planned day): a start meeting both (those given) earns the preference bonus; `usual` is the
    local time they usually come (continuity of the slot); `unavailable` aware windows they cannot come.
    """

    id: str
    patient: str
    kind: VisitKind
    minutes: int
    induction: bool = False
    plan: str | None = None
    protocol: str | None = None
    session_number: int | None = None
    preferred: tuple[tuple[dt.time, dt.time], ...] = ()
    preferred_day: dt.date | None = None
    usual: dt.time | None = None
    unavailable: tuple[Window, ...] = ()


@dataclass(frozen=True, slots=True)
class Task:
    """One wanted visit on the grid: its allowed starts (slots), length in slots and weights."""

    want: Want
    starts: tuple[int, ...]
    size: int
    weight: int
    pools: tuple[str, ...]
    dosing: bool
    preferred: frozenset[int]
    usual: frozenset[int]
    min_day: int
    max_day: int


@dataclass(frozen=True, slots=True)
class Fixed:
    """A kept visit on the grid: it holds its pool, its patient and (dosing) a nurse's attention."""

    visit: Visit
    start: int
    end: int
    pool: str | None
    dosing: bool


@dataclass(frozen=True, slots=True)
class Week:
    site: Site
    week_start: dt.date
    days: int
    tasks: tuple[Task, ...]
    fixed: tuple[Fixed, ...]
    pool_chairs: Mapping[str, tuple[int, ...]]
    nurse_cap: tuple[int, ...]
    # (earlier task index, later task index, fewest days between): consecutive wanted visits of a course.
    gaps: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a task goes: its start slot and pool (kind of chair); `chair` once numbered."""

    start: int
    pool: str
    chair: int | None = None


@dataclass
class Result:
    placements: dict[int, Placement]
    objective: int
    greedy_objective: int
    greedy_placed: int
    proven_optimal: bool
    solver: str
    seconds: float
    unplaced: dict[int, str] = field(default_factory=dict)
    # CP-SAT's proven upper bound on the objective (None: it found none): no answer can score more.
    bound: int | None = None

    @property
    def placed(self) -> int:
        return len(self.placements)


# --- Building the grid -------------------------------------------------------------------------------------


def slot_time(week: Week, slot: int) -> dt.datetime:
    """The aware UTC instant of a slot's start (local wall-clock time of its day)."""
    day = week.week_start + dt.timedelta(days=slot // SLOTS_PER_DAY)
    minute = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=week.site.zone)
    return local.astimezone(dt.UTC)


def _slot_of(instant: dt.datetime, week_start: dt.date, zone: dt.tzinfo, *, up: bool) -> int:
    local = instant.astimezone(zone)
    minutes = (local.date() - week_start).days * 24 * 60 + local.hour * 60 + local.minute
    exact = minutes + local.second / 60
    return math.ceil(exact / SLOT_MINUTES) if up else math.floor(exact / SLOT_MINUTES)


def _probe(kind: VisitKind, location: int, start: dt.datetime, minutes: int, patient: str = "") -> Visit:
    return Visit("probe", patient, location, None, kind, start, start + dt.timedelta(minutes=minutes))


def _site_starts(site: Site, week_start: dt.date, days: int, kind: VisitKind, minutes: int) -> list[int]:
    """The slots where a visit of `kind` may start by the location's own rules: within opening hours, not on
    a closed day, with a prescriber for all of it (esketamine). The rules' functions decide, per start."""
    found = []
    for slot in range(days * SLOTS_PER_DAY):
        day = week_start + dt.timedelta(days=slot // SLOTS_PER_DAY)
        if not site.opening.get(day.weekday()) or day in site.closures:
            continue
        minute = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
        local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=site.zone)
        visit = _probe(kind, site.location, local.astimezone(dt.UTC), minutes)
        if (
            rules.within_opening_hours(visit, site) is None
            and rules.not_closed(visit, site) is None
            and rules.prescriber_on_site(visit, site) is None
        ):
            found.append(slot)
    return found


def _nurse_capacity(site: Site, week_start: dt.date, days: int) -> list[int]:
    """Patients in monitoring allowed in each slot: the ratio times the nurses on duty for the whole slot."""
    caps = []
    ratio = site.nurse_ratio or 0
    edges = [
        dt.datetime.combine(week_start, dt.time.min, tzinfo=site.zone) + dt.timedelta(days=d)
        for d in range(days + 1)
    ]
    for slot in range(days * SLOTS_PER_DAY):
        day_start = edges[slot // SLOTS_PER_DAY]
        minute = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
        local = dt.datetime.combine(
            day_start.date(), dt.time(minute // 60, minute % 60), tzinfo=site.zone
        ).astimezone(dt.UTC)
        end = local + dt.timedelta(minutes=SLOT_MINUTES)
        nurses = sum(1 for s, e in site.nurse_shifts if s <= local and end <= e)
        caps.append(ratio * nurses)
    return caps


def _weight(want: Want) -> int:
    if want.kind in DOSING_KINDS and want.plan is not None:
        return WEIGHT_INDUCTION if want.induction else WEIGHT_MAINTENANCE
    return WEIGHT_OTHER


def _pools(kind: VisitKind, chairs: Mapping[str, tuple[int, ...]]) -> tuple[str, ...]:
    return tuple(sorted(k for k in rules.SUITABLE[kind] if chairs.get(k)))


def _patient_starts(
    want: Want,
    site_starts: Sequence[int],
    week: tuple[Site, dt.date],
    enrolled: Mapping[str, dt.date],
    now: dt.datetime | None,
) -> tuple[int, ...]:
    site, week_start = week
    keep = []
    for slot in site_starts:
        day = week_start + dt.timedelta(days=slot // SLOTS_PER_DAY)
        minute = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
        start = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=site.zone)
        visit = _probe(want.kind, site.location, start.astimezone(dt.UTC), want.minutes, want.patient)
        if now is not None and rules.start_not_past(visit, now) is not None:
            continue
        if rules.rems_enrolled(visit, site, enrolled) is not None:
            continue
        if any(visit.starts_at < e and s < visit.ends_at for s, e in want.unavailable):
            continue
        keep.append(slot)
    return tuple(keep)


def _preferred(want: Want, starts: Sequence[int], week_start: dt.date) -> frozenset[int]:
    if not want.preferred and want.preferred_day is None:
        return frozenset()
    found = set()
    for slot in starts:
        minute = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
        at = dt.time(minute // 60, minute % 60)
        day = week_start + dt.timedelta(days=slot // SLOTS_PER_DAY)
        in_window = not want.preferred or any(a <= at < b for a, b in want.preferred)
        if in_window and want.preferred_day in (None, day):
            found.add(slot)
    return frozenset(found)


def _usual(want: Want, starts: Sequence[int]) -> frozenset[int]:
    if want.usual is None:
        return frozenset()
    minute = want.usual.hour * 60 + want.usual.minute
    return frozenset(s for s in starts if (s % SLOTS_PER_DAY) * SLOT_MINUTES == minute)


def _course_bounds(
    want: Want, kept: Sequence[Visit], site: Site, week_start: dt.date
) -> tuple[int, int, int | None]:
    """The fewest and most days (from week start) the course's kept visits leave this one, and the session
    number of the kept visit just before it (None: none)."""
    low, high, before = -(10**6), 10**6, None
    if want.plan is None or want.protocol is None or want.session_number is None:
        return low, high, before
    for v in kept:
        if v.plan != want.plan or v.session_number is None:
            continue
        day = (v.starts_at.astimezone(site.zone).date() - week_start).days
        if v.session_number < want.session_number:
            need = max(1, clinical.min_gap_before(want.protocol, want.session_number))
            if day + need > low:
                low, before = day + need, v.session_number
        elif v.session_number > want.session_number:
            need = max(1, clinical.min_gap_before(want.protocol, v.session_number))
            high = min(high, day - need)
    return low, high, before


def build(
    site: Site,
    chairs: Mapping[int, ChairInfo],
    wants: Sequence[Want],
    kept: Sequence[Visit],
    week_start: dt.date,
    *,
    days: int = 7,
    enrolled: Mapping[str, dt.date] | None = None,
    now: dt.datetime | None = None,
) -> Week:
    """The week's model data: wanted visits with their allowed starts, the kept visits on the grid."""
    enrolled = enrolled or {}
    pool_chairs: dict[str, list[int]] = defaultdict(list)
    for pk, info in sorted(chairs.items()):
        if info.location == site.location and info.active:
            pool_chairs[info.kind].append(pk)
    pools = {k: tuple(v) for k, v in pool_chairs.items()}
    by_kind: dict[tuple[VisitKind, int], list[int]] = {}
    tasks: list[Task] = []
    for want in wants:
        key = (want.kind, want.minutes)
        if key not in by_kind:
            by_kind[key] = _site_starts(site, week_start, days, want.kind, want.minutes)
        starts = _patient_starts(want, by_kind[key], (site, week_start), enrolled, now)
        low, high, _ = _course_bounds(want, kept, site, week_start)
        starts = tuple(s for s in starts if low <= s // SLOTS_PER_DAY <= high)
        options = _pools(want.kind, pools)
        if not options:
            starts = ()
        tasks.append(
            Task(
                want=want,
                starts=starts,
                size=math.ceil(want.minutes / SLOT_MINUTES),
                weight=_weight(want),
                pools=options,
                dosing=want.kind in DOSING_KINDS,
                preferred=_preferred(want, starts, week_start),
                usual=_usual(want, starts),
                min_day=max(0, low),
                max_day=min(days - 1, high),
            )
        )
    fixed = []
    horizon = days * SLOTS_PER_DAY
    for v in kept:
        start = _slot_of(v.starts_at, week_start, site.zone, up=False)
        end = _slot_of(v.ends_at, week_start, site.zone, up=True)
        if end <= 0 or start >= horizon:
            continue
        here = v.location == site.location  # elsewhere the visit holds only its patient
        held = chairs.get(v.chair) if v.chair is not None and here else None
        dosing = here and v.kind in DOSING_KINDS
        fixed.append(Fixed(v, max(0, start), min(horizon, end), held.kind if held else None, dosing))
    return Week(
        site=site,
        week_start=week_start,
        days=days,
        tasks=tuple(tasks),
        fixed=tuple(fixed),
        pool_chairs=pools,
        nurse_cap=tuple(_nurse_capacity(site, week_start, days)),
        gaps=_gaps(tasks, kept),
    )


def _gaps(tasks: Sequence[Task], kept: Sequence[Visit]) -> tuple[tuple[int, int, int], ...]:
    """Consecutive wanted visits of one course with no kept visit between them, and their fewest days."""
    by_plan: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, t in enumerate(tasks):
        if t.want.plan is not None and t.want.session_number is not None:
            by_plan[t.want.plan].append((t.want.session_number, i))
    kept_numbers: dict[str, set[int]] = defaultdict(set)
    for v in kept:
        if v.plan is not None and v.session_number is not None:
            kept_numbers[v.plan].add(v.session_number)
    found = []
    for plan, numbered in by_plan.items():
        numbered.sort()
        for (na, a), (nb, b) in itertools.pairwise(numbered):
            if any(na < k < nb for k in kept_numbers[plan]):
                continue
            protocol = tasks[b].want.protocol
            need = max(1, clinical.min_gap_before(protocol, nb)) if protocol else 1
            found.append((a, b, need))
    return tuple(found)


# --- Scoring and the greedy first-fit ----------------------------------------------------------------------


def score(week: Week, placements: Mapping[int, Placement]) -> int:
    total = 0
    for i, p in placements.items():
        task = week.tasks[i]
        total += task.weight
        total += BONUS_PREFERRED if p.start in task.preferred else 0
        total += BONUS_CONTINUITY if p.start in task.usual else 0
    return total


class _Ledger:
    """Slot-by-slot use of pools, nurses and patients, for the greedy search."""

    def __init__(self, week: Week) -> None:
        horizon = week.days * SLOTS_PER_DAY
        self.week = week
        self.pool_use = {k: [0] * horizon for k in week.pool_chairs}
        self.nurse_use = [0] * horizon
        self.patient_busy: dict[str, set[int]] = defaultdict(set)
        for f in week.fixed:
            self._take(f.start, f.end, f.pool, f.dosing, f.visit.patient)

    def _take(self, start: int, end: int, pool: str | None, dosing: bool, patient: str) -> None:
        for s in range(start, end):
            if pool in self.pool_use:
                self.pool_use[pool][s] += 1
            if dosing:
                self.nurse_use[s] += 1
            self.patient_busy[patient].add(s)

    def fits(self, task: Task, start: int, pool: str) -> bool:
        cap = len(self.week.pool_chairs[pool])
        use = self.pool_use[pool]
        busy = self.patient_busy[task.want.patient]
        for s in range(start, start + task.size):
            if use[s] >= cap or s in busy:
                return False
            if task.dosing and self.nurse_use[s] >= self.week.nurse_cap[s]:
                return False
        return True

    def take(self, task: Task, start: int, pool: str) -> None:
        self._take(start, start + task.size, pool, task.dosing, task.want.patient)


def _order(week: Week) -> list[int]:
    """Courses in session order, induction first, then maintenance, then other visits."""

    def key(i: int) -> tuple[int, str, int]:
        w = week.tasks[i].want
        return (-week.tasks[i].weight, w.plan or w.id, w.session_number or 0)

    return sorted(range(len(week.tasks)), key=key)


def greedy(week: Week, *, prefer: bool = False) -> dict[int, Placement]:
    """First fit: each wanted visit at the earliest start (the preferred ones first with `prefer`) every
    hard rule allows given the visits placed before it; a course stops at its first visit that cannot fit."""
    ledger = _Ledger(week)
    placed: dict[int, Placement] = {}
    before: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a, b, need in week.gaps:
        before[b].append((a, need))
    failed: set[int] = set()
    for i in _order(week):
        task = week.tasks[i]
        if any(a in failed or a not in placed for a, _ in before[i]):
            failed.add(i)
            continue
        low = max([task.min_day, *[placed[a].start // SLOTS_PER_DAY + need for a, need in before[i]]])
        starts = [s for s in task.starts if task.min_day <= s // SLOTS_PER_DAY <= task.max_day]
        starts = [s for s in starts if s // SLOTS_PER_DAY >= low]
        if prefer:
            starts.sort(key=lambda s: (s not in task.preferred and s not in task.usual, s))
        spot = next(((s, p) for s in starts for p in task.pools if ledger.fits(task, s, p)), None)
        if spot is None:
            failed.add(i)
            continue
        ledger.take(task, *spot)
        placed[i] = Placement(*spot)
    return placed


# --- CP-SAT ------------------------------------------------------------------------------------------------


@dataclass
class _Vars:
    present: list[cp_model.IntVar]
    start: list[cp_model.IntVar]
    choice: list[dict[str, cp_model.IntVar]]
    pref: dict[int, cp_model.IntVar]
    usual: dict[int, cp_model.IntVar]
    # Per task, its starts grouped by (stretch, day): the group's literal, start variable and first slot.
    groups: list[dict[tuple[int, int], tuple[cp_model.IntVar, cp_model.IntVar, int]]] = field(
        default_factory=list
    )
    # Per task with several pools and groups: (group, pool) -> literal.
    group_pool: list[dict[tuple[tuple[int, int], str], cp_model.IntVar]] = field(default_factory=list)
    firsts: list[int] = field(default_factory=list)  # the first slot of each stretch
    day: dict[int, cp_model.IntVar] = field(default_factory=dict)  # the whole-week model's day variables


def _group(firsts: Sequence[int], start: int) -> tuple[int, int]:
    """A start's group: its stretch and its day."""
    return bisect.bisect_right(firsts, start) - 1, start // SLOTS_PER_DAY


def _domain(slots: Sequence[int]) -> cp_model.Domain:
    return cp_model.Domain.from_values(list(slots))


def stretches(week: Week) -> list[tuple[int, int]]:
    """The stretches of time wanted visits can fill, [first slot, end): the union of every visit's possible
    slots, split where no visit can run (nights, a midday closure). No visit runs from one stretch into
    another, so each stretch has its own cumulatives: CP-SAT's time-tabling then sweeps a day's profile, not
    the week's, and a visit's start within its stretch has tight bounds."""
    found: list[tuple[int, int]] = []
    for a, b in sorted({(s, s + t.size) for t in week.tasks for s in t.starts}):
        if found and a < found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], b))
        else:
            found.append((a, b))
    return found


def _blockers(
    model: cp_model.CpModel, caps: Sequence[int], span: tuple[int, int], top: int
) -> tuple[list[cp_model.IntervalVar], list[int]]:
    """Fixed intervals that lower the capacity `top` to `caps` over the slots of `span`."""
    intervals: list[cp_model.IntervalVar] = []
    demands: list[int] = []
    lo, hi = span
    run_start = lo
    for s in range(lo + 1, hi + 1):
        if s == hi or caps[s] != caps[run_start]:
            gap = top - caps[run_start]
            if gap > 0:
                intervals.append(model.new_fixed_size_interval_var(run_start, s - run_start, ""))
                demands.append(gap)
            run_start = s
    return intervals, demands


@dataclass
class _Uses:
    """The intervals that hold each resource: a pool's chairs and the nurses per stretch, each patient."""

    pool: dict[tuple[str, int], list[cp_model.IntervalVar]] = field(default_factory=lambda: defaultdict(list))
    nurse: dict[int, list[cp_model.IntervalVar]] = field(default_factory=lambda: defaultdict(list))
    patient: dict[str, list[cp_model.IntervalVar]] = field(default_factory=lambda: defaultdict(list))
    implied: set[tuple[str, int]] = field(default_factory=set)  # (pool, stretch) the nurses already cap


def _implied_pools(week: Week, spans: Sequence[tuple[int, int]]) -> set[tuple[str, int]]:
    """The (pool, stretch) whose chairs need no cumulative: only dosing visits use the pool there and the
    nurses never monitor more patients at once than it has chairs, so the nurse cumulative implies it. One
    cumulative fewer to propagate is worth +0.3 points of gain at equal CPU on the overloaded week."""
    firsts = [a for a, _ in spans]
    undosed = set()
    for t in week.tasks:
        if not t.dosing:
            undosed |= {(pool, _group(firsts, s)[0]) for s in t.starts for pool in t.pools}
    for f in week.fixed:
        if f.pool is not None and not f.dosing:
            undosed |= {(f.pool, b) for b, (lo, hi) in enumerate(spans) if f.start < hi and lo < f.end}
    return {
        (pool, b)
        for pool, chairs in week.pool_chairs.items()
        for b, (lo, hi) in enumerate(spans)
        if (pool, b) not in undosed and max(week.nurse_cap[lo:hi]) <= len(chairs)
    }


def _groups(
    model: cp_model.CpModel, task: Task, present: cp_model.IntVar, start: cp_model.IntVar, firsts: list[int]
) -> dict[tuple[int, int], tuple[cp_model.IntVar, cp_model.IntVar, int]]:
    """The task's starts by (stretch, day), each with a literal (exactly one when placed) and a start variable
    bounded by the group's own slots; a task with one group uses its presence and start."""
    by_group: dict[tuple[int, int], list[int]] = defaultdict(list)
    for s in task.starts:
        by_group[_group(firsts, s)].append(s)
    if len(by_group) == 1:
        return {key: (present, start, slots[0]) for key, slots in by_group.items()}
    groups = {}
    for key, slots in by_group.items():
        lit = model.new_bool_var("")
        at = model.new_int_var_from_domain(_domain(slots), "")
        model.add(start == at).only_enforce_if(lit)
        groups[key] = (lit, at, slots[0])
    if groups:
        model.add(sum(lit for lit, _, _ in groups.values()) == present)
    return groups


def _task_uses(
    model: cp_model.CpModel,
    task: Task,
    groups: Mapping[tuple[int, int], tuple[cp_model.IntVar, cp_model.IntVar, int]],
    choice: Mapping[str, cp_model.IntVar],
    uses: _Uses,
) -> dict[tuple[tuple[int, int], str], cp_model.IntVar]:
    """The task's optional intervals in its stretches' pools and nurse cumulatives. With several pools and
    several groups, a literal per (group, pool) ties the two choices; they are returned for the hint."""
    both: dict[tuple[tuple[int, int], str], cp_model.IntVar] = {}
    for key, (lit, at, _) in groups.items():
        for pool in task.pools:
            if len(task.pools) == 1:
                use = lit
            elif len(groups) == 1:
                use = choice[pool]
            else:
                use = both[(key, pool)] = model.new_bool_var("")
            if (pool, key[0]) not in uses.implied:
                interval = model.new_optional_fixed_size_interval_var(at, task.size, use, "")
                uses.pool[(pool, key[0])].append(interval)
        if task.dosing:
            uses.nurse[key[0]].append(model.new_optional_fixed_size_interval_var(at, task.size, lit, ""))
    if both:
        for key, (lit, _, _) in groups.items():
            model.add(sum(both[(key, pool)] for pool in task.pools) == lit)
        for pool in task.pools:
            model.add(sum(both[(key, pool)] for key in groups) == choice[pool])
    return both


def _kept_uses(model: cp_model.CpModel, week: Week, spans: Sequence[tuple[int, int]], uses: _Uses) -> None:
    """A kept visit holds its patient, and within each stretch it overlaps its chair's pool and a nurse."""
    for f in week.fixed:
        uses.patient[f.visit.patient].append(model.new_fixed_size_interval_var(f.start, f.end - f.start, ""))
        for b, (lo, hi) in enumerate(spans):
            a, z = max(f.start, lo), min(f.end, hi)
            if a >= z:
                continue
            if f.pool is not None and f.pool in week.pool_chairs and (f.pool, b) not in uses.implied:
                uses.pool[(f.pool, b)].append(model.new_fixed_size_interval_var(a, z - a, ""))
            if f.dosing:
                uses.nurse[b].append(model.new_fixed_size_interval_var(a, z - a, ""))


def _capacities(model: cp_model.CpModel, week: Week, spans: Sequence[tuple[int, int]], uses: _Uses) -> None:
    for (pool, _), intervals in uses.pool.items():
        model.add_cumulative(intervals, [1] * len(intervals), len(week.pool_chairs[pool]))
    for b, intervals in uses.nurse.items():
        top = max(week.nurse_cap[spans[b][0] : spans[b][1]])
        blockers, demands = _blockers(model, week.nurse_cap, spans[b], top)
        model.add_cumulative([*intervals, *blockers], [1] * len(intervals) + demands, top)
    for intervals in uses.patient.values():
        if len(intervals) > 1:
            model.add_no_overlap(intervals)


def _model(week: Week) -> tuple[cp_model.CpModel, _Vars]:
    model = cp_model.CpModel()
    v = _Vars([], [], [], {}, {})
    spans = stretches(week)
    v.firsts = [a for a, _ in spans]
    uses = _Uses(implied=_implied_pools(week, spans))
    day: list[cp_model.LinearExpr] = []  # a task's day, as the sum of its groups' days
    objective = []
    for i, task in enumerate(week.tasks):
        present, start = _visit(model, v, i, task)
        groups = _groups(model, task, present, start, v.firsts)
        v.groups.append(groups)
        day.append(cp_model.LinearExpr.weighted_sum([g[0] for g in groups.values()], [k[1] for k in groups]))
        choice = {}
        for pool in task.pools:
            choice[pool] = present if len(task.pools) == 1 else model.new_bool_var(f"c{i}{pool}")
        if len(task.pools) > 1:
            model.add(sum(choice.values()) == present)
        v.choice.append(choice)
        v.group_pool.append(_task_uses(model, task, groups, choice, uses))
        uses.patient[task.want.patient].append(
            model.new_optional_fixed_size_interval_var(start, task.size, present, f"i{i}")
        )
        objective.append(task.weight * present)
        objective += _preferences(model, v, i, task, start, present)
    _kept_uses(model, week, spans, uses)
    _capacities(model, week, spans, uses)
    for a, b, need in week.gaps:
        model.add_implication(v.present[b], v.present[a])
        model.add(day[b] - day[a] >= need).only_enforce_if(v.present[b])
    model.maximize(sum(objective))
    return model, v


def _visit(model: cp_model.CpModel, v: _Vars, i: int, task: Task) -> tuple[cp_model.IntVar, cp_model.IntVar]:
    """Visit i's presence and start (kept in v.present and v.start); absent when it has no start."""
    present = model.new_bool_var(f"p{i}")
    start = model.new_int_var_from_domain(_domain(task.starts or (0,)), f"s{i}")
    if not task.starts:
        model.add(present == 0)
    v.present.append(present)
    v.start.append(start)
    return present, start


def _preferences(
    model: cp_model.CpModel, v: _Vars, i: int, task: Task, start: cp_model.IntVar, present: cp_model.IntVar
) -> list[cp_model.LinearExpr]:
    """The objective's bonuses of visit i: a literal for a preferred start and one for the usual time of
    day, each true only if the visit is placed there (kept in v.pref and v.usual for the hint)."""
    bonuses: list[cp_model.LinearExpr] = []
    for name, slots, bonus, store in (
        ("pref", task.preferred, BONUS_PREFERRED, v.pref),
        ("usual", task.usual, BONUS_CONTINUITY, v.usual),
    ):
        if slots:
            lit = model.new_bool_var(f"{name}{i}")
            model.add_linear_expression_in_domain(start, _domain(sorted(slots))).only_enforce_if(lit)
            model.add_implication(lit, present)
            store[i] = lit
            bonuses.append(bonus * lit)
    return bonuses


def _week_model(week: Week) -> tuple[cp_model.CpModel, _Vars]:
    """The first phase's model: one cumulative per pool and one of the nurses over the whole week, and a day
    variable per course visit for the gaps."""
    model = cp_model.CpModel()
    v = _Vars([], [], [], {}, {})
    pool_iv: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    nurse_iv: list[cp_model.IntervalVar] = []
    patient_iv: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
    objective = []
    for i, task in enumerate(week.tasks):
        present, start = _visit(model, v, i, task)
        choice = {}
        for pool in task.pools:
            lit = present if len(task.pools) == 1 else model.new_bool_var(f"c{i}{pool}")
            choice[pool] = lit
            pool_iv[pool].append(model.new_optional_fixed_size_interval_var(start, task.size, lit, ""))
        if len(task.pools) > 1:
            model.add(sum(choice.values()) == present)
        v.choice.append(choice)
        interval = model.new_optional_fixed_size_interval_var(start, task.size, present, f"i{i}")
        patient_iv[task.want.patient].append(interval)
        if task.dosing:
            nurse_iv.append(interval)
        objective.append(task.weight * present)
        objective += _preferences(model, v, i, task, start, present)
    for f in week.fixed:
        interval = model.new_fixed_size_interval_var(f.start, f.end - f.start, "")
        if f.pool is not None and f.pool in week.pool_chairs:
            pool_iv[f.pool].append(interval)
        if f.dosing:
            nurse_iv.append(interval)
        patient_iv[f.visit.patient].append(interval)
    for pool, intervals in pool_iv.items():
        model.add_cumulative(intervals, [1] * len(intervals), len(week.pool_chairs[pool]))
    if nurse_iv:
        top = max(week.nurse_cap, default=0)
        blockers, demands = _blockers(model, week.nurse_cap, (0, len(week.nurse_cap)), top)
        model.add_cumulative([*nurse_iv, *blockers], [1] * len(nurse_iv) + demands, top)
    for intervals in patient_iv.values():
        if len(intervals) > 1:
            model.add_no_overlap(intervals)
    for a, b, need in week.gaps:
        model.add_implication(v.present[b], v.present[a])
        _day_gap(model, week, v, a, b, need)
    model.maximize(sum(objective))
    return model, v


def _day(model: cp_model.CpModel, v: _Vars, i: int, starts: Sequence[int]) -> cp_model.IntVar:
    """The visit's day: start // 96 on the wall-clock grid, over only the days it may start on (a tight
    domain, so the day gaps propagate from the first search step)."""
    if i not in v.day:
        days = sorted({s // SLOTS_PER_DAY for s in starts or (0,)})
        day = model.new_int_var_from_domain(_domain(days), f"d{i}")
        model.add(v.start[i] >= SLOTS_PER_DAY * day)
        model.add(v.start[i] <= SLOTS_PER_DAY * day + SLOTS_PER_DAY - 1)
        v.day[i] = day
    return v.day[i]


def _day_gap(model: cp_model.CpModel, week: Week, v: _Vars, a: int, b: int, need: int) -> None:
    later, earlier = _day(model, v, b, week.tasks[b].starts), _day(model, v, a, week.tasks[a].starts)
    model.add(later - earlier >= need).only_enforce_if(v.present[b])


def _hint(model: cp_model.CpModel, week: Week, v: _Vars, placements: Mapping[int, Placement]) -> None:
    """A complete hint (every variable): CP-SAT takes it as its first solution without searching."""
    for i, task in enumerate(week.tasks):
        p = placements.get(i)
        model.add_hint(v.present[i], p is not None)
        start = p.start if p else (task.starts[0] if task.starts else 0)
        model.add_hint(v.start[i], start)
        if i in v.day:
            model.add_hint(v.day[i], start // SLOTS_PER_DAY)
        key = _group(v.firsts, start) if p is not None else None
        for k, (lit, at, first) in (v.groups[i] if v.groups else {}).items():
            if lit is not v.present[i]:
                model.add_hint(lit, k == key)
            if at is not v.start[i]:
                model.add_hint(at, start if k == key else first)
        for (k, pool), lit in (v.group_pool[i] if v.group_pool else {}).items():
            model.add_hint(lit, k == key and p is not None and p.pool == pool)
        if len(task.pools) > 1:
            for pool, lit in v.choice[i].items():
                model.add_hint(lit, p is not None and p.pool == pool)
        if i in v.pref:
            model.add_hint(v.pref[i], p is not None and p.start in task.preferred)
        if i in v.usual:
            model.add_hint(v.usual[i], p is not None and p.start in task.usual)


def _read(week: Week, v: _Vars, solver: cp_model.CpSolver) -> dict[int, Placement]:
    found = {}
    for i in range(len(week.tasks)):
        if solver.boolean_value(v.present[i]):
            pool = next(p for p, lit in v.choice[i].items() if solver.boolean_value(lit))
            found[i] = Placement(solver.value(v.start[i]), pool)
    return found


def solve(
    week: Week,
    *,
    time_limit_seconds: float = DEFAULT_TIME_LIMIT_SECONDS,
    hint: Mapping[int, Placement] | None = None,
    seed: int = 0,
) -> Result:
    """The best placement found within the time limit: CP-SAT warm-started from the better greedy (or
    `hint`, a previous placement), falling back to that greedy if the solver does no better."""
    began = time.perf_counter()
    limit = min(max(time_limit_seconds, 0.1), MAX_TIME_LIMIT_SECONDS)
    first = greedy(week)
    second = greedy(week, prefer=True)
    base = max((first, second), key=lambda p: score(week, p))
    greedy_objective = score(week, base)
    use_hint = hint is not None and score(week, hint) >= greedy_objective
    start_from = dict(hint) if hint is not None and use_hint else base
    best, how = start_from, SOLVER_HINT if use_hint else SOLVER_GREEDY
    began_search = time.perf_counter()
    found, proven, bound = _search(week, _week_model, best, min(limit, FIRST_PHASE_SECONDS), seed)
    if found is not None and score(week, found) >= score(week, best):
        best, how = found, SOLVER_CPSAT
    rest = limit - (time.perf_counter() - began_search)
    if not proven and rest >= MIN_SECOND_PHASE_SECONDS:
        found, proven, second_bound = _search(week, _model, best, rest, seed)
        if found is not None and score(week, found) >= score(week, best):
            best, how = found, SOLVER_CPSAT
        bounds = [b for b in (bound, second_bound) if b is not None]  # both are bounds: the lower holds
        bound = min(bounds) if bounds else None
        proven = proven or (bound is not None and score(week, best) >= bound)
    numbered, lost = number_chairs(week, best)
    result = Result(
        placements=numbered,
        objective=score(week, numbered),
        greedy_objective=greedy_objective,
        greedy_placed=len(base),
        proven_optimal=proven and not lost and how == SOLVER_CPSAT,
        solver=how,
        seconds=time.perf_counter() - began,
    )
    result.unplaced = _reasons(week, numbered, lost)
    result.bound = bound
    return result


def _search(
    week: Week,
    build: Callable[[Week], tuple[cp_model.CpModel, _Vars]],
    start_from: Mapping[int, Placement],
    limit: float,
    seed: int,
) -> tuple[dict[int, Placement] | None, bool, int | None]:
    """CP-SAT on one model of the week, hinted: its best placement (None: none found), proven or not, and
    its bound."""
    model, v = build(week)
    _hint(model, week, v, start_from)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = NUM_WORKERS
    solver.parameters.random_seed = seed
    solver.parameters.lns_initial_deterministic_limit = LNS_FIRST_DETERMINISTIC_LIMIT
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False, None
    return _read(week, v, solver), status == cp_model.OPTIMAL, round(solver.best_objective_bound)


def _reasons(week: Week, placed: Mapping[int, Placement], lost: set[int]) -> dict[int, str]:
    found = {}
    for i, task in enumerate(week.tasks):
        if i in placed:
            continue
        if i in lost:
            found[i] = "no single chair or room stays free for the whole visit"
        elif not task.pools:
            found[i] = "the location has no chair or room for this kind of visit"
        elif not task.starts:
            found[i] = (
                "no time this week every rule allows (opening hours, closures, prescriber present, "
                "REMS enrolment, the patient's unavailable times or the course's day gaps)"
            )
        else:
            found[i] = "the week is full: no chair, nurse cover or day left that keeps the course's gaps"
    return found


def number_chairs(week: Week, placements: Mapping[int, Placement]) -> tuple[dict[int, Placement], set[int]]:
    """Give each placed visit a chair of its pool: in start order, the first chair free for all of it.
    The kept visits hold their own chairs. A visit no chair can take (rare with kept visits) is lost."""
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for f in week.fixed:
        if f.visit.chair is not None and f.pool is not None:
            taken[f.visit.chair].append((f.start, f.end))
    numbered: dict[int, Placement] = {}
    lost: set[int] = set()
    for i, p in sorted(placements.items(), key=lambda item: (item[1].start, item[0])):
        end = p.start + week.tasks[i].size
        chair = next(
            (c for c in week.pool_chairs[p.pool] if all(e <= p.start or end <= s for s, e in taken[c])),
            None,
        )
        if chair is None:
            lost.add(i)
            continue
        taken[chair].append((p.start, end))
        numbered[i] = Placement(p.start, p.pool, chair)
    _drop_broken_courses(week, numbered, lost)
    return numbered, lost


def _drop_broken_courses(week: Week, numbered: dict[int, Placement], lost: set[int]) -> None:
    """A course fills in order: a visit whose earlier course visit was lost goes too."""
    changed = True
    while changed:
        changed = False
        for a, b, _ in week.gaps:
            if b in numbered and a not in numbered:
                del numbered[b]
                lost.add(b)
                changed = True


def visits(week: Week, placements: Mapping[int, Placement]) -> list[Visit]:
    """The placed visits as the rules see them (exact minutes, aware UTC), for `rules.check`."""
    out = []
    for i, p in sorted(placements.items()):
        want = week.tasks[i].want
        start = slot_time(week, p.start)
        out.append(
            Visit(
                id=want.id,
                patient=want.patient,
                location=week.site.location,
                chair=p.chair,
                kind=want.kind,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=want.minutes),
                plan=want.plan,
                protocol=want.protocol,
                session_number=want.session_number,
            )
        )
    return out
