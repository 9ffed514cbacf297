"""Pages of therapy: the chart's care-team and sessions panel, the patient's therapy page (schedule a
session), the care team's edit page, a session page with its notes, and a note page (sign, amend).

Every write is a POST through the same input models and actions as the API; a refused one shows the page
again with the message by its field. Every page that shows the patient's record writes its read event. A
psychotherapy note is a 404 to everyone but its author and the staff the permission table names; those other
than the author see a reason form first, and the note only with the reason they gave (kept, audited).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import BaseModel, ValidationError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import Membership
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.errors import Forbidden, InvalidInput, Refused, VersionConflict, field_errors
from ketaclinic.patients.access import get_patient_for
from ketaclinic.patients.models import Patient
from ketaclinic.therapy import actions, inputs, queries
from ketaclinic.therapy.access import get_note_for, get_therapy_session_for, is_author, needs_reason
from ketaclinic.therapy.models import (
    CareTeamRole,
    NoteStatus,
    TherapyKind,
    TherapyMode,
    TherapyNote,
    TherapySession,
)
from ketaclinic.therapy.templates import TEMPLATES, template_for_kind
from ketaclinic.treatment.models import TreatmentSession
from ketaclinic.web.shortcuts import requires, web_origin

KINDS = dict(TherapyKind.choices)
MODES = dict(TherapyMode.choices)
ROLES = dict(CareTeamRole.choices)
LABELS = {
    "kind": "Kind",
    "starts_at": "Starts at",
    "duration_minutes": "Duration (minutes)",
    "dose_session_id": "Dose session",
    "mode": "Mode",
    "chair_id": "Chair or room",
    "template": "Template",
    "content": "Note",
    "reason": "Reason",
    "members": "Care team",
    "patient": "Patient",
}
DOSE_SESSIONS_SHOWN = 30


def _read(request: HttpRequest, patient: Patient, obj: Any = None, fields: list[str] | None = None) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=web_origin(request),
        obj=obj or patient,
        patient=patient,
        changed_fields=fields or [],
    )


def _patient(request: HttpRequest, pk: str, perm: Perm = Perm.PATIENT_READ) -> Patient:
    patient = get_patient_for(request.user, pk, origin=web_origin(request))
    if not can(request.user, perm, patient.location_id):
        deny(request.user, web_origin(request), str(perm))
        raise Forbidden
    return patient


def _parse(model: type[BaseModel], values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


def _local(raw: str, patient: Patient, field: str) -> dt.datetime:
    """A `datetime-local` value is the location's wall-clock time."""
    try:
        return dt.datetime.fromisoformat(raw.strip()).replace(tzinfo=location_zone(patient.location))
    except ValueError:
        raise InvalidInput({field: "enter a date and time"}) from None


def _content(request: HttpRequest, template: str) -> dict[str, str]:
    return {f.key: request.POST.get(f"content-{f.key}", "") for f in TEMPLATES[template].fields}


# --- The chart's panel and the patient's therapy page ---------------------------------------------------


@requires(Perm.PATIENT_READ)
@require_GET
def chart_panel(request: HttpRequest, pk: str) -> HttpResponse:
    """The chart's care team and therapy schedule (loaded after the chart): kinds and times, no note text.
    Read as the chart is read, so a clinician's break-the-glass grant that opened the chart opens it too."""
    patient = get_patient_for(request.user, pk, origin=web_origin(request))
    _read(request, patient, fields=["care_team", "therapy_sessions"])
    context = {
        "patient": patient,
        "team": queries.care_team(patient),
        "sessions": queries.sessions_of(patient, limit=5),
        "kinds": KINDS,
        "modes": MODES,
        "roles": ROLES,
    }
    return render(request, "therapy/_panel.html", context)


def _dose_choices(patient: Patient) -> list[tuple[str, str]]:
    rows = TreatmentSession.objects.filter(patient=patient).order_by("-date", "-number")[:DOSE_SESSIONS_SHOWN]
    return [(str(s.pk), f"{s.date.isoformat()} · session {s.number}") for s in rows]


def _render_patient(
    request: HttpRequest,
    patient: Patient,
    *,
    errors: dict[str, str] | None = None,
    values: Any = None,
    status: int = 200,
) -> HttpResponse:
    _read(request, patient, fields=["care_team", "therapy_sessions"])
    context = {
        "patient": patient,
        "team": queries.care_team(patient),
        "sessions": queries.sessions_of(patient),
        "kinds": KINDS,
        "modes": MODES,
        "roles": ROLES,
        "can_write": can(request.user, Perm.THERAPY_WRITE, patient.location_id),
        "can_team": can(request.user, Perm.CARE_TEAM_WRITE, patient.location_id),
        "dose_sessions": _dose_choices(patient),
        "chairs": [
            (c.pk, c.name) for c in Chair.objects.filter(location_id=patient.location_id, active=True)
        ],
        "errors": errors or {},
        "values": values or {},
        "labels": LABELS,
    }
    return render(request, "therapy/patient.html", context, status=status)


