"""Pages of screening: a patient's screenings and REMS enrolment, one screening with its findings and the
acknowledgement form, and the panel the chart loads. Same actions as the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from pydantic import ValidationError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinical.common import Level, Modality
from ketaclinic.clinical.eligibility import Decision
from ketaclinic.clinical.sources import SOURCES
from ketaclinic.errors import InvalidInput, Refused, field_errors
from ketaclinic.patients.models import Patient
from ketaclinic.patients.picture import (
    DECISION_LABELS,
    DECISION_TONES,
    LEVEL_LABELS,
    LEVEL_TONES,
    MODALITY_LABELS,
)
from ketaclinic.screening import actions, inputs, queries
from ketaclinic.screening.access import get_patient_screening_for, patient_for
from ketaclinic.screening.facts import current_facts, fingerprint
from ketaclinic.screening.models import Acknowledgement, Screening
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

LABELS = {
    "modality": "Modality",
    "rule_id": "Finding",
    "reason": "Reason",
    "enrolled_on": "Enrolled on",
    "rems_patient_id": "REMS patient ID",
}


def _read(request: HttpRequest, patient: Patient, obj: Any = None) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=web_origin(request),
        obj=obj or patient,
        patient=patient,
    )


def _parse(model: type[Any], data: Any, fields: tuple[str, ...]) -> Any:
    try:
        return model.model_validate({f: data.get(f, "") for f in fields})
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


def _rows(patient: Patient) -> list[dict[str, Any]]:
    """One row per modality: the latest screening, its decision and whether the chart moved on since."""
    latest = queries.latest_screenings(patient)
    current = fingerprint(current_facts(patient)) if latest else ""
    rows = []
    for m in Modality:
        s = latest.get(m.value)
        decision = Decision(s.decision) if s else None
        rows.append(
            {
                "modality": m.value,
                "label": MODALITY_LABELS[m],
                "screening": s,
                "decision_label": DECISION_LABELS[decision] if decision else "",
                "tone": DECISION_TONES[decision].value if decision else "muted",
                "stale": bool(s and s.facts_fingerprint != current),
            }
        )
    return rows


def _can(request: HttpRequest, perm: Perm, patient: Patient) -> bool:
    return can(request.user, perm, patient.location_id) and not patient.entered_in_error_at


def _render_patient(
    request: HttpRequest,
    patient: Patient,
    *,
    errors: dict[str, str] | None = None,
    values: Any = None,
    status: int = 200,
    template: str = "screening/patient.html",
) -> HttpResponse:
    _read(request, patient)
    context = {
        "patient": patient,
        "rows": _rows(patient),
        "choices": [(m.value, MODALITY_LABELS[m]) for m in Modality],
        "enrolment": queries.rems_enrolment(patient),
        "can_screen": _can(request, Perm.SCREENING_RUN, patient),
        "can_enrol": _can(request, Perm.REMS_ENROL, patient),
        "errors": errors or {},
        "values": values or {},
        "field_labels": LABELS,
        "saved": request.GET.get("saved") == "1" and not errors,
    }
    return render(request, template, context, status=status)


@requires(Perm.PATIENT_READ)
@require_GET
def patient_screenings(request: HttpRequest, pk: str) -> HttpResponse:
    patient = patient_for(request.user, pk, origin=web_origin(request))
    return _render_patient(request, patient)


@requires(Perm.PATIENT_READ)
@require_GET
def chart_panel(request: HttpRequest, pk: str) -> HttpResponse:
    """The chart's screening panel (loaded after the chart, so the chart's own queries stay as they are)."""
    patient = patient_for(request.user, pk, origin=web_origin(request))
    return _render_patient(request, patient, template="screening/_panel.html")


@requires(Perm.SCREENING_RUN)
@require_POST
def run(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    patient = patient_for(request.user, pk, Perm.SCREENING_RUN, origin=origin)
    try:
        data = _parse(inputs.ScreeningIn, request.POST, ("modality",))
        screening = actions.do_run_screening(patient, data, actor=request.user, origin=origin)
    except InvalidInput as exc:
        return _render_patient(
            request, patient, errors=form_errors(exc.errors), values=request.POST, status=422
        )
    except Refused as exc:
        return _render_patient(request, patient, errors={"modality": exc.detail}, status=409)
    return redirect(f"/screening/patients/{patient.pk}/{screening.pk}/")


@requires(Perm.REMS_ENROL)
@require_POST
def enrol(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    patient = patient_for(request.user, pk, Perm.REMS_ENROL, origin=origin)
    try:
        data = _parse(inputs.RemsEnrolmentIn, request.POST, ("enrolled_on", "rems_patient_id"))
        actions.do_record_rems_enrolment(patient, data, actor=request.user, origin=origin)
    except InvalidInput as exc:
        return _render_patient(
            request, patient, errors=form_errors(exc.errors), values=request.POST, status=422
        )
    except Refused as exc:
        return _render_patient(request, patient, errors={"rems_patient_id": exc.detail}, status=409)
    return redirect(f"/screening/patients/{patient.pk}/?saved=1#rems")


def _finding(f: dict[str, Any], acks: dict[str, Acknowledgement]) -> dict[str, Any]:
    level = Level(f["level"])
    return {
        "rule_id": f["rule_id"],
        "level": level.value,
        "level_label": LEVEL_LABELS.get(level, level.value),
        "tone": LEVEL_TONES[level].value if level in LEVEL_TONES else "muted",
        "message": f["message"],
        "sources": [(tag, SOURCES.get(tag, "")) for tag in f.get("sources", [])],
        "ack": acks.get(f["rule_id"]),
        "needs_ack": level is Level.ACKNOWLEDGE and f["rule_id"] not in acks,
    }


def _render_screening(
    request: HttpRequest,
    screening: Screening,
    *,
    errors: dict[str, str] | None = None,
    values: Any = None,
    refused: Refused | None = None,
    status: int = 200,
) -> HttpResponse:
    patient = screening.patient
    _read(request, patient, screening)
    acks = {
        a.rule_id: a for a in Acknowledgement.objects.filter(screening=screening).select_related("created_by")
    }
    decision = Decision(screening.decision)
    context = {
        "patient": patient,
        "s": screening,
        "label": MODALITY_LABELS[Modality(screening.modality)],
        "decision_label": DECISION_LABELS[decision],
        "tone": DECISION_TONES[decision].value,
        "findings": [_finding(f, acks) for f in screening.findings],
        "stale": queries.is_stale(screening),
        "latest": queries.latest_screening(patient, screening.modality),
        "can_ack": _can(request, Perm.SCREENING_RUN, patient),
        "errors": errors or {},
        "values": values or {},
        "refused": refused,
        "field_labels": LABELS,
        "saved": request.GET.get("saved") == "1" and not errors and not refused,
    }
    return render(request, "screening/screening.html", context, status=status)


@requires(Perm.PATIENT_READ)
@require_GET
def screening_page(request: HttpRequest, pk: str, sid: int) -> HttpResponse:
    screening = get_patient_screening_for(request.user, pk, sid, origin=web_origin(request))
    return _render_screening(request, screening)


@requires(Perm.SCREENING_RUN)
@require_POST
def acknowledge(request: HttpRequest, pk: str, sid: int) -> HttpResponse:
    origin = web_origin(request)
    screening = get_patient_screening_for(request.user, pk, sid, Perm.SCREENING_RUN, origin=origin)
    try:
        data = _parse(inputs.AcknowledgementIn, request.POST, ("rule_id", "reason"))
        actions.do_acknowledge(screening, data, actor=request.user, origin=origin)
    except InvalidInput as exc:
        return _render_screening(
            request, screening, errors=form_errors(exc.errors), values=request.POST, status=422
        )
    except Refused as exc:
        return _render_screening(request, screening, refused=exc, values=request.POST, status=409)
    return redirect(f"/screening/patients/{screening.patient.pk}/{screening.pk}/?saved=1")
