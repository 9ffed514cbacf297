"""API routes of screening (mounted under /api/v1 by ketaclinic/api/app.py): run a screening, acknowledge a
finding, record a Spravato REMS enrolment. Same actions as the pages."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.errors import Forbidden
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import ANY_OPERATION, NOT_FOUND, WITH_BODY, errors
from ketaclinic.screening import actions, inputs, queries
from ketaclinic.screening.access import get_screening_for, patient_for
from ketaclinic.screening.schemas import (
    AcknowledgementOut,
    RemsEnrolmentOut,
    ScreeningOut,
    acknowledgement_out,
    enrolment_out,
    screening_out,
)

router = Router(tags=["Screening"])
READ = errors(*ANY_OPERATION, NOT_FOUND)
# 409: the patient's registration was entered in error (nothing more is recorded on it).
WRITTEN = errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY, 409)
# A gate that refuses: a contraindication acknowledged, a finding acknowledged twice, a stale screening.
REFUSABLE = errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY, 409)


def _origin(request: HttpRequest) -> Any:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


def _read(request: HttpRequest, patient: Patient, obj: Any) -> None:
    """The read event of an answer that shows part of a patient's record."""
    record(Action.PATIENT_READ, actor=request.user, origin=_origin(request), obj=obj, patient=patient)


def _created(request: HttpRequest, body: dict[str, Any], location: str) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=201, content_type="application/json")
    response["Location"] = location
    return response


@router.post(
    "/patients/{patient_id}/screenings",
    response={201: ScreeningOut, **WRITTEN},
    summary="Screen a patient for a modality (prescriber)",
)
def run_screening(request: HttpRequest, patient_id: str, body: inputs.ScreeningIn) -> HttpResponse:
    _require(request, Perm.SCREENING_RUN)
    origin = _origin(request)
    patient = patient_for(request.user, patient_id, Perm.SCREENING_RUN, origin=origin)
    screening = actions.do_run_screening(patient, body, actor=request.user, origin=origin)
    _read(request, patient, screening)
    out = screening_out(screening, stale=False, acknowledged=frozenset())
    return _created(request, out, f"/api/v1/screenings/{screening.pk}")


@router.get("/screenings/{screening_id}", response={200: ScreeningOut, **READ}, summary="Read a screening")
def read_screening(request: HttpRequest, screening_id: str) -> dict[str, Any]:
    _require(request, Perm.PATIENT_READ)
    screening = get_screening_for(request.user, screening_id, origin=_origin(request))
    _read(request, screening.patient, screening)
    return screening_out(
        screening, stale=queries.is_stale(screening), acknowledged=queries.acknowledged_rules(screening)
    )


@router.post(
    "/screenings/{screening_id}/acknowledgements",
    response={201: AcknowledgementOut, **REFUSABLE},
    summary="Acknowledge a finding with a reason (prescriber); a contraindication gives 409",
)
def acknowledge(request: HttpRequest, screening_id: str, body: inputs.AcknowledgementIn) -> HttpResponse:
    _require(request, Perm.SCREENING_RUN)
    origin = _origin(request)
    screening = get_screening_for(request.user, screening_id, Perm.SCREENING_RUN, origin=origin)
    ack = actions.do_acknowledge(screening, body, actor=request.user, origin=origin)
    _read(request, screening.patient, ack)
    return _created(request, acknowledgement_out(ack), f"/api/v1/screenings/{screening.pk}")


@router.post(
    "/patients/{patient_id}/rems-enrolment",
    response={201: RemsEnrolmentOut, **WRITTEN},
    summary="Record the patient's Spravato REMS enrolment (prescriber)",
)
def enrol(request: HttpRequest, patient_id: str, body: inputs.RemsEnrolmentIn) -> HttpResponse:
    _require(request, Perm.REMS_ENROL)
    origin = _origin(request)
    patient = patient_for(request.user, patient_id, Perm.REMS_ENROL, origin=origin)
    enrolment = actions.do_record_rems_enrolment(patient, body, actor=request.user, origin=origin)
    _read(request, patient, enrolment)
    return _created(request, enrolment_out(enrolment), f"/api/v1/patients/{patient.pk}/rems-enrolment")
