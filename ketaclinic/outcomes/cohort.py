"""The outcomes of a cohort, computed in Polars from two narrow frames: no Django, no I/O.

`plans`: one row per patient (the first plan of the cohort), columns `patient` (str), `start` (the plan's
start day), `eoi` (the day of the last induction session given, or null) and `maint` (the day of the first
maintenance session given, or null). `scores`: `patient`, `day`, `total` of one instrument. Days are whole
days since 1970-01-01.

The definitions are the clinical library's (ketaclinic/clinical/outcomes.py): response is a fall of at least
50% from a non-zero baseline (OUT-RESPONSE-50), remission a total at or below `remission_max` (the
instrument's cut; MADRS's from the clinic policy), loss of response the policy's number of consecutive
assessments meeting neither (OUT-LOSS-OF-RESPONSE). They are applied here column-wise, so that 100,000
patients take milliseconds; tests/test_cohort.py checks them against the library's functions on random
series.

Missing data: never carried forward. Two conventions side by side: completers (the patients with a score in
the window) and non-responder imputation (every patient with a baseline is in the denominator; a missing
score counts as neither response nor remission).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ketaclinic.clinical.outcomes import (
    RULE_LOSS_OF_RESPONSE,
    RULE_RESPONSE,
    parse_scale,
    remission_max,
    remission_rule,
)
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy


@dataclass(frozen=True, slots=True)
class TimePoint:
    key: str
    label: str
    day: int  # the target, in days after the plan's start
    low: int  # the window a score must fall in (inclusive)
    high: int


@dataclass(frozen=True, slots=True)
class Conventions:
    """The report's own conventions: reporting choices of the clinic, not clinical thresholds."""

    # A baseline is the last score from this many days before the plan's start to its start day.
    baseline_window_days: int = 30
    # The end-of-induction score is the first one after the last induction session, within this many days.
    end_of_induction_window_days: int = 14
    time_points: tuple[TimePoint, ...] = (
        TimePoint("week_2", "Week 2", 14, 10, 18),
        TimePoint("week_4", "Week 4", 28, 21, 35),
        TimePoint("week_8", "Week 8", 56, 49, 63),
        TimePoint("week_12", "Week 12", 84, 77, 91),
    )
    # Landmarks of the durability curve, in days after the response (McInnes 2022 reports 4 and 8 weeks).
    landmarks: tuple[int, ...] = (28, 56)
    # Rates from fewer patients than this are hidden (small cells).
    min_cell: int = 10


DEFAULT_CONVENTIONS = Conventions()

PLAN_SCHEMA = {"patient": pl.String, "start": pl.Int64, "eoi": pl.Int64, "maint": pl.Int64}
SCORE_SCHEMA = {"patient": pl.String, "day": pl.Int64, "total": pl.Int64}


@dataclass(frozen=True, slots=True)
class Rate:
    """`numerator` of `denominator`; `value` is None when the denominator is below the small-cell minimum."""

    numerator: int
    denominator: int
    value: float | None


@dataclass(frozen=True, slots=True)
class PointResult:
    key: str
    label: str
    day: int | None
    window: str
    assessed: int  # patients with a baseline and a score in the window
    responders: int
    remitters: int
    completers_response: Rate
    completers_remission: Rate
    nri_response: Rate  # non-responder imputation: every patient with a baseline in the denominator
    nri_remission: Rate


@dataclass(frozen=True, slots=True)
class Durability:
    responders: int
    events: int
    censored: int
    curve: list[tuple[int, float]]  # (day, survival) at each step; empty when hidden (small cell)
    at_risk: list[tuple[int, int]]
    landmarks: list[tuple[int, float | None]]
    median_days: float | None  # None when not reached or hidden
    hidden: bool


@dataclass(frozen=True, slots=True)
class Report:
    instrument: str
    remission_max: int
    patients: int
    with_baseline: int
    with_follow_up: int
    end_of_induction: PointResult
    time_points: list[PointResult]
    durability: Durability
    funnel: list[tuple[str, str, int]] = field(default_factory=list)  # (key, label, count)
    definitions: dict[str, str] = field(default_factory=dict)
    min_cell: int = 10


def rate(numerator: int, denominator: int, min_cell: int) -> Rate:
    shown = denominator >= min_cell and denominator > 0
    return Rate(numerator, denominator, round(numerator / denominator, 4) if shown else None)


