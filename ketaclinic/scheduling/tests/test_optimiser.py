"""The week's optimiser without a database: each hard rule binds in a small week and the answer keeps it;
the independent checker (`rules.check`) re-verifies the answers on random weeks (Hypothesis); CP-SAT is
never worse than the greedy first fit; the benchmark's lines carry what the docs report."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.clinical.scheduling import VisitKind
from ketaclinic.scheduling import benchmark, optimiser, rules, synthetic
from ketaclinic.scheduling.optimiser import SLOTS_PER_DAY, Want
from ketaclinic.scheduling.rules import ChairInfo, Site, Visit
from ketaclinic.scheduling.synthetic import WEEK_START, ZONE

LIMIT = 2.0


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    local = dt.datetime.combine(WEEK_START + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=ZONE)
    return local.astimezone(dt.UTC)


def site(
    *,
    days: Sequence[int] = range(5),
    opens: int = 8,
    closes: int = 18,
    nurses: Sequence[tuple[int, int, int]] | None = None,
    prescriber: Sequence[tuple[int, int, int]] | None = None,
    ratio: int | None = 4,
    closures: frozenset[dt.date] = frozenset(),
) -> Site:
    nurses = [(d, opens, closes) for d in days] if nurses is None else nurses
    prescriber = [(d, opens, closes) for d in days] if prescriber is None else prescriber
    return Site(
        location=1,
        zone=ZONE,
        opening={d: ((dt.time(opens), dt.time(closes)),) for d in days},
        closures=closures,
        prescriber_windows=tuple((at(d, a), at(d, b)) for d, a, b in prescriber),
        nurse_shifts=tuple((at(d, a), at(d, b)) for d, a, b in nurses),
        nurse_ratio=ratio,
    )


def chairs(count: int = 1, kind: str = "chair") -> dict[int, ChairInfo]:
    return {pk: ChairInfo(1, kind) for pk in range(1, count + 1)}


def iv(patient: str, **more: object) -> Want:
    return Want(id=f"{patient}-iv", patient=patient, kind=VisitKind.IV_KETAMINE, minutes=105, **more)  # type: ignore[arg-type]


def eske(patient: str, number: int = 1, **more: object) -> Want:
    return Want(
        id=f"{patient}-s{number}",
        patient=patient,
        kind=VisitKind.ESKETAMINE_NASAL,
        minutes=120,
        plan=f"{patient}-plan",
        protocol="esketamine_trd",
        session_number=number,
        induction=number <= 8,
        **more,  # type: ignore[arg-type]
    )


def everywhere_but(day: int) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    return tuple((at(d, 0), at(d + 1, 0)) for d in range(7) if d != day)


def solve(
    s: Site,
    c: dict[int, ChairInfo],
    wants: Sequence[Want],
    kept: Sequence[Visit] = (),
    **more: object,
) -> tuple[optimiser.Week, optimiser.Result, list[Visit]]:
    enrolled = {w.patient: WEEK_START - dt.timedelta(days=1) for w in wants}
    week = optimiser.build(s, c, wants, kept, WEEK_START, enrolled=more.pop("enrolled", enrolled), **more)  # type: ignore[arg-type]
    result = optimiser.solve(week, time_limit_seconds=LIMIT)
    placed = optimiser.visits(week, result.placements)
    resources = rules.Resources({1: s}, c, enrolled)
    old = {k.id for k in kept}  # kept visits are what they are (before the week, another location)
    refusals = [r for r in rules.check([*kept, *placed], resources) if r.visit_id not in old]
    assert refusals == [], refusals
    greedy = optimiser.visits(week, optimiser.number_chairs(week, optimiser.greedy(week))[0])
    assert [r for r in rules.check([*kept, *greedy], resources) if r.visit_id not in old] == []
    assert result.objective >= result.greedy_objective
    return week, result, placed


def local(v: Visit) -> dt.datetime:
    return v.starts_at.astimezone(ZONE)


# --- Each hard rule binds ----------------------------------------------------------------------------------


def test_chair_capacity_one_chair_holds_one_visit_at_a_time() -> None:
    # One chair open 08-12 on Monday only: two 105-minute visits fit, a third does not.
    wants = [iv(f"p{i}") for i in range(3)]
    _, result, placed = solve(site(days=[0], closes=12), chairs(1), wants)
    assert result.placed == 2 and len(result.unplaced) == 1
    first, second = sorted(placed, key=lambda v: v.starts_at)
    assert first.ends_at <= second.starts_at
    assert "full" in next(iter(result.unplaced.values()))
    assert result.proven_optimal


def test_a_room_holds_dosing_and_talking_visits_one_at_a_time() -> None:
    # One room, one nurse at ratio 1: the nurses could monitor the esketamine visit, but the integration
    # visits need the same room, so the room's own capacity still binds (08-12: 2 h + 1 h + 1 h, no more).
    room = chairs(1, "room")
    wants = [eske("p0"), *(Want(f"p{i}-int", f"p{i}", VisitKind.INTEGRATION, 60) for i in range(1, 4))]
    _, result, placed = solve(site(days=[0], closes=12, ratio=1), room, wants)
    assert result.placed == 3 and result.proven_optimal
    ordered = sorted(placed, key=lambda v: v.starts_at)
    assert all(a.ends_at <= b.starts_at for a, b in itertools.pairwise(ordered))


def test_each_days_opening_hours_are_a_stretch_of_their_own() -> None:
    # Monday opens twice (08-12, 13-18): two stretches; Tuesday once.
    s = site(days=[0, 1])
    split = {0: ((dt.time(8), dt.time(12)), (dt.time(13), dt.time(18))), 1: ((dt.time(8), dt.time(18)),)}
    s = Site(s.location, s.zone, split, s.closures, s.prescriber_windows, s.nurse_shifts, s.nurse_ratio)
    week, result, _ = solve(s, chairs(1), [iv(f"p{i}") for i in range(6)])
    day = optimiser.SLOTS_PER_DAY
    assert optimiser.stretches(week) == [(32, 48), (52, 72), (day + 32, day + 72)]
    assert result.placed == 6  # and the checker in solve() finds none across the midday closure


def test_only_a_dosing_pool_the_nurses_cap_goes_without_its_own_cumulative() -> None:
    # 12 chairs, at most 12 patients monitored: the chairs' cumulative is implied; the therapy rooms are not
    # (their visits need no nurse), and neither are 4 chairs when the nurses can watch 12.
    for count, implied in ((12, True), (4, False)):
        made = synthetic.week(40, 1, chair_count=count)
        week = optimiser.build(
            made.site, made.chairs, made.wants, [], made.week_start, enrolled=made.enrolled
        )
        spans = optimiser.stretches(week)
        assert len(spans) == 5  # Monday to Friday, 08:00-18:00
        expected = {("chair", b) for b in range(len(spans))} if implied else set()
        assert optimiser._implied_pools(week, spans) == expected


def test_a_visit_takes_only_a_suitable_kind_of_chair() -> None:
    # Therapy rooms only: no IV can be placed, with the reason.
    _, result, _ = solve(site(), chairs(2, "therapy_room"), [iv("p0")])
    assert result.placed == 0
    assert "no chair or room" in result.unplaced[0]


def test_nurse_ratio_caps_patients_in_monitoring() -> None:
    # Three chairs, one nurse, ratio 1: never two dosing visits at once.
    wants = [iv(f"p{i}", unavailable=everywhere_but(0)) for i in range(6)]
    _, result, placed = solve(site(days=[0], ratio=1), chairs(3), wants)
    assert result.placed == 5  # 08:00-18:00 holds five 105-minute visits end to end (15-minute grid)
    ordered = sorted(placed, key=lambda v: v.starts_at)
    assert all(a.ends_at <= b.starts_at for a, b in itertools.pairwise(ordered))


def test_nurse_ratio_follows_the_shifts_over_time() -> None:
    # Nurses on duty 10-14 only: every dosing visit lies within, two at once (ratio 2, one nurse).
    wants = [iv(f"p{i}", unavailable=everywhere_but(0)) for i in range(4)]
    _, result, placed = solve(site(days=[0], nurses=[(0, 10, 14)], ratio=2), chairs(4), wants)
    assert result.placed == 4
    assert all(local(v).hour >= 10 and v.ends_at <= at(0, 14) for v in placed)


def test_no_ratio_set_places_no_dosing_visit() -> None:
    _, result, _ = solve(site(ratio=None), chairs(2), [iv("p0")])
    assert result.placed == 0


def test_esketamine_only_with_a_prescriber_present_for_all_of_it() -> None:
    wants = [eske("p0", unavailable=everywhere_but(2)), iv("p1", unavailable=everywhere_but(2))]
    s = site(prescriber=[(2, 13, 16)])
    _, result, placed = solve(s, chairs(2), wants)
    by_id = {v.id: v for v in placed}
    assert result.placed == 2
    assert at(2, 13) <= by_id["p0-s1"].starts_at and by_id["p0-s1"].ends_at <= at(2, 16)
    # Without any window that day the esketamine visit has nowhere to go; IV needs none.
    _, result, placed = solve(site(prescriber=[]), chairs(2), wants)
    assert [v.id for v in placed] == ["p1-iv"]
    assert "prescriber" in result.unplaced[0]


def test_opening_hours_and_closures() -> None:
    closed = frozenset({WEEK_START + dt.timedelta(days=1)})
    wants = [iv(f"p{i}", unavailable=everywhere_but(1)) for i in range(2)] + [iv("p9")]
    _, _, placed = solve(site(closures=closed, opens=9, closes=17), chairs(2), wants)
    assert [v.id for v in placed] == ["p9-iv"]
    assert all(dt.time(9) <= local(v).time() and v.ends_at <= at(local(v).weekday(), 17) for v in placed)
    assert local(placed[0]).date() not in closed


def test_day_gaps_of_the_protocol() -> None:
    # Twice weekly, at least 2 days apart: three sessions need Monday, Wednesday and Friday; the patient
    # cannot come on Wednesday, so only two fit this week (three would, were gaps ignored).
    wednesday = ((at(2, 0), at(3, 0)),)
    wants = [eske("p0", n, unavailable=wednesday) for n in (1, 2, 3)]
    _, result, placed = solve(site(), chairs(1), wants)
    days = sorted(local(v).date() for v in placed)
    assert result.placed == 2 and [v.session_number for v in placed] == [1, 2]
    assert all((b - a).days >= 2 for a, b in itertools.pairwise(days))


def test_day_gaps_against_a_kept_visit_before_the_week() -> None:
    # Session 1 kept last Saturday: session 2 goes no earlier than Monday (two days on).
    kept = Visit(
        "k1", "p0", 1, 1, VisitKind.ESKETAMINE_NASAL, at(-2, 9), at(-2, 11), "p0-plan", "esketamine_trd", 1
    )
    _, result, placed = solve(site(days=range(7)), chairs(1), [eske("p0", 2)], [kept])
    assert result.placed == 1 and local(placed[0]).date() >= WEEK_START
    kept_friday = Visit("k1", "p0", 1, 1, kept.kind, at(-1, 9), at(-1, 11), "p0-plan", "esketamine_trd", 1)
    _, _, placed = solve(site(days=range(7)), chairs(1), [eske("p0", 2)], [kept_friday])
    assert local(placed[0]).date() >= WEEK_START + dt.timedelta(days=1)


def test_a_course_fills_in_session_order() -> None:
    # Only Monday is possible for both sessions: session 2 cannot keep its gap, so only session 1 goes.
    wants = [eske("p0", 1, unavailable=everywhere_but(0)), eske("p0", 2, unavailable=everywhere_but(0))]
    _, result, placed = solve(site(), chairs(2), wants)
    assert [v.session_number for v in placed] == [1]
    assert result.placed == 1


def test_patients_unavailable_times() -> None:
    busy = ((at(0, 0), at(0, 13)), *((at(d, 0), at(d + 1, 0)) for d in range(1, 7)))
    _, _, placed = solve(site(), chairs(1), [iv("p0", unavailable=busy)])
    assert placed[0].starts_at >= at(0, 13)


def test_a_patient_is_in_one_visit_at_a_time_and_kept_visits_hold() -> None:
    only_monday = everywhere_but(0)
    integration = Want("p0-int", "p0", VisitKind.INTEGRATION, 60, unavailable=only_monday)
    c = {**chairs(1), 2: ChairInfo(1, "therapy_room")}
    # The patient's visit elsewhere (another location) 08-12 and a kept visit in chair 1 12-14.
    elsewhere = Visit("k0", "p0", 2, 99, VisitKind.CONSULTATION, at(0, 8), at(0, 12))
    kept = Visit("k1", "p5", 1, 1, VisitKind.IV_KETAMINE, at(0, 12), at(0, 14))
    wants = [iv("p0", unavailable=only_monday), integration]
    week, result, placed = solve(site(), c, wants, [elsewhere, kept])
    assert result.placed == 2
    a, b = sorted(placed, key=lambda v: v.starts_at)
    assert a.ends_at <= b.starts_at and a.starts_at >= at(0, 12)
    ivs = [v for v in placed if v.kind == VisitKind.IV_KETAMINE]
    assert ivs[0].starts_at >= at(0, 14)  # the kept visit keeps chair 1 until 14:00
    assert {f.visit.id for f in week.fixed} == {"k0", "k1"}


def test_rems_enrolment_and_starts_in_the_past() -> None:
    s = site()
    enrolled = {"p0": WEEK_START + dt.timedelta(days=3)}
    week = optimiser.build(s, chairs(1), [eske("p0")], [], WEEK_START, enrolled=enrolled)
    result = optimiser.solve(week, time_limit_seconds=LIMIT)
    assert local(optimiser.visits(week, result.placements)[0]).date() >= enrolled["p0"]
    now = at(2, 12)
    week = optimiser.build(s, chairs(1), [iv("p1")], [], WEEK_START, now=now)
    placed = optimiser.visits(week, optimiser.solve(week, time_limit_seconds=LIMIT).placements)
    assert placed[0].starts_at >= now


def test_induction_before_maintenance_then_preferences() -> None:
    # Room for one visit: the induction session wins over maintenance.
    wants = [eske("p0", 10), eske("p1", 1)]
    _, _, placed = solve(site(days=[0], closes=10), chairs(1), wants)
    assert [v.id for v in placed] == ["p1-s1"]
    # A preferred afternoon is kept when there is room.
    pm = ((dt.time(14), dt.time(18)),)
    _, result, placed = solve(site(), chairs(1), [iv("p2", preferred=pm, unavailable=everywhere_but(3))])
    assert local(placed[0]).hour >= 14
    assert result.objective == optimiser.WEIGHT_OTHER + optimiser.BONUS_PREFERRED


def test_cpsat_beats_first_fit_where_order_matters() -> None:
    # First fit puts the flexible patient in the only slot the inflexible one can use.
    flexible = iv("p0")
    fixed_day = iv("p1", unavailable=everywhere_but(0))
    week = optimiser.build(site(days=[0, 1], closes=10), chairs(1), [flexible, fixed_day], [], WEEK_START)
    assert len(optimiser.greedy(week)) == 1
    result = optimiser.solve(week, time_limit_seconds=LIMIT)
    assert result.placed == 2 and result.objective > result.greedy_objective and result.proven_optimal


def test_the_grid_is_local_wall_clock_time() -> None:
    week = optimiser.build(site(), chairs(1), [iv("p0")], [], WEEK_START)
    assert optimiser.slot_time(week, SLOTS_PER_DAY + 40) == at(1, 10)


# --- The independent checker over random weeks -------------------------------------------------------------


@st.composite
def weeks(draw: st.DrawFn) -> tuple[Site, dict[int, ChairInfo], list[Want], list[Visit]]:
    ratio = draw(st.sampled_from([None, 1, 2, 3]))
    closed = draw(st.sets(st.integers(0, 4), max_size=2))
    s = site(
        ratio=ratio,
        closures=frozenset(WEEK_START + dt.timedelta(days=d) for d in closed),
        nurses=[(d, draw(st.integers(8, 11)), draw(st.integers(13, 18))) for d in range(5)],
        prescriber=[(d, draw(st.integers(8, 12)), 18) for d in range(5) if draw(st.booleans())],
    )
    c = {
        **chairs(draw(st.integers(1, 3))),
        10: ChairInfo(1, draw(st.sampled_from(["room", "therapy_room"]))),
    }
    wants: list[Want] = []
    for i in range(draw(st.integers(1, 12))):
        p = f"p{i}"
        kind = draw(st.sampled_from(["iv", "eske", "course", "integration"]))
        gone = draw(st.sampled_from([(), everywhere_but(draw(st.integers(0, 4)))]))
        if kind == "iv":
            wants.append(iv(p, unavailable=gone))
        elif kind == "integration":
            wants.append(Want(f"{p}-int", p, VisitKind.INTEGRATION, 60, unavailable=gone))
        else:
            first = draw(st.integers(1, 9))
            count = 1 if kind == "eske" else draw(st.integers(2, 3))
            wants += [eske(p, n, unavailable=gone) for n in range(first, first + count)]
    kept = []
    if draw(st.booleans()):
        kept.append(Visit("k0", "p0", 1, 1, VisitKind.IV_KETAMINE, at(1, 10), at(1, 12)))
    return s, c, wants, kept


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weeks())
def test_the_checker_finds_nothing_wrong_with_any_answer(
    case: tuple[Site, dict[int, ChairInfo], list[Want], list[Visit]],
) -> None:
    s, c, wants, kept = case
    enrolled = {w.patient: WEEK_START for w in wants}
    week = optimiser.build(s, c, wants, kept, WEEK_START, enrolled=enrolled)
    result = optimiser.solve(week, time_limit_seconds=0.5)
    placed = optimiser.visits(week, result.placements)
    resources = rules.Resources({1: s}, c, enrolled)
    refusals = rules.check([*kept, *placed], resources)
    assert [r for r in refusals if r.visit_id not in {k.id for k in kept}] == []
    assert result.objective >= result.greedy_objective
    assert result.placed + len(result.unplaced) == len(wants)


def test_cpsat_never_worse_than_greedy_on_synthetic_weeks() -> None:
    for seed in (1, 2, 3):
        made = synthetic.week(60, seed, chair_count=4)
        week = optimiser.build(
            made.site, made.chairs, made.wants, [], made.week_start, enrolled=made.enrolled
        )
        result = optimiser.solve(week, time_limit_seconds=1.0)
        best_greedy = max(optimiser.score(week, optimiser.greedy(week, prefer=p)) for p in (False, True))
        assert result.objective >= best_greedy == result.greedy_objective
        resources = rules.Resources({1: made.site}, made.chairs, made.enrolled)
        assert rules.check(optimiser.visits(week, result.placements), resources) == []


def test_both_models_of_the_week_keep_every_rule_and_never_fall_below_their_hint() -> None:
    # The whole-week model (first phase) and the model split by stretch (second phase), each on its own.
    made = synthetic.week(60, 2, chair_count=4)
    week = optimiser.build(made.site, made.chairs, made.wants, [], made.week_start, enrolled=made.enrolled)
    hint = optimiser.greedy(week)
    resources = rules.Resources({1: made.site}, made.chairs, made.enrolled)
    for model in (optimiser._week_model, optimiser._model):
        found, _, bound = optimiser._search(week, model, hint, 1.0, 0)
        assert found is not None and bound is not None
        assert bound >= optimiser.score(week, found) >= optimiser.score(week, hint)
        numbered, _ = optimiser.number_chairs(week, found)
        assert rules.check(optimiser.visits(week, numbered), resources) == []


def test_a_hint_from_the_last_answer_replans_after_a_cancellation() -> None:
    line = benchmark._replan(benchmark.Case("replan", 40, 1.0), seed=1)
    assert line["refusals"] == 0 and line["cpsat_placed"] >= line["greedy_placed"]
    assert set(line) >= {"sessions", "greedy_placed", "cpsat_placed", "seconds", "proven_optimal", "moved"}


def test_benchmark_lines() -> None:
    lines = list(benchmark.run(range(1, 2), (benchmark.Case("normal", 40, 1.0),)))
    assert len(lines) == 1
    assert set(lines[0]) >= {"sessions", "greedy_placed", "cpsat_placed", "seconds", "proven_optimal"}
    assert lines[0]["refusals"] == 0 and lines[0]["sessions"] >= 40
