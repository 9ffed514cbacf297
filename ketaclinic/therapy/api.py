"""API routes of therapy (mounted under /api/v1 by ketaclinic/api/app.py): the care team, therapy sessions
and their notes. Each route checks the role, loads through the access getters, calls an action and answers
with its output model; every answer that carries the patient's record writes its read event.

A psychotherapy note is 404 to everyone but its author and the staff the permission table names; those other
than the author send why they read it in the `Access-Reason` header (kept with the read, audited): a header,
so that the reason never sits in a URL or an access log.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.errors import HttpError
from pydantic import BaseModel, ValidationError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.errors import Forbidden, InvalidInput, field_errors
from ketaclinic.patients.access import get_patient_for
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
from ketaclinic.therapy import actions, inputs, queries, timeline
from ketaclinic.therapy.access import get_note_for, get_therapy_session_for, needs_reason
from ketaclinic.therapy.models import TherapyNote
from ketaclinic.therapy.schemas import (
    CareTeamOut,
    NoteAmendmentOut,
    NoteCreatedOut,
    NoteOut,
    TherapySessionCreatedOut,
    TimelineOut,
)
from ketaclinic.treatment.schemas import RefusedOut

router = Router(tags=["Therapy"])

READ = errors(*ANY_OPERATION, NOT_FOUND)
WRITTEN = {**errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY), 409: RefusedOut}
REASON_HEADER = "Access-Reason"
ACCESS_REASON = {
    "name": REASON_HEADER,
    "in": "header",
    "required": False,
    "description": "Required to read another author's psychotherapy note (if you may): why you read it. "
    "Kept with the read and audited. At most 300 characters.",
    "schema": {"type": "string", "maxLength": 300},
}


IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The care team's ETag from your last read; when sent and no longer current, the answer is "
    "412 and nothing is changed.",
    "schema": {"type": "string"},
}


def _expected(request: HttpRequest) -> int | None:
    sent = request.headers.get("If-Match", "").strip()
    if not sent:
        return None
    try:
        return int(sent.removeprefix("W/").strip('"'))
    except ValueError as exc:
        raise HttpError(412, "If-Match does not match the care team's ETag.") from exc


def _origin(request: HttpRequest) -> Origin:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


def _patient(request: HttpRequest, patient_id: str, perm: Perm) -> Any:
    """The patient, read through the getter (404 outside the user's locations), then `perm` held at the
    patient's location (403): therapists write therapy records without writing demographics."""
    _require(request, perm)
    origin = _origin(request)
    patient = get_patient_for(request.user, patient_id, origin=origin)
    if not can(request.user, perm, patient.location_id):
        deny(request.user, origin, str(perm))
        raise Forbidden
    return patient


def _read_event(request: HttpRequest, patient: Any, obj: Any, fields: list[str] | None = None) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=_origin(request),
        obj=obj,
        patient=patient,
        changed_fields=fields or [],
    )


def _json(out: type[BaseModel], body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        out.model_validate(body).model_dump_json(), status=status, content_type="application/json"
    )


# --- Care team ------------------------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/care-team",
    response={200: CareTeamOut, **READ},
    summary="The patient's care team: each member's username and role",
)
def read_care_team(request: HttpRequest, patient_id: str) -> HttpResponse:
    patient = _patient(request, patient_id, Perm.PATIENT_READ)
    _read_event(request, patient, patient, ["care_team"])
    response = _json(CareTeamOut, queries.care_team_body(queries.care_team(patient)))
    response["ETag"] = f'"{actions.team_version(patient)}"'
    return response


@router.put(
    "/patients/{patient_id}/care-team",
    response={200: CareTeamOut, **errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY), 412: ErrorOut},
    summary="Replace the patient's care team",
    openapi_extra={"parameters": [IF_MATCH]},
)
def set_care_team(request: HttpRequest, patient_id: str, body: inputs.CareTeamIn) -> HttpResponse:
    """Members are usernames of staff of the patient's location, each with a role (`prescriber`, `nurse`,
    `therapist`, `coach`) their staff role fits; any other member is a 422 naming them, and nothing is
    saved. Members who leave keep their place in the team's history. Send the ETag of your read as
    `If-Match` to refuse (412) a change over one you have not seen."""
    patient = _patient(request, patient_id, Perm.CARE_TEAM_WRITE)
    members = actions.do_set_care_team(
        patient, body, actor=request.user, origin=_origin(request), expected_version=_expected(request)
    )
    _read_event(request, patient, patient, ["care_team"])
    response = _json(CareTeamOut, queries.care_team_body(members))
    response["ETag"] = f'"{actions.team_version(patient)}"'
    return response


# --- Therapy sessions -----------------------------------------------------------------------------------


@router.post(
    "/patients/{patient_id}/therapy-sessions",
    response={201: TherapySessionCreatedOut, **WRITTEN},
    summary="Schedule or record a therapy session (preparation, integration, KAP, low-dose talk)",
)
def schedule_session(request: HttpRequest, patient_id: str, body: inputs.TherapySessionIn) -> HttpResponse:
    """`dose_session_id` is a dose session of this patient (required for `low_dose_talk`); `chair_id` a
    chair or room of the patient's location. A session before the patient's registration is a 422."""
    patient = _patient(request, patient_id, Perm.THERAPY_WRITE)
    session = actions.do_schedule_session(patient, body, actor=request.user, origin=_origin(request))
    _read_event(request, patient, session)
    return _json(
        TherapySessionCreatedOut, {"id": session.pk, "kind": session.kind, "status": session.status}, 201
    )


