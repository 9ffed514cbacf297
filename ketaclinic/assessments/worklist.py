"""The clinician worklist of the caller's locations: what needs a clinician, most urgent first.

- `cssrs_high`, `suicide_item`, `worsening`: open safety alerts (assessments/safety.py).
- `assessment_overdue`, `assessment_due`: pending requests past their due time, or due today at the location.
- `not_responding`: an active plan that started at least the policy's `non_response_review_after_days` ago
  (OUT-NON-RESPONSE-REVIEW) whose patient's scores have never reached response or remission.
- `home_checkin_missing`, `home_hold` (from the homecare app, above this one, through `add_worklist_source`):
  an at-home program whose next dose is held because the last dose's check-in is missing past due, or for
  another reason (a failed check-in, a blood pressure too high to dose, a different amount taken).
- `integration_due` (from the therapy app, through `add_worklist_source`): a signed dose session of a KAP
  patient with no integration session linked to it, within its days (low) or past them (medium).
- `loss_of_response`: a patient in maintenance (an active plan with a maintenance session on or before today)
  whose scores lost response after reaching it (clinical/outcomes.loss_of_response, OUT-LOSS-OF-RESPONSE)
  and have not regained it.

The worklist is PHI (patient ids with their scores): the callers write one patient-list event. `detail` names
no patient; the page adds the name for a user who reads patients at the location.

The cost is flat in patients and history: open alerts, pending requests, active plans (with whether they
reached maintenance) and the candidates' outcome scores are one query each, plus the policy of each location.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Exists, OuterRef

from ketaclinic.accounts.access import location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments.models import (
    AlertKind,
    AlertStatus,
    Assessment,
    AssessmentRequest,
    RequestStatus,
    SafetyAlert,
)
from ketaclinic.assessments.safety import WORSENING_SCALES
from ketaclinic.clinical import outcomes
from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinical.scales import INSTRUMENTS, Instrument
from ketaclinic.clinicpolicy.clock import day_bounds, local_date, local_today
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.treatment.models import PlanStatus, SessionPhase, TreatmentPlan, TreatmentSession


class Kind(StrEnum):
    CSSRS_HIGH = AlertKind.CSSRS_HIGH.value
    SUICIDE_ITEM = AlertKind.SUICIDE_ITEM.value
    WORSENING = AlertKind.WORSENING.value
    ASSESSMENT_OVERDUE = "assessment_overdue"
    ASSESSMENT_DUE = "assessment_due"
    NOT_RESPONDING = "not_responding"
    LOSS_OF_RESPONSE = "loss_of_response"
    HOME_HOLD = "home_hold"
    HOME_CHECKIN_MISSING = "home_checkin_missing"
    INTEGRATION_DUE = "integration_due"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


PRIORITY: dict[Kind, Priority] = {
    Kind.CSSRS_HIGH: Priority.URGENT,
    Kind.SUICIDE_ITEM: Priority.HIGH,
    Kind.WORSENING: Priority.HIGH,
    Kind.HOME_HOLD: Priority.HIGH,
    Kind.HOME_CHECKIN_MISSING: Priority.HIGH,
    Kind.ASSESSMENT_OVERDUE: Priority.MEDIUM,
    Kind.NOT_RESPONDING: Priority.MEDIUM,
    Kind.LOSS_OF_RESPONSE: Priority.MEDIUM,
    Kind.ASSESSMENT_DUE: Priority.LOW,
    # Overdue; an integration still within its days is listed as low.
    Kind.INTEGRATION_DUE: Priority.MEDIUM,
}
PRIORITY_ORDER = tuple(Priority)
LABELS: dict[Kind, str] = {
    Kind.CSSRS_HIGH: "URGENT: high C-SSRS, record a safety plan",
    Kind.SUICIDE_ITEM: "Positive suicide item: complete a C-SSRS today",
    Kind.WORSENING: "Worsening beyond policy: review",
    Kind.ASSESSMENT_OVERDUE: "Assessment overdue",
    Kind.ASSESSMENT_DUE: "Assessment due today",
    Kind.NOT_RESPONDING: "Not responding after induction",
    Kind.LOSS_OF_RESPONSE: "Losing response in maintenance",
    Kind.HOME_HOLD: "Home dose held: review and release or change the program",
    Kind.HOME_CHECKIN_MISSING: "Home check-in missing: contact the patient",
    Kind.INTEGRATION_DUE: "Integration session due after a dose",
}
# Outcome scales a plan's response is read on, in order of preference (the first the patient has).
OUTCOME_SCALES = tuple(WORSENING_SCALES)


@dataclass(frozen=True, slots=True)
class Item:
    kind: Kind
    patient_id: Any
    priority: Priority
    due_at: dt.datetime | None
    detail: str
    location: ClinicLocation
    patient_name: str  # empty unless the viewer reads patients at the location; never in the API
    dose_session_id: Any = None  # the dose session an item follows (integration_due)


# Items from areas above this one (the homecare app's held home doses): each source registers when its app
# starts and is called with the location ids, the ids the user reads patients at, the locations and `now`.
WorklistSource = Callable[
    [Iterable[int], frozenset[int], dict[int, ClinicLocation], "dt.datetime | None"], list["Item"]
]
_sources: list[WorklistSource] = []


def add_worklist_source(source: WorklistSource) -> None:
    if source not in _sources:
        _sources.append(source)


def _name(instrument: str) -> str:
    return INSTRUMENTS[Instrument(instrument)].name


def _patient_name(patient: Any, location_id: int, readable: frozenset[int]) -> str:
    return f"{patient.family_name}, {patient.given_name}" if location_id in readable else ""


def worklist(user: Any, now: dt.datetime | None = None) -> list[Item]:
    """Everything on the worklist of the user's locations (where they hold `worklist.read`)."""
    ids = location_ids(user, Perm.WORKLIST_READ)
    if not ids:
        return []
    readable = location_ids(user, Perm.PATIENT_READ)
    locations = {loc.pk: loc for loc in ClinicLocation.objects.filter(pk__in=ids)}
    items = _alerts(ids, readable) + _requests(ids, readable, locations, now)
    items += _responses(ids, readable, locations)
    for source in _sources:
        items += source(ids, readable, locations, now)
    items.sort(
        key=lambda i: (
            PRIORITY_ORDER.index(i.priority),
            i.due_at is None,
            i.due_at or dt.datetime.max.replace(tzinfo=dt.UTC),
            str(i.patient_id),
        )
    )
    return items


