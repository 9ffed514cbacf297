"""The only way to load therapy sessions and notes: each getter loads the row, then its patient through
patients.access.get_patient_for (404 outside the user's locations, 403 inside them without the permission,
each denial audited).

A psychotherapy note exists only for its author and for staff holding PSYCHOTHERAPY_NOTE_READ at the
patient's location: to everyone else it is NotFound (404, never 403), and the refusal is audited. Such a
reader other than the author must give a reason (the caller records it with actions.do_record_note_access).
"""

from __future__ import annotations

import uuid
from typing import Any

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.access import get_patient_for
from ketaclinic.therapy.models import TherapyNote, TherapySession


def _uuid(value: object) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound from exc


def _permitted(user: Any, patient: Any, perm: Perm, origin: Origin) -> None:
    if perm not in grants(user).get(patient.location_id, frozenset()):
        deny(user, origin, str(perm))
        raise Forbidden


def get_therapy_session_for(
    user: Any, session_id: object, *, perm: Perm = Perm.PATIENT_READ, origin: Origin = SYSTEM
) -> TherapySession:
    session = TherapySession.objects.filter(pk=_uuid(session_id)).first()
    if session is None:
        raise NotFound
    session.patient = get_patient_for(user, session.patient_id, origin=origin)
    _permitted(user, session.patient, perm, origin)
    session.location = session.patient.location
    return session


def is_author(user: Any, note: TherapyNote) -> bool:
    return bool(user.is_authenticated and note.created_by_id == user.pk)


def reads_psychotherapy_note(user: Any, note: TherapyNote, location_id: int) -> bool:
    """Its author, or staff the permission table names at the patient's location."""
    return is_author(user, note) or Perm.PSYCHOTHERAPY_NOTE_READ in grants(user).get(location_id, frozenset())


def needs_reason(user: Any, note: TherapyNote) -> bool:
    """A reader of another author's psychotherapy note gives a reason on every read."""
    return note.psychotherapy_note and not is_author(user, note)


def get_note_for(user: Any, note_id: object, *, write: bool = False, origin: Origin = SYSTEM) -> TherapyNote:
    """A note the user may read (THERAPY_NOTE_READ) or, with `write`, sign and amend (THERAPY_WRITE; only
    the author writes a psychotherapy note)."""
    note = (
        TherapyNote.objects.select_related("session", "created_by", "patient")
        .filter(pk=_uuid(note_id))
        .first()
    )
    if note is None:
        raise NotFound
    # Before the patient's own checks, so that no role or location learns more than "not found".
    if note.psychotherapy_note and not reads_psychotherapy_note(user, note, note.patient.location_id):
        record(
            Action.ACCESS_DENIED,
            actor=user,
            origin=origin,
            outcome=Outcome.DENIED,
            obj=note,
            patient=note.patient,
        )
        raise NotFound
    perm = Perm.THERAPY_WRITE if write else Perm.THERAPY_NOTE_READ
    if not any(perm in held for held in grants(user).values()):  # a role that reads no notes anywhere
        deny(user, origin, str(perm))
        raise Forbidden
    patient = get_patient_for(user, note.patient_id, origin=origin)
    _permitted(user, patient, perm, origin)
    if write and note.psychotherapy_note and not is_author(user, note):
        deny(user, origin, "psychotherapy_note.author")
        raise Forbidden
    note.patient = patient
    note.session.patient, note.session.location = patient, patient.location
    return note
