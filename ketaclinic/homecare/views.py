"""Staff pages of home programs: the patient's home program (prescription, doses, check-ins, the hold and
its reasons), prescribing one, pausing, resuming or ending it, and releasing a hold; and the chart's hold
banner (registered with patients.views).

Tablet-first clinical pages. Every page that shows the patient writes its read event; every write goes
through the actions (one audit row each).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from pydantic import ValidationError

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments.access import patient_for
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import InvalidInput, Refused, VersionConflict, field_errors
from ketaclinic.homecare import actions, forms, queries
from ketaclinic.homecare.inputs import ProgramStatusIn, ReleaseIn
from ketaclinic.homecare.models import ProgramStatus, Relationship, Route, SideEffect
from ketaclinic.patients.models import Patient
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

LABELS = {
    "route": "Route",
    "dose_mg": "Dose (mg)",
    "min_days_between_doses": "Days between doses (at least)",
    "start_date": "First day",
    "monitor_name": "Expected monitor",
    "drug": "Drug",
    "status": "Status",
    "reason": "Reason",
}


def _read(request: HttpRequest, patient: Patient, obj: Any, fields: list[str] | None = None) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=web_origin(request),
        obj=obj,
        patient=patient,
        changed_fields=fields or ["home_program"],
    )


def _page(
    request: HttpRequest,
    patient: Patient,
    *,
    errors: dict[str, str] | None = None,
    values: Any = None,
    form: str = "",
    status: int = 200,
) -> HttpResponse:
    program = queries.program_of(patient)
    doses = list(queries.doses_of(program)[:60]) if program else []
    found = queries.hold_of(program) if program else None
    _read(request, patient, program or patient)
    context = {
        "patient": patient,
        "program": program,
        "doses": doses,
        "hold": found,
        "next_on": queries.next_dose_on(program) if program else None,
        "policy": policy_for(patient.location),
        "can_prescribe": can(request.user, Perm.TREATMENT_PRESCRIBE, patient.location_id),
        "routes": Route.choices,
        "relationships": dict(Relationship.choices),
        "side_effect_names": dict(SideEffect.choices),
        "statuses": [(s, label) for s, label in ProgramStatus.choices],
        "today": local_today(patient.location).isoformat(),
        "zone": patient.location.time_zone,  # times on the location's clock
        "errors": errors or {},
        "values": values or {},
        "form": form,
        "labels": LABELS,
        "saved": request.GET.get("saved", ""),
    }
    return render(request, "homecare/program.html", context, status=status)


@requires(Perm.PATIENT_READ)
@require_http_methods(["GET", "POST"])
def program_page(request: HttpRequest, pk: str) -> HttpResponse:
    """GET: the patient's home program. POST: prescribe one (prescribers at the patient's location)."""
    origin = web_origin(request)
    if request.method == "GET":
        return _page(request, patient_for(request.user, pk, origin=origin))
    patient = _prescribing(request, pk)
    try:
        actions.do_prescribe_home_program(
            patient, forms.program(request.POST), actor=request.user, origin=origin
        )
    except ValidationError as exc:
        return _page(
            request,
            patient,
            errors=form_errors(field_errors(exc)),
            values=request.POST,
            form="new",
            status=422,
        )
    except Refused as exc:
        return _page(
            request,
            patient,
            errors={"program": exc.detail + " " + "; ".join(exc.reasons)},
            form="new",
            status=409,
        )
    return redirect(reverse("homecare:program", args=[patient.pk]) + "?saved=prescribed")


def _prescribing(request: HttpRequest, pk: str) -> Patient:
    from ketaclinic.audit.denials import deny
    from ketaclinic.errors import Forbidden

    if not can(request.user, Perm.TREATMENT_PRESCRIBE):
        deny(request.user, web_origin(request), str(Perm.TREATMENT_PRESCRIBE))
        raise Forbidden
    return patient_for(request.user, pk, Perm.TREATMENT_PRESCRIBE, origin=web_origin(request))


@requires(Perm.PATIENT_READ)
@require_POST
def status_page(request: HttpRequest, pk: str) -> HttpResponse:
    """Pause, resume or end the patient's home program, with the reason."""
    patient = _prescribing(request, pk)
    program = queries.program_of(patient)
    if program is None:
        return _page(request, patient, errors={"status": "No home program to change"}, status=409)
    try:
        data = ProgramStatusIn.model_validate(
            {"status": request.POST.get("status", ""), "reason": request.POST.get("reason", "")}
        )
        version = request.POST.get("version", "")
        actions.do_set_program_status(
            program,
            data,
            actor=request.user,
            expected_version=int(version) if version.isdigit() else None,
            origin=web_origin(request),
        )
    except ValidationError as exc:
        return _page(
            request,
            patient,
            errors=form_errors(field_errors(exc)),
            values=request.POST,
            form="status",
            status=422,
        )
    except InvalidInput as exc:
        return _page(
            request, patient, errors=form_errors(exc.errors), values=request.POST, form="status", status=422
        )
    except VersionConflict:
        return _page(
            request, patient, errors={"status": "The program changed meanwhile: look again"}, status=409
        )
    except Refused as exc:
        return _page(request, patient, errors={"status": exc.detail}, status=409)
    return redirect(reverse("homecare:program", args=[patient.pk]) + "?saved=status")


@requires(Perm.PATIENT_READ)
@require_POST
def release_page(request: HttpRequest, pk: str) -> HttpResponse:
    """Release the hold on the next home dose, with the reason (audited)."""
    patient = _prescribing(request, pk)
    program = queries.program_of(patient)
    if program is None:
        return _page(request, patient, errors={"reason": "No home program"}, status=409)
    try:
        data = ReleaseIn.model_validate({"reason": request.POST.get("reason", "")})
        actions.do_release_hold(program, data, actor=request.user, origin=web_origin(request))
    except ValidationError as exc:
        return _page(
            request,
            patient,
            errors=form_errors(field_errors(exc)),
            values=request.POST,
            form="release",
            status=422,
        )
    except Refused as exc:
        return _page(request, patient, errors={"reason": exc.detail}, status=409)
    return redirect(reverse("homecare:program", args=[patient.pk]) + "?saved=released")


def chart_banners(request: HttpRequest, patient: Patient) -> list[dict[str, Any]]:
    """The chart's hold banner (registered with patients.views): the held next home dose and its reasons,
    with the home program page for a prescriber there."""
    # One query for a patient without a home program in force (most charts).
    program = queries.in_force(patient)
    if program is None:
        return []
    found = queries.hold_of(program, timezone.now())
    if not found.held:
        return []
    acts = patient.location_id in location_ids(request.user, Perm.TREATMENT_PRESCRIBE)
    return [
        {
            "id": "home-hold",
            "level": "error",
            "urgent": False,
            "title": "Next home dose held",
            "text": found.text,
            "due_at": None,
            "due": "",
            "link": reverse("homecare:program", args=[patient.pk]) if acts else "",
            "link_label": "Review and release",
            "closes_when": "Released by a prescriber with a reason, or by a new home program.",
        }
    ]
