"""What therapy pages and the API show, read in few queries. Psychotherapy notes are never listed here for
anyone but the users access.reads_psychotherapy_note allows: the chart panel and session page ask for notes
through `notes_shown`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.permissions import Perm
from ketaclinic.clinicpolicy.clock import day_bounds
from ketaclinic.patients.models import Patient
from ketaclinic.therapy.access import reads_psychotherapy_note
from ketaclinic.therapy.models import (
    CareTeamMember,
    NoteAmendment,
    TherapyKind,
    TherapyNote,
    TherapySession,
)

SESSIONS_SHOWN = 50


def care_team(patient: Patient) -> list[CareTeamMember]:
    return list(
        CareTeamMember.objects.filter(patient=patient, ended_at=None)
        .select_related("user")
        .order_by("role", "user__username")
    )


def care_team_body(members: list[CareTeamMember]) -> dict[str, Any]:
    return {"members": [{"user": m.user.username, "role": m.role} for m in members]}


def sessions_of(patient: Patient, limit: int = SESSIONS_SHOWN) -> list[TherapySession]:
    """The patient's therapy sessions, newest first (the schedule: kind, time, mode, status)."""
    return list(
        TherapySession.objects.filter(patient=patient)
        .select_related("created_by", "chair", "dose_session")
        .order_by("-starts_at")[:limit]
    )


def notes_shown(user: Any, session: TherapySession) -> list[TherapyNote]:
    """The session's notes this user may see listed: none without THERAPY_NOTE_READ; psychotherapy notes
    only for their author and the staff the permission table names."""
    if Perm.THERAPY_NOTE_READ not in grants(user).get(session.location_id, frozenset()):
        return []
    notes = TherapyNote.objects.filter(session=session).select_related("created_by").order_by("created_at")
    return [
        n for n in notes if not n.psychotherapy_note or reads_psychotherapy_note(user, n, session.location_id)
    ]


def user_name(user: Any) -> str:
    return str(user.get_full_name() or user.username)


def amendments_of(note: TherapyNote) -> list[NoteAmendment]:
    return list(note.amendments.select_related("amended_by").order_by("amended_at", "pk"))


def amendment_body(a: NoteAmendment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "amended_at": a.amended_at,
        "amended_by": a.amended_by.username,
        "reason": a.reason,
        "content": a.content,
    }


def note_body(note: TherapyNote) -> dict[str, Any]:
    return {
        "id": note.pk,
        "session_id": note.session_id,
        "patient_id": note.patient_id,
        "kind": note.session.kind,
        "template": note.template,
        "content": note.content,
        "psychotherapy_note": note.psychotherapy_note,
        "status": note.status,
        "author": note.created_by.username,
        "written_at": note.created_at,
        "signed_at": note.signed_at,
        "signed_by": note.signed_by.username if note.signed_by_id and note.signed_by else None,
        "amendments": [amendment_body(a) for a in amendments_of(note)],
    }


def board_listing(location: Any, day: dt.date) -> list[dict[str, Any]]:
    """The floor board's listing of today's therapy sessions that use a chair or room (one query): the
    schedule only, like the board's own tiles."""
    start, end = day_bounds(location, day)
    rows = (
        TherapySession.objects.filter(location=location, starts_at__gte=start, starts_at__lt=end)
        .exclude(chair=None)
        .values_list(
            "pk",
            "starts_at",
            "duration_minutes",
            "kind",
            "chair__name",
            "patient__family_name",
            "patient__given_name",
        )
        .order_by("starts_at")
    )
    kinds = dict(TherapyKind.choices)
    return [
        {
            "starts_at": at,
            "minutes": minutes,
            "chair": chair,
            "family_name": family,
            "given_name": given,
            "what": kinds[kind],
            "link": reverse("therapy:session", args=[pk]),
        }
        for pk, at, minutes, kind, chair, family, given in rows
    ]
