"""The report's arithmetic on hand-made cohorts: exact counts and rates, both missing-data conventions,
time points, small cells, and the Kaplan-Meier curve against a hand computation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.clinical.outcomes import DatedScore, loss_of_response
from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.outcomes.cohort import (
    PLAN_SCHEMA,
    SCORE_SCHEMA,
    Conventions,
    compute,
    kaplan_meier,
    loss_frame,
    survival_at,
)

ANY_CELL = Conventions(min_cell=1)


def frames(
    plans: Sequence[tuple[str, int, int | None, int | None]], scores: Sequence[tuple[str, int, int]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    p = pl.DataFrame(plans, schema=PLAN_SCHEMA, orient="row")
    s = pl.DataFrame(scores, schema=SCORE_SCHEMA, orient="row")
    return p, s


# Six patients, all starting on day 0 with induction ending on day 20:
#   a  baseline 20, day 25: 10 (response: exactly 50%), not remission
#   b  baseline 20, day 25: 4 (response and remission)
#   c  baseline 20, day 25: 11 (no response: 45%)
#   d  baseline 12, day 22: 4 (remission: below 5, and a 66% fall)
#   e  baseline 18, no score after induction (dropout)
#   f  no baseline (first score on day 3)
PLANS = [(x, 0, 20, None) for x in "abcdef"]
SCORES = [
    ("a", 0, 20), ("a", 25, 10),
    ("b", -2, 20), ("b", 25, 4),
    ("c", 0, 20), ("c", 25, 11),
    ("d", 0, 12), ("d", 22, 4),
    ("e", 0, 18),
    ("f", 3, 15), ("f", 25, 3),
]  # fmt: skip


def test_counts_and_both_conventions_at_the_end_of_induction() -> None:
    report = compute(*frames(PLANS, SCORES), instrument="phq9", conventions=ANY_CELL)
    assert (report.patients, report.with_baseline, report.with_follow_up) == (6, 5, 4)
    eoi = report.end_of_induction
    assert (eoi.assessed, eoi.responders, eoi.remitters) == (4, 3, 2)
    # Completers: 3 of the 4 scored; non-responder imputation: 3 of the 5 with a baseline.
    assert eoi.completers_response.value == 0.75
    assert eoi.completers_remission.value == 0.5
    assert eoi.nri_response.value == 0.6
    assert eoi.nri_remission.value == 0.4
    assert [n for _, _, n in report.funnel] == [6, 5, 4, 4, 3, 0]


def test_a_score_is_never_carried_forward() -> None:
    """e's baseline is its only score: it is in no time point's completers and a non-responder in NRI."""
    report = compute(*frames(PLANS, SCORES), instrument="phq9", conventions=ANY_CELL)
    for point in report.time_points:
        assert point.nri_response.denominator == 5
    week4 = next(p for p in report.time_points if p.key == "week_4")
    # Scores on days 22 and 25 fall in week 4's window (21-35).
    assert (week4.assessed, week4.responders) == (4, 3)
    week8 = next(p for p in report.time_points if p.key == "week_8")
    assert week8.assessed == 0
    assert week8.completers_response.value is None
    assert week8.nri_response.value == 0.0


def test_the_time_point_takes_the_score_nearest_its_day() -> None:
    plans = [("a", 0, 20, None)]
    scores = [("a", 0, 20), ("a", 22, 15), ("a", 27, 8), ("a", 33, 12)]
    report = compute(*frames(plans, scores), instrument="phq9", conventions=ANY_CELL)
    week4 = next(p for p in report.time_points if p.key == "week_4")
    assert (week4.assessed, week4.responders) == (1, 1)  # day 27 (8) is nearest to 28


def test_rates_from_a_small_cell_are_hidden() -> None:
    report = compute(*frames(PLANS, SCORES), instrument="phq9", conventions=Conventions(min_cell=5))
    eoi = report.end_of_induction
    assert eoi.completers_response.value is None  # 4 scored
    assert eoi.nri_response.value == 0.6  # 5 with a baseline
    assert report.durability.hidden
    assert report.durability.curve == []


def test_madrs_remission_follows_the_policy() -> None:
    plans = [("a", 0, 20, None)]
    scores = [("a", 0, 30), ("a", 25, 11)]
    strict = compute(*frames(plans, scores), instrument="madrs", conventions=ANY_CELL)
    assert strict.remission_max == DEFAULT_POLICY.madrs_remission_max
    loose = compute(
        *frames(plans, scores),
        instrument="madrs",
        policy=replace(DEFAULT_POLICY, madrs_remission_max=12),
        conventions=ANY_CELL,
    )
    assert loose.end_of_induction.remitters == 1
    assert strict.end_of_induction.remitters == (1 if DEFAULT_POLICY.madrs_remission_max >= 11 else 0)


def test_kaplan_meier_matches_a_hand_computation() -> None:
    # Durations 5 (event), 10 (censored), 15 (event), 20 (event), 25 (censored):
    # S(5) = 4/5 = 0.8; S(15) = 0.8 * 2/3 = 0.5333; S(20) = 0.5333 * 1/2 = 0.2667.
    curve, median = kaplan_meier([5, 10, 15, 20, 25], [True, False, True, True, False])
    assert survival_at(curve, 4) == 1.0
    assert survival_at(curve, 5) == 0.8
    assert survival_at(curve, 14) == 0.8
    assert survival_at(curve, 15) == pytest.approx(0.5333, abs=1e-4)
    assert survival_at(curve, 22) == pytest.approx(0.2667, abs=1e-4)
    assert median == 20.0


def test_durability_starts_at_the_response_and_censors_at_maintenance() -> None:
    # a responds on day 25, loses response on day 53 (and 60): event after 28 days.
    # b responds on day 25, still responding on day 39, maintenance from day 45: censored at 14 days (the
    #   score on day 70 is after maintenance began and is not read).
    # c responds on day 25 and has no later score: censored at 0.
    # d responds on day 25 and still responds on day 60: censored at 35.
    plans = [("a", 0, 20, None), ("b", 0, 20, 45), ("c", 0, 20, None), ("d", 0, 20, None)]
    scores = [
        ("a", 0, 20), ("a", 25, 8), ("a", 39, 9), ("a", 53, 14), ("a", 60, 15),
        ("b", 0, 20), ("b", 25, 8), ("b", 39, 9), ("b", 70, 19),
        ("c", 0, 20), ("c", 25, 6),
        ("d", 0, 20), ("d", 25, 6), ("d", 60, 7),
    ]  # fmt: skip
    report = compute(*frames(plans, scores), instrument="phq9", conventions=ANY_CELL)
    d = report.durability
    assert (d.responders, d.events, d.censored) == (4, 1, 3)
    # c and b are censored at 0 and 14; at day 28 one of the two still at risk (a, d) loses response.
    assert d.landmarks == [(28, 0.5), (56, 0.5)]
    assert d.at_risk[:3] == [(0, 4), (28, 2), (56, 0)]


def test_loss_of_response_needs_the_policys_consecutive_assessments() -> None:
    plans = [("a", 0, 20, None)]
    scores = [("a", 0, 20), ("a", 25, 8), ("a", 39, 14), ("a", 53, 8), ("a", 67, 14), ("a", 81, 15)]
    one = compute(*frames(plans, scores), instrument="phq9", conventions=ANY_CELL)
    assert one.durability.events == 1
    assert one.durability.curve[-1] == (14, 0.0)  # the first short score (day 39)
    two = compute(
        *frames(plans, scores),
        instrument="phq9",
        policy=replace(DEFAULT_POLICY, loss_of_response_consecutive=2),
        conventions=ANY_CELL,
    )
    assert two.durability.curve[-1] == (42, 0.0)  # the run of days 67 and 81, dated at its start


@settings(max_examples=150, deadline=None)
@given(
    baseline=st.integers(1, 27),
    totals=st.lists(st.integers(0, 27), min_size=1, max_size=12),
    consecutive=st.integers(1, 3),
)
def test_the_column_wise_loss_of_response_is_the_clinical_librarys(
    baseline: int, totals: list[int], consecutive: int
) -> None:
    """On any series that starts with a response, the Polars rule finds the library's onset."""
    policy = replace(DEFAULT_POLICY, loss_of_response_consecutive=consecutive)
    first = baseline // 2  # a response
    series = [
        DatedScore(dt.date(2026, 1, 1) + dt.timedelta(days=7 * i), t) for i, t in enumerate([first, *totals])
    ]
    expected = loss_of_response("phq9", baseline, series, policy)
    days = [(s.on - dt.date(1970, 1, 1)).days for s in series]
    scores = pl.DataFrame(
        {
            "patient": ["p"] * len(series),
            "day": days,
            "total": [s.total for s in series],
            "maint": [None] * len(series),
        },
        schema={**SCORE_SCHEMA, "maint": pl.Int64},
    )
    responders = pl.DataFrame({"patient": ["p"], "baseline": [baseline], "resp_day": [days[0]]})
    got = loss_frame(scores, responders, 4, consecutive).row(0, named=True)
    assert got["event"] == expected.event
    if expected.event:
        assert expected.onset is not None
        assert got["duration"] == (expected.onset - series[0].on).days
    else:
        assert got["duration"] == days[-1] - days[0]
