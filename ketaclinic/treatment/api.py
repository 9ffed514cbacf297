"""API routes of treatment (mounted under /api/v1 by ketaclinic/api/app.py): plans and the session chart.

Each route checks the role, loads through the access getters, calls an action and answers with the output
model; every answer that carries the chart writes its read event.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.errors import HttpError
from pydantic import BaseModel

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.errors import Forbidden
from ketaclinic.patients.access import get_patient_for
from ketaclinic.patients.schemas import (
    ANY_OPERATION,
    NOT_FOUND,
    PAGE_LIMIT_DEFAULT,
    WITH_BODY,
    ErrorOut,
    Limit,
    Offset,
    Page,
    errors,
)
from ketaclinic.treatment import actions, inputs, queries
from ketaclinic.treatment.access import get_alert_for, get_dose_for, get_plan_for, get_session_for
from ketaclinic.treatment.models import TreatmentPlan, TreatmentSession
from ketaclinic.treatment.schemas import (
    AdverseEventOut,
    AlertOut,
    AmendmentOut,
    DeviceOut,
    DischargeOut,
    DoseOut,
    ObservationOut,
    PlanOut,
    PreDoseCheckOut,
    RefusedOut,
    SessionOut,
    VitalsOut,
)

router = Router(tags=["Treatment"])

READ = errors(*ANY_OPERATION, NOT_FOUND)
WRITTEN = {**errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY), 409: RefusedOut}
CHANGED = {**WRITTEN, 412: ErrorOut}

IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of your last read; when sent and no longer current, the answer is 412.",
    "schema": {"type": "string"},
}


def _origin(request: HttpRequest) -> Origin:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


def _expected(request: HttpRequest) -> int | None:
    sent = request.headers.get("If-Match", "").strip()
    if not sent:
        return None
    try:
        return int(sent.removeprefix("W/").strip('"'))
    except ValueError as exc:
        raise HttpError(412, "If-Match does not match the record's ETag.") from exc


def _read_event(request: HttpRequest, patient: Any, obj: Any) -> None:
    record(Action.PATIENT_READ, actor=request.user, origin=_origin(request), obj=obj, patient=patient)


def _json(
    request: HttpRequest,
    out: type[BaseModel],
    body: dict[str, Any],
    status: int = 200,
    etag: int | None = None,
) -> HttpResponse:
    response = HttpResponse(
        out.model_validate(body).model_dump_json(), status=status, content_type="application/json"
    )
    if etag is not None:
        response["ETag"] = f'"{etag}"'
    return response


def _plan_answer(request: HttpRequest, plan: TreatmentPlan, status: int = 200) -> HttpResponse:
    _read_event(request, plan.patient, plan)
    response = _json(request, PlanOut, queries.plan_detail(plan), status, etag=plan.version)
    if status == 201:
        response["Location"] = f"/api/v1/treatment-plans/{plan.pk}"
    return response


def _session_answer(request: HttpRequest, session: TreatmentSession, status: int = 200) -> HttpResponse:
    _read_event(request, session.patient, session)
    response = _json(request, SessionOut, queries.session_detail(session), status, etag=session.version)
    if status == 201:
        response["Location"] = f"/api/v1/sessions/{session.pk}"
    return response


def _created(
    request: HttpRequest,
    session: TreatmentSession,
    out: type[BaseModel],
    body: dict[str, Any],
    *,
    shown: bool = False,
) -> HttpResponse:
    """`shown`: the action wrote the answer's read event with its own (one append, one transaction)."""
    if not shown:
        _read_event(request, session.patient, session)
    response = _json(request, out, body, 201)
    response["Location"] = f"/api/v1/sessions/{session.pk}"
    return response


# --- Plans ----------------------------------------------------------------------------------------------


@router.post(
    "/patients/{patient_id}/treatment-plans",
    response={201: PlanOut, **WRITTEN},
    summary="Prescribe a treatment plan (a draft with its sessions)",
)
def create_plan(request: HttpRequest, patient_id: str, body: inputs.PlanIn) -> HttpResponse:
    """Modality, protocol and start date, with `dose_mg` (esketamine) or `dose_mg_per_kg` (IV, IM). The
    sessions are placed on the clinic days (0 = Monday ... 6; Monday to Friday when not given). The plan
    starts as a draft; approve it to treat."""
    _require(request, Perm.TREATMENT_PRESCRIBE)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, write=True, origin=origin)
    if not can(request.user, Perm.TREATMENT_PRESCRIBE, patient.location_id):
        deny(request.user, origin, str(Perm.TREATMENT_PRESCRIBE))
        raise Forbidden
    plan = actions.do_create_plan(patient, body, actor=request.user, origin=origin)
    return _plan_answer(request, plan, 201)


