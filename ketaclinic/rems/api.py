"""API routes of Spravato REMS (mounted under /api/v1 by ketaclinic/api/app.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.inputs import LocationSlug
from ketaclinic.patients.schemas import (
    ANY_OPERATION,
    NOT_FOUND,
    PAGE_LIMIT_DEFAULT,
    WITH_BODY,
    ErrorOut,
    Limit,
    Offset,
    errors,
)
from ketaclinic.rems import actions, queries
from ketaclinic.rems.access import get_form_session_for
from ketaclinic.rems.inputs import RemsSettingIn, SubmissionIn
from ketaclinic.rems.models import RemsSetting
from ketaclinic.rems.pages import form_context, form_pdf, submission_dict
from ketaclinic.rems.schemas import QueueItemOut, RemsFormOut, RemsSettingOut, RemsSettingPage, SubmissionOut

router = Router(tags=["Spravato REMS"])
LISTED = errors(*ANY_OPERATION)
READ = errors(*ANY_OPERATION, NOT_FOUND)
SAVED = errors(*ANY_OPERATION, NOT_FOUND, 412, *WITH_BODY)
SUBMITTED = errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY)


def _origin(request: HttpRequest) -> Any:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


def _setting(row: RemsSetting, slug: str) -> dict[str, Any]:
    names = RemsSettingOut.model_fields.keys() - {"location"}
    return {"location": slug, **{name: getattr(row, name) for name in names}}


@router.get(
    "/rems/settings",
    response={200: RemsSettingPage, **LISTED},
    summary="REMS setting details of your locations",
)
def list_settings(request: HttpRequest, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0) -> Any:
    """The certified-setting details of each location whose REMS setting you keep (clinic admins), by
    location name. A location without details yet is not listed."""
    _require(request, Perm.REMS_SETTING_MANAGE)
    locations = queries.managed_locations(request.user)
    rows = queries.settings_by_location(locations)
    items = [_setting(rows[loc.pk], loc.slug) for loc in locations if loc.pk in rows]
    return {"count": len(items), "limit": limit, "offset": offset, "items": items[offset : offset + limit]}


@router.post(
    "/rems/settings", response={200: RemsSettingOut, **SAVED}, summary="Save a location's REMS setting"
)
def save_setting(request: HttpRequest, body: RemsSettingIn) -> Any:
    """Create or change a location's certified-setting details: name, address, certification / enrolment
    id, authorised representative, the monitoring HCP contact its forms start from, and which sedation /
    dissociation items its forms ask (that list is UNVERIFIED: match the live form). Send `version` as last
    read (0 for a location without details); a stale one is 412."""
    _require(request, Perm.REMS_SETTING_MANAGE)
    origin = _origin(request)
    location = queries.location_to_manage(request.user, body.location, origin=origin)
    row = actions.do_save_rems_setting(location, body, actor=request.user, origin=origin)
    return _setting(row, location.slug)


PDF_ANSWER = {
    "responses": {
        200: {
            "content": {
                "application/pdf": {
                    "schema": {"type": "string", "format": "binary"},
                }
            }
        }
    }
}


@router.get(
    "/sessions/{session_id}/rems-form",
    response={200: RemsFormOut, **READ},
    summary="A session's REMS Patient Monitoring Form",
    openapi_extra=PDF_ANSWER,
)
def rems_form(request: HttpRequest, session_id: str) -> Any:
    """The Patient Monitoring Form of an esketamine session the patient has left, filled from its chart:
    every field of reference 1.8 in the form's order, what the chart lacks (`missing`), the notices (the
    item list and layout the reference marks UNVERIFIED) and warnings. With `Accept: application/pdf` the
    answer is the printable one-page PDF. Nurses and prescribers of the session's location."""
    _require(request, Perm.REMS_SUBMIT)
    origin = _origin(request)
    session = get_form_session_for(request.user, session_id, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=session, patient=session.patient)
    if "application/pdf" in request.headers.get("Accept", ""):
        response = HttpResponse(form_pdf(session), content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="rems-monitoring-form.pdf"'
        return response
    context = form_context(session)
    return RemsFormOut(**context["json"])


@router.post(
    "/sessions/{session_id}/rems-form/submission",
    response={201: SubmissionOut, 409: ErrorOut, **SUBMITTED},
    summary="Record a REMS form's submission",
)
def submit_form(request: HttpRequest, session_id: str, body: SubmissionIn) -> Any:
    """Record that the session's form was submitted to the REMS: when, and the confirmation number. Once per
    session: a second is 409. The session leaves the queue. The 201 answer's `Location` is the form."""
    _require(request, Perm.REMS_SUBMIT)
    origin = _origin(request)
    session = get_form_session_for(request.user, session_id, origin=origin)
    submission = actions.do_record_submission(session, body, actor=request.user, origin=origin)
    answer = SubmissionOut(**submission_dict(submission)).model_dump_json()
    response = HttpResponse(answer, status=201, content_type="application/json")
    response["Location"] = request.path.removesuffix("/submission")
    return response


# A plain list, as the treatment workflow's API contract gives it: forms leave it within days of each session.
@router.get("/rems/queue", response={200: list[QueueItemOut], **READ}, summary="REMS forms still to submit")
def rems_queue(request: HttpRequest, location: LocationSlug = "") -> Any:
    """Esketamine sessions the patient has left whose Patient Monitoring Form is not yet recorded as
    submitted, at your locations (or the one named by its slug in `location`): overdue first, then by due
    date. `due_on` is the session's day plus 7 and `days_left` counts to it, both at the session's location.
    Nurses, prescribers and clinic admins."""
    _require(request, Perm.REMS_QUEUE_READ)
    place = None
    if location:
        network = getattr(request.user, "network_id", None)
        place = ClinicLocation.objects.filter(network_id=network, slug=location).first()
        if place is None or not can(request.user, Perm.REMS_QUEUE_READ, place.pk):
            deny(request.user, _origin(request), str(Perm.REMS_QUEUE_READ))
            raise NotFound
    items = queries.queue(request.user, place)
    record(Action.PATIENT_LIST, actor=request.user, origin=_origin(request), changed_fields=["rems_queue"])
    shown = [
        {"session_id": i.session_id, "patient_id": i.patient_id, "due_on": i.due_on, "days_left": i.days_left}
        | {"status": i.status}
        for i in items
    ]
    return shown
