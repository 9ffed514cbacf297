"""API routes of the safety work and the clinician worklist (mounted under /api/v1 by ketaclinic/api/app.py).

Each route checks the role, loads through the access getters, calls an action and answers with the output
model; every answer that carries a patient's record writes its read event, the worklist a list event.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from pydantic import BaseModel

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments import safety, worklist
from ketaclinic.assessments.models import AlertKind, AlertStatus, SafetyAlert, SafetyPlan
from ketaclinic.assessments.safety_access import get_alert_for, get_plan_for, get_safety_patient_for
from ketaclinic.assessments.safety_inputs import AlertCloseIn, SafetyPlanIn
from ketaclinic.assessments.safety_schemas import (
    SafetyAlertOut,
    SafetyPlanOut,
    WorklistOut,
    alert_dict,
    item_dict,
    plan_dict,
)
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
    Limit,
    Offset,
    Page,
    errors,
)
from ketaclinic.treatment.schemas import RefusedOut

router = Router(tags=["Safety alerts and worklist"])

LISTED = errors(*ANY_OPERATION)
READ = errors(*ANY_OPERATION, NOT_FOUND)
WRITTEN = {**errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY), 409: RefusedOut}


def _origin(request: HttpRequest) -> Origin:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


def _json(out: type[BaseModel], body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        out.model_validate(body).model_dump_json(), status=status, content_type="application/json"
    )


def _alert(alert: SafetyAlert) -> dict[str, Any]:
    return alert_dict(alert, safety.CLOSED_BY[AlertKind(alert.kind)])


@router.get("/worklist", response={200: WorklistOut, **LISTED}, summary="The clinician worklist")
def read_worklist(request: HttpRequest) -> Any:
    """What needs a clinician at your locations, most urgent first: open safety alerts (`cssrs_high`,
    `suicide_item`, `worsening`), assessments overdue and due today, patients not responding after induction
    and patients losing response in maintenance (clinic policy), and at-home programs whose next dose is
    held (`home_hold`) or whose check-in is missing (`home_checkin_missing`). `detail` never names the
    patient.
    Prescribers and nurses."""
    _require(request, Perm.WORKLIST_READ)
    items = worklist.worklist(request.user)
    record(Action.PATIENT_LIST, actor=request.user, origin=_origin(request), changed_fields=["worklist"])
    return {"items": [item_dict(i) for i in items]}


@router.get(
    "/patients/{patient_id}/safety-alerts",
    response={200: Page[SafetyAlertOut], **READ},
    summary="A patient's safety alerts, open first (paged)",
)
def list_alerts(
    request: HttpRequest, patient_id: str, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0
) -> Any:
    """Open alerts first (most urgent first), then closed ones, newest first. Each says what closes it."""
    _require(request, Perm.PATIENT_READ)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, origin=origin)
    open_ = safety.open_alerts(patient.pk)
    closed = list(
        SafetyAlert.objects.filter(patient=patient, status=AlertStatus.CLOSED).order_by("-closed_at", "-pk")
    )
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=origin,
        obj=patient,
        patient=patient,
        changed_fields=["safety_alerts"],
    )
    rows = open_ + closed
    items = [_alert(a) for a in rows[offset : offset + limit]]
    return {"count": len(rows), "limit": limit, "offset": offset, "items": items}


@router.post(
    "/patients/{patient_id}/safety-alerts/{alert_id}/close",
    response={200: SafetyAlertOut, **WRITTEN},
    summary="Close a worsening flag after review (prescribers)",
)
def close_alert(request: HttpRequest, patient_id: str, alert_id: int, body: AlertCloseIn) -> HttpResponse:
    """Close a `worsening` alert with the note of your review. A `suicide_item` alert closes when a
    C-SSRS screener is recorded (`POST .../assessments` with `cssrs_screen`), a `cssrs_high` alert when a
    safety plan is recorded: closing them here is 409, as is closing a closed alert."""
    _require(request, Perm.SAFETY_ASSESS)
    origin = _origin(request)
    alert = get_alert_for(request.user, patient_id, alert_id, write=True, origin=origin)
    alert = safety.do_close_alert(alert, body, actor=request.user, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=alert, patient=alert.patient)
    return _json(SafetyAlertOut, _alert(alert))


@router.post(
    "/patients/{patient_id}/safety-plans",
    response={201: SafetyPlanOut, **WRITTEN},
    summary="Record a safety plan (prescribers)",
)
def create_plan(request: HttpRequest, patient_id: str, body: SafetyPlanIn) -> HttpResponse:
    """Record the safety plan made with the patient (the latest is in force). It closes an open
    `cssrs_high` alert, whose id the answer lists. The 201 answer's `Location` is the plan."""
    _require(request, Perm.SAFETY_ASSESS)
    origin = _origin(request)
    patient = get_safety_patient_for(request.user, patient_id, origin=origin)
    plan = safety.do_record_safety_plan(patient, body, actor=request.user, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=plan, patient=patient)
    closed = list(SafetyAlert.objects.filter(closed_by_safety_plan=plan).values_list("pk", flat=True))
    response = _json(SafetyPlanOut, plan_dict(plan, closed), 201)
    response["Location"] = f"/api/v1/patients/{patient.pk}/safety-plans/{plan.pk}"
    return response


@router.get(
    "/patients/{patient_id}/safety-plans/{plan_id}",
    response={200: SafetyPlanOut, **READ},
    summary="Read a safety plan",
)
def read_plan(request: HttpRequest, patient_id: str, plan_id: int) -> HttpResponse:
    _require(request, Perm.PATIENT_READ)
    origin = _origin(request)
    plan: SafetyPlan = get_plan_for(request.user, patient_id, plan_id, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=plan, patient=plan.patient)
    closed = list(SafetyAlert.objects.filter(closed_by_safety_plan=plan).values_list("pk", flat=True))
    return _json(SafetyPlanOut, plan_dict(plan, closed))
