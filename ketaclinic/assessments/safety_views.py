"""Pages of the safety work: the clinician worklist, the C-SSRS screener a positive suicide item asks for, the
safety plan a high result asks for, the review that closes a worsening flag, and the chart's safety banner.

Tablet-first clinical pages. Every page that shows a patient writes its read event; the worklist writes one
patient-list event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from pydantic import ValidationError

from ketaclinic.accounts.access import location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments import safety, worklist
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import AlertKind, SafetyAlert, Source
from ketaclinic.assessments.safety_access import get_alert_for, get_safety_patient_for
from ketaclinic.assessments.safety_inputs import AlertCloseIn, SafetyPlanIn
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinical.scales import CSSRS_QUESTIONS
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.errors import InvalidInput, Refused, field_errors
from ketaclinic.patients.models import Patient
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

# The screener's questions as the page asks them: the follow-ups only after a yes to their gate [R12a].
CSSRS_GATES = {"q3": "q2", "q4": "q2", "q5": "q2", "q6_past_3_months": "q6"}
CSSRS_REQUIRED = ("q1", "q2", "q6")
# The screener's own numbering: the recency question belongs to question 6.
CSSRS_NUMBERS = {key: key[1:].replace("_past_3_months", "a") for key, _ in CSSRS_QUESTIONS}
ACTION_URLS = {
    AlertKind.SUICIDE_ITEM: ("safety:cssrs", "Complete a C-SSRS"),
    AlertKind.CSSRS_HIGH: ("safety:plan", "Record a safety plan"),
    AlertKind.WORSENING: ("safety:review", "Review"),
}


def due_text(due_at: dt.datetime | None, location: ClinicLocation) -> str:
    """When something is due, on the location's clock: "by the end of 2026-11-27" for a same-day task."""
    if due_at is None:
        return ""
    local = due_at.astimezone(location_zone(location))
    if local.time() == dt.time.min:
        return f"by the end of {(local.date() - dt.timedelta(days=1)).isoformat()}"
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _chart(patient_id: Any) -> str:
    return reverse("patients:chart", args=[patient_id])


def _read(request: HttpRequest, patient: Patient, obj: Any = None) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=web_origin(request),
        obj=obj or patient,
        patient=patient,
    )


# --- The worklist ------------------------------------------------------------------------------------------


@requires(Perm.WORKLIST_READ)
@require_GET
def worklist_page(request: HttpRequest) -> HttpResponse:
    """What needs a clinician at the user's locations, most urgent first; names where the user reads
    patients, the step that closes an alert where the user does safety work."""
    items = worklist.worklist(request.user)
    record(Action.PATIENT_LIST, actor=request.user, origin=web_origin(request), changed_fields=["worklist"])
    context = {
        "items": items,
        "labels": worklist.LABELS,
        "urgent": sum(1 for i in items if i.priority == worklist.Priority.URGENT),
        "alerts": sum(1 for i in items if i.kind.value in AlertKind.values),
        "acts_at": location_ids(request.user, Perm.SAFETY_ASSESS),
        "reads_at": location_ids(request.user, Perm.PATIENT_READ),
        "action_urls": ACTION_URLS,
        "due_text": due_text,
        "notices": list(messages.get_messages(request)),
    }
    return render(request, "safety/worklist.html", context)


# --- The C-SSRS screener -----------------------------------------------------------------------------------


def _cssrs_answers(data: Any) -> tuple[dict[str, bool], dict[str, str]]:
    answers: dict[str, bool] = {}
    errors: dict[str, str] = {}
    for key, _ in CSSRS_QUESTIONS:
        raw = data.get(key, "")
        if raw in ("yes", "no"):
            answers[key] = raw == "yes"
        elif raw:
            errors[key] = "Answer yes or no"
    for key in CSSRS_REQUIRED:
        if key not in answers and key not in errors:
            errors[key] = "Answer this question"
    for key, gate in CSSRS_GATES.items():
        if answers.get(gate) and key not in answers and key not in errors:
            errors[key] = f"Answer this question (asked when question {gate[1:]} is yes)"
        if not answers.get(gate) and answers.get(key):
            errors[key] = f"Leave this unanswered: it is asked only when question {gate[1:]} is yes"
        if not answers.get(gate):
            answers.pop(key, None)
    return answers, errors


