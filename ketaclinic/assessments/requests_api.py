"""API route of assessment requests (mounted under /api/v1 by ketaclinic/api/app.py): a one-off request
with its self-report link. The plan's schedule makes its own requests (actions.do_sync_plan_schedule)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments import actions, inputs, links
from ketaclinic.assessments.access import get_patient_request_for, patient_for
from ketaclinic.assessments.schemas import AssessmentRequestOut
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.errors import Forbidden
from ketaclinic.patients.schemas import ANY_OPERATION, NOT_FOUND, WITH_BODY, errors

router = Router(tags=["Assessments"])
# 409: the patient's registration was entered in error (nothing more is recorded on it).
WRITTEN = errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY, 409)
READ = errors(*ANY_OPERATION, NOT_FOUND)


@router.post(
    "/patients/{patient_id}/assessment-requests",
    response={201: AssessmentRequestOut, **WRITTEN},
    summary="Ask the patient for a questionnaire: a one-off request with its self-report link",
)
def request_assessment(
    request: HttpRequest, patient_id: str, body: inputs.AssessmentRequestIn
) -> HttpResponse:
    """A patient's questionnaire (`phq9`, `gad7`, `qids_sr16`) gets a signed, single-use link that expires
    after the location's `self_report_link_hours` (72 by default) and asks for the date of birth first;
    `channel` `email` or `sms` sends it now (a 422 naming `channel` when the patient has no address on
    it), `none` only makes it. A clinician's instrument (`madrs`, ...) is a request with no link (`url`
    null). The link's secret is only in this answer and the message: a replay of the same
    Idempotency-Key answers `url` null."""
    origin = origin_of(request, Via.API)
    if not can(request.user, Perm.ASSESSMENT_REQUEST):
        deny(request.user, origin, str(Perm.ASSESSMENT_REQUEST))
        raise Forbidden
    patient = patient_for(request.user, patient_id, Perm.ASSESSMENT_REQUEST, origin=origin)
    made, token = actions.do_request_assessment(patient, body, actor=request.user, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=made, patient=patient)
    out = {
        "id": made.pk,
        "instrument": made.instrument,
        "status": made.status,
        "url": links.url_of(token) if token else None,
        "expires_at": made.expires_at,
    }
    response = HttpResponse(
        AssessmentRequestOut.model_validate(out).model_dump_json(),
        status=201,
        content_type="application/json",
    )
    response["Location"] = f"/api/v1/patients/{patient.pk}/assessment-requests/{made.pk}"
    # What the idempotency store keeps for a replay: the same answer without the link's secret.
    kept = AssessmentRequestOut.model_validate({**out, "url": None}).model_dump_json().encode()
    setattr(response, "stored_content", kept)  # noqa: B010 - read by idempotency.store.fill
    return response


@router.get(
    "/patients/{patient_id}/assessment-requests/{request_id}",
    response={200: AssessmentRequestOut, **READ},
    summary="One assessment request: its instrument, status and link expiry (never the link)",
)
def read_request(request: HttpRequest, patient_id: str, request_id: str) -> dict[str, Any]:
    origin = origin_of(request, Via.API)
    if not can(request.user, Perm.PATIENT_READ):
        deny(request.user, origin, str(Perm.PATIENT_READ))
        raise Forbidden
    found = get_patient_request_for(request.user, patient_id, request_id, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=found, patient=found.patient)
    return {
        "id": found.pk,
        "instrument": found.instrument,
        "status": found.status,
        "url": None,
        "expires_at": found.expires_at,
    }