@router.get(
    "/patients/{patient_id}/treatment-plans",
    response={200: Page[PlanOut], **READ},
    summary="List a patient's treatment plans, newest first (paged)",
)
def list_plans(
    request: HttpRequest, patient_id: str, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0
) -> Any:
    _require(request, Perm.PATIENT_READ)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, origin=origin)
    plans = queries.plans_of(patient)
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=origin,
        obj=patient,
        patient=patient,
        changed_fields=["treatment_plans"],
    )
    for plan in plans:
        plan.patient, plan.location = patient, patient.location
    items = [queries.plan_detail(p) for p in plans[offset : offset + limit]]
    return {"count": len(plans), "limit": limit, "offset": offset, "items": items}


@router.get("/treatment-plans/{plan_id}", response={200: PlanOut, **READ}, summary="Read a treatment plan")
def read_plan(request: HttpRequest, plan_id: str) -> HttpResponse:
    _require(request, Perm.PATIENT_READ)
    plan = get_plan_for(request.user, plan_id, origin=_origin(request))
    return _plan_answer(request, plan)


def _plan_change(request: HttpRequest, plan_id: str) -> TreatmentPlan:
    _require(request, Perm.TREATMENT_PRESCRIBE)
    return get_plan_for(request.user, plan_id, perm=Perm.TREATMENT_PRESCRIBE, origin=_origin(request))


@router.post(
    "/treatment-plans/{plan_id}/approve",
    response={200: PlanOut, **CHANGED},
    summary="Approve a plan (prescribers)",
    openapi_extra={"parameters": [IF_MATCH]},
)
def approve_plan(request: HttpRequest, plan_id: str, body: inputs.SignIn) -> HttpResponse:
    """409 lists every reason the plan cannot be approved (screening, consent, REMS enrolment, its state)."""
    plan = _plan_change(request, plan_id)
    plan = actions.do_approve_plan(
        plan, actor=request.user, origin=_origin(request), expected_version=_expected(request)
    )
    return _plan_answer(request, plan)


@router.post(
    "/treatment-plans/{plan_id}/pause",
    response={200: PlanOut, **CHANGED},
    summary="Pause an active plan, with the reason",
    openapi_extra={"parameters": [IF_MATCH]},
)
def pause_plan(request: HttpRequest, plan_id: str, body: inputs.ReasonIn) -> HttpResponse:
    plan = _plan_change(request, plan_id)
    plan = actions.do_pause_plan(
        plan, body, actor=request.user, origin=_origin(request), expected_version=_expected(request)
    )
    return _plan_answer(request, plan)


@router.post(
    "/treatment-plans/{plan_id}/resume",
    response={200: PlanOut, **CHANGED},
    summary="Resume a paused plan, with the reason",
    openapi_extra={"parameters": [IF_MATCH]},
)
def resume_plan(request: HttpRequest, plan_id: str, body: inputs.ReasonIn) -> HttpResponse:
    plan = _plan_change(request, plan_id)
    plan = actions.do_resume_plan(
        plan, body, actor=request.user, origin=_origin(request), expected_version=_expected(request)
    )
    return _plan_answer(request, plan)


@router.post(
    "/treatment-plans/{plan_id}/dose",
    response={200: PlanOut, **CHANGED},
    summary="Change the dose of the sessions not yet dosed, with the reason",
    openapi_extra={"parameters": [IF_MATCH]},
)
def change_plan_dose(request: HttpRequest, plan_id: str, body: inputs.DoseChangeIn) -> HttpResponse:
    plan = _plan_change(request, plan_id)
    plan = actions.do_change_plan_dose(
        plan, body, actor=request.user, origin=_origin(request), expected_version=_expected(request)
    )
    return _plan_answer(request, plan)


@router.post(
    "/treatment-plans/{plan_id}/frequency",
    response={200: PlanOut, **CHANGED},
    summary="Change the clinic days or maintenance sessions, with the reason",
    openapi_extra={"parameters": [IF_MATCH]},
)
def change_plan_frequency(request: HttpRequest, plan_id: str, body: inputs.FrequencyChangeIn) -> HttpResponse:
    plan = _plan_change(request, plan_id)
    plan = actions.do_change_plan_frequency(
        plan, body, actor=request.user, origin=_origin(request), expected_version=_expected(request)
    )
    return _plan_answer(request, plan)