@requires(Perm.PATIENT_READ)
@require_http_methods(["GET", "POST"])
def patient_therapy(request: HttpRequest, pk: str) -> HttpResponse:
    """The patient's care team and therapy sessions; a therapist schedules or records one here."""
    if request.method == "GET":
        # The worklist's "Record the integration" fills in the kind and the dose session it follows.
        asked = {k: request.GET[k] for k in ("kind",) if request.GET.get(k) in KINDS}
        if request.GET.get("dose_session"):
            asked["dose_session_id"] = request.GET["dose_session"]
        return _render_patient(request, _patient(request, pk), values=asked)
    if not can(request.user, Perm.THERAPY_WRITE):  # a role that schedules nowhere (403 before any lookup)
        deny(request.user, web_origin(request), str(Perm.THERAPY_WRITE))
        raise Forbidden
    patient = _patient(request, pk, Perm.THERAPY_WRITE)
    form = request.POST
    try:
        values: dict[str, Any] = {
            "kind": form.get("kind", ""),
            "starts_at": _local(form.get("starts_at", ""), patient, "starts_at"),
            "duration_minutes": int(form.get("duration_minutes") or 0),
            "mode": form.get("mode") or TherapyMode.IN_PERSON,
        }
        if form.get("dose_session_id"):
            values["dose_session_id"] = form["dose_session_id"]
        if form.get("chair_id"):
            values["chair_id"] = int(form["chair_id"])
        data = _parse(inputs.TherapySessionIn, values)
        session = actions.do_schedule_session(patient, data, actor=request.user, origin=web_origin(request))
    except ValueError:
        return _render_patient(
            request, patient, errors={"duration_minutes": "enter a whole number"}, values=form, status=422
        )
    except InvalidInput as exc:
        return _render_patient(request, patient, errors=exc.errors, values=form, status=422)
    return redirect(reverse("therapy:session", args=[session.pk]))


# --- The care team --------------------------------------------------------------------------------------


def _staff_choices(patient: Patient) -> dict[str, list[tuple[str, str]]]:
    """Per care-team role, the location's staff whose role fits it."""
    held: dict[str, tuple[str, set[str]]] = {}
    for username, first, last, role in Membership.objects.filter(
        location_id=patient.location_id, user__is_active=True
    ).values_list("user__username", "user__first_name", "user__last_name", "role"):
        held.setdefault(username, (f"{first} {last}".strip() or username, set()))[1].add(role)
    return {
        team_role: sorted((u, name) for u, (name, roles) in held.items() if roles & fitting)
        for team_role, fitting in actions.FITTING_ROLES.items()
    }


def _render_team(
    request: HttpRequest,
    patient: Patient,
    *,
    errors: dict[str, str] | None = None,
    conflict: bool = False,
    status: int = 200,
) -> HttpResponse:
    _read(request, patient, fields=["care_team"])
    team = queries.care_team(patient)
    context = {
        "patient": patient,
        "version": actions.team_version(patient),
        "conflict": conflict,
        "chosen": {(m.user.username, m.role) for m in team},
        "choices": _staff_choices(patient),
        "roles": ROLES,
        "errors": errors or {},
        "labels": LABELS,
    }
    return render(request, "therapy/care_team.html", context, status=status)


@requires(Perm.CARE_TEAM_WRITE)
@require_http_methods(["GET", "POST"])
def care_team(request: HttpRequest, pk: str) -> HttpResponse:
    patient = _patient(request, pk, Perm.CARE_TEAM_WRITE)
    if request.method == "GET":
        return _render_team(request, patient)
    members = [
        {"user": username, "role": role}
        for role in CareTeamRole
        for username in request.POST.getlist(f"role-{role.value}")
    ]
    sent = request.POST.get("version", "")
    try:
        data = _parse(inputs.CareTeamIn, {"members": members})
        actions.do_set_care_team(
            patient,
            data,
            actor=request.user,
            origin=web_origin(request),
            expected_version=int(sent) if sent.isdigit() else None,
        )
    except InvalidInput as exc:
        return _render_team(request, patient, errors=exc.errors, status=422)
    except VersionConflict:
        return _render_team(request, patient, conflict=True, status=409)
    return redirect(reverse("therapy:patient", args=[patient.pk]))


# --- A session and its notes ----------------------------------------------------------------------------