def _judged(frame: pl.DataFrame, rmax: int) -> pl.DataFrame:
    """Adds `response` (OUT-RESPONSE-50, in whole numbers) and `remission` (total at or below the cut)."""
    baseline, total = pl.col("baseline"), pl.col("total")
    return frame.with_columns(
        response=(baseline > 0) & (2 * (baseline - total) >= baseline),
        remission=total <= rmax,
    )


def _point(
    key: str,
    label: str,
    day: int | None,
    window: str,
    picked: pl.DataFrame,
    with_baseline: int,
    min_cell: int,
) -> PointResult:
    assessed = picked.height
    responders = int(picked["response"].sum()) if assessed else 0
    remitters = int(picked["remission"].sum()) if assessed else 0
    return PointResult(
        key,
        label,
        day,
        window,
        assessed,
        responders,
        remitters,
        rate(responders, assessed, min_cell),
        rate(remitters, assessed, min_cell),
        rate(responders, with_baseline, min_cell),
        rate(remitters, with_baseline, min_cell),
    )


def compute(
    plans: pl.DataFrame,
    scores: pl.DataFrame,
    *,
    instrument: str,
    policy: ClinicPolicy = DEFAULT_POLICY,
    conventions: Conventions = DEFAULT_CONVENTIONS,
) -> Report:
    scale = parse_scale(instrument)
    rmax = remission_max(scale, policy)
    c = conventions
    plans = plans.unique("patient", keep="first")
    s = scores.join(plans, on="patient", how="inner").with_columns(rel=pl.col("day") - pl.col("start"))
    base = (
        s.filter(pl.col("rel").is_between(-c.baseline_window_days, 0))
        .sort("patient", "day")
        .group_by("patient")
        .agg(baseline=pl.col("total").last())
    )
    follow = _judged(s.filter(pl.col("rel") >= 1).join(base, on="patient", how="inner"), rmax).sort(
        "patient", "day"
    )
    with_baseline = base.height
    with_follow_up = follow["patient"].n_unique()

    points = []
    for tp in c.time_points:
        picked = (
            follow.filter(pl.col("rel").is_between(tp.low, tp.high))
            .with_columns(dist=(pl.col("rel") - tp.day).abs())
            .sort("patient", "dist", "rel")
            .group_by("patient", maintain_order=True)
            .first()
        )
        window = f"days {tp.low}-{tp.high} after the start (the score nearest day {tp.day})"
        points.append(_point(tp.key, tp.label, tp.day, window, picked, with_baseline, c.min_cell))

    eoi_rows = (
        follow.filter(
            pl.col("eoi").is_not_null()
            & (pl.col("day") > pl.col("eoi"))
            & (pl.col("day") <= pl.col("eoi") + c.end_of_induction_window_days)
        )
        .group_by("patient", maintain_order=True)
        .first()
    )
    eoi_window = (
        f"the first score within {c.end_of_induction_window_days} days after the last induction session"
    )
    eoi = _point(
        "end_of_induction", "End of induction", None, eoi_window, eoi_rows, with_baseline, c.min_cell
    )
    durability = _durability(
        s, eoi_rows.filter(pl.col("response")), rmax, policy.loss_of_response_consecutive, c
    )
    funnel = [
        ("started", "Started a course", plans.height),
        ("with_baseline", "With a baseline score", with_baseline),
        ("with_follow_up", "With a follow-up score", with_follow_up),
        ("end_of_induction", "Scored at the end of induction", eoi.assessed),
        ("responders", "Responded at the end of induction", eoi.responders),
        ("kept_8_weeks", "Followed 8 weeks after responding", _followed(durability, 56)),
    ]
    definitions = {
        "response": RULE_RESPONSE.description,
        "remission": f"{remission_rule(scale).description} (here: {scale} total {rmax} or less)",
        "loss_of_response": RULE_LOSS_OF_RESPONSE.description
        + f" (here: {policy.loss_of_response_consecutive})",
        "baseline": f"the last score from {c.baseline_window_days} days before the start to the start day",
        "censoring": (
            "Durability starts at the end-of-induction response. A responder is censored at their last "
            "score before maintenance sessions begin (scores after maintenance starts are not used), or "
            "at the last score when there is no maintenance. Loss of response is dated at the first "
            "assessment of the run that shows it (it is only seen at a visit)."
        ),
        "missing": (
            "Completers: patients with a score in the window. Non-responder imputation: every patient "
            "with a baseline; no score in the window counts as no response. Last observations are never "
            "carried forward."
        ),
    }
    return Report(
        scale.value,
        rmax,
        plans.height,
        with_baseline,
        with_follow_up,
        eoi,
        points,
        durability,
        funnel,
        definitions,
        c.min_cell,
    )


