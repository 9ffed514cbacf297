"""What the portal reads: only ever the signed-in account's own patient.

Every query here starts from the account's patient, so another patient's record cannot be named into a
page: an id that is not the patient's own is NotFound (404) and the refusal is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from ketaclinic.assessments.models import Assessment, AssessmentRequest, RequestStatus
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.clinical import scales
from ketaclinic.clinical.preparation import Instruction, preparation_for
from ketaclinic.clinical.scales import INSTRUMENTS, InstrumentSpec, parse_instrument
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.errors import NotFound
from ketaclinic.portal.models import PatientAccount
from ketaclinic.treatment.models import PlanModality, SessionStatus, TreatmentSession

# A response with any of these shows the crisis resources on the thank-you page.
CRISIS_FLAGS = frozenset(
    {scales.Flag.SUICIDAL_IDEATION, scales.Flag.SUICIDAL_BEHAVIOUR, scales.Flag.HIGH_SUICIDE_RISK}
)
# The questionnaires a patient answers themselves: their scores are the patient's history in the portal.
SELF_REPORT = frozenset({scales.Instrument.PHQ9, scales.Instrument.GAD7, scales.Instrument.QIDS_SR16})
UPCOMING_LIMIT = 10
HISTORY_LIMIT = 200
_UPCOMING = (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN)


@dataclass(frozen=True, slots=True)
class Upcoming:
    session: TreatmentSession
    modality_label: str
    preparation: tuple[Instruction, ...]


def upcoming_sessions(account: PatientAccount) -> list[Upcoming]:
    patient = account.patient
    sessions = (
        TreatmentSession.objects.filter(
            patient=patient, date__gte=local_today(patient.location), status__in=_UPCOMING
        )
        .select_related("plan")
        .order_by("date", "number")[:UPCOMING_LIMIT]
    )
    labels = dict(PlanModality.choices)
    return [
        Upcoming(s, labels.get(s.plan.modality, s.plan.modality), preparation_for(s.plan.modality))
        for s in sessions
    ]


def instrument_name(instrument: str) -> str:
    return INSTRUMENTS[parse_instrument(instrument)].name


def pending_requests(account: PatientAccount) -> list[AssessmentRequest]:
    """The patient's questionnaires still to answer (pending, not past their link's expiry), due first."""
    now = timezone.now()
    requests = AssessmentRequest.objects.filter(
        patient=account.patient, status=RequestStatus.PENDING, instrument__in=SELF_REPORT
    ).order_by("due_at", "pk")
    return [r for r in requests if r.expires_at is None or r.expires_at > now]


def get_request_for(account: PatientAccount, request_id: Any, *, origin: Origin) -> AssessmentRequest:
    """One of the patient's own pending requests; anything else is NotFound, and a refusal is audited."""
    try:
        pk = int(request_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    found = next((r for r in pending_requests(account) if r.pk == pk), None)
    if found is None:
        record(
            Action.ACCESS_DENIED,
            actor=account,
            origin=origin,
            outcome=Outcome.DENIED,
            patient=account.patient,
            changed_fields=["assessment_request"],
        )
        raise NotFound
    return found


def score_history(account: PatientAccount) -> list[Assessment]:
    """The patient's own scored questionnaires, newest first."""
    return list(
        Assessment.objects.filter(patient=account.patient, instrument__in=SELF_REPORT)
        .only("id", "instrument", "total", "band", "taken_at", "source", "patient_id")
        .order_by("-taken_at", "-pk")[:HISTORY_LIMIT]
    )


@dataclass(frozen=True, slots=True)
class Option:
    value: int
    label: str


def answer_options(spec: InstrumentSpec) -> list[list[Option]]:
    """Each item's answer choices: the instrument's own wording where the library has it (PHQ-9, GAD-7),
    else the item's score range."""
    worded = {o[0]: o[2] for o in scales.FREQUENCY_ANSWER_CODES}
    out = []
    for item in spec.items:
        scores = range(item.min_score, item.max_score + 1)
        if spec.instrument in (scales.Instrument.PHQ9, scales.Instrument.GAD7):
            out.append([Option(v, worded[v]) for v in scores])
        else:
            out.append([Option(v, str(v)) for v in scores])
    return out


@dataclass(frozen=True, slots=True)
class Point:
    taken_at: Any
    total: int | None


def series(rows: list[Assessment]) -> list[tuple[str, list[Point]]]:
    """The history as one oldest-first series per instrument, for the trend chart."""
    by: dict[str, list[Point]] = {}
    for row in reversed(rows):
        by.setdefault(row.instrument, []).append(Point(row.taken_at, row.total))
    return [(instrument_name(k), v) for k, v in by.items()]
