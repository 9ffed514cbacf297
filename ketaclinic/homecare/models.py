"""At-home ketamine programs, their doses, check-ins and hold releases. Tables and constraints only; writes go
through actions.py.

A program is prescribed for one patient (modality `home_ketamine`, racemic ketamine only). Each home dose is
one row from the patient's pre-dose step (blood pressure, the monitor present) to the dose taken; its
check-in is one row after it. Whether the next dose is held is computed from the last dose (clinical/home.py
HOME-HOLD), never stored; a prescriber's release of a hold is a row naming the dose it covers.

The check constraints are data-entry plausibility bounds, never clinical thresholds (those are the clinic
policy's `home_*` values, applied by ketaclinic/clinical/home.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ketaclinic.clinical.common import Modality
from ketaclinic.patients.models import (
    DIASTOLIC_MAX_MMHG,
    DIASTOLIC_MIN_MMHG,
    HEART_RATE_MAX_BPM,
    HEART_RATE_MIN_BPM,
    SYSTOLIC_MAX_MMHG,
    SYSTOLIC_MIN_MMHG,
)

HOME_DOSE_MG_MAX = 1000
MIN_DAYS_MAX = 90
NAME_MAX = 120
TEXT_MAX = 1000
REASON_MAX = 300
MODALITY = Modality.HOME_KETAMINE.value


class Route(models.TextChoices):
    """The routes of racemic ketamine at home the reference names (2.2): sublingual, oral, IM."""

    SUBLINGUAL = "sublingual", "Sublingual"
    ORAL = "oral", "Oral"
    IM = "im", "Intramuscular"


class ProgramStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


class DoseOutcome(models.TextChoices):
    """Where a home dose stands after the pre-dose step."""

    BP_TOO_HIGH = "bp_too_high", "Not taken: blood pressure above the home maximum"
    HELD = "held", "Not taken: the dose was held"
    CLEARED = "cleared", "Cleared to take"
    TAKEN = "taken", "Taken"


class Relationship(models.TextChoices):
    PARTNER = "partner", "Partner or spouse"
    FAMILY = "family", "Family member"
    FRIEND = "friend", "Friend"
    PEER = "peer", "Peer monitor"
    OTHER = "other", "Other"


class SideEffect(models.TextChoices):
    NAUSEA = "nausea", "Nausea"
    VOMITING = "vomiting", "Vomiting"
    DIZZINESS = "dizziness", "Dizziness"
    HEADACHE = "headache", "Headache"
    ANXIETY = "anxiety", "Anxiety"
    OTHER = "other", "Other"


class Severity(models.TextChoices):
    """clinical.home.Severity as stored (its lower-case names)."""

    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class HomeProgram(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="home_programs")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    modality = models.CharField(max_length=20, default=MODALITY, editable=False)
    drug = models.CharField(max_length=20, default="ketamine", editable=False)
    route = models.CharField(max_length=12, choices=Route.choices)
    dose_mg = models.DecimalField(max_digits=6, decimal_places=1)
    min_days_between_doses = models.PositiveSmallIntegerField()
    start_date = models.DateField()
    status = models.CharField(max_length=10, choices=ProgramStatus.choices, default=ProgramStatus.ACTIVE)
    monitor_name = models.CharField(max_length=NAME_MAX, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=REASON_MAX, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(dose_mg__gt=0, dose_mg__lte=HOME_DOSE_MG_MAX), name="home_program_dose_bounds"
            ),
            models.CheckConstraint(
                condition=Q(min_days_between_doses__gte=1, min_days_between_doses__lte=MIN_DAYS_MAX),
                name="home_program_interval_bounds",
            ),
            models.CheckConstraint(
                condition=Q(modality=MODALITY, drug="ketamine"), name="home_program_ketamine"
            ),
            # One program in force (active or paused) per patient.
            models.UniqueConstraint(
                fields=["patient"], condition=~Q(status="ended"), name="home_program_one_in_force"
            ),
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"home program {self.pk}"


class HomeDose(models.Model):
    program = models.ForeignKey(HomeProgram, on_delete=models.PROTECT, related_name="doses")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    # The form's one-time key: a second submit of the same form finds this row instead of adding one.
    submit_key = models.CharField(max_length=64)
    day = models.DateField()  # the location's calendar day of the pre-dose step
    recorded_at = models.DateTimeField()
    systolic_mmhg = models.PositiveSmallIntegerField()
    diastolic_mmhg = models.PositiveSmallIntegerField()
    heart_rate_bpm = models.PositiveSmallIntegerField()
    monitor_name = models.CharField(max_length=NAME_MAX)
    monitor_relationship = models.CharField(max_length=10, choices=Relationship.choices)
    confirmed_safe = models.BooleanField()  # not driving, and the monitor is there
    outcome = models.CharField(max_length=12, choices=DoseOutcome.choices)
    outcome_reason = models.CharField(max_length=REASON_MAX, blank=True)
    prescribed_mg = models.DecimalField(max_digits=6, decimal_places=1)
    taken_at = models.DateTimeField(null=True, blank=True)
    taken_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    checkin_opens_at = models.DateTimeField(null=True, blank=True)
    checkin_due_at = models.DateTimeField(null=True, blank=True)
    # Marked by the task runner when the check-in passed its due time unsent (the reminder went with it).
    checkin_missed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "submit_key"], name="home_dose_submit_once"),
            models.CheckConstraint(
                condition=Q(systolic_mmhg__gte=SYSTOLIC_MIN_MMHG, systolic_mmhg__lte=SYSTOLIC_MAX_MMHG)
                & Q(diastolic_mmhg__gte=DIASTOLIC_MIN_MMHG, diastolic_mmhg__lte=DIASTOLIC_MAX_MMHG)
                & Q(heart_rate_bpm__gte=HEART_RATE_MIN_BPM, heart_rate_bpm__lte=HEART_RATE_MAX_BPM),
                name="home_dose_vitals_bounds",
            ),
            models.CheckConstraint(
                condition=Q(outcome="taken", taken_at__isnull=False, taken_mg__isnull=False)
                | (~Q(outcome="taken") & Q(taken_at__isnull=True)),
                name="home_dose_taken_has_time",
            ),
        ]
        indexes = [models.Index(fields=["checkin_due_at"], name="home_dose_due")]
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"home dose {self.pk}"


class HomeCheckIn(models.Model):
    dose = models.OneToOneField(HomeDose, on_delete=models.PROTECT, related_name="checkin")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    side_effects = models.JSONField(default=list)  # SideEffect codes
    side_effects_other = models.CharField(max_length=NAME_MAX, blank=True)
    side_effect_severity = models.CharField(max_length=10, choices=Severity.choices)
    dissociation = models.CharField(max_length=10, choices=Severity.choices)
    systolic_mmhg = models.PositiveSmallIntegerField()
    diastolic_mmhg = models.PositiveSmallIntegerField()
    note = models.TextField(max_length=TEXT_MAX, blank=True)
    failed_reasons = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(systolic_mmhg__gte=SYSTOLIC_MIN_MMHG, systolic_mmhg__lte=SYSTOLIC_MAX_MMHG)
                & Q(diastolic_mmhg__gte=DIASTOLIC_MIN_MMHG, diastolic_mmhg__lte=DIASTOLIC_MAX_MMHG),
                name="home_checkin_bp_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"home check-in {self.pk}"

    @property
    def failed(self) -> bool:
        return bool(self.failed_reasons)


class HoldRelease(models.Model):
    """A prescriber's release of the hold a dose made, with the reason; the dose's problems stay on record."""

    dose = models.OneToOneField(HomeDose, on_delete=models.PROTECT, related_name="release")
    program = models.ForeignKey(HomeProgram, on_delete=models.PROTECT, related_name="releases")
    released_at = models.DateTimeField()
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=REASON_MAX)
    reasons_released = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"hold release {self.pk}"