def _cssrs_page(
    request: HttpRequest, patient: Patient, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    _read(request, patient)
    context = {
        "patient": patient,
        "questions": CSSRS_QUESTIONS,
        "numbers": CSSRS_NUMBERS,
        "gates": CSSRS_GATES,
        "alerts": safety.open_alerts(patient.pk),
        "due_text": due_text,
        "errors": errors or {},
        "values": request.POST if errors else {},
        "chart_url": _chart(patient.pk),
    }
    return render(request, "safety/cssrs.html", context, status=status)


@requires(Perm.SAFETY_ASSESS)
@require_http_methods(["GET", "POST"])
def cssrs(request: HttpRequest, pk: str) -> HttpResponse:
    """The C-SSRS screener, asked by the prescriber: a positive suicide item's task closes when it is saved;
    a high result opens an urgent alert and leads to the safety plan."""
    origin = web_origin(request)
    patient = get_safety_patient_for(request.user, pk, origin=origin)
    if request.method == "GET":
        return _cssrs_page(request, patient)
    answers, errors = _cssrs_answers(request.POST)
    if errors:
        return _cssrs_page(request, patient, errors=errors, status=422)
    data = AssessmentIn.model_validate({"instrument": "cssrs_screen", "answers": answers})
    try:
        screener = do_record_assessment(
            patient, data, actor=request.user, origin=origin, source=Source.CLINIC
        )
    except InvalidInput as exc:
        named = {k.removeprefix("answers."): v for k, v in exc.errors.items()}
        return _cssrs_page(request, patient, errors=form_errors(named), status=422)
    except Refused as exc:
        return _cssrs_page(request, patient, errors={"q1": exc.detail + "."}, status=409)
    if screener.band == "high":
        messages.warning(request, "C-SSRS result: HIGH risk. Act now, then record the safety plan.")
        return redirect("safety:plan", pk=patient.pk)
    messages.success(request, f"C-SSRS recorded: {screener.band} risk.")
    return redirect(_chart(patient.pk))


# --- The safety plan ---------------------------------------------------------------------------------------


def _plan_page(
    request: HttpRequest, patient: Patient, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    _read(request, patient)
    current = safety.latest_safety_plan(patient.pk)
    context = {
        "patient": patient,
        "current": current,
        "alerts": safety.open_alerts(patient.pk),
        "due_text": due_text,
        "errors": errors or {},
        "plan_text": request.POST.get("plan_text", "") if errors else (current.plan_text if current else ""),
        "chart_url": _chart(patient.pk),
        "notices": list(messages.get_messages(request)),
    }
    return render(request, "safety/plan.html", context, status=status)


@requires(Perm.SAFETY_ASSESS)
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest, pk: str) -> HttpResponse:
    """Record the safety plan made with the patient; it closes an open high C-SSRS alert."""
    origin = web_origin(request)
    patient = get_safety_patient_for(request.user, pk, origin=origin)
    if request.method == "GET":
        return _plan_page(request, patient)
    try:
        data = SafetyPlanIn.model_validate({"plan_text": request.POST.get("plan_text", "")})
        safety.do_record_safety_plan(patient, data, actor=request.user, origin=origin)
    except ValidationError as exc:
        return _plan_page(request, patient, errors=form_errors(field_errors(exc)), status=422)
    except InvalidInput as exc:
        return _plan_page(request, patient, errors=form_errors(exc.errors), status=422)
    messages.success(request, "Safety plan recorded.")
    return redirect(_chart(patient.pk))


# --- Reviewing a worsening ---------------------------------------------------------------------------------


def _review_page(
    request: HttpRequest, alert: SafetyAlert, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    _read(request, alert.patient, alert)
    context = {
        "patient": alert.patient,
        "alert": alert,
        "closes_when": safety.CLOSED_BY[AlertKind(alert.kind)],
        "errors": errors or {},
        "note": request.POST.get("note", "") if errors else "",
        "chart_url": _chart(alert.patient.pk),
    }
    return render(request, "safety/review.html", context, status=status)


@requires(Perm.SAFETY_ASSESS)
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: str, alert_id: int) -> HttpResponse:
    """Close a worsening flag with the note of the review."""
    origin = web_origin(request)
    alert = get_alert_for(request.user, pk, alert_id, write=True, origin=origin)
    if request.method == "GET":
        return _review_page(request, alert)
    try:
        data = AlertCloseIn.model_validate({"note": request.POST.get("note", "")})
        safety.do_close_alert(alert, data, actor=request.user, origin=origin)
    except ValidationError as exc:
        return _review_page(request, alert, errors=form_errors(field_errors(exc)), status=422)
    except Refused as exc:
        return _review_page(
            request, alert, errors={"note": f"{exc.detail}. {' '.join(exc.reasons)}"}, status=409
        )
    messages.success(request, "Review recorded: the worsening flag is closed.")
    return redirect(_chart(alert.patient.pk))


# --- The chart's banner ------------------------------------------------------------------------------------


def chart_banners(request: HttpRequest, patient: Patient) -> list[dict[str, Any]]:
    """The chart's safety banner (registered with patients.views): one line per open alert, the high C-SSRS
    one marked URGENT, with the step that closes it for a user who does safety work there. One query."""
    acts = patient.location_id in location_ids(request.user, Perm.SAFETY_ASSESS)
    banners = []
    for alert in safety.open_alerts(patient.pk):
        kind = AlertKind(alert.kind)
        name, label = ACTION_URLS[kind]
        args: list[Any] = [patient.pk] if kind is not AlertKind.WORSENING else [patient.pk, alert.pk]
        banners.append(
            {
                "id": f"safety-alert-{alert.kind}",
                "level": "error" if kind is AlertKind.CSSRS_HIGH else "warn",
                "urgent": kind is AlertKind.CSSRS_HIGH,
                "title": alert.get_kind_display(),
                "text": alert.detail,
                "due_at": alert.due_at,
                "due": due_text(alert.due_at, patient.location),
                "link": reverse(name, args=args) if acts else "",
                "link_label": label,
                "closes_when": safety.CLOSED_BY[kind],
            }
        )
    return banners
