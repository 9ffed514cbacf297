"""API routes of assessments (mounted under /api/v1 by ketaclinic/api/app.py): record a scored response,
list a patient's responses, read one with its item-level answers, and the episode on an outcome scale.
Same actions and queries as the pages; every answer that shows a response writes its read event."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments import actions, inputs, queries
from ketaclinic.assessments.access import get_patient_assessment_for, patient_for
from ketaclinic.assessments.episode import OutcomeInstrument
from ketaclinic.assessments.models import Source
from ketaclinic.assessments.schemas import (
    AssessmentDetailOut,
    AssessmentOut,
    EpisodeOut,
    assessment_detail_out,
    assessment_out,
    episode_out,
)
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.clinical.scales import Instrument
from ketaclinic.errors import Forbidden
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import (
    ANY_OPERATION,
    NOT_FOUND,
    PAGE_LIMIT_DEFAULT,
    WITH_BODY,
    Limit,
    Offset,
    Page,
    errors,
)

router = Router(tags=["Assessments"])
READ = errors(*ANY_OPERATION, NOT_FOUND)
# 409: the patient's registration was entered in error (nothing more is recorded on it).
WRITTEN = errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY, 409)


def _origin(request: HttpRequest) -> Origin:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


def _read(request: HttpRequest, patient: Patient, obj: Any, fields: list[str] | None = None) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=_origin(request),
        obj=obj,
        patient=patient,
        changed_fields=fields or [],
    )


@router.post(
    "/patients/{patient_id}/assessments",
    response={201: AssessmentOut, **WRITTEN},
    summary="Record a completed questionnaire or rating, scored at once (clinicians)",
)
def record_assessment(request: HttpRequest, patient_id: str, body: inputs.AssessmentIn) -> HttpResponse:
    """The answers are scored by the clinical library under the location's policy. An item out of range or
    missing is a 422 naming it (`answers.9`), and nothing is saved."""
    _require(request, Perm.ASSESSMENT_RECORD)
    origin = _origin(request)
    patient = patient_for(request.user, patient_id, Perm.ASSESSMENT_RECORD, origin=origin)
    # The answer shows the scored response: the action writes its read event with its own, so a submission
    # costs one durable commit, not two, and one append to the audit chain (bench/assessments.py).
    assessment = actions.do_record_assessment(
        patient, body, actor=request.user, origin=origin, source=Source.CLINIC, shown=True
    )
    out = AssessmentOut.model_validate(assessment_out(assessment)).model_dump_json()
    response = HttpResponse(out, status=201, content_type="application/json")
    response["Location"] = f"/api/v1/patients/{patient.pk}/assessments/{assessment.pk}"
    return response


@router.get(
    "/patients/{patient_id}/assessments",
    response={200: Page[AssessmentOut], **READ},
    summary="A patient's assessments, newest first (paged; optionally of one instrument)",
)
def list_assessments(
    request: HttpRequest,
    patient_id: str,
    instrument: Instrument | None = None,
    limit: Limit = PAGE_LIMIT_DEFAULT,
    offset: Offset = 0,
) -> dict[str, Any]:
    _require(request, Perm.PATIENT_READ)
    patient = patient_for(request.user, patient_id, origin=_origin(request))
    rows = queries.assessments_of(patient, instrument.value if instrument else None)
    count = rows.count()
    items = [assessment_out(a) for a in rows[offset : offset + limit]]
    _read(request, patient, patient, ["assessments"])
    return {"count": count, "limit": limit, "offset": offset, "items": items}


@router.get(
    "/patients/{patient_id}/assessments/{assessment_id}",
    response={200: AssessmentDetailOut, **READ},
    summary="One assessment with its item-level answers",
)
def read_assessment(request: HttpRequest, patient_id: str, assessment_id: str) -> dict[str, Any]:
    _require(request, Perm.PATIENT_READ)
    assessment = get_patient_assessment_for(request.user, patient_id, assessment_id, origin=_origin(request))
    _read(request, assessment.patient, assessment)
    return assessment_detail_out(assessment)


@router.get(
    "/patients/{patient_id}/episode",
    response={200: EpisodeOut, **READ},
    summary="The episode on an outcome scale: baseline, latest, change, status, time to response",
)
def episode(
    request: HttpRequest, patient_id: str, instrument: OutcomeInstrument = OutcomeInstrument.PHQ9
) -> dict[str, Any]:
    """Baseline: the last score at or before the first dose of the current plan, else the first score
    (docs/assessments.md). Response is a 50% fall from baseline; remission the instrument's cut."""
    _require(request, Perm.PATIENT_READ)
    patient = patient_for(request.user, patient_id, origin=_origin(request))
    found = queries.episode(patient, instrument.value)
    _read(request, patient, patient, ["episode"])
    return episode_out(found)