@router.post(
    "/treatment-plans/{plan_id}/end",
    response={200: PlanOut, **CHANGED},
    summary="End a plan, with the reason (its sessions not yet started are cancelled)",
    openapi_extra={"parameters": [IF_MATCH]},
)
def end_plan(request: HttpRequest, plan_id: str, body: inputs.ReasonIn) -> HttpResponse:
    plan = _plan_change(request, plan_id)
    plan = actions.do_end_plan(
        plan, body, actor=request.user, origin=_origin(request), expected_version=_expected(request)
    )
    return _plan_answer(request, plan)


# --- Sessions -------------------------------------------------------------------------------------------


def _session(request: HttpRequest, session_id: str, perm: Perm) -> TreatmentSession:
    _require(request, perm)
    return get_session_for(request.user, session_id, perm=perm, origin=_origin(request))


@router.get(
    "/sessions/{session_id}",
    response={200: SessionOut, **READ},
    summary="Read a session: checks, vitals, doses, observations, events, alerts, stage",
)
def read_session(request: HttpRequest, session_id: str) -> HttpResponse:
    """`stage` is where the session stands on the floor (checked_in, pre_dose, dosing, monitoring,
    ready_for_discharge, discharged); `next_vitals` says which reading is due next and whether it is
    overdue."""
    return _session_answer(request, _session(request, session_id, Perm.PATIENT_READ))


@router.post(
    "/sessions/{session_id}/check-in",
    response={201: SessionOut, **WRITTEN},
    summary="Check the patient in (now, or back-charted within the session's day)",
)
def check_in(request: HttpRequest, session_id: str, body: inputs.CheckInIn) -> HttpResponse:
    session = _session(request, session_id, Perm.TREATMENT_CHECK_IN)
    session = actions.do_check_in(session, body, actor=request.user, origin=_origin(request))
    return _session_answer(request, session, 201)


@router.post(
    "/sessions/{session_id}/assignment",
    response={200: SessionOut, **CHANGED},
    summary="Put the session in a chair or room, or take over its monitoring",
    openapi_extra={"parameters": [IF_MATCH]},
)
def assign(request: HttpRequest, session_id: str, body: inputs.AssignIn) -> HttpResponse:
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    session = actions.do_assign(
        session, body, actor=request.user, origin=_origin(request), expected_version=_expected(request)
    )
    return _session_answer(request, session)


@router.post(
    "/sessions/{session_id}/pre-dose-checks",
    response={201: PreDoseCheckOut, **WRITTEN},
    summary="Record the pre-dose checks (consent is computed, interactions re-checked)",
)
def add_predose_check(request: HttpRequest, session_id: str, body: inputs.PreDoseCheckIn) -> HttpResponse:
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    check = actions.do_record_predose_check(session, body, actor=request.user, origin=_origin(request))
    return _created(request, session, PreDoseCheckOut, queries.fields_of(check))


@router.post(
    "/sessions/{session_id}/vitals",
    response={201: VitalsOut, **WRITTEN},
    summary="Record vital signs (answers with the alerts they raise)",
)
def add_vitals(request: HttpRequest, session_id: str, body: inputs.VitalsIn) -> HttpResponse:
    """Before the dose the reading passes the pre-dose BP gate; a gate or alert in `alerts` must be
    answered (POST .../alerts/{alert_id}/answer)."""
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    # The answer shows the reading: the action writes its read event with its own, so a reading costs one
    # durable commit, not two, and one append to the audit chain (bench/vitals_profile.py).
    reading = actions.do_record_vitals(session, body, actor=request.user, origin=_origin(request), shown=True)
    body_out = queries.vitals_out(reading, list(reading.alerts.all()))
    return _created(request, session, VitalsOut, body_out, shown=True)


@router.post(
    "/sessions/{session_id}/alerts/{alert_id}/answer",
    response={200: AlertOut, **WRITTEN},
    summary="Answer an alert: acknowledge the BP gate with a reason or defer; say what was done",
)
def answer_alert(
    request: HttpRequest, session_id: str, alert_id: int, body: inputs.AlertAnswerIn
) -> HttpResponse:
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    origin = _origin(request)
    alert = get_alert_for(session, alert_id, user=request.user, origin=origin)
    alert = actions.do_answer_alert(alert, body, actor=request.user, origin=origin)
    _read_event(request, session.patient, session)
    return _json(request, AlertOut, queries.alert_out(alert))