def _followed(d: Durability, day: int) -> int:
    return next((n for t, n in d.at_risk if t == day), 0)


def loss_frame(scores: pl.DataFrame, responders: pl.DataFrame, rmax: int, consecutive: int) -> pl.DataFrame:
    """One row per responder: `duration` (days from the response) and `event` (loss of response)."""
    later = (
        scores.join(responders.select("patient", "resp_day", "baseline"), on="patient", how="inner")
        .filter(
            (pl.col("day") > pl.col("resp_day"))
            & (pl.col("maint").is_null() | (pl.col("day") < pl.col("maint")))
        )
        .sort("patient", "day")
    )
    baseline, total = pl.col("baseline"), pl.col("total")
    lost = ~((total <= rmax) | ((baseline > 0) & (2 * (baseline - total) >= baseline)))
    # Runs of equal `lost` within a patient, numbered globally (the frame is sorted by patient and day):
    # no per-patient window, which costs seconds on millions of rows.
    patient = pl.col("patient")
    later = later.with_columns(lost=lost).with_columns(
        run=((pl.col("lost") != pl.col("lost").shift(1)) | (patient != patient.shift(1)))
        .fill_null(value=True)
        .cum_sum()
    )
    # The first maximal run of lost assessments at least `consecutive` long; loss is dated at its start.
    onsets = (
        later.filter(pl.col("lost"))
        .group_by("run")
        .agg(patient=patient.first(), run_start=pl.col("day").first(), length=pl.len())
        .filter(pl.col("length") >= consecutive)
        .group_by("patient")
        .agg(onset=pl.col("run_start").min())
    )
    last = later.group_by("patient").agg(last_day=pl.col("day").max())
    out = (
        responders.select("patient", "resp_day")
        .join(onsets, on="patient", how="left")
        .join(last, on="patient", how="left")
        .with_columns(
            event=pl.col("onset").is_not_null(),
            duration=pl.when(pl.col("onset").is_not_null())
            .then(pl.col("onset"))
            .otherwise(pl.col("last_day").fill_null(pl.col("resp_day")))
            - pl.col("resp_day"),
        )
    )
    return out.select("patient", "duration", "event")


def _durability(
    s: pl.DataFrame, responders: pl.DataFrame, rmax: int, consecutive: int, c: Conventions
) -> Durability:
    responders = responders.select("patient", "baseline", resp_day=pl.col("day"))
    lf = loss_frame(s.select("patient", "day", "total", "maint"), responders, rmax, consecutive)
    n = lf.height
    events = int(lf["event"].sum()) if n else 0
    hidden = n < c.min_cell or n == 0
    if hidden:
        return Durability(n, events, n - events, [], [], [(d, None) for d in c.landmarks], None, True)
    curve, median = kaplan_meier(lf["duration"].to_list(), lf["event"].to_list())
    durations = lf["duration"]
    marks = sorted({0, *c.landmarks, 84})
    at_risk = [(t, int((durations >= t).sum())) for t in marks]
    landmarks: list[tuple[int, float | None]] = [(d, round(survival_at(curve, d), 4)) for d in c.landmarks]
    return Durability(n, events, n - events, curve, at_risk, landmarks, median, False)


def kaplan_meier(durations: list[int], events: list[bool]) -> tuple[list[tuple[int, float]], float | None]:
    """The Kaplan-Meier survival steps (lifelines) and the median (None when the curve stays above 0.5)."""
    from lifelines import KaplanMeierFitter  # type: ignore[import-untyped]  # slow to import: kept here

    kmf = KaplanMeierFitter().fit(durations, event_observed=events)
    table = kmf.survival_function_
    steps = [(int(t), round(float(v), 4)) for t, v in zip(table.index, table.iloc[:, 0], strict=True)]
    median = float(kmf.median_survival_time_)
    return steps, (median if median != float("inf") else None)


def survival_at(curve: list[tuple[int, float]], day: int) -> float:
    """The step function's value at `day` (right-continuous: an event on `day` counts)."""
    value = 1.0
    for t, v in curve:
        if t > day:
            break
        value = v
    return value