def _alerts(ids: Iterable[int], readable: frozenset[int]) -> list[Item]:
    rows = SafetyAlert.objects.filter(location_id__in=ids, status=AlertStatus.OPEN).select_related(
        "patient", "location"
    )
    return [
        Item(
            Kind(a.kind),
            a.patient_id,
            PRIORITY[Kind(a.kind)],
            a.due_at,
            a.detail,
            a.location,
            _patient_name(a.patient, a.location_id, readable),
        )
        for a in rows
        if a.patient.entered_in_error_at is None
    ]


def _requests(
    ids: Iterable[int],
    readable: frozenset[int],
    locations: dict[int, ClinicLocation],
    now: dt.datetime | None,
) -> list[Item]:
    ends = {pk: day_bounds(loc, local_today(loc))[1] for pk, loc in locations.items()}
    rows = AssessmentRequest.objects.filter(
        location_id__in=ids, status=RequestStatus.PENDING, due_at__lt=max(ends.values())
    ).select_related("patient")
    moment = now or dt.datetime.now(dt.UTC)
    items = []
    for r in rows:
        if r.due_at >= ends[r.location_id] or r.patient.entered_in_error_at is not None:
            continue
        kind = Kind.ASSESSMENT_OVERDUE if r.due_at < moment else Kind.ASSESSMENT_DUE
        detail = f"{_name(r.instrument)} ({r.get_reason_display().lower()})"
        location = locations[r.location_id]
        name = _patient_name(r.patient, r.location_id, readable)
        items.append(Item(kind, r.patient_id, PRIORITY[kind], r.due_at, detail, location, name))
    return items