@router.post(
    "/sessions/{session_id}/doses",
    response={201: DoseOut, **WRITTEN},
    summary="Record the dose (IV: pump rate; esketamine: devices and when each is due)",
)
def add_dose(request: HttpRequest, session_id: str, body: inputs.AdministerIn) -> HttpResponse:
    """One dose per session, within the clinic policy's limits (84 mg as a first esketamine dose is refused).
    For esketamine, `devices` lists each device with its due time after the 5-minute rests; record each one
    used with POST .../devices/{number}."""
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    dose = actions.do_record_dose(session, body, actor=request.user, origin=_origin(request))
    return _created(request, session, DoseOut, queries.dose_out(dose))


@router.post(
    "/sessions/{session_id}/devices/{number}",
    response={200: DeviceOut, **WRITTEN},
    summary="Record an esketamine device used (not before its 5-minute rest is over)",
)
def use_device(request: HttpRequest, session_id: str, number: int, body: inputs.DeviceUseIn) -> HttpResponse:
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    origin = _origin(request)
    dose = get_dose_for(session, user=request.user, origin=origin)
    device = actions.do_use_device(dose, number, body, actor=request.user, origin=origin)
    _read_event(request, session.patient, session)
    return _json(
        request, DeviceOut, {"number": device.number, "due_at": device.due_at, "used_at": device.used_at}
    )


@router.post(
    "/sessions/{session_id}/dose-end",
    response={200: DoseOut, **WRITTEN},
    summary="Record when the infusion stopped",
)
def end_dose(request: HttpRequest, session_id: str, body: inputs.DoseEndIn) -> HttpResponse:
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    origin = _origin(request)
    dose = get_dose_for(session, user=request.user, origin=origin)
    dose = actions.do_end_dose(dose, body, actor=request.user, origin=origin)
    _read_event(request, session.patient, session)
    return _json(request, DoseOut, queries.dose_out(dose))


@router.post(
    "/sessions/{session_id}/observations",
    response={201: ObservationOut, **WRITTEN},
    summary="Record a MOAA/S or CADSS (scored by the clinical library)",
)
def add_observation(request: HttpRequest, session_id: str, body: inputs.ObservationIn) -> HttpResponse:
    """`answers`: the item scores in order (MOAA/S: one level 0-5; CADSS: 23 items scored 0-4)."""
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    observation = actions.do_record_observation(session, body, actor=request.user, origin=_origin(request))
    body_out = {
        **queries.fields_of(observation, "created_at"),
        "alerts": [queries.alert_out(a) for a in observation.alerts.order_by("pk")],
    }
    return _created(request, session, ObservationOut, body_out)


@router.post(
    "/sessions/{session_id}/adverse-events",
    response={201: AdverseEventOut, **WRITTEN},
    summary="Record an adverse event from the coded list",
)
def add_adverse_event(request: HttpRequest, session_id: str, body: inputs.AdverseEventIn) -> HttpResponse:
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    event = actions.do_record_adverse_event(session, body, actor=request.user, origin=_origin(request))
    return _created(request, session, AdverseEventOut, queries.fields_of(event, "created_at"))


@router.post(
    "/sessions/{session_id}/discharge",
    response={201: DischargeOut, **WRITTEN},
    summary="Discharge (409 lists every unmet readiness reason)",
)
def discharge(request: HttpRequest, session_id: str, body: inputs.DischargeIn) -> HttpResponse:
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    done = actions.do_discharge(session, body, actor=request.user, origin=_origin(request))
    return _created(request, session, DischargeOut, queries.fields_of(done, "created_at", "id"))


@router.post(
    "/sessions/{session_id}/sign",
    response={200: SessionOut, **WRITTEN},
    summary="Sign off the session; it is locked, later changes are amendments",
)
def sign(request: HttpRequest, session_id: str, body: inputs.SignIn) -> HttpResponse:
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    session = actions.do_sign(session, actor=request.user, origin=_origin(request))
    return _session_answer(request, session)


@router.post(
    "/sessions/{session_id}/amendments",
    response={201: AmendmentOut, **WRITTEN},
    summary="Amend a signed session: a late entry or correction with the reason",
)
def amend(request: HttpRequest, session_id: str, body: inputs.AmendmentIn) -> HttpResponse:
    session = _session(request, session_id, Perm.TREATMENT_CHART)
    amendment = actions.do_amend(session, body, actor=request.user, origin=_origin(request))
    return _created(request, session, AmendmentOut, queries.fields_of(amendment, "amended_by", "record_id"))