# --- Notes ----------------------------------------------------------------------------------------------


@router.post(
    "/therapy-sessions/{session_id}/notes",
    response={201: NoteCreatedOut, **WRITTEN},
    summary="Write your draft note of a therapy session in one template",
)
def write_note(request: HttpRequest, session_id: str, body: inputs.NoteIn) -> HttpResponse:
    """Templates: `preparation`, `integration`, `kap` (for KAP and low-dose talk sessions); `content` holds
    the template's fields. Sent again while your draft is open, it replaces the draft; once signed, a change
    is an amendment (409 naming its route). `psychotherapy_note`: process notes kept apart from the record,
    visible to you and the staff the permission table names only."""
    _require(request, Perm.THERAPY_WRITE)
    session = get_therapy_session_for(
        request.user, session_id, perm=Perm.THERAPY_WRITE, origin=_origin(request)
    )
    note, _ = actions.do_write_note(session, body, actor=request.user, origin=_origin(request))
    _read_event(request, session.patient, note)
    response = _json(NoteCreatedOut, {"id": note.pk, "status": note.status}, 201)
    response["Location"] = f"/api/v1/notes/{note.pk}"
    return response


def _note_answer(request: HttpRequest, note: TherapyNote, status: int = 200) -> HttpResponse:
    _read_event(request, note.patient, note)
    return _json(NoteOut, queries.note_body(note), status)


@router.get(
    "/notes/{note_id}",
    response={200: NoteOut, **READ},
    summary="Read a therapy note with its amendments",
    openapi_extra={"parameters": [ACCESS_REASON]},
)
def read_note(request: HttpRequest, note_id: str) -> HttpResponse:
    """A psychotherapy note is 404 to everyone but its author and the staff the permission table names;
    those other than the author give `Access-Reason` (422 without it). Other notes need the permission to
    read therapy notes (the front desk sees the schedule, not the notes)."""
    _require(request, Perm.PATIENT_READ)
    origin = _origin(request)
    note = get_note_for(request.user, note_id, origin=origin)
    if needs_reason(request.user, note):
        try:
            reason = inputs.NoteReadIn(reason=request.headers.get(REASON_HEADER, ""))
        except ValidationError as exc:
            raise InvalidInput({REASON_HEADER: field_errors(exc)["reason"]}) from None
        actions.do_record_note_access(note, reason, actor=request.user, origin=origin)
    return _note_answer(request, note)


@router.post(
    "/notes/{note_id}/sign",
    response={200: NoteOut, **WRITTEN},
    summary="Sign your note; it is locked, later changes are amendments",
)
def sign_note(request: HttpRequest, note_id: str, body: inputs.NoteSignIn) -> HttpResponse:
    _require(request, Perm.THERAPY_WRITE)
    note = get_note_for(request.user, note_id, write=True, origin=_origin(request))
    signed = actions.do_sign_note(note, actor=request.user, origin=_origin(request))
    return _note_answer(request, signed)


@router.post(
    "/notes/{note_id}/amendments",
    response={201: NoteAmendmentOut, **WRITTEN},
    summary="Amend a signed note: a late entry or correction with the reason",
)
def amend_note(request: HttpRequest, note_id: str, body: inputs.NoteAmendmentIn) -> HttpResponse:
    _require(request, Perm.THERAPY_WRITE)
    note = get_note_for(request.user, note_id, write=True, origin=_origin(request))
    amendment = actions.do_amend_note(note, body, actor=request.user, origin=_origin(request))
    amendment.amended_by = request.user
    _read_event(request, note.patient, note)
    return _json(NoteAmendmentOut, queries.amendment_body(amendment), 201)


# --- The timeline (issue 11, item 6) ---------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/timeline",
    response={200: TimelineOut, **READ},
    summary="The patient's whole course in time order, newest first (paged)",
)
def read_timeline(
    request: HttpRequest,
    patient_id: str,
    kind: timeline.TimelineKind | None = None,
    limit: Limit = PAGE_LIMIT_DEFAULT,
    offset: Offset = 0,
) -> HttpResponse:
    """Consultations and screening, consent, preparation, each dose session (dose, peak blood pressure,
    MOAA/S and CADSS, adverse events, in-session alerts), integration and KAP sessions, questionnaires with
    their totals, safety alerts and how they were handled, and plan changes. `kind` keeps one kind.

    The front desk sees the schedule's entries (consultations, therapy and treatment sessions: kinds and
    times) and nothing clinical. Note titles need the note-reading permission; a psychotherapy note is
    named (by title, never its text) only to its author and the staff the permission table names. No entry
    carries a note's text."""
    patient = _patient(request, patient_id, Perm.PATIENT_READ)
    page = timeline.timeline(patient, request.user, kind=kind, limit=limit, offset=offset)
    _read_event(request, patient, patient, ["timeline"])
    return _json(TimelineOut, timeline.body(page))
