"""The staff side of the portal: invite a patient from the chart (a page of the staff site, not the portal).

The link is shown once to the staff member and, when asked, e-mailed to the patient through Django's e-mail
backend; the e-mail says nothing about the patient or their treatment, and the link holds only its secret.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action
from ketaclinic.clinical.preparation import CLINIC_INSTRUCTIONS, ESKETAMINE_PREPARATION
from ketaclinic.clinical.sources import SOURCES
from ketaclinic.clinicpolicy.access import get_location_for
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.errors import InvalidInput, VersionConflict, field_errors
from ketaclinic.patients.access import get_patient_for
from ketaclinic.portal.actions import do_invite_patient, do_set_preparation_text
from ketaclinic.portal.inputs import CLINIC_WORDED, InviteIn, PreparationIn
from ketaclinic.portal.models import PatientAccount, PreparationText
from ketaclinic.treatment.models import PlanModality
from ketaclinic.web.shortcuts import forbidden, requires, web_origin

EMAIL_SUBJECT = "Your patient portal invitation"
EMAIL_BODY = (
    "You have been invited to the KetaClinic patient portal.\n\n"
    "Choose your password here (the link works once and expires in {hours} hours):\n{link}\n\n"
    "If you did not expect this message, you can ignore it."
)


@require_http_methods(["GET", "POST"])
@requires(Perm.PORTAL_INVITE)
def invite(request: HttpRequest, pk: Any) -> HttpResponse:
    origin = web_origin(request)
    patient = get_patient_for(request.user, pk, write=True, origin=origin)
    account = PatientAccount.objects.filter(patient=patient).first()
    context: dict[str, Any] = {
        "patient": patient,
        "account": account,
        "errors": {},
        "email": account.email if account else patient.email,
        "link": "",
        "sent": False,
        "hours": settings.KETACLINIC_PORTAL_INVITATION_HOURS,
    }
    if request.method == "POST":
        wants_email = request.POST.get("send_email") == "yes"
        try:
            data = InviteIn.model_validate(
                {"email": request.POST.get("email", ""), "send_email": wants_email}
            )
            invitation, secret = do_invite_patient(patient, data, actor=request.user, origin=origin)
        except ValidationError as exc:
            context.update(errors=field_errors(exc), email=request.POST.get("email", ""))
            return render(request, "portal/staff_invite.html", context, status=422)
        except InvalidInput as exc:
            context.update(errors=exc.errors, email=request.POST.get("email", ""))
            return render(request, "portal/staff_invite.html", context, status=422)
        link = request.build_absolute_uri(reverse("portal:welcome", args=[secret]))
        if data.send_email:
            body = EMAIL_BODY.format(hours=settings.KETACLINIC_PORTAL_INVITATION_HOURS, link=link)
            send_mail(EMAIL_SUBJECT, body, None, [data.email])
        context.update(
            link=link,
            sent=data.send_email,
            email=data.email,
            account=invitation.account,
            expires=invitation.expires_at.astimezone(location_zone(patient.location)),
        )
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=account, patient=patient)
    return render(request, "portal/staff_invite.html", context)


@require_http_methods(["GET", "POST"])
@requires(Perm.CLINIC_READ)
def preparation(request: HttpRequest, location_id: int) -> HttpResponse:
    """What patients of the location are told before each session: the sourced esketamine facts, and the
    clinic's own words for IV and IM ketamine (clinic policy; its clinic admins change them)."""
    origin = web_origin(request)
    perm = Perm.CLINIC_MANAGE if request.method == "POST" else Perm.CLINIC_READ
    if not can(request.user, perm):  # a change needs a clinic admin, at some location first (403)
        deny(request.user, origin, str(perm))
        return forbidden(request)
    location = get_location_for(request.user, location_id, perm, origin=origin)
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    status = 200
    saved = ""
    if request.method == "POST":
        modality = request.POST.get("modality", "")
        typed = {modality: request.POST.get("text", "")}
        raw_version = request.POST.get("version", "0")
        try:
            data = PreparationIn.model_validate(
                {
                    "modality": modality,
                    "text": typed[modality],
                    "version": int(raw_version) if raw_version.isdigit() else -1,
                }
            )
            do_set_preparation_text(location, data, actor=request.user, origin=origin)
        except ValidationError as exc:
            errors, status = field_errors(exc), 422
        except VersionConflict:
            errors, status = {"text": "Someone changed these instructions since you opened the page."}, 409
        else:
            saved, typed = modality, {}
    texts = {p.modality: p for p in PreparationText.objects.filter(location=location)}
    labels = dict(PlanModality.choices)
    rows = [
        {"modality": m, "label": labels[m], "current": texts.get(m), "typed": typed.get(m)}
        for m in sorted(CLINIC_WORDED)
    ]
    context = {
        "location": location,
        "esketamine": ESKETAMINE_PREPARATION,
        "sources": SOURCES,
        "fallback": CLINIC_INSTRUCTIONS.text,
        "rows": rows,
        "errors": errors,
        "error_modality": request.POST.get("modality", "") if errors else "",
        "saved": saved,
        "can_manage": can(request.user, Perm.CLINIC_MANAGE, location.pk),
    }
    return render(request, "portal/staff_preparation.html", context, status=status)
