"""Every write to care teams, therapy sessions and their notes. Each do_* runs in one transaction and leaves
one audit row, which names the record and the template's fields, never a note's words."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import Membership, User
from ketaclinic.accounts.permissions import Role
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.errors import InvalidInput, Refused, VersionConflict
from ketaclinic.patients.models import Patient
from ketaclinic.therapy import inputs
from ketaclinic.therapy.models import (
    CareTeamMember,
    CareTeamRole,
    NoteAccess,
    NoteAmendment,
    NoteStatus,
    TherapyNote,
    TherapySession,
    TherapyStatus,
)
from ketaclinic.therapy.templates import TEMPLATES
from ketaclinic.treatment.models import TreatmentSession

# The staff roles that may fill each place on a care team (a coach is any clinician of the location).
FITTING_ROLES: dict[str, frozenset[str]] = {
    CareTeamRole.PRESCRIBER: frozenset({Role.PRESCRIBER}),
    CareTeamRole.NURSE: frozenset({Role.NURSE}),
    CareTeamRole.THERAPIST: frozenset({Role.THERAPIST}),
    CareTeamRole.COACH: frozenset({Role.THERAPIST, Role.NURSE, Role.PRESCRIBER}),
}


def _stamp(actor: Any) -> dict[str, Any]:
    now = timezone.now()
    return {"created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}


def _refuse_if_entered_in_error(patient: Patient) -> None:
    if patient.entered_in_error_at is not None:
        raise InvalidInput({"patient": "this registration was entered in error; nothing is charted on it"})


# --- Care team ------------------------------------------------------------------------------------------


def _current_team(patient: Patient) -> list[CareTeamMember]:
    return list(
        CareTeamMember.objects.filter(patient=patient, ended_at=None)
        .select_related("user")
        .order_by("role", "user__username")
    )


def team_version(patient: Patient) -> int:
    """The care team's version (its ETag): rows are never deleted, and every change adds a member or ends
    one, so members plus ended members only grow."""
    rows = CareTeamMember.objects.filter(patient=patient)
    return rows.count() + rows.exclude(ended_at=None).count()


def _members(patient: Patient, data: inputs.CareTeamIn) -> list[tuple[User, str]]:
    """Each member's user, checked: staff of the patient's location in a role that fits (422 naming them)."""
    names = {m.user for m in data.members}
    users = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    held: dict[int, set[str]] = {}
    for user_id, role in Membership.objects.filter(
        user__in=users.values(), location_id=patient.location_id
    ).values_list("user_id", "role"):
        held.setdefault(user_id, set()).add(role)
    errors: dict[str, str] = {}
    chosen: list[tuple[User, str]] = []
    for index, member in enumerate(data.members):
        user = users.get(member.user)
        field = f"members.{index}.user"
        if user is None or user.pk not in held:
            errors[field] = f"{member.user} is not a staff member of this patient's location"
        elif not held[user.pk] & FITTING_ROLES[member.role]:
            errors[field] = f"{member.user} has no staff role at this location that fits {member.role}"
        else:
            chosen.append((user, member.role))
    if errors:
        raise InvalidInput(errors)
    return chosen


@transaction.atomic
def do_set_care_team(
    patient: Patient,
    data: inputs.CareTeamIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int | None = None,
) -> list[CareTeamMember]:
    """Replace the care team: members who leave keep their row, ended now by the actor; new ones join. With
    `expected_version` (the team's ETag as read), a team changed since is a VersionConflict."""
    _refuse_if_entered_in_error(patient)
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # one team change at a time
    if expected_version is not None and team_version(patient) != expected_version:
        raise VersionConflict(team_version(patient))
    wanted = _members(patient, data)
    now = timezone.now()
    kept = {(m.user_id, m.role): m for m in _current_team(patient)}
    wanted_keys = {(user.pk, role) for user, role in wanted}
    changed: set[str] = set()
    for key, member in kept.items():
        if key not in wanted_keys:
            member.ended_at, member.ended_by = now, actor
            member.updated_at, member.updated_by = now, actor
            member.save(update_fields=["ended_at", "ended_by", "updated_at", "updated_by"])
            changed.add(f"{member.role}.removed")
    for user, role in wanted:
        if (user.pk, role) not in kept:
            CareTeamMember.objects.create(patient=patient, user=user, role=role, **_stamp(actor))
            changed.add(f"{role}.added")
    if changed:
        record(
            Action.CARE_TEAM_CHANGE,
            actor=actor,
            origin=origin,
            obj=patient,
            patient=patient,
            changed_fields=sorted(changed),
        )
    return _current_team(patient)


# --- Therapy sessions -----------------------------------------------------------------------------------


def _dose_session(patient: Patient, data: inputs.TherapySessionIn) -> TreatmentSession | None:
    if data.dose_session_id is None:
        return None
    found = TreatmentSession.objects.filter(pk=data.dose_session_id, patient_id=patient.pk).first()
    if found is None:
        raise InvalidInput({"dose_session_id": "not a dose session of this patient"})
    return found


def _chair(patient: Patient, chair_id: int | None) -> Chair | None:
    if chair_id is None:
        return None
    chair = Chair.objects.filter(pk=chair_id, location_id=patient.location_id, active=True).first()
    if chair is None:
        raise InvalidInput({"chair_id": "not a chair or room in use at this patient's location"})
    return chair


@transaction.atomic
def do_schedule_session(
    patient: Patient, data: inputs.TherapySessionIn, *, actor: Any, origin: Origin = SYSTEM
) -> TherapySession:
    """Schedule (or record) a therapy session; never before the patient was registered."""
    _refuse_if_entered_in_error(patient)
    if data.starts_at < patient.created_at:
        raise InvalidInput(
            {"starts_at": f"is before the patient's registration ({patient.created_at.date().isoformat()})"}
        )
    session = TherapySession.objects.create(
        patient=patient,
        location_id=patient.location_id,
        kind=data.kind,
        mode=data.mode,
        starts_at=data.starts_at,
        duration_minutes=data.duration_minutes,
        dose_session=_dose_session(patient, data),
        chair=_chair(patient, data.chair_id),
        **_stamp(actor),
    )
    session.patient = patient
    record(
        Action.THERAPY_SESSION_CREATE,
        actor=actor,
        origin=origin,
        obj=session,
        patient=patient,
        changed_fields=sorted(data.model_fields_set),
    )
    return session


# --- Notes ----------------------------------------------------------------------------------------------


def amendment_route(note: TherapyNote) -> str:
    return f"POST /api/v1/notes/{note.pk}/amendments"


def _signed_refusal(note: TherapyNote) -> Refused:
    return Refused(
        "This note is signed",
        [f"A signed note is locked; record a change as an amendment with a reason: {amendment_route(note)}."],
    )


@transaction.atomic
def do_write_note(
    session: TherapySession, data: inputs.NoteIn, *, actor: Any, origin: Origin = SYSTEM
) -> tuple[TherapyNote, bool]:
    """Write the author's draft note of the session (created, or its content replaced while a draft); a
    signed one refuses (409 naming the amendment route). Answers the note and whether it is new."""
    patient = session.patient
    _refuse_if_entered_in_error(patient)
    template = TEMPLATES[data.template]
    if session.kind not in template.kinds:
        raise InvalidInput(
            {"template": f"the {template.key} template is not written for a {session.kind} session"}
        )
    note = (
        TherapyNote.objects.select_for_update()
        .filter(session=session, created_by=actor, psychotherapy_note=data.psychotherapy_note)
        .first()
    )
    created = note is None
    if note is None:
        note = TherapyNote(
            session=session,
            patient_id=session.patient_id,
            template=data.template,
            content=data.content,
            psychotherapy_note=data.psychotherapy_note,
            **_stamp(actor),
        )
    else:
        if note.status == NoteStatus.SIGNED:
            raise _signed_refusal(note)
        note.template, note.content = data.template, data.content
        note.updated_at, note.updated_by = timezone.now(), actor
        note.version += 1
    note.save()
    note.session, note.patient = session, patient
    record(
        Action.THERAPY_NOTE_WRITE,
        actor=actor,
        origin=origin,
        obj=note,
        patient=patient,
        changed_fields=sorted(k for k, v in data.content.items() if v),
    )
    return note, created


@transaction.atomic
def do_sign_note(note: TherapyNote, *, actor: Any, origin: Origin = SYSTEM) -> TherapyNote:
    """Sign the author's draft: locked from now on; its session is completed."""
    locked = TherapyNote.objects.select_for_update().get(pk=note.pk)
    if locked.status == NoteStatus.SIGNED:
        raise Refused("This note is already signed", [f"Record a change with {amendment_route(locked)}."])
    if locked.created_by_id != actor.pk:
        raise Refused("Only its author signs a note", ["Ask the author to sign it."])
    now = timezone.now()
    locked.status, locked.signed_at, locked.signed_by = NoteStatus.SIGNED, now, actor
    locked.updated_at, locked.updated_by = now, actor
    locked.version += 1
    locked.save()
    TherapySession.objects.filter(pk=locked.session_id).update(
        status=TherapyStatus.COMPLETED, updated_at=now, updated_by=actor
    )
    locked.session, locked.patient, locked.created_by = note.session, note.patient, note.created_by
    locked.session.status = TherapyStatus.COMPLETED
    record(
        Action.THERAPY_NOTE_SIGN,
        actor=actor,
        origin=origin,
        obj=locked,
        patient=note.patient,
        changed_fields=["signed_at", "status"],
    )
    return locked


@transaction.atomic
def do_amend_note(
    note: TherapyNote, data: inputs.NoteAmendmentIn, *, actor: Any, origin: Origin = SYSTEM
) -> NoteAmendment:
    """A late entry or correction to a signed note, in its template's fields: appended with who, when, why."""
    locked = TherapyNote.objects.select_for_update().get(pk=note.pk)
    if locked.status != NoteStatus.SIGNED:
        raise Refused("Only a signed note is amended", ["Write the draft again, then sign it."])
    problem = inputs.content_problem(locked.template, data.content)  # the template is the note's
    if problem:
        raise InvalidInput({"content": problem})
    amendment = NoteAmendment.objects.create(
        note=locked, amended_at=timezone.now(), amended_by=actor, reason=data.reason, content=data.content
    )
    record(
        Action.THERAPY_NOTE_AMEND,
        actor=actor,
        origin=origin,
        obj=amendment,
        patient=note.patient,
        changed_fields=sorted({"reason", *(k for k, v in data.content.items() if v)}),
    )
    return amendment


@transaction.atomic
def do_record_note_access(
    note: TherapyNote, data: inputs.NoteReadIn, *, actor: Any, origin: Origin = SYSTEM
) -> NoteAccess:
    """Keep why another author's psychotherapy note is read; the audit row names this access."""
    access = NoteAccess.objects.create(note=note, user=actor, at=timezone.now(), reason=data.reason)
    record(
        Action.PSYCHOTHERAPY_NOTE_READ,
        actor=actor,
        origin=origin,
        obj=access,
        patient=note.patient,
        changed_fields=["reason"],
    )
    return access