@dataclass(frozen=True, slots=True)
class _Plan:
    patient: Any
    location_id: int
    start_date: dt.date
    in_maintenance: bool


def _responses(
    ids: Iterable[int], readable: frozenset[int], locations: dict[int, ClinicLocation]
) -> list[Item]:
    policies = {pk: policy_for(loc) for pk, loc in locations.items()}
    today = {pk: local_today(loc) for pk, loc in locations.items()}
    maintenance = TreatmentSession.objects.filter(
        plan=OuterRef("pk"), phase=SessionPhase.MAINTENANCE, date__lte=max(today.values())
    )
    plans: dict[Any, _Plan] = {}
    rows = (
        TreatmentPlan.objects.filter(location_id__in=ids, status=PlanStatus.ACTIVE)
        .annotate(in_maintenance=Exists(maintenance))
        .select_related("patient")
        .order_by("start_date")
    )
    for row in rows:
        if row.patient.entered_in_error_at is not None:
            continue
        # The patient's earliest active plan decides (its start counts for non-response).
        plans.setdefault(
            row.patient_id, _Plan(row.patient, row.location_id, row.start_date, bool(row.in_maintenance))
        )
    if not plans:
        return []
    series = _series(plans, locations)
    items: list[Item] = []
    for patient_id, plan in plans.items():
        found = _judge(plan, series.get(patient_id, {}), policies[plan.location_id], today[plan.location_id])
        if found is not None:
            kind, detail = found
            name = _patient_name(plan.patient, plan.location_id, readable)
            items.append(
                Item(kind, patient_id, PRIORITY[kind], None, detail, locations[plan.location_id], name)
            )
    return items


def _series(
    plans: dict[Any, _Plan], locations: dict[int, ClinicLocation]
) -> dict[Any, dict[str, list[outcomes.DatedScore]]]:
    """patient -> instrument -> one score a day (the day's last), in date order: one query."""
    rows = (
        Assessment.objects.filter(
            patient_id__in=list(plans), instrument__in=OUTCOME_SCALES, total__isnull=False
        )
        .order_by("taken_at", "pk")
        .values_list("patient_id", "instrument", "taken_at", "total")
    )
    by_day: dict[Any, dict[str, dict[dt.date, int]]] = defaultdict(lambda: defaultdict(dict))
    for patient_id, instrument, taken_at, total in rows:
        if total is not None:
            day = local_date(locations[plans[patient_id].location_id], taken_at)
            by_day[patient_id][instrument][day] = total
    return {
        patient_id: {
            instrument: [outcomes.DatedScore(day, total) for day, total in sorted(days.items())]
            for instrument, days in per.items()
        }
        for patient_id, per in by_day.items()
    }


def _judge(
    plan: _Plan, series: dict[str, list[outcomes.DatedScore]], policy: ClinicPolicy, today: dt.date
) -> tuple[Kind, str] | None:
    instrument = next((i for i in OUTCOME_SCALES if len(series.get(i, [])) >= 2), None)
    if instrument is None:
        return None
    scores = series[instrument]
    baseline, later = scores[0], scores[1:]
    finding = outcomes.loss_of_response(instrument, baseline.total, later, policy)
    latest = later[-1]
    now_responding = (
        outcomes.classify(instrument, baseline.total, latest.total, policy)
        is not outcomes.Outcome.NO_RESPONSE
    )
    name = _name(instrument)
    if finding.qualified_on is None:
        days = (today - plan.start_date).days
        if days < policy.non_response_review_after_days:
            return None
        review = policy.non_response_review_after_days
        return Kind.NOT_RESPONDING, (
            f"{name} {latest.total} on {latest.on.isoformat()} against a baseline of {baseline.total}: no "
            f"response {days} days into the plan (policy: review after {review})"
        )
    if plan.in_maintenance and finding.event and not now_responding:
        return Kind.LOSS_OF_RESPONSE, (
            f"{name} {latest.total} on {latest.on.isoformat()} against a baseline of {baseline.total}: "
            f"response reached {finding.qualified_on.isoformat()}, lost from {finding.onset}"
        )
    return None