def _render_session(
    request: HttpRequest,
    session: TherapySession,
    *,
    errors: dict[str, str] | None = None,
    values: Any = None,
    reasons: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    patient = session.patient
    _read(request, patient, session)
    template = template_for_kind(session.kind)
    notes = queries.notes_shown(request.user, session)
    can_write = can(request.user, Perm.THERAPY_WRITE, patient.location_id)
    # The user's own notes of the session: a draft is offered again; with both kinds signed, there is none to
    # write (changes are amendments, from the note's page).
    mine = list(TherapyNote.objects.filter(session=session, created_by_id=request.user.pk))
    draft = next((n for n in mine if n.status == NoteStatus.DRAFT and not n.psychotherapy_note), None)
    signed = {n.psychotherapy_note for n in mine if n.status == NoteStatus.SIGNED}
    if values is None and draft is not None:
        values = {f"content-{key}": text for key, text in draft.content.items()}
    context = {
        "patient": patient,
        "session": session,
        "kinds": KINDS,
        "modes": MODES,
        "notes": notes,
        "templates": TEMPLATES,
        "template": template,
        "can_write_note": can_write and signed != {True, False},
        "draft": draft,
        "reads_notes": can(request.user, Perm.THERAPY_NOTE_READ, patient.location_id),
        "errors": errors or {},
        "values": values or {},
        "reasons": reasons or [],
        "labels": LABELS,
    }
    return render(request, "therapy/session.html", context, status=status)


@requires(Perm.PATIENT_READ)
@require_GET
def session_page(request: HttpRequest, sid: str) -> HttpResponse:
    session = get_therapy_session_for(request.user, sid, origin=web_origin(request))
    return _render_session(request, session)


@requires(Perm.THERAPY_WRITE)
@require_POST
def write_note(request: HttpRequest, sid: str) -> HttpResponse:
    session = get_therapy_session_for(request.user, sid, perm=Perm.THERAPY_WRITE, origin=web_origin(request))
    template = template_for_kind(session.kind)
    values = {
        "template": template.key,
        "content": _content(request, template.key),
        "psychotherapy_note": request.POST.get("psychotherapy_note") == "on",
    }
    try:
        data = _parse(inputs.NoteIn, values)
        note, _ = actions.do_write_note(session, data, actor=request.user, origin=web_origin(request))
    except InvalidInput as exc:
        return _render_session(request, session, errors=exc.errors, values=request.POST, status=422)
    except Refused as exc:
        return _render_session(
            request, session, reasons=[exc.detail, *exc.reasons], values=request.POST, status=409
        )
    return redirect(reverse("therapy:note", args=[note.pk]))


def _render_note(
    request: HttpRequest,
    note: TherapyNote,
    *,
    errors: dict[str, str] | None = None,
    reasons: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    _read(request, note.patient, note)
    context = {
        "patient": note.patient,
        "note": note,
        "session": note.session,
        "template": TEMPLATES[note.template],
        "amendments": queries.amendments_of(note),
        "kinds": KINDS,
        "author": queries.user_name(note.created_by),
        "is_author": is_author(request.user, note),
        "can_write": is_author(request.user, note)
        or (not note.psychotherapy_note and can(request.user, Perm.THERAPY_WRITE, note.patient.location_id)),
        "errors": errors or {},
        "reasons": reasons or [],
        "labels": LABELS,
    }
    return render(request, "therapy/note.html", context, status=status)


def _render_reason(
    request: HttpRequest, note: TherapyNote, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    """The reason form shown before another author's psychotherapy note: no word of the note."""
    context = {"note": note, "errors": errors or {}, "labels": LABELS}
    return render(request, "therapy/note_reason.html", context, status=status)


@requires(Perm.PATIENT_READ)
@require_http_methods(["GET", "POST"])
def note_page(request: HttpRequest, nid: str) -> HttpResponse:
    """A note with its template's fields and amendments. Another author's psychotherapy note (for staff the
    permission table names) asks for a reason first; the reason is POSTed, so it never sits in a URL."""
    note = get_note_for(request.user, nid, origin=web_origin(request))
    if not needs_reason(request.user, note):
        return _render_note(request, note)
    if request.method == "GET":
        return _render_reason(request, note)
    try:
        reason = _parse(inputs.NoteReadIn, {"reason": request.POST.get("reason", "")})
    except InvalidInput as exc:
        return _render_reason(request, note, errors=exc.errors, status=422)
    actions.do_record_note_access(note, reason, actor=request.user, origin=web_origin(request))
    return _render_note(request, note)


@requires(Perm.THERAPY_WRITE)
@require_POST
def sign_note(request: HttpRequest, nid: str) -> HttpResponse:
    note = get_note_for(request.user, nid, write=True, origin=web_origin(request))
    try:
        actions.do_sign_note(note, actor=request.user, origin=web_origin(request))
    except Refused as exc:
        return _render_note(request, note, reasons=[exc.detail, *exc.reasons], status=409)
    return redirect(reverse("therapy:note", args=[note.pk]))


@requires(Perm.THERAPY_WRITE)
@require_POST
def amend_note(request: HttpRequest, nid: str) -> HttpResponse:
    note = get_note_for(request.user, nid, write=True, origin=web_origin(request))
    values = {"reason": request.POST.get("reason", ""), "content": _content(request, note.template)}
    try:
        data = _parse(inputs.NoteAmendmentIn, values)
        actions.do_amend_note(note, data, actor=request.user, origin=web_origin(request))
    except InvalidInput as exc:
        return _render_note(request, note, errors=exc.errors, status=422)
    except Refused as exc:
        return _render_note(request, note, reasons=[exc.detail, *exc.reasons], status=409)
    return redirect(reverse("therapy:note", args=[note.pk]))
