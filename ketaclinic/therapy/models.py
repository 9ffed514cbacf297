"""The care team, therapy sessions and their notes. Tables and constraints only; writes go through actions.py.

A therapy session links to the dose session it prepares, integrates or (low-dose talk therapy) is: the
integration rules and the patient's timeline read kinds and times from the indexes below. A note is written
on a session from one of the templates of templates.py, signed and then locked; later changes are amendments
with who, when and why. A psychotherapy note (the therapist's process notes, kept apart from the record) is
read only through access.get_note_for, which hides it from everyone but its author and the staff the
permission table names; every read of another author's one keeps its reason in a NoteAccess row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from ketaclinic.patients.models import Stamped

DURATION_MINUTES_MIN, DURATION_MINUTES_MAX = 5, 600


def _user(*, null: bool = False) -> models.ForeignKey:  # type: ignore[type-arg]
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=null, blank=null
    )


class CareTeamRole(models.TextChoices):
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse"
    THERAPIST = "therapist", "Therapist (integration)"
    COACH = "coach", "Coach"


class CareTeamMember(Stamped):
    """One member of a patient's care team: a staff member of the patient's location, in one role. A member
    taken off the team keeps the row with when and by whom (`ended_at`, `ended_by`): the team's history."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="care_team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=12, choices=CareTeamRole.choices)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = _user(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "user", "role"],
                condition=Q(ended_at=None),
                name="care_team_member_once",
            ),
            models.CheckConstraint(
                condition=Q(ended_at=None, ended_by=None) | Q(ended_at__isnull=False, ended_by__isnull=False),
                name="care_team_end_both_or_neither",
            ),
        ]
        indexes = [models.Index(fields=["patient", "ended_at"], name="care_team_patient")]

    def __str__(self) -> str:
        return f"care team {self.role}"


class TherapyKind(models.TextChoices):
    PREPARATION = "preparation", "Preparation"
    INTEGRATION = "integration", "Integration"
    KAP = "kap", "Ketamine-assisted psychotherapy"
    LOW_DOSE_TALK = "low_dose_talk", "Low-dose ketamine during talk therapy"


class TherapyMode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIDEO = "video", "Video"


class TherapyStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    # A note of the session has been signed.
    COMPLETED = "completed", "Completed"


class TherapySession(Stamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="therapy_sessions")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=14, choices=TherapyKind.choices)
    mode = models.CharField(max_length=10, choices=TherapyMode.choices, default=TherapyMode.IN_PERSON)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    # The dose session it prepares or integrates; for low-dose talk therapy, its own dose record.
    dose_session = models.ForeignKey(
        "treatment.TreatmentSession",
        on_delete=models.PROTECT,
        related_name="therapy_sessions",
        null=True,
        blank=True,
    )
    # A chair or room of the location, when the session uses one (it then shows on the floor board).
    chair = models.ForeignKey(
        "clinicpolicy.Chair", on_delete=models.PROTECT, related_name="therapy_sessions", null=True, blank=True
    )
    status = models.CharField(max_length=10, choices=TherapyStatus.choices, default=TherapyStatus.SCHEDULED)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    duration_minutes__gte=DURATION_MINUTES_MIN, duration_minutes__lte=DURATION_MINUTES_MAX
                ),
                name="therapy_duration_plausible",
            ),
            models.CheckConstraint(
                condition=~Q(kind=TherapyKind.LOW_DOSE_TALK) | Q(dose_session__isnull=False),
                name="therapy_low_dose_talk_has_dose",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "starts_at"], name="therapy_patient_time"),
            models.Index(fields=["location", "starts_at"], name="therapy_location_time"),
            models.Index(fields=["patient", "kind", "starts_at"], name="therapy_patient_kind_time"),
        ]

    def __str__(self) -> str:
        return f"therapy session {self.kind} at {self.starts_at}"


class NoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class TherapyNote(Stamped):
    """A note on a therapy session, in one template's fields ({field: text}); `created_by` is its author."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="notes")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="therapy_notes")
    template = models.CharField(max_length=20)
    content = models.JSONField(default=dict)
    psychotherapy_note = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=NoteStatus.choices, default=NoteStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = _user(null=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            # Each author keeps one note of the record and one psychotherapy note per session: a later change
            # to a signed one is an amendment.
            models.UniqueConstraint(
                fields=["session", "created_by", "psychotherapy_note"], name="therapy_note_once"
            ),
            models.CheckConstraint(
                condition=Q(signed_at=None, signed_by=None)
                | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="therapy_note_signature_both_or_neither",
            ),
            models.CheckConstraint(
                condition=~Q(status=NoteStatus.SIGNED) | Q(signed_at__isnull=False),
                name="therapy_note_signed_has_signature",
            ),
        ]
        indexes = [models.Index(fields=["patient", "psychotherapy_note"], name="therapy_note_patient")]

    def __str__(self) -> str:
        return f"therapy note {self.template}"


class NoteAmendment(models.Model):
    """A change to a signed note: who, when, why and the fields it changes ({field: text})."""

    note = models.ForeignKey(TherapyNote, on_delete=models.PROTECT, related_name="amendments")
    amended_at = models.DateTimeField()
    amended_by = _user()
    reason = models.CharField(max_length=300)
    content = models.JSONField(default=dict)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="therapy_amendment_reason")]
        indexes = [models.Index(fields=["note", "amended_at"], name="therapy_amendment_note_time")]

    def __str__(self) -> str:
        return f"amendment {self.amended_at}"


class NoteAccess(models.Model):
    """A read of another author's psychotherapy note, with the reason the reader gave (its audit row names
    this row, never the reason)."""

    note = models.ForeignKey(TherapyNote, on_delete=models.PROTECT, related_name="accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    reason = models.CharField(max_length=300)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="therapy_note_access_reason")]

    def __str__(self) -> str:
        return f"note read {self.at}"
