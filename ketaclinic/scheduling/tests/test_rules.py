"""Every hard rule of the calendar on its own, then the checker over random sets of visits (Hypothesis):
whatever is booked one visit at a time through `check_new` passes `check` as a whole, and `check` agrees
with a minute-by-minute count of chairs, patients and nurses."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.clinical import scheduling as clinical
from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinical.scheduling import VisitKind as K
from ketaclinic.clinical.scheduling import Window
from ketaclinic.scheduling import rules
from ketaclinic.scheduling.rules import ChairInfo, Resources, Site, Visit, check, check_new

ZONE = ZoneInfo("America/New_York")
MONDAY = dt.date(2030, 3, 4)
NOW = dt.datetime(2030, 3, 1, 9, tzinfo=ZONE)
NINE_TO_SIX = ((dt.time(8), dt.time(18)),)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE)


def whole_days(first: dt.date, days: int, open_: int = 8, close: int = 18) -> tuple[Window, ...]:
    return tuple(
        (at(first + dt.timedelta(days=d), open_), at(first + dt.timedelta(days=d), close))
        for d in range(days)
    )


def site(**changes: object) -> Site:
    values: dict[str, object] = {
        "location": 1,
        "zone": ZONE,
        "opening": dict.fromkeys(range(5), NINE_TO_SIX),
        "closures": frozenset(),
        "prescriber_windows": whole_days(MONDAY, 14),
        "nurse_shifts": whole_days(MONDAY, 14),
        "nurse_ratio": 2,
    }
    values.update(changes)
    return Site(**values)  # type: ignore[arg-type]


CHAIRS = {
    1: ChairInfo(1, "chair"),
    2: ChairInfo(1, "chair"),
    3: ChairInfo(1, "room"),
    4: ChairInfo(1, "therapy_room"),
    9: ChairInfo(2, "chair"),
    10: ChairInfo(1, "chair", active=False),
}


def world(**changes: object) -> Resources:
    return Resources({1: site(**changes)}, CHAIRS, {"p1": MONDAY, "p2": MONDAY, "p3": MONDAY})


def visit(
    id_: str = "v",
    patient: str = "p1",
    chair: int | None = 1,
    kind: K = K.IV_KETAMINE,
    start: dt.datetime | None = None,
    minutes: int = 120,
) -> Visit:
    start = start or at(MONDAY, 9)
    return Visit(id_, patient, 1, chair, kind, start, start + dt.timedelta(minutes=minutes))


def esk(id_: str, day: int, number: int, chair: int = 1) -> Visit:
    """Session `number` of an esketamine course, on MONDAY + `day` at 9."""
    start = at(MONDAY + dt.timedelta(days=day), 9)
    end = start + dt.timedelta(minutes=135)
    return Visit(id_, "p1", 1, chair, K.ESKETAMINE_NASAL, start, end, "plan-1", "esketamine_trd", number)


def rule_ids(found: list[clinical.Refusal]) -> set[str]:
    return {r.rule_id for r in found}


# --- One rule at a time ------------------------------------------------------------------------------------


def test_a_visit_that_breaks_nothing_is_allowed() -> None:
    assert check([visit()], world(), now=NOW) == []


def test_durations_are_clinic_policy_with_the_issues_defaults() -> None:
    minutes = {kind: clinical.duration_minutes(kind, DEFAULT_POLICY) for kind in K}
    assert minutes == {
        K.ESKETAMINE_NASAL: 135,
        K.IV_KETAMINE: 120,
        K.IM_KETAMINE: 90,
        K.CONSULTATION: 60,
        K.PREPARATION: 50,
        K.INTEGRATION: 50,
    }


def test_the_nurse_ratio_has_no_default() -> None:
    assert DEFAULT_POLICY.nurse_monitoring_ratio is None


def test_start_in_the_past() -> None:
    assert rule_ids(check([visit(start=NOW - dt.timedelta(hours=1))], world(), now=NOW)) >= {rules.START_PAST}


def test_chair_of_another_location_or_retired() -> None:
    assert rule_ids(check([visit(chair=9)], world(), now=NOW)) == {rules.CHAIR_LOCATION}
    assert rule_ids(check([visit(chair=10)], world(), now=NOW)) == {rules.CHAIR_LOCATION}
    assert rule_ids(check([visit(chair=99)], world(), now=NOW)) == {rules.CHAIR_LOCATION}


def test_chair_kind_suits_the_visit() -> None:
    assert rule_ids(check([visit(chair=4)], world(), now=NOW)) == {rules.CHAIR_KIND}
    assert check([visit(chair=4, kind=K.INTEGRATION, minutes=50)], world(), now=NOW) == []
    assert rule_ids(check([visit(chair=None)], world(), now=NOW)) == {rules.CHAIR_KIND}


def test_chair_overlap() -> None:
    a, b = visit("a", "p1"), visit("b", "p2", start=at(MONDAY, 10))
    assert rule_ids(check([a, b], world(), now=NOW)) == {rules.CHAIR_OVERLAP}
    after = visit("b", "p2", start=at(MONDAY, 11))  # ends at 11: back to back is fine
    assert check([a, after], world(), now=NOW) == []


def test_patient_double_booked() -> None:
    a, b = visit("a", "p1", chair=1), visit("b", "p1", chair=2, start=at(MONDAY, 10))
    assert rule_ids(check([a, b], world(), now=NOW)) == {rules.PATIENT_OVERLAP}


def test_opening_hours() -> None:
    open_all_day = whole_days(MONDAY, 7, 0, 23)
    late = check([visit(start=at(MONDAY, 17))], world(nurse_shifts=open_all_day), now=NOW)
    assert rule_ids(late) == {rules.OPENING_HOURS}
    early = check([visit(start=at(MONDAY, 7))], world(nurse_shifts=open_all_day), now=NOW)
    assert rule_ids(early) == {rules.OPENING_HOURS}
    saturday = MONDAY + dt.timedelta(days=5)
    assert rules.OPENING_HOURS in rule_ids(check([visit(start=at(saturday, 9))], world(), now=NOW))
    assert check([visit(start=at(MONDAY, 16))], world(), now=NOW) == []


def test_closure() -> None:
    found = check([visit()], world(closures=frozenset({MONDAY})), now=NOW)
    assert rule_ids(found) == {rules.CLOSURE}
    assert MONDAY.isoformat() in found[0].message


def test_prescriber_present_for_the_whole_esketamine_visit() -> None:
    morning = ((at(MONDAY, 8), at(MONDAY, 10)),)
    esk = visit(kind=K.ESKETAMINE_NASAL, minutes=135)
    assert rule_ids(check([esk], world(prescriber_windows=morning), now=NOW)) == {"REMS-SETTING"}
    # Two windows that touch cover the visit; IV needs no prescriber window.
    joined = ((at(MONDAY, 8), at(MONDAY, 10)), (at(MONDAY, 10), at(MONDAY, 12)))
    assert check([esk], world(prescriber_windows=joined), now=NOW) == []
    assert check([visit()], world(prescriber_windows=()), now=NOW) == []


def test_rems_enrolment_for_esketamine() -> None:
    esk = visit(patient="p9", kind=K.ESKETAMINE_NASAL, minutes=135)
    assert rule_ids(check([esk], world(), now=NOW)) == {"REMS-ENROL-BEFORE-FIRST"}
    later = Resources({1: site()}, CHAIRS, {"p9": MONDAY + dt.timedelta(days=1)})
    assert rule_ids(check([esk], later, now=NOW)) == {"REMS-ENROL-BEFORE-FIRST"}
    assert check([visit(patient="p9")], world(), now=NOW) == []  # IV needs no REMS enrolment


def test_nurse_ratio_over_time() -> None:
    three = [
        visit("1", "p1", chair=1),
        visit("2", "p2", chair=2),
        visit("3", "p3", 3, K.IM_KETAMINE, minutes=90),
    ]
    found = check(three, world(nurse_ratio=2), now=NOW)
    assert rule_ids(found) == {rules.NURSE_RATIO}
    assert check(three, world(nurse_ratio=3), now=NOW) == []
    # A second nurse on duty from 10:00 is too late for the 9:00 visits' first hour.
    second = (*whole_days(MONDAY, 1), (at(MONDAY, 10), at(MONDAY, 18)))
    assert rule_ids(check(three, world(nurse_shifts=second), now=NOW)) == {rules.NURSE_RATIO}
    second = (*whole_days(MONDAY, 1), (at(MONDAY, 9), at(MONDAY, 18)))
    assert check(three, world(nurse_shifts=second), now=NOW) == []
    # No nurse at all: no dosing visit; a talk visit needs none.
    assert rule_ids(check([visit()], world(nurse_shifts=()), now=NOW)) == {rules.NURSE_RATIO}
    assert check([visit(chair=4, kind=K.INTEGRATION, minutes=50)], world(nurse_shifts=()), now=NOW) == []


def test_nurse_ratio_not_set_refuses_dosing_visits() -> None:
    found = check([visit()], world(nurse_ratio=None), now=NOW)
    assert rule_ids(found) == {rules.NURSE_RATIO}
    assert "no nurse monitoring ratio" in found[0].message


def test_day_gaps_of_the_protocol() -> None:
    found = check([esk("a", 0, 1), esk("b", 1, 2)], world(), now=NOW)
    assert [(r.rule_id, r.visit_id) for r in found] == [("PROTO-SESSION-SPACING", "b")]
    assert check([esk("a", 0, 1), esk("b", 2, 2)], world(), now=NOW) == []


def test_min_gaps_come_from_the_protocol_files() -> None:
    assert clinical.min_gaps("esketamine_trd")[:8] == (0, 2, 2, 2, 2, 2, 2, 2)
    assert clinical.min_gap_before("esketamine_trd", 9) == 2  # the first weekly one after twice weekly
    assert clinical.min_gap_before("esketamine_trd", 10) == 1
    assert clinical.min_gap_before("esketamine_trd", 99) == 1


def test_check_new_names_the_new_visit_when_it_comes_before_a_booked_one() -> None:
    found = check_new(esk("a", 0, 1, chair=2), [esk("b", 1, 2)], world(), now=NOW)
    assert [(r.rule_id, r.visit_id) for r in found] == [("PROTO-SESSION-SPACING", "a")]


def test_covered_windows() -> None:
    start, end = at(MONDAY, 9), at(MONDAY, 11)
    assert clinical.covered(start, end, [(at(MONDAY, 8), at(MONDAY, 12))])
    assert not clinical.covered(start, end, [(at(MONDAY, 8), at(MONDAY, 10)), (at(MONDAY, 10, 5), end)])
    assert not clinical.covered(start, end, [])


# --- The independent checker over random sets --------------------------------------------------------------

KINDS = [K.IV_KETAMINE, K.ESKETAMINE_NASAL, K.INTEGRATION, K.IM_KETAMINE]
ROOM_FOR = {
    K.IV_KETAMINE: [1, 2],
    K.ESKETAMINE_NASAL: [1, 2, 3],
    K.IM_KETAMINE: [1, 2, 3],
    K.INTEGRATION: [3, 4],
}

candidates = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2", "p3", "p4"]),
        st.sampled_from(KINDS),
        st.integers(min_value=0, max_value=4),  # day
        st.integers(min_value=26, max_value=76),  # quarter hours from midnight: 6:30 to 19:00
        st.sampled_from([1, 2, 3, 4, 9, None]),
    ),
    max_size=25,
)


def _make(i: int, raw: tuple[str, K, int, int, int | None]) -> Visit:
    patient, kind, day, quarter, chair = raw
    start = at(MONDAY + dt.timedelta(days=day), 0) + dt.timedelta(minutes=15 * quarter)
    minutes = clinical.duration_minutes(kind, DEFAULT_POLICY)
    return visit(str(i), patient, chair, kind, start, minutes)


def _brute_force(visits: list[Visit], resources: Resources) -> set[str]:
    """The overlap and nurse rules counted minute by minute: no sweep, no pairs."""
    broken: set[str] = set()
    site_ = resources.sites[1]
    assert site_.nurse_ratio is not None
    moments = sorted({v.starts_at + dt.timedelta(minutes=m) for v in visits for m in range(0, 24 * 60, 5)})
    for t in moments:
        here = [v for v in visits if v.starts_at <= t < v.ends_at]
        chairs = [v.chair for v in here if v.chair is not None]
        if len(chairs) != len(set(chairs)):
            broken.add(rules.CHAIR_OVERLAP)
        patients = [v.patient for v in here]
        if len(patients) != len(set(patients)):
            broken.add(rules.PATIENT_OVERLAP)
        monitored = sum(1 for v in here if v.kind in clinical.DOSING_KINDS)
        nurses = sum(1 for s, e in site_.nurse_shifts if s <= t < e)
        if monitored > site_.nurse_ratio * nurses:
            broken.add(rules.NURSE_RATIO)
    return broken


SHIFTS = (*whole_days(MONDAY, 5), *whole_days(MONDAY, 5, 10, 14))


@settings(max_examples=120, deadline=None)
@given(candidates)
def test_visits_booked_one_at_a_time_pass_the_whole_check(
    raw: list[tuple[str, K, int, int, int | None]],
) -> None:
    resources = world(nurse_shifts=SHIFTS, nurse_ratio=1, prescriber_windows=whole_days(MONDAY, 5, 8, 13))
    kept: list[Visit] = []
    for i, item in enumerate(raw):
        candidate = _make(i, item)
        if not check_new(candidate, kept, resources, now=NOW):
            kept.append(candidate)
    assert check(kept, resources, now=NOW) == []
    assert _brute_force(kept, resources) == set()


@settings(max_examples=120, deadline=None)
@given(candidates)
def test_the_checker_agrees_with_a_minute_by_minute_count(
    raw: list[tuple[str, K, int, int, int | None]],
) -> None:
    resources = world(nurse_shifts=SHIFTS, nurse_ratio=1)
    visits = [_make(i, item) for i, item in enumerate(raw)]
    found = rule_ids(check(visits, resources, now=NOW))
    counted = {rules.CHAIR_OVERLAP, rules.PATIENT_OVERLAP, rules.NURSE_RATIO}
    assert found & counted == _brute_force(visits, resources)


@settings(max_examples=60, deadline=None)
@given(candidates)
def test_every_refusal_of_check_new_is_one_check_finds(
    raw: list[tuple[str, K, int, int, int | None]],
) -> None:
    """check_new over kept visits and the full check of kept + new agree on what the new visit breaks."""
    resources = world(nurse_shifts=SHIFTS, nurse_ratio=1)
    visits = [_make(i, item) for i, item in enumerate(raw)]
    kept: list[Visit] = []
    for candidate in visits:
        new = rule_ids(check_new(candidate, kept, resources, now=NOW))
        if not new:
            kept.append(candidate)
            continue
        whole = rule_ids(check([*kept, candidate], resources, now=NOW))
        assert new <= whole
