"""Staff page of a patient's questionnaire requests: the plan's and the one-off ones, their status (due,
answered, expired, locked) and reminders, and a form to send a new link (a locked or expired one is
replaced this way). The new link is shown once, on the answer to the form, for staff to hand over; it is
not stored."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments import actions, inputs, links
from ketaclinic.assessments.access import patient_for
from ketaclinic.assessments.models import AssessmentRequest, Channel, RequestReason, RequestStatus
from ketaclinic.assessments.schedule import SELF_REPORT
from ketaclinic.audit.actions import record
from ketaclinic.audit.denials import deny, deny_patient
from ketaclinic.audit.models import Action
from ketaclinic.clinical import scales
from ketaclinic.errors import Forbidden, InvalidInput, Refused, field_errors
from ketaclinic.patients.models import Patient
from ketaclinic.web.shortcuts import requires, web_origin

LIST_LIMIT = 100
NAMES = {i.value: spec.name for i, spec in scales.INSTRUMENTS.items()}
REQUESTABLE = [(i.value, NAMES[i.value]) for i in scales.Instrument if i in SELF_REPORT] + [
    (scales.Instrument.MADRS.value, NAMES[scales.Instrument.MADRS.value] + " (clinician)")
]


def _context(patient: Patient, can_send: bool, **extra: Any) -> dict[str, Any]:
    rows = list(
        AssessmentRequest.objects.filter(patient=patient)
        .select_related("session")
        .order_by("-due_at", "-pk")[:LIST_LIMIT]
    )
    return {
        "patient": patient,
        "rows": rows,
        "limit": LIST_LIMIT,
        "names": NAMES,
        "reasons": dict(RequestReason.choices),
        "statuses": dict(RequestStatus.choices),
        "channels": dict(Channel.choices),
        "choices": REQUESTABLE,
        "channel_choices": [(c.value, c.label) for c in Channel],
        "can_send": can_send,
        "errors": {},
        "values": {},
        "link": None,
        **extra,
    }


@requires(Perm.PATIENT_READ)
@require_http_methods(["GET", "POST"])
def patient_requests(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    if request.method == "POST" and not can(request.user, Perm.ASSESSMENT_REQUEST):
        deny(request.user, origin, str(Perm.ASSESSMENT_REQUEST))
        raise Forbidden
    patient = patient_for(request.user, pk, origin=origin)
    can_send = (
        can(request.user, Perm.ASSESSMENT_REQUEST, patient.location_id) and not patient.entered_in_error_at
    )
    status, extra = 200, dict[str, Any]()
    if request.method == "POST":
        if not can(request.user, Perm.ASSESSMENT_REQUEST, patient.location_id):
            deny_patient(request.user, origin, patient)
            raise Forbidden
        values = {
            "instrument": request.POST.get("instrument", ""),
            "channel": request.POST.get("channel", ""),
        }
        try:
            data = inputs.AssessmentRequestIn.model_validate(values)
            made, token = actions.do_request_assessment(patient, data, actor=request.user, origin=origin)
            extra = {"link": links.url_of(token) if token else None, "made": made}
            status = 201
        except ValidationError as exc:
            extra, status = {"errors": field_errors(exc), "values": values}, 422
        except InvalidInput as exc:
            extra, status = {"errors": exc.errors, "values": values}, 422
        except Refused as exc:
            extra, status = {"errors": {"instrument": exc.detail}, "values": values}, 409
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=origin,
        obj=patient,
        patient=patient,
        changed_fields=["assessment_requests"],
    )
    context = _context(patient, can_send, **extra)
    return render(request, "assessments/requests.html", context, status=200 if status == 201 else status)
