"""Assessments, the requests for them, and the safety alerts they raise. Tables and constraints only; writes
go through actions.py.

An assessment is a stored, scored response: the answers as item scores, the clinical library's total, band
and flags, and the LOINC codes of the panel, the total and each item (so a FHIR export maps it to a
QuestionnaireResponse and Observations). Responses are appended, never edited.

A request asks for one response: from the plan's assessment schedule (baseline, before a dose, weekly in
induction, every two weeks in maintenance, end of induction) or as a one-off. A self-report request carries
the hash of its link's secret, never the secret itself; the link is single-use, expires, and locks after too
many wrong dates of birth.

A safety alert is a clinician's task raised by a response (a positive suicide item, a high C-SSRS result, a
worsening beyond the policy's threshold); it stays open, and its banner on the chart and the worklist, until
it is handled, and its handling is audited.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ketaclinic.clinical.scales import Instrument

INSTRUMENT_CHOICES = [(i.value, i.value) for i in Instrument]


class Source(models.TextChoices):
    """Who gave the answers."""

    CLINIC = "clinic", "Entered in the clinic"
    SELF_REPORT = "self_report", "Patient's self-report link"
    PORTAL = "portal", "Patient portal"


class Assessment(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="assessments")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=20, choices=INSTRUMENT_CHOICES)
    # Item scores in item order, as the clinical library validated them.
    item_scores = models.JSONField(default=list)
    # Other answers an instrument has that are not item scores (the C-SSRS yes/no answers, PHQ-9's
    # difficulty question), keyed as the clinical library names them.
    extra_answers = models.JSONField(default=dict)
    total = models.SmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=40, blank=True)
    flags = models.JSONField(default=list)
    # {"panel": LOINC or null, "total": LOINC or null, "items": [LOINC or null, ...]}
    codes = models.JSONField(default=dict)
    taken_at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=Source.choices)
    # The request this answers, if any: one response per request.
    request = models.OneToOneField(
        "AssessmentRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="response"
    )
    # The treatment session it was taken for (the PHQ-9 before a dose), if any.
    session = models.ForeignKey(
        "treatment.TreatmentSession", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    # The staff member who entered it; empty for a patient's own answers.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["patient", "instrument", "taken_at"], name="assessment_series")]
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument__in=[i.value for i in Instrument]), name="assessment_instrument_known"
            ),
            models.CheckConstraint(
                condition=Q(source__in=[s.value for s in Source]), name="assessment_source_known"
            ),
            models.CheckConstraint(
                condition=~Q(source=Source.CLINIC) | Q(created_by__isnull=False),
                name="assessment_clinic_entry_has_author",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} assessment {self.pk}"


class RequestReason(models.TextChoices):
    """Why a response is asked for: the plan's schedule, or a one-off request by staff."""

    BASELINE = "baseline", "Baseline, before the first dose"
    PRE_DOSE = "pre_dose", "Before a dose"
    WEEKLY_INDUCTION = "weekly_induction", "Weekly during induction"
    MAINTENANCE = "maintenance", "Every two weeks in maintenance"
    END_OF_INDUCTION = "end_of_induction", "End of induction"
    ONE_OFF = "one_off", "Requested by staff"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    EXPIRED = "expired", "Expired"
    LOCKED = "locked", "Locked (too many wrong dates of birth)"
    CANCELLED = "cancelled", "Cancelled"


class Channel(models.TextChoices):
    """How the patient is sent the link; `none` for a request answered in the clinic or by a clinician."""

    EMAIL = "email", "E-mail"
    SMS = "sms", "Text message"
    NONE = "none", "Not sent"


class AssessmentRequest(models.Model):
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="assessment_requests"
    )
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=20, choices=INSTRUMENT_CHOICES)
    reason = models.CharField(max_length=20, choices=RequestReason.choices)
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.NONE)
    plan = models.ForeignKey(
        "treatment.TreatmentPlan", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    session = models.ForeignKey(
        "treatment.TreatmentSession", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField()
    # The self-report link: sha256 of its secret (the secret is only ever in the link sent), and its expiry.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    dob_failures = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Reminders already sent (the task runner's idempotency: one reminder per kind per request).
    reminders_sent = models.JSONField(default=list)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    # Empty when the plan's schedule made it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["location", "status", "due_at"], name="assessment_request_due"),
            models.Index(fields=["patient", "status"], name="assessment_request_patient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument__in=[i.value for i in Instrument]),
                name="assessment_request_instrument_known",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in RequestStatus]),
                name="assessment_request_status_known",
            ),
            # A scheduled request exists once per plan, session, reason and instrument (the schedule can
            # be re-run safely).
            models.UniqueConstraint(
                fields=["plan", "session", "reason", "instrument"],
                condition=Q(plan__isnull=False) & ~Q(reason="one_off"),
                name="assessment_request_scheduled_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} request {self.pk}"


class AlertKind(models.TextChoices):
    SUICIDE_ITEM = "suicide_item", "Positive suicide item: complete a C-SSRS screener"
    CSSRS_HIGH = "cssrs_high", "High C-SSRS result: record a safety plan"
    WORSENING = "worsening", "Worsening beyond the policy's threshold"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class SafetyAlert(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="safety_alerts")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    # The response that raised it, and the one (C-SSRS) or the safety plan that closed it.
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="alerts")
    closed_by_assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_by_safety_plan = models.ForeignKey(
        "SafetyPlan", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField()
    detail = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closing_note = models.TextField(max_length=2000, blank=True)

    class Meta:
        indexes = [models.Index(fields=["location", "status", "due_at"], name="safety_alert_open")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in AlertKind]), name="safety_alert_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(status=AlertStatus.OPEN, closed_at__isnull=True)
                | Q(status=AlertStatus.CLOSED, closed_at__isnull=False, closed_by__isnull=False),
                name="safety_alert_closed_has_who_and_when",
            ),
            # One open alert of a kind per patient: a second positive item adds to the open task.
            models.UniqueConstraint(
                fields=["patient", "kind"], condition=Q(status="open"), name="safety_alert_one_open_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} alert {self.pk}"


class SafetyPlan(models.Model):
    """A safety plan a clinician recorded with the patient; the latest one is in force."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="safety_plans")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    plan_text = models.TextField(max_length=8000)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(plan_text=""), name="safety_plan_text_given"),
        ]

    def __str__(self) -> str:
        return f"safety plan {self.pk}"
