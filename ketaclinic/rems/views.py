"""Pages of Spravato REMS: the queue of forms to submit, a session's form (page and PDF) and its submission,
and each location's certified-setting details (clinic admins)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from ketaclinic.accounts.access import location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.clock import local_now, location_zone
from ketaclinic.errors import InvalidInput, Refused, VersionConflict, field_errors
from ketaclinic.rems import actions, queries
from ketaclinic.rems.access import get_form_session_for
from ketaclinic.rems.inputs import RemsSettingIn, SubmissionIn
from ketaclinic.rems.models import RemsSetting
from ketaclinic.rems.pages import form_context, form_pdf
from ketaclinic.treatment.models import TreatmentSession
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

SETTING_LABELS: dict[str, str] = {
    "setting_name": "Setting name",
    "address": "Address",
    "certification_id": "Certification / enrolment ID",
    "authorised_representative": "Authorised representative",
    "hcp_name": "Monitoring HCP name",
    "hcp_phone": "Monitoring HCP phone",
    "hcp_email": "Monitoring HCP e-mail",
    "asks_sedation": "Ask about sedation",
    "asks_dissociation": "Ask about dissociation",
    "asks_respiratory_depression": "Ask about respiratory depression",
    "version": "Version",
}
CHECKBOXES = ("asks_sedation", "asks_dissociation", "asks_respiratory_depression")


@requires(Perm.REMS_SETTING_MANAGE)
@require_GET
def settings_list(request: HttpRequest) -> HttpResponse:
    locations = queries.managed_locations(request.user)
    rows = queries.settings_by_location(locations)
    context = {
        "rows": [(loc, rows.get(loc.pk)) for loc in locations],
        "labels": SETTING_LABELS,
        "notices": list(messages.get_messages(request)),
    }
    return render(request, "rems/settings.html", context)


def _values(setting: RemsSetting | None) -> dict[str, Any]:
    if setting is None:
        return {"version": 0, **dict.fromkeys(CHECKBOXES, True)}
    return {name: getattr(setting, name) for name in SETTING_LABELS}


def _parse(location: ClinicLocation, data: QueryDict) -> RemsSettingIn:
    raw: dict[str, Any] = {name: data.get(name, "") for name in SETTING_LABELS if name not in CHECKBOXES}
    raw.update({name: name in data for name in CHECKBOXES})
    version = str(raw["version"])
    raw["version"] = int(version) if version.isdigit() and len(version) < 10 else version
    try:
        return RemsSettingIn.model_validate({**raw, "location": location.slug})
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


@requires(Perm.REMS_SETTING_MANAGE)
@require_http_methods(["GET", "POST"])
def setting_edit(request: HttpRequest, slug: str) -> HttpResponse:
    origin = web_origin(request)
    location = queries.location_to_manage(request.user, slug, origin=origin)
    setting = queries.setting_of(location)
    errors: dict[str, str] = {}
    values = _values(setting)
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in SETTING_LABELS}
        values.update({name: name in request.POST for name in CHECKBOXES})
        try:
            data = _parse(location, request.POST)
            actions.do_save_rems_setting(location, data, actor=request.user, origin=origin)
        except InvalidInput as exc:
            errors, status = form_errors(exc.errors), 422
        except VersionConflict:
            errors = {"version": "Someone saved these details since you opened them; they are shown again."}
            values, status = _values(setting), 412
        else:
            messages.success(request, f"REMS setting details of {location.name} saved.")
            return redirect("rems:settings")
    context = {"location": location, "values": values, "errors": errors, "labels": SETTING_LABELS}
    return render(request, "rems/setting_edit.html", context, status=status)


# --- the queue and the form ---------------------------------------------------------------------------


@requires(Perm.REMS_QUEUE_READ)
@require_GET
def queue_page(request: HttpRequest) -> HttpResponse:
    """Forms still to submit at the user's locations, overdue first (red). Names only where the user reads
    patients; the list is a patient list in the audit trail."""
    items = queries.queue(request.user)
    record(Action.PATIENT_LIST, actor=request.user, origin=web_origin(request), changed_fields=["rems_queue"])
    context = {
        "items": items,
        "overdue": sum(1 for i in items if i.status == "overdue"),
        "can_open": location_ids(request.user, Perm.REMS_SUBMIT),
        "notices": list(messages.get_messages(request)),
    }
    return render(request, "rems/queue.html", context)


def _form_page(
    request: HttpRequest,
    session: TreatmentSession,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=web_origin(request),
        obj=session,
        patient=session.patient,
    )
    context = {
        **form_context(session),
        "session": session,
        "patient": session.patient,
        "errors": errors or {},
        "values": {k: request.POST.get(k, "") for k in SUBMISSION_LABELS} if errors else {},
        "labels": SUBMISSION_LABELS,
        "notices": list(messages.get_messages(request)),
        "now_local": local_now(session.location).strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, "rems/form.html", context, status=status)


SUBMISSION_LABELS = {"submitted_at": "Submitted at", "confirmation_number": "Confirmation number"}


@requires(Perm.REMS_SUBMIT)
@require_GET
def form_page(request: HttpRequest, session_id: str) -> HttpResponse:
    session = get_form_session_for(request.user, session_id, origin=web_origin(request))
    return _form_page(request, session)


@requires(Perm.REMS_SUBMIT)
@require_GET
def form_download(request: HttpRequest, session_id: str) -> HttpResponse:
    origin = web_origin(request)
    session = get_form_session_for(request.user, session_id, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=session, patient=session.patient)
    response = HttpResponse(form_pdf(session), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="rems-monitoring-form.pdf"'
    return response


def _submitted_at(raw: str, session: TreatmentSession) -> Any:
    """The form's local date and time, read in the session's location's zone."""
    try:
        moment = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=location_zone(session.location))
    return moment


@requires(Perm.REMS_SUBMIT)
@require_POST
def form_submit(request: HttpRequest, session_id: str) -> HttpResponse:
    origin = web_origin(request)
    session = get_form_session_for(request.user, session_id, origin=origin)
    raw = {
        "submitted_at": _submitted_at(request.POST.get("submitted_at", ""), session),
        "confirmation_number": request.POST.get("confirmation_number", ""),
    }
    try:
        data = SubmissionIn.model_validate(raw)
        actions.do_record_submission(session, data, actor=request.user, origin=origin)
    except ValidationError as exc:
        return _form_page(request, session, errors=form_errors(field_errors(exc)), status=422)
    except InvalidInput as exc:
        return _form_page(request, session, errors=form_errors(exc.errors), status=422)
    except Refused as exc:
        return _form_page(request, session, errors={"confirmation_number": exc.detail + "."}, status=409)
    messages.success(request, "Submission recorded: the form has left the queue.")
    return redirect("rems:form", session_id=session.pk)
