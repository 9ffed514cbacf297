"""What the portal reads: only ever the signed-in account's own patient.

Every query here starts from the account's patient, so another patient's record cannot be named into a
page: an id that is not the patient's own is NotFound (404) and the refusal is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from ketaclinic.assessments import forms
from ketaclinic.assessments import queries as assessment_queries
from ketaclinic.assessments.models import Assessment, AssessmentRequest, RequestStatus
from ketaclinic.assessments.trend import chart as trend_chart
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.clinical import scales
from ketaclinic.clinical.preparation import Instruction, preparation_for
from ketaclinic.clinical.scales import INSTRUMENTS, parse_instrument
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import NotFound
from ketaclinic.portal.models import PatientAccount, PreparationText
from ketaclinic.treatment.models import SESSION_AHEAD, PlanModality, TreatmentSession

# A response with any of these shows the crisis resources on the thank-you page.
CRISIS_FLAGS = frozenset(
    {scales.Flag.SUICIDAL_IDEATION, scales.Flag.SUICIDAL_BEHAVIOUR, scales.Flag.HIGH_SUICIDE_RISK}
)
# The questionnaires a patient answers themselves: their scores are the patient's history in the portal.
SELF_REPORT = forms.SELF_REPORT
UPCOMING_LIMIT = 10
HISTORY_LIMIT = 200
_UPCOMING = SESSION_AHEAD


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
    worded = {
        p.modality: (Instruction(f"prep.clinic.{p.modality}", p.text, ()),)
        for p in PreparationText.objects.filter(location_id=patient.location_id)
    }
    return [
        Upcoming(
            s,
            labels.get(s.plan.modality, s.plan.modality),
            worded.get(s.plan.modality) or preparation_for(s.plan.modality),
        )
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
class Trend:
    instrument_name: str
    episode: Any
    chart: Any


def trend(account: PatientAccount) -> Trend | None:
    """The PHQ-9 trend chart of the patient (the chart the clinicians see), when there are PHQ-9 scores."""
    patient = account.patient
    episode = assessment_queries.episode(patient, scales.Instrument.PHQ9.value)
    if not episode.points:
        return None
    return Trend(
        instrument_name(scales.Instrument.PHQ9), episode, trend_chart(episode, policy_for(patient.location))
    )
