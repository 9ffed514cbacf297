"""The patient's at-home dose pages in the portal: today's dose (the pre-dose step, then "you may take your
dose" and "I took my dose at <time>"), and the check-in after it; and the portal home page's card
(registered with portal.views).

Phone-first, no script needed. A patient reaches only their own program and doses (another patient's dose
id is the portal's not-found page). Every page that shows the patient's data writes a patient.read row
naming their portal account; every write goes through the actions.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from pydantic import ValidationError

from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.clock import local_date, location_zone
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import InvalidInput, NotFound, Refused, field_errors
from ketaclinic.homecare import actions, forms, queries
from ketaclinic.homecare.models import (
    DoseOutcome,
    HomeDose,
    HomeProgram,
    ProgramStatus,
    Relationship,
    Severity,
    SideEffect,
)
from ketaclinic.portal.auth import patient_page, portal_origin
from ketaclinic.portal.models import PatientAccount

SEVERITIES = [(s.value, s.label) for s in Severity]


def _read(request: HttpRequest, account: PatientAccount, fields: list[str], obj: Any = None) -> None:
    record(
        Action.PATIENT_READ,
        actor=account,
        origin=portal_origin(request),
        obj=obj,
        patient=account.patient,
        changed_fields=fields,
    )


def _at(program: HomeProgram) -> Any:
    zone = location_zone(program.location)

    def at(moment: dt.datetime | None) -> str:
        return moment.astimezone(zone).strftime("%a %d %b, %H:%M") if moment else ""

    return at


def _program(account: PatientAccount) -> HomeProgram | None:
    return (
        HomeProgram.objects.filter(patient_id=account.patient_id)
        .exclude(status=ProgramStatus.ENDED)
        .select_related("location")
        .first()
    )


def state(program: HomeProgram | None, now: dt.datetime) -> dict[str, Any]:
    """Where today's dose stands for the patient, first match wins: no program, paused, a check-in waiting
    or open, today's dose cleared or refused for blood pressure, held, too soon, not started, ready."""
    if program is None:
        return {"state": "none"}
    if program.status == ProgramStatus.PAUSED:
        return {"state": "paused"}
    waiting = queries.open_checkin(program, now)
    if waiting is not None:
        assert waiting.checkin_opens_at is not None
        return {
            "state": "checkin_open" if now >= waiting.checkin_opens_at else "checkin_wait",
            "dose": waiting,
        }
    today = local_date(program.location, now)
    latest = queries.doses_of(program).filter(day=today).first()
    if latest is not None and latest.outcome in (DoseOutcome.CLEARED, DoseOutcome.BP_TOO_HIGH):
        return {"state": latest.outcome, "dose": latest}
    found = queries.hold_of(program, now)
    if found.held:
        return {"state": "held", "hold": found}
    next_on = queries.next_dose_on(program)
    if next_on is not None and today < next_on:
        return {"state": "too_soon", "next_on": next_on}
    if today < program.start_date:
        return {"state": "not_started"}
    return {"state": "ready", "submit_key": secrets.token_urlsafe(16)}


def _context(account: PatientAccount, program: HomeProgram | None, now: dt.datetime) -> dict[str, Any]:
    return {
        "account": account,
        "program": program,
        "section": "home",
        "relationships": Relationship.choices,
        "at": _at(program) if program else (lambda m: ""),
        "policy": policy_for(program.location) if program else None,
        "now_clock": now.astimezone(location_zone(program.location)).strftime("%H:%M") if program else "",
        **state(program, now),
    }


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
@patient_page
def today(request: HttpRequest, account: PatientAccount) -> HttpResponse:
    """GET: today's dose. POST: the pre-dose step (blood pressure, pulse, the monitor, the confirmation)."""
    now = timezone.now()
    program = _program(account)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            actions.do_record_pre_dose(account, forms.pre_dose(request.POST), origin=portal_origin(request))
        except ValidationError as exc:
            errors, status = field_errors(exc), 422
        except Refused as exc:
            errors, status = {"form": exc.detail}, 409
        else:
            return redirect("home_dose:today")
    context = _context(account, program, now)
    if errors and context["state"] == "ready":
        context["submit_key"] = request.POST.get("submit_key", "") or context["submit_key"]
    _read(request, account, ["home_program", "home_doses"], program)
    context.update(errors=errors, values=request.POST if errors else {})
    return render(request, "homecare/portal/today.html", context, status=status)


