"""API routes of at-home programs (mounted under /api/v1 by ketaclinic/api/app.py): the patient's home
program with its hold, prescribing one, changing its status, its doses with their check-ins (paged), and a
prescriber's release of a hold. Same actions and queries as the pages; every answer that shows the record
writes its read event."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router
from pydantic import BaseModel

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments.access import patient_for
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.errors import Forbidden, NotFound, Refused
from ketaclinic.homecare import actions, queries
from ketaclinic.homecare.inputs import HomeProgramIn, ProgramStatusIn, ReleaseIn
from ketaclinic.homecare.models import HomeProgram
from ketaclinic.homecare.schemas import (
    HomeDoseOut,
    HomeProgramOut,
    ReleaseOut,
    dose_dict,
    program_dict,
    release_dict,
)
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
from ketaclinic.treatment.schemas import RefusedOut

router = Router(tags=["At-home programs"])
READ = errors(*ANY_OPERATION, NOT_FOUND)
WRITTEN = {**errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY), 409: RefusedOut}
P = "/patients/{patient_id}/home-program"


def _origin(request: HttpRequest) -> Origin:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


def _read(request: HttpRequest, patient: Patient, obj: Any, fields: list[str]) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=_origin(request),
        obj=obj,
        patient=patient,
        changed_fields=fields,
    )


def _json(out: type[BaseModel], body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        out.model_validate(body).model_dump_json(), status=status, content_type="application/json"
    )


def _program_body(program: HomeProgram) -> dict[str, Any]:
    return program_dict(program, queries.hold_of(program, timezone.now()), queries.next_dose_on(program))


def _program(patient: Patient) -> HomeProgram:
    program = queries.program_of(patient)
    if program is None:
        raise NotFound
    return program


@router.get(P, response={200: HomeProgramOut, **READ}, summary="The patient's at-home program and its hold")
def read_program(request: HttpRequest, patient_id: str) -> HttpResponse:
    """The program in force (active or paused), else the latest ended one; 404 when there is none. `hold`
    says whether the next home dose is held and why (HOME-HOLD under the location's clinic policy)."""
    _require(request, Perm.PATIENT_READ)
    patient = patient_for(request.user, patient_id, origin=_origin(request))
    program = _program(patient)
    _read(request, patient, program, ["home_program"])
    return _json(HomeProgramOut, _program_body(program))


@router.post(
    P, response={201: HomeProgramOut, **WRITTEN}, summary="Prescribe an at-home program (prescribers)"
)
def prescribe(request: HttpRequest, patient_id: str, body: HomeProgramIn) -> HttpResponse:
    """Racemic ketamine only: `"drug": "esketamine"` is a 422 naming it (esketamine must never be dispensed
    for home use). 409 while another program is in force."""
    _require(request, Perm.TREATMENT_PRESCRIBE)
    origin = _origin(request)
    patient = patient_for(request.user, patient_id, Perm.TREATMENT_PRESCRIBE, origin=origin)
    with transaction.atomic():
        program = actions.do_prescribe_home_program(patient, body, actor=request.user, origin=origin)
        _read(request, patient, program, ["home_program"])
    response = _json(HomeProgramOut, _program_body(program), status=201)
    response["Location"] = f"/api/v1/patients/{patient.pk}/home-program"
    return response


@router.post(
    f"{P}/status", response={200: HomeProgramOut, **WRITTEN}, summary="Pause, resume or end the program"
)
def change_status(request: HttpRequest, patient_id: str, body: ProgramStatusIn) -> HttpResponse:
    _require(request, Perm.TREATMENT_PRESCRIBE)
    origin = _origin(request)
    patient = patient_for(request.user, patient_id, Perm.TREATMENT_PRESCRIBE, origin=origin)
    with transaction.atomic():
        program = actions.do_set_program_status(_program(patient), body, actor=request.user, origin=origin)
        _read(request, patient, program, ["home_program"])
    return _json(HomeProgramOut, _program_body(program))


@router.get(
    f"{P}/doses", response={200: Page[HomeDoseOut], **READ}, summary="The program's home doses (paged)"
)
def list_doses(
    request: HttpRequest, patient_id: str, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0
) -> HttpResponse:
    """Newest first, each with its check-in (and the answers that failed it) and any release of its hold."""
    _require(request, Perm.PATIENT_READ)
    patient = patient_for(request.user, patient_id, origin=_origin(request))
    program = _program(patient)
    rows = queries.doses_of(program)
    count = rows.count()
    items = [dose_dict(d) for d in rows[offset : offset + limit]]
    _read(request, patient, program, ["home_doses"])
    return _json(Page[HomeDoseOut], {"count": count, "limit": limit, "offset": offset, "items": items})


@router.post(
    f"{P}/release-hold", response={201: ReleaseOut, **WRITTEN}, summary="Release the hold on the next dose"
)
def release_hold(request: HttpRequest, patient_id: str, body: ReleaseIn) -> HttpResponse:
    """A prescriber releases the held next home dose with a reason (audited); 409 when nothing is held."""
    _require(request, Perm.TREATMENT_PRESCRIBE)
    origin = _origin(request)
    patient = patient_for(request.user, patient_id, Perm.TREATMENT_PRESCRIBE, origin=origin)
    try:
        with transaction.atomic():
            release = actions.do_release_hold(_program(patient), body, actor=request.user, origin=origin)
            _read(request, patient, release, ["home_hold"])
    except Refused:
        raise
    return _json(ReleaseOut, release_dict(release), status=201)
