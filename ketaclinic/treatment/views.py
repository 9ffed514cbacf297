"""Pages of treatment: a patient's plans, one plan, and the session page the nurse works through on a tablet.

Every write is a POST to one step of the page, through the same input models and actions as the API; a
refused step shows the page again with the message by its field, or every reason a gate gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinical.protocols import PROTOCOLS
from ketaclinic.clinicpolicy.clock import local_today, location_zone
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.errors import InvalidInput, NotFound, Refused, VersionConflict
from ketaclinic.patients.access import get_patient_for
from ketaclinic.patients.models import PregnancyStatus
from ketaclinic.treatment import actions, forms, queries
from ketaclinic.treatment.access import get_alert_for, get_dose_for, get_plan_for, get_session_for
from ketaclinic.treatment.models import (
    AdverseEventCode,
    AdverseEventOutcome,
    AdverseEventSeverity,
    PlanChangeKind,
    PlanModality,
    PlanStatus,
    SessionStatus,
    TimePoint,
    TreatmentSession,
)
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
LABELS = {
    "modality": "Modality",
    "protocol": "Protocol",
    "start_date": "First session",
    "dose": "Dose",
    "dose_mg": "Dose (mg)",
    "dose_mg_per_kg": "Dose (mg/kg)",
    "clinic_days": "Clinic days",
    "maintenance_sessions": "Maintenance sessions",
    "infusion_minutes": "Infusion minutes",
    "reason": "Reason",
    "checked_in_at": "Checked in at",
    "chair_id": "Chair or room",
    "taken_at": "Time",
    "systolic_mmhg": "Systolic",
    "diastolic_mmhg": "Diastolic",
    "heart_rate_bpm": "Heart rate",
    "spo2_percent": "SpO2",
    "amount_mg": "Amount (mg)",
    "lot_number": "Lot number",
    "started_at": "Started at",
    "ended_at": "Ended at",
    "used_at": "Used at",
    "answers": "Answers",
    "onset_at": "Onset",
    "action_taken": "Action taken",
    "discharged_at": "Discharged at",
    "ready_to_leave_minutes": "Ready to leave after (minutes)",
    "escort_name": "Taken home by",
    "medication_note": "Medication changes",
    "note": "Note",
}


def _read_event(request: HttpRequest, patient: Any, obj: Any) -> None:
    record(Action.PATIENT_READ, actor=request.user, origin=web_origin(request), obj=obj, patient=patient)


def _local(location: Any) -> Callable[[dt.datetime | None], str]:
    zone = location_zone(location)

    def hm(value: dt.datetime | None) -> str:
        return "" if value is None else value.astimezone(zone).strftime("%H:%M")

    return hm


# --- Plans ----------------------------------------------------------------------------------------------


def _plans_context(request: HttpRequest, patient: Any, **extra: Any) -> dict[str, Any]:
    plans = queries.plans_of(patient)
    return {
        "patient": patient,
        "plans": plans,
        "can_prescribe": can(request.user, Perm.TREATMENT_PRESCRIBE, patient.location_id),
        "modalities": PlanModality.choices,
        "protocols": [(p, s.name) for p, s in PROTOCOLS.items()],
        "weekdays": WEEKDAYS,
        "today": local_today(patient.location).isoformat(),
        "errors": {},
        "values": {},
        "labels": LABELS,
        "statuses": dict(PlanStatus.choices),
        "modality_names": dict(PlanModality.choices),
        **extra,
    }


@requires(Perm.PATIENT_READ)
@require_GET
def chart_panel(request: HttpRequest, pk: str) -> HttpResponse:
    """The chart's treatment panel (loaded after the chart): each plan with its sessions done of those
    planned, the next one ahead and the last one done, on the location's day. Read as the chart is read, so
    a clinician's break-the-glass grant that opened the chart opens it too."""
    patient = get_patient_for(request.user, pk, origin=web_origin(request))
    _read_event(request, patient, patient)
    today = local_today(patient.location)
    context = {
        "patient": patient,
        "progress": queries.progress_of(patient, today),
        "today": today,
        "can_prescribe": can(request.user, Perm.TREATMENT_PRESCRIBE, patient.location_id),
        "statuses": dict(PlanStatus.choices),
        "session_statuses": dict(SessionStatus.choices),
        "modality_names": dict(PlanModality.choices),
    }
    return render(request, "treatment/_panel.html", context)