@require_POST
@csrf_protect
@patient_page
def taken(request: HttpRequest, account: PatientAccount, dose_id: int) -> HttpResponse:
    """'I took my dose at <time>' (with the amount taken)."""
    dose = _own(account, dose_id)
    parsed: Any
    try:
        parsed = forms.taken(request.POST, dose)
        if not isinstance(parsed, dict):
            actions.do_record_taken(account, dose.pk, parsed, origin=portal_origin(request))
    except ValidationError as exc:
        parsed = field_errors(exc)
    except InvalidInput as exc:
        parsed = exc.errors
    except Refused:
        return redirect("home_dose:today")
    if isinstance(parsed, dict):
        context = _context(account, dose.program, timezone.now())
        context.update(errors=parsed, values=request.POST)
        _read(request, account, ["home_doses"], dose)
        return render(request, "homecare/portal/today.html", context, status=422)
    return redirect("home_dose:today")


def _own(account: PatientAccount, dose_id: int) -> HomeDose:
    dose = (
        HomeDose.objects.select_related("program", "program__location")
        .filter(pk=dose_id, patient_id=account.patient_id)
        .first()
    )
    if dose is None:
        raise NotFound
    return dose


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
@patient_page
def checkin(request: HttpRequest, account: PatientAccount, dose_id: int) -> HttpResponse:
    """The check-in after a home dose, while it is open. Sent, it shows crisis resources, and says so when
    the answers hold the next dose."""
    dose = _own(account, dose_id)
    now = timezone.now()
    if hasattr(dose, "checkin") and request.method == "GET":
        return redirect("home_dose:today")
    if dose.outcome != DoseOutcome.TAKEN or dose.checkin_opens_at is None or dose.checkin_due_at is None:
        raise NotFound
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            sent = actions.do_record_checkin(
                account, dose.pk, forms.checkin(request.POST), origin=portal_origin(request)
            )
        except ValidationError as exc:
            errors = field_errors(exc)
        except Refused as exc:
            errors = {"form": f"{exc.detail} {'; '.join(exc.reasons)}".strip()}
        else:
            return render(
                request,
                "homecare/portal/thanks.html",
                {"account": account, "section": "home", "failed": sent.failed},
            )
    _read(request, account, ["home_checkin"], dose)
    context = {
        "account": account,
        "section": "home",
        "dose": dose,
        "at": _at(dose.program),
        "open": dose.checkin_opens_at <= now <= dose.checkin_due_at,
        "side_effects": SideEffect.choices,
        "severities": SEVERITIES,
        "errors": errors,
        "values": request.POST if errors else {},
    }
    return render(request, "homecare/portal/checkin.html", context, status=422 if errors else 200)


def portal_cards(request: HttpRequest, account: PatientAccount) -> list[dict[str, Any]]:
    """The portal home page's 'Today's dose' card, for a patient with a home program in force."""
    program = _program(account)
    if program is None:
        return []
    now = timezone.now()
    found = state(program, now)
    texts = {
        "checkin_open": ("warn", "Your check-in after your dose is due now."),
        "held": ("error", "Your next dose is on hold. Your clinic will contact you."),
        "bp_too_high": ("error", "Do not take your dose today. Your clinic has been told."),
        "cleared": ("info", "You may take your dose. Tell us when you have taken it."),
    }
    level, text = texts.get(found["state"], ("info", "Record your blood pressure before each home dose."))
    return [
        {
            "id": "home-dose-card",
            "level": level,
            "title": "Today's dose",
            "text": text,
            "link": reverse("home_dose:today"),
            "link_label": "Open today's dose",
        }
    ]
