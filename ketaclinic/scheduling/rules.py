"""The hard rules of the calendar, as pure functions over plain values, and the one checker that runs them.

Nothing here touches the database or the clock: the caller passes the visits, the locations' resources
(`Site`), the chairs and the REMS enrolments, and `now`. The same `check` re-verifies any set of visits
(a booking, a course, later an optimiser's proposal), so a placement is never trusted on its own word.

House rules (not clinical; KetaClinic's own ids):
- SCHED-START-PAST: a visit may not start before now.
- SCHED-CHAIR-LOCATION: the chair or room is one of the visit's location, in use.
- SCHED-CHAIR-KIND: the chair or room suits the kind of visit (a dosing chair, a room for talking).
- SCHED-CHAIR-OVERLAP: one visit at a time in a chair or room.
- SCHED-PATIENT-OVERLAP: a patient is in one visit at a time.
- SCHED-CLINICIAN-OVERLAP: the staff member a visit is with (a therapist's own session) is in one visit at
  a time.
- SCHED-OPENING-HOURS: the whole visit lies within the location's opening hours of its local day.
- SCHED-CLOSURE: no visit on a day the location is closed.
- SCHED-NURSE-RATIO: at no moment more patients in monitoring than the policy's ratio times the nurses on
  duty (no ratio set: no dosing visit).
The clinical ones (REMS-SETTING, REMS-ENROL-BEFORE-FIRST, PROTO-SESSION-SPACING) are clinical/scheduling.py's.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ketaclinic.clinical import scheduling as clinical
from ketaclinic.clinical.scheduling import DOSING_KINDS, Refusal, VisitKind, Window

START_PAST = "SCHED-START-PAST"
CHAIR_LOCATION = "SCHED-CHAIR-LOCATION"
CHAIR_KIND = "SCHED-CHAIR-KIND"
CHAIR_OVERLAP = "SCHED-CHAIR-OVERLAP"
PATIENT_OVERLAP = "SCHED-PATIENT-OVERLAP"
CLINICIAN_OVERLAP = "SCHED-CLINICIAN-OVERLAP"
OPENING_HOURS = "SCHED-OPENING-HOURS"
CLOSURE = "SCHED-CLOSURE"
NURSE_RATIO = "SCHED-NURSE-RATIO"

HOUSE_RULES: dict[str, str] = {
    START_PAST: "A visit may not start in the past.",
    CHAIR_LOCATION: "The chair or room belongs to the visit's location and is in use.",
    CHAIR_KIND: "The chair or room suits the kind of visit.",
    CHAIR_OVERLAP: "One visit at a time in a chair or room.",
    PATIENT_OVERLAP: "A patient is in one visit at a time.",
    CLINICIAN_OVERLAP: "The clinician a visit is with (a therapist's own session) is in one visit at a time.",
    OPENING_HOURS: "The whole visit lies within the location's opening hours.",
    CLOSURE: "No visit on a day the location is closed.",
    NURSE_RATIO: "Patients in monitoring never exceed the nurse monitoring ratio times the nurses on duty.",
}

# Which kinds of chair or room each kind of visit may take (clinicpolicy.ChairKind values).
SUITABLE: dict[VisitKind, frozenset[str]] = {
    VisitKind.ESKETAMINE_NASAL: frozenset({"chair", "room"}),
    VisitKind.IV_KETAMINE: frozenset({"chair"}),
    VisitKind.IM_KETAMINE: frozenset({"chair", "room"}),
    VisitKind.CONSULTATION: frozenset({"room", "therapy_room"}),
    VisitKind.PREPARATION: frozenset({"room", "therapy_room"}),
    VisitKind.INTEGRATION: frozenset({"room", "therapy_room"}),
}


@dataclass(frozen=True, slots=True)
class Visit:
    """One appointment as the rules see it. `plan`/`protocol`/`session_number` tie it to a course;
    `clinician` is the staff member it is with (their id), when it is with one."""

    id: str
    patient: str
    location: int
    chair: int | None
    kind: VisitKind
    starts_at: dt.datetime
    ends_at: dt.datetime
    plan: str | None = None
    protocol: str | None = None
    session_number: int | None = None
    clinician: str | None = None


@dataclass(frozen=True, slots=True)
class ChairInfo:
    location: int
    kind: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class Site:
    """One location's resources: local opening hours per weekday (Monday = 0), closed days, prescriber-present
    windows and nurse shifts (aware datetimes), and the nurse monitoring ratio in force (None: not set)."""

    location: int
    zone: dt.tzinfo
    opening: Mapping[int, tuple[tuple[dt.time, dt.time], ...]] = field(default_factory=dict)
    closures: frozenset[dt.date] = frozenset()
    prescriber_windows: tuple[Window, ...] = ()
    nurse_shifts: tuple[Window, ...] = ()
    nurse_ratio: int | None = None


@dataclass(frozen=True, slots=True)
class Resources:
    sites: Mapping[int, Site]
    chairs: Mapping[int, ChairInfo]
    rems_enrolled_on: Mapping[str, dt.date] = field(default_factory=dict)


def _refuse(rule: str, message: str, visit: Visit) -> Refusal:
    return Refusal(rule, message, visit.id)


def local_day(visit: Visit, site: Site) -> dt.date:
    return visit.starts_at.astimezone(site.zone).date()


# --- Rules of one visit ------------------------------------------------------------------------------------


def start_not_past(visit: Visit, now: dt.datetime) -> Refusal | None:
    if visit.starts_at < now:
        return _refuse(START_PAST, "the visit would start in the past", visit)
    return None


def chair_here(visit: Visit, chairs: Mapping[int, ChairInfo]) -> Refusal | None:
    if visit.chair is None:
        return None
    chair = chairs.get(visit.chair)
    if chair is None or chair.location != visit.location or not chair.active:
        return _refuse(CHAIR_LOCATION, "the chair or room is not one in use at this location", visit)
    return None


def chair_suits(visit: Visit, chairs: Mapping[int, ChairInfo]) -> Refusal | None:
    chair = chairs.get(visit.chair) if visit.chair is not None else None
    if visit.chair is None:
        return _refuse(CHAIR_KIND, "the visit needs a chair or room", visit)
    if chair is not None and chair.kind not in SUITABLE[visit.kind]:
        return _refuse(
            CHAIR_KIND, f"a {chair.kind.replace('_', ' ')} does not suit this kind of visit", visit
        )
    return None


def within_opening_hours(visit: Visit, site: Site) -> Refusal | None:
    start, end = visit.starts_at.astimezone(site.zone), visit.ends_at.astimezone(site.zone)
    for opens, closes in site.opening.get(start.weekday(), ()):
        begin = dt.datetime.combine(start.date(), opens, tzinfo=site.zone)
        finish = dt.datetime.combine(start.date(), closes, tzinfo=site.zone)
        if begin <= start and end <= finish:
            return None
    return _refuse(OPENING_HOURS, "the visit is outside the location's opening hours", visit)


def not_closed(visit: Visit, site: Site) -> Refusal | None:
    day = local_day(visit, site)
    if day in site.closures or visit.ends_at.astimezone(site.zone).date() in site.closures:
        return _refuse(CLOSURE, f"the location is closed on {day.isoformat()}", visit)
    return None


def prescriber_on_site(visit: Visit, site: Site) -> Refusal | None:
    found = clinical.prescriber_present(visit.kind, visit.starts_at, visit.ends_at, site.prescriber_windows)
    return None if found is None else _refuse(found.rule_id, found.message, visit)


def rems_enrolled(visit: Visit, site: Site, enrolled: Mapping[str, dt.date]) -> Refusal | None:
    found = clinical.rems_enrolled(visit.kind, local_day(visit, site), enrolled.get(visit.patient))
    return None if found is None else _refuse(found.rule_id, found.message, visit)


def single_visit_refusals(visit: Visit, resources: Resources, now: dt.datetime | None) -> list[Refusal]:
    """Every rule that one visit breaks on its own, in a fixed order."""
    site = resources.sites.get(visit.location)
    found: list[Refusal | None] = [start_not_past(visit, now)] if now is not None else []
    found += [chair_here(visit, resources.chairs), chair_suits(visit, resources.chairs)]
    if site is None:
        found.append(_refuse(OPENING_HOURS, "the location keeps no opening hours", visit))
    else:
        found += [
            within_opening_hours(visit, site),
            not_closed(visit, site),
            prescriber_on_site(visit, site),
            rems_enrolled(visit, site, resources.rems_enrolled_on),
        ]
    return [r for r in found if r is not None]


# --- Rules between visits ----------------------------------------------------------------------------------


def overlaps(a: Visit, b: Visit) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def pair_refusals(visit: Visit, other: Visit) -> list[Refusal]:
    """What `visit` breaks against `other`: the same chair, patient or clinician at once."""
    if visit.id == other.id or not overlaps(visit, other):
        return []
    found = []
    if visit.chair is not None and visit.chair == other.chair:
        found.append(_refuse(CHAIR_OVERLAP, "the chair or room is taken at that time", visit))
    if visit.patient == other.patient:
        found.append(_refuse(PATIENT_OVERLAP, "the patient has another visit at that time", visit))
    if visit.clinician is not None and visit.clinician == other.clinician:
        found.append(_refuse(CLINICIAN_OVERLAP, "the clinician has another visit at that time", visit))
    return found


def nurse_overloads(visits: Iterable[Visit], site: Site) -> list[Window]:
    """The stretches of time at the site when patients in monitoring exceed the ratio times nurses on duty.

    A sweep over every start and end: counts are constant between two consecutive boundaries.
    """
    monitored = [(v.starts_at, v.ends_at) for v in visits if v.kind in DOSING_KINDS]
    if not monitored:
        return []
    if site.nurse_ratio is None:
        return sorted(monitored)
    points = sorted({t for w in (*monitored, *site.nurse_shifts) for t in w})
    over: list[Window] = []
    for begin, end in itertools.pairwise(points):
        patients = sum(1 for s, e in monitored if s <= begin < e)
        nurses = sum(1 for s, e in site.nurse_shifts if s <= begin < e)
        if patients > site.nurse_ratio * nurses:
            over.append((begin, end))
    return over


def _nurse_refusal(visit: Visit, site: Site, over: Sequence[Window]) -> Refusal | None:
    if visit.kind not in DOSING_KINDS:
        return None
    if site.nurse_ratio is None:
        return _refuse(NURSE_RATIO, "the location has no nurse monitoring ratio set (clinic policy)", visit)
    if any(visit.starts_at < e and s < visit.ends_at for s, e in over):
        return _refuse(NURSE_RATIO, "not enough nurses on duty to monitor another patient then", visit)
    return None


def _course_refusals(visits: Sequence[Visit], resources: Resources) -> list[Refusal]:
    by_plan: dict[str, list[Visit]] = defaultdict(list)
    for v in visits:
        if v.plan is not None and v.protocol is not None and v.session_number is not None:
            by_plan[v.plan].append(v)
    found = []
    for course in by_plan.values():
        numbered = {v.session_number: v for v in course}
        site_of = {v.session_number: resources.sites.get(v.location) for v in course}
        days = [
            (n, v.starts_at.astimezone(s.zone).date() if (s := site_of[n]) else v.starts_at.date())
            for n, v in numbered.items()
            if n is not None
        ]
        protocol = course[0].protocol
        assert protocol is not None
        for number, refusal in clinical.day_gaps(protocol, days):
            found.append(Refusal(refusal.rule_id, refusal.message, numbered[number].id))
    return found


# --- The checker -------------------------------------------------------------------------------------------


def check(visits: Sequence[Visit], resources: Resources, *, now: dt.datetime | None = None) -> list[Refusal]:
    """Every hard rule over a whole set of visits; each refusal names its rule and the visit that breaks it.

    An empty list means the set is feasible as it stands. `now=None` leaves out the start-in-the-past rule
    (for checking visits already kept).
    """
    found: list[Refusal] = []
    for visit in visits:
        found += single_visit_refusals(visit, resources, now)
    ordered = sorted(visits, key=lambda v: v.starts_at)
    for i, visit in enumerate(ordered):
        for other in ordered[i + 1 :]:
            if other.starts_at >= visit.ends_at:
                break
            found += pair_refusals(other, visit)
    for location, site in resources.sites.items():
        here = [v for v in visits if v.location == location]
        over = nurse_overloads(here, site)
        found += [r for v in here if (r := _nurse_refusal(v, site, over)) is not None]
    found += _course_refusals(visits, resources)
    return found


def check_new(
    visit: Visit, kept: Sequence[Visit], resources: Resources, *, now: dt.datetime | None
) -> list[Refusal]:
    """The rules `visit` breaks if added to `kept` (visits already booked, feasible or not)."""
    found = single_visit_refusals(visit, resources, now)
    for other in kept:
        found += pair_refusals(visit, other)
    site = resources.sites.get(visit.location)
    if site is not None:
        here = [v for v in kept if v.location == visit.location and overlaps(v, visit)]
        over = nurse_overloads([*here, visit], site)
        refusal = _nurse_refusal(visit, site, over)
        if refusal is not None:
            found.append(refusal)
    if visit.plan is not None:
        # A gap the new visit opens names it, whether it falls before or after its neighbours.
        course = [v for v in kept if v.plan == visit.plan and v.session_number != visit.session_number]
        before = {(r.rule_id, r.visit_id) for r in _course_refusals(course, resources)}
        after = _course_refusals([*course, visit], resources)
        found += [
            Refusal(r.rule_id, r.message, visit.id) for r in after if (r.rule_id, r.visit_id) not in before
        ]
    return _unique(found)


def _unique(found: list[Refusal]) -> list[Refusal]:
    seen: set[tuple[str, str]] = set()
    out = []
    for r in found:
        if (r.rule_id, r.visit_id) not in seen:
            seen.add((r.rule_id, r.visit_id))
            out.append(r)
    return out
