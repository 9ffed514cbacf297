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

from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.errors import InvalidInput, field_errors
from ketaclinic.patients.access import get_patient_for
from ketaclinic.portal.actions import do_invite_patient
from ketaclinic.portal.inputs import InviteIn
from ketaclinic.portal.models import PatientAccount
from ketaclinic.web.shortcuts import requires, web_origin

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
