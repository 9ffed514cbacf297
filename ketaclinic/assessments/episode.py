"""A patient's episode on one outcome scale: baseline, latest, change, status and time to response.

The judgements are the clinical library's (`clinical.outcomes`): response is a fall of at least 50% from
baseline, remission the instrument's cut (`remission_max`, MADRS from the location's policy), relapse and
loss of response read from the dated series with the policy's definitions.

Which score is the baseline (KetaClinic's choice, documented in docs/assessments.md): the last score taken
at or before the first dose of the patient's current treatment plan (the newest plan that is not a draft);
when no score precedes that dose, the first score of the series. When the current plan has no dose yet,
the episode has not started and the latest score is the baseline. Without any plan, the first score. The
series judged against the baseline is the scores after the baseline's day, one a day (the day's last).

Status, in this order: `no_scores`; `baseline_only` (nothing after the baseline); `remission` or `response`
when the latest score meets it; `relapse` or `loss_of_response` when it has happened since response and the
latest score does not meet response; else `no_response`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.assessments.models import Assessment
from ketaclinic.clinical import outcomes
from ketaclinic.clinical.outcomes import DatedScore, Outcome, SeriesFinding
from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import Dose, PlanStatus, TreatmentPlan, TreatmentSession


class OutcomeInstrument(StrEnum):
    """The instruments KetaClinic follows an episode on (the outcome scales of the clinical library it
    stores responses for)."""

    PHQ9 = "phq9"
    QIDS_SR16 = "qids_sr16"
    MADRS = "madrs"


DEFAULT_INSTRUMENT = OutcomeInstrument.PHQ9


class Status:
    NO_SCORES = "no_scores"
    BASELINE_ONLY = "baseline_only"
    NO_RESPONSE = "no_response"
    RESPONSE = "response"
    REMISSION = "remission"
    RELAPSE = "relapse"
    LOSS_OF_RESPONSE = "loss_of_response"


STATUS_LABELS: dict[str, str] = {
    Status.NO_SCORES: "No scores yet",
    Status.BASELINE_ONLY: "Baseline only",
    Status.NO_RESPONSE: "No response",
    Status.RESPONSE: "Response",
    Status.REMISSION: "Remission",
    Status.RELAPSE: "Relapse",
    Status.LOSS_OF_RESPONSE: "Loss of response",
}


@dataclass(frozen=True, slots=True)
class Point:
    assessment_id: int
    taken_at: dt.datetime
    on: dt.date
    total: int


@dataclass(frozen=True, slots=True)
class DoseMark:
    on: dt.date
    phase: str


@dataclass(frozen=True, slots=True)
class Episode:
    instrument: str
    points: tuple[Point, ...]
    doses: tuple[DoseMark, ...]
    baseline: Point | None
    latest: Point | None
    change_percent: float | None
    status: str
    first_dose_on: dt.date | None
    response_on: dt.date | None
    remission_on: dt.date | None
    time_to_response_days: int | None
    relapse: SeriesFinding | None
    loss_of_response: SeriesFinding | None
    remission_max: int
    total_max: int

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def response_line(self) -> float | None:
        """The total at or below which the latest score is a response: half the baseline."""
        return self.baseline.total / 2 if self.baseline is not None and self.baseline.total > 0 else None


def grader(instrument: str, baseline_total: int, policy: ClinicPolicy) -> Callable[[int], Outcome]:
    """`outcomes.classify` against one baseline, with the instrument's cut looked up once: a long series is
    graded point by point (the same definitions: remission at or below the cut, else a 50% fall)."""
    cut = outcomes.remission_max(instrument, policy)

    def grade(total: int) -> Outcome:
        if total <= cut:
            return Outcome.REMISSION
        if outcomes.is_response(baseline_total, total):
            return Outcome.RESPONSE
        return Outcome.NO_RESPONSE

    return grade


def _baseline(points: Sequence[Point], first_dose: dt.datetime | None, plan_without_dose: bool) -> Point:
    if first_dose is not None:
        before = [p for p in points if p.taken_at <= first_dose]
        return before[-1] if before else points[0]
    return points[-1] if plan_without_dose else points[0]


def _series(points: Sequence[Point], baseline: Point) -> list[DatedScore]:
    by_day: dict[dt.date, int] = {}
    for p in points:
        if p.on > baseline.on:
            by_day[p.on] = p.total  # points are in time order: the day's last wins
    return [DatedScore(day, total) for day, total in sorted(by_day.items())]


def judge(
    instrument: str,
    points: Sequence[Point],
    doses: Sequence[DoseMark],
    policy: ClinicPolicy,
    *,
    first_dose: dt.datetime | None,
    first_dose_on: dt.date | None,
    plan_without_dose: bool = False,
) -> Episode:
    """The episode of a series of points in time order (pure: no database)."""
    scale = outcomes.parse_scale(instrument)
    cut = outcomes.remission_max(scale, policy)
    total_max = outcomes.TOTAL_MAX[scale]
    empty = Episode(
        instrument, tuple(points), tuple(doses), None, None, None, Status.NO_SCORES, first_dose_on, None,
        None, None, None, None, cut, total_max,
    )  # fmt: skip
    if not points:
        return empty
    baseline = _baseline(points, first_dose, plan_without_dose)
    latest = points[-1]
    series = _series(points, baseline)
    change = None
    if baseline.total > 0:
        change = round(100 * (latest.total - baseline.total) / baseline.total, 1)
    if not series:
        return Episode(
            instrument, tuple(points), tuple(doses), baseline, latest, change if latest is not baseline else
            None, Status.BASELINE_ONLY, first_dose_on, None, None, None, None, None, cut, total_max,
        )  # fmt: skip
    grade = grader(scale, baseline.total, policy)
    graded = [(s.on, grade(s.total)) for s in series]
    response_on = next((on for on, o in graded if o is not Outcome.NO_RESPONSE), None)
    remission_on = next((on for on, o in graded if o is Outcome.REMISSION), None)
    relapse = None
    if outcomes.relapse_criterion(scale, policy) is not None:
        relapse = outcomes.relapse(scale, baseline.total, series, policy)
    lost = outcomes.loss_of_response(scale, baseline.total, series, policy)
    now = outcomes.classify(scale, baseline.total, series[-1].total, policy)
    if now is Outcome.REMISSION:
        status = Status.REMISSION
    elif now is Outcome.RESPONSE:
        status = Status.RESPONSE
    elif relapse is not None and relapse.event:
        status = Status.RELAPSE
    elif lost.event:
        status = Status.LOSS_OF_RESPONSE
    else:
        status = Status.NO_RESPONSE
    start = first_dose_on or baseline.on
    to_response = (response_on - start).days if response_on is not None else None
    return Episode(
        instrument, tuple(points), tuple(doses), baseline, latest, change, status, first_dose_on,
        response_on, remission_on, to_response, relapse, lost, cut, total_max,
    )  # fmt: skip


def current_plan(patient: Patient) -> TreatmentPlan | None:
    """The newest plan that is not a draft (an ended plan still frames the episode it treated)."""
    return (
        TreatmentPlan.objects.filter(patient=patient)
        .exclude(status=PlanStatus.DRAFT)
        .order_by("-created_at")
        .only("pk", "status")
        .first()
    )


def points_of(patient: Patient, instrument: str, zone: dt.tzinfo) -> list[Point]:
    rows = (
        Assessment.objects.filter(patient=patient, instrument=instrument, total__isnull=False)
        .order_by("taken_at", "pk")
        .values_list("pk", "taken_at", "total")
    )
    return [
        Point(pk, taken, taken.astimezone(zone).date(), total)
        for pk, taken, total in rows
        if total is not None
    ]


def doses_of(patient: Patient) -> list[DoseMark]:
    """The day (the session's, which is its location's day) and phase of every session with a dose."""
    rows = (
        TreatmentSession.objects.filter(patient=patient, doses__isnull=False)
        .order_by("date")
        .values_list("date", "phase")
    )
    return [DoseMark(day, phase) for day, phase in rows]


def first_dose(plan: TreatmentPlan | None) -> dt.datetime | None:
    if plan is None:
        return None
    return (
        Dose.objects.filter(session__plan=plan)
        .order_by("started_at")
        .values_list("started_at", flat=True)
        .first()
    )


def episode_of(patient: Patient, instrument: str, policy: ClinicPolicy, location: ClinicLocation) -> Episode:
    """The patient's episode on `instrument` (four queries whatever the history: the scores, the dose days,
    the current plan and its first dose)."""
    zone = location_zone(location)
    points = points_of(patient, instrument, zone)
    doses = doses_of(patient)
    plan = current_plan(patient)
    first = first_dose(plan)
    return judge(
        instrument,
        points,
        doses,
        policy,
        first_dose=first,
        first_dose_on=first.astimezone(zone).date() if first else None,
        plan_without_dose=plan is not None and first is None,
    )
