"""The episode: which score is the baseline, the status in its documented order, time to response, and the
trend chart's lines (response at half the baseline, remission at the library's cut under the policy)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from ketaclinic.assessments.episode import DoseMark, Point, Status, judge
from ketaclinic.assessments.trend import chart
from ketaclinic.clinical.policy import DEFAULT_POLICY

START = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def _points(*totals: int, every_days: int = 7) -> list[Point]:
    out = []
    for n, total in enumerate(totals):
        at = START + dt.timedelta(days=every_days * n)
        out.append(Point(n + 1, at, at.date(), total))
    return out


def _judge(points: list[Point], instrument: str = "phq9", dose_after: int | None = 0, **kw: object) -> object:
    first = points[dose_after].taken_at + dt.timedelta(hours=1) if dose_after is not None else None
    doses = [DoseMark(first.date(), "induction")] if first else []
    return judge(
        instrument,
        points,
        doses,
        kw.pop("policy", DEFAULT_POLICY),  # type: ignore[arg-type]
        first_dose=first,
        first_dose_on=first.date() if first else None,
        **kw,  # type: ignore[arg-type]
    )


def test_no_scores() -> None:
    e = _judge([], dose_after=None)
    assert e.status == Status.NO_SCORES and e.baseline is None  # type: ignore[attr-defined]


def test_baseline_is_the_last_score_before_the_first_dose() -> None:
    points = _points(22, 20, 18, 9, 8)
    e = _judge(points, dose_after=1)
    assert e.baseline.total == 20  # type: ignore[attr-defined]
    assert e.change_percent == -60.0  # type: ignore[attr-defined]
    assert e.status == Status.RESPONSE  # type: ignore[attr-defined]
    # Response on the fourth score (9 <= 10), 14 days after the first dose (one hour after the second).
    assert e.time_to_response_days == 14  # type: ignore[attr-defined]


def test_without_a_score_before_the_first_dose_the_first_score_is_baseline() -> None:
    points = _points(20, 15, 4)
    first = START - dt.timedelta(days=1)
    e = judge("phq9", points, [], DEFAULT_POLICY, first_dose=first, first_dose_on=first.date())
    assert e.baseline.total == 20 and e.status == Status.REMISSION  # type: ignore[union-attr]


def test_a_plan_without_a_dose_has_only_a_baseline() -> None:
    e = judge(
        "phq9",
        _points(20, 18),
        [],
        DEFAULT_POLICY,
        first_dose=None,
        first_dose_on=None,
        plan_without_dose=True,
    )
    assert e.status == Status.BASELINE_ONLY and e.baseline.total == 18  # type: ignore[union-attr]


def test_no_response_when_the_fall_is_under_half() -> None:
    e = _judge(_points(20, 18, 15, 12, 11))
    assert e.status == Status.NO_RESPONSE and e.response_on is None  # type: ignore[attr-defined]


def test_loss_of_response_in_maintenance() -> None:
    # Response, then the policy's consecutive scores short of it (default 2).
    e = _judge(_points(20, 8, 6, 7, 14, 16))
    assert e.status == Status.LOSS_OF_RESPONSE  # type: ignore[attr-defined]
    assert e.loss_of_response.event and e.relapse is None  # type: ignore[attr-defined]


def test_madrs_relapse_follows_the_policy() -> None:
    # MADRS: remission (<= 12), then two scores >= 22 one week apart (SUSTAIN-1 defaults).
    e = _judge(_points(34, 20, 10, 9, 24, 26), instrument="madrs")
    assert e.status == Status.RELAPSE and e.relapse.event  # type: ignore[attr-defined]


def test_a_recovered_latest_score_is_the_status_now() -> None:
    e = _judge(_points(20, 8, 15, 16, 4))
    assert e.status == Status.REMISSION  # type: ignore[attr-defined]


def test_chart_lines_follow_baseline_and_policy() -> None:
    policy = dataclasses.replace(DEFAULT_POLICY, madrs_remission_max=10)
    e = _judge(_points(30, 20, 14, 10), instrument="madrs", policy=policy)
    c = chart(e, policy)  # type: ignore[arg-type]
    assert c.remission.value == 10 and c.response is not None and c.response.value == 15
    assert len(c.dots) == 4 and c.dots[0].is_baseline and c.dots[-1].outcome == "Remission"
    # Higher scores sit higher on the chart (smaller y).
    assert c.dots[0].y < c.dots[-1].y
    assert len(c.doses) == 1 and c.x_ticks


def test_five_years_of_weekly_scores_chart() -> None:
    totals = [max(0, 20 - n // 10) for n in range(260)]
    e = _judge(_points(*totals))
    c = chart(e, DEFAULT_POLICY)  # type: ignore[arg-type]
    assert len(c.dots) == 260 and {t.label for t in c.x_ticks} >= {"2027", "2030"}


def test_the_grader_agrees_with_the_library_on_every_total() -> None:
    from ketaclinic.assessments.episode import grader
    from ketaclinic.clinical import outcomes

    for instrument, top in (("phq9", 27), ("qids_sr16", 27), ("madrs", 60)):
        for baseline in range(top + 1):
            grade = grader(instrument, baseline, DEFAULT_POLICY)
            for total in range(top + 1):
                assert grade(total) is outcomes.classify(instrument, baseline, total, DEFAULT_POLICY)