@requires(Perm.PATIENT_READ)
@require_http_methods(["GET", "POST"])
def patient_plans(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    if request.method == "GET":
        patient = get_patient_for(request.user, pk, origin=origin)
        _read_event(request, patient, patient)
        return render(request, "treatment/plans.html", _plans_context(request, patient))
    if not can(request.user, Perm.TREATMENT_PRESCRIBE):
        raise_forbidden(request, Perm.TREATMENT_PRESCRIBE)
    patient = get_patient_for(request.user, pk, write=True, origin=origin)
    if not can(request.user, Perm.TREATMENT_PRESCRIBE, patient.location_id):
        raise_forbidden(request, Perm.TREATMENT_PRESCRIBE)
    try:
        plan = actions.do_create_plan(patient, forms.plan(request.POST), actor=request.user, origin=origin)
    except InvalidInput as exc:
        _read_event(request, patient, patient)
        context = _plans_context(request, patient, errors=_named(exc.errors), values=request.POST)
        return render(request, "treatment/plans.html", context, status=422)
    return redirect(reverse("treatment:plan", args=[plan.pk]))


def raise_forbidden(request: HttpRequest, perm: Perm) -> None:
    from ketaclinic.audit.denials import deny
    from ketaclinic.errors import Forbidden

    deny(request.user, web_origin(request), str(perm))
    raise Forbidden


def _named(errors: dict[str, str]) -> dict[str, str]:
    out = form_errors(errors)
    for unit in ("dose_mg", "dose_mg_per_kg"):
        if unit in out:
            out["dose"] = out.pop(unit)
    return out


def _plan_page(request: HttpRequest, plan: Any, status: int = 200, **extra: Any) -> HttpResponse:
    _read_event(request, plan.patient, plan)
    context = {
        "plan": plan,
        "patient": plan.patient,
        "detail": queries.plan_detail(plan),
        "can_prescribe": can(request.user, Perm.TREATMENT_PRESCRIBE, plan.patient.location_id),
        "weekdays": WEEKDAYS,
        "errors": {},
        "values": {},
        "labels": LABELS,
        "refused": None,
        "conflict": False,
        "statuses": dict(PlanStatus.choices),
        "modality_names": dict(PlanModality.choices),
        "protocol_names": {p: s.name for p, s in PROTOCOLS.items()},
        "change_kinds": dict(PlanChangeKind.choices),
        "blockers": actions.approval_blockers(plan) if plan.status == PlanStatus.DRAFT else [],
        **extra,
    }
    return render(request, "treatment/plan.html", context, status=status)


@requires(Perm.PATIENT_READ)
@require_GET
def plan_page(request: HttpRequest, pk: str) -> HttpResponse:
    return _plan_page(request, get_plan_for(request.user, pk, origin=web_origin(request)))


PLAN_STEPS = {"approve", "pause", "resume", "dose", "frequency", "end"}


@requires(Perm.TREATMENT_PRESCRIBE)
@require_POST
def plan_step(request: HttpRequest, pk: str, step: str) -> HttpResponse:
    if step not in PLAN_STEPS:
        raise NotFound
    origin = web_origin(request)
    plan = get_plan_for(request.user, pk, perm=Perm.TREATMENT_PRESCRIBE, origin=origin)
    kw: dict[str, Any] = {"actor": request.user, "origin": origin}
    try:
        kw["expected_version"] = int(request.POST.get("version", ""))
    except ValueError:
        kw["expected_version"] = None
    try:
        if step == "approve":
            actions.do_approve_plan(plan, **kw)
        elif step == "pause":
            actions.do_pause_plan(plan, forms.reason(request.POST), **kw)
        elif step == "resume":
            actions.do_resume_plan(plan, forms.reason(request.POST), **kw)
        elif step == "end":
            actions.do_end_plan(plan, forms.reason(request.POST), **kw)
        elif step == "dose":
            actions.do_change_plan_dose(plan, forms.dose_change(plan.modality, request.POST), **kw)
        else:
            actions.do_change_plan_frequency(plan, forms.frequency_change(request.POST), **kw)
    except InvalidInput as exc:
        return _plan_page(request, plan, 422, errors=_named(exc.errors), values=request.POST, step=step)
    except Refused as exc:
        return _plan_page(request, plan, 409, refused=exc)
    except VersionConflict:
        plan.refresh_from_db()
        return _plan_page(request, plan, 409, conflict=True)
    return redirect(reverse("treatment:plan", args=[plan.pk]))


# --- The session page -----------------------------------------------------------------------------------


def _session_page(
    request: HttpRequest, session: TreatmentSession, status: int = 200, **extra: Any
) -> HttpResponse:
    _read_event(request, session.patient, session)
    detail = queries.session_detail(session)
    open_for_charting = session.status == SessionStatus.CHECKED_IN
    context = {
        "session": session,
        "patient": session.patient,
        "plan": session.plan,
        "s": detail,
        # A signed session's stage is discharged; its badge says it is signed too (nothing left to do).
        "stage_label": SessionStatus.SIGNED.label
        if detail["status"] == SessionStatus.SIGNED
        else queries.STAGE_LABELS[detail["stage"]],
        "hm": _local(session.location),
        "can_chart": can(request.user, Perm.TREATMENT_CHART, session.location_id) and open_for_charting,
        "can_check_in": can(request.user, Perm.TREATMENT_CHECK_IN, session.location_id)
        and session.status == SessionStatus.SCHEDULED,
        "can_sign": can(request.user, Perm.TREATMENT_CHART, session.location_id)
        and session.status in (SessionStatus.DISCHARGED, SessionStatus.DEFERRED),
        "can_amend": can(request.user, Perm.TREATMENT_CHART, session.location_id)
        and session.status == SessionStatus.SIGNED,
        "chairs": [
            (c.pk, c.name) for c in Chair.objects.filter(location_id=session.location_id, active=True)
        ],
        "esketamine": session.plan.modality == PlanModality.ESKETAMINE_NASAL,
        "pregnancy_statuses": PregnancyStatus.choices,
        "event_codes": AdverseEventCode.choices,
        "severities": AdverseEventSeverity.choices,
        "outcomes": AdverseEventOutcome.choices,
        "code_names": dict(AdverseEventCode.choices),
        "time_points": dict(TimePoint.choices),
        "modality_names": dict(PlanModality.choices),
        "errors": {},
        "values": {},
        "labels": LABELS,
        "refused": None,
        "step": "",
        "now_hm": _local(session.location)(timezone.now()),
        "session_url": reverse("treatment:session", args=[session.pk]),
        **extra,
    }
    return render(request, "treatment/session.html", context, status=status)


@requires(Perm.PATIENT_READ)
@require_GET
def session_page(request: HttpRequest, pk: str) -> HttpResponse:
    return _session_page(request, get_session_for(request.user, pk, origin=web_origin(request)))


# step -> (permission, form parser, action)
def _run_step(step: str, session: TreatmentSession, request: HttpRequest) -> None:
    actor, origin, post = request.user, web_origin(request), request.POST
    if step == "check-in":
        actions.do_check_in(session, forms.check_in(session, post), actor=actor, origin=origin)
    elif step == "assign":
        actions.do_assign(session, forms.assign(session, post), actor=actor, origin=origin)
    elif step == "pre-dose":
        actions.do_record_predose_check(session, forms.predose(session, post), actor=actor, origin=origin)
    elif step == "vitals":
        actions.do_record_vitals(session, forms.vitals(session, post), actor=actor, origin=origin)
    elif step == "dose":
        actions.do_record_dose(session, forms.dose(session, post), actor=actor, origin=origin)
    elif step == "device":
        dose = get_dose_for(session, user=actor, origin=origin)
        number = forms._int(post, "number")
        if not isinstance(number, int):
            raise InvalidInput({"number": "choose a device"})
        actions.do_use_device(dose, number, forms.device(session, post), actor=actor, origin=origin)
    elif step == "dose-end":
        dose = get_dose_for(session, user=actor, origin=origin)
        actions.do_end_dose(dose, forms.dose_end(session, post), actor=actor, origin=origin)
    elif step == "observation":
        actions.do_record_observation(session, forms.observation(session, post), actor=actor, origin=origin)
    elif step == "adverse-event":
        actions.do_record_adverse_event(
            session, forms.adverse_event(session, post), actor=actor, origin=origin
        )
    elif step == "discharge":
        actions.do_discharge(session, forms.discharge(session, post), actor=actor, origin=origin)
    elif step == "sign":
        actions.do_sign(session, actor=actor, origin=origin)
    elif step == "amend":
        actions.do_amend(session, forms.amendment(session, post), actor=actor, origin=origin)
    else:
        raise NotFound


STEP_PERMS = {"check-in": Perm.TREATMENT_CHECK_IN}


@requires(Perm.TREATMENT_CHECK_IN)
@require_POST
def session_step(request: HttpRequest, pk: str, step: str) -> HttpResponse:
    perm = STEP_PERMS.get(step, Perm.TREATMENT_CHART)
    if not can(request.user, perm):
        raise_forbidden(request, perm)
    session = get_session_for(request.user, pk, perm=perm, origin=web_origin(request))
    try:
        _run_step(step, session, request)
    except InvalidInput as exc:
        return _session_page(
            request, session, 422, errors=form_errors(exc.errors), values=request.POST, step=step
        )
    except Refused as exc:  # what was typed stays in the form for the next try
        return _session_page(request, session, 409, refused=exc, values=request.POST, step=step)
    return redirect(reverse("treatment:session", args=[session.pk]) + f"#{step}")


@requires(Perm.TREATMENT_CHART)
@require_POST
def answer_alert(request: HttpRequest, pk: str, alert_id: int) -> HttpResponse:
    origin = web_origin(request)
    session = get_session_for(request.user, pk, perm=Perm.TREATMENT_CHART, origin=origin)
    alert = get_alert_for(session, alert_id, user=request.user, origin=origin)
    try:
        posted = {"answer": request.POST.get("answer", ""), "note": request.POST.get(f"note-{alert_id}", "")}
        actions.do_answer_alert(alert, forms.alert_answer(session, posted), actor=request.user, origin=origin)
    except InvalidInput as exc:
        errors = {f"{k}-{alert_id}": v for k, v in form_errors(exc.errors).items()}
        return _session_page(request, session, 422, errors=errors, values=request.POST, step="alerts")
    except Refused as exc:
        return _session_page(request, session, 409, refused=exc, values=request.POST, step="alerts")
    return redirect(reverse("treatment:session", args=[session.pk]) + "#alerts")
