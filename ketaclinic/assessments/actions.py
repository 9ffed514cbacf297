"""Every write of assessments that records a response: `do_record_assessment`.

Each do_* runs in one transaction and leaves one audit row naming the fields written, never their values.
The scoring is the clinical library's (`clinical.scales.score`) under the policy in force at the patient's
location; the response is stored as it was scored (item scores, total, band, flags and the LOINC codes of
the panel, the total and each item), and never edited afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.assessments import inputs
from ketaclinic.assessments.models import Assessment, AssessmentRequest, RequestStatus, Source
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinical import scales
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import InvalidInput, Refused
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import TreatmentSession

CLOCK_SKEW = dt.timedelta(minutes=2)
SOURCES = {s.value for s in Source}


def _refuse_if_entered_in_error(patient: Patient) -> None:
    if patient.entered_in_error_at:
        raise Refused("This registration was entered in error", ["Nothing more is recorded on it."])


def library_answers(instrument: str, answers: object) -> object:
    """The answers as the clinical library takes them: JSON object keys are text, so an item number written
    in digits ("9") becomes the number 9. The C-SSRS screener's keys (q1..) stay as they are."""
    if instrument == scales.Instrument.CSSRS_SCREEN or not isinstance(answers, Mapping):
        return answers
    return {_item_number(k): v for k, v in answers.items()}


def _item_number(key: object) -> object:
    return int(key) if isinstance(key, str) and key.isascii() and key.isdigit() else key


def score_answers(instrument: str, answers: object, policy: Any) -> scales.ScaleResult:
    """Score through the library; answers it cannot score are bad input naming the item (`answers.9`)."""
    try:
        return scales.score(instrument, library_answers(instrument, answers), policy=policy)  # type: ignore[arg-type]
    except scales.InvalidAnswers as exc:
        field = f"answers.{exc.item.strip(chr(39))}" if exc.item is not None else "answers"
        raise InvalidInput({field: str(exc)}) from None


def codes_of(result: scales.ScaleResult) -> dict[str, Any]:
    spec = scales.INSTRUMENTS[result.instrument]
    return {
        "panel": result.codes.panel,
        "total": result.codes.total,
        "items": [item.loinc for item in spec.items],
    }


def _taken_at(patient: Patient, value: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    when = now if value is None else value
    if when > now + CLOCK_SKEW:
        raise InvalidInput({"taken_at": "cannot be in the future"})
    if when.date() < patient.date_of_birth:
        raise InvalidInput({"taken_at": "cannot be before the patient's date of birth"})
    return when


def _answered_request(patient: Patient, request: AssessmentRequest, instrument: str) -> AssessmentRequest:
    """The request, locked; it must be the patient's, for this instrument, and still waiting for an answer."""
    locked = AssessmentRequest.objects.select_for_update().get(pk=request.pk)
    if locked.patient_id != patient.pk:
        raise InvalidInput({"request": "is not a request for this patient"})
    if locked.instrument != instrument:
        raise InvalidInput({"instrument": f"the request asks for {locked.instrument}"})
    if locked.status != RequestStatus.PENDING:
        raise Refused(
            "This request is not waiting for an answer",
            [f"The request is {locked.get_status_display().lower()}; one response is kept per request."],
            field="request",
        )
    return locked


@transaction.atomic
def do_record_assessment(
    patient: Patient,
    data: inputs.AssessmentIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    source: str = Source.CLINIC,
    request: AssessmentRequest | None = None,
    session: TreatmentSession | None = None,
) -> Assessment:
    """Score and store one completed instrument for the patient.

    `source` says who answered: `clinic` (a staff member, `actor`, entered it), `self_report` (the patient's
    link) or `portal` (the patient signed in); a patient's own answers have no staff author. A `request`
    answered is marked completed in the same transaction (one response per request: a second answer is
    refused); a `session` is the treatment session the response was taken for (the PHQ-9 before a dose).
    Answers the library cannot score are bad input naming the item, and nothing is saved.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    staff_entry = source == Source.CLINIC
    if staff_entry and actor is None:
        raise ValueError("a clinic entry needs the staff member who made it")
    _refuse_if_entered_in_error(patient)
    policy = policy_for(patient.location)
    result = score_answers(data.instrument, data.answers, policy)
    taken_at = _taken_at(patient, data.taken_at)
    if session is not None and session.patient_id != patient.pk:
        raise InvalidInput({"session": "is not a session of this patient"})
    if request is not None:
        request = _answered_request(patient, request, data.instrument)
    now = timezone.now()
    is_cssrs = result.instrument is scales.Instrument.CSSRS_SCREEN
    extra: dict[str, Any] = {}
    if is_cssrs and isinstance(data.answers, Mapping):
        extra = {str(k): v for k, v in data.answers.items()}
    assessment = Assessment.objects.create(
        patient=patient,
        location_id=patient.location_id,
        instrument=result.instrument.value,
        item_scores=list(result.item_scores),
        extra_answers=extra,
        total=result.total,
        band=result.band or "",
        flags=sorted(result.flags),
        codes=codes_of(result),
        taken_at=taken_at,
        source=source,
        request=request,
        session=session,
        created_at=now,
        created_by=actor if staff_entry else None,
    )
    if request is not None:
        request.status = RequestStatus.COMPLETED
        request.completed_at = now
        request.version += 1
        request.save(update_fields=["status", "completed_at", "version"])
    record(
        Action.ASSESSMENT_RECORD,
        # The staff member who entered it, or the patient's own portal account (audited in its own column).
        actor=actor if staff_entry or getattr(actor, "is_patient_account", False) else None,
        origin=origin,
        obj=assessment,
        patient=patient,
        changed_fields=["instrument", "item_scores", "total", "band", "flags", "taken_at", "source"]
        + (["request"] if request is not None else []),
    )
    return assessment
