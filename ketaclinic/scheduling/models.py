"""The calendar's tables: each location's opening hours, closures, staff shifts (nurses on duty, prescribers
present), and appointments. Tables and constraints only; writes go through actions.py.

An appointment holds one chair or room of its location from `starts_at` to `ends_at` (aware UTC); its status
is FHIR's Appointment status. One booked for a treatment session names it (`session`), so a plan's course is
its sessions' appointments. A booking that breaks a hard rule keeps the rules it broke and the reason given.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

REASON_MAX = 300


class AppointmentKind(models.TextChoices):
    """clinical/scheduling.VisitKind, with its labels."""

    ESKETAMINE_NASAL = "esketamine_nasal", "Esketamine nasal spray"
    IV_KETAMINE = "iv_ketamine", "IV ketamine infusion"
    IM_KETAMINE = "im_ketamine", "IM ketamine injection"
    CONSULTATION = "consultation", "Consultation"
    PREPARATION = "preparation", "Preparation"
    INTEGRATION = "integration", "Integration"


class AppointmentStatus(models.TextChoices):
    """FHIR R4 Appointment.status (the codes a ketamine clinic's calendar uses)."""

    PROPOSED = "proposed", "Proposed"
    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    FULFILLED = "fulfilled", "Fulfilled"
    CANCELLED = "cancelled", "Cancelled"
    NOSHOW = "noshow", "No-show"
    WAITLIST = "waitlist", "Waitlist"


# The statuses that hold a chair, a patient and a nurse's attention: the rules check these.
HOLDING = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.FULFILLED)


class ShiftKind(models.TextChoices):
    NURSE = "nurse", "Nurse on duty"
    PRESCRIBER = "prescriber", "Prescriber present"


class OpeningHours(models.Model):
    """One opening interval of a location on a weekday (Monday = 0), in the location's local time."""

    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField()
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_weekday_range"),
            models.CheckConstraint(condition=Q(opens__lt=F("closes")), name="opening_opens_before_closes"),
        ]
        ordering = ["location", "weekday", "opens"]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens}-{self.closes}"


class Closure(models.Model):
    """A day a location is closed (a holiday, a training day). Not PHI."""

    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    reason = models.CharField(max_length=120)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "date"], name="closure_once_a_day")]
        ordering = ["location", "date"]

    def __str__(self) -> str:
        return f"closed {self.date}"


class Shift(models.Model):
    """A staff member at a location from `starts_at` to `ends_at`: a nurse on duty (counts towards the
    monitoring ratio) or a prescriber present (esketamine visits need one for their whole length)."""

    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=ShiftKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=F("ends_at")), name="shift_starts_before_end")
        ]
        indexes = [models.Index(fields=["location", "starts_at"], name="shift_location_start")]
        ordering = ["location", "starts_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.starts_at}"


class Appointment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    chair = models.ForeignKey("clinicpolicy.Chair", on_delete=models.PROTECT, related_name="appointments")
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    status = models.CharField(max_length=10, choices=AppointmentStatus.choices, default="booked")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    session = models.ForeignKey(
        "treatment.TreatmentSession", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The hard rules the booking broke, kept with the reason staff gave for booking it anyway.
    overridden_rules = models.JSONField(default=list)
    override_reason = models.CharField(max_length=REASON_MAX, blank=True)
    cancel_reason = models.CharField(max_length=REASON_MAX, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    # Calendars, check-in and the waitlist (calendars.py, moves.py, waitlist.py): the staff member the visit
    # is with (a therapist's own session; shown on their calendar and feed), when the patient arrived, and
    # whether a cancellation came later than the clinic's notice (policy late_cancel_hours).
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    arrived_at = models.DateTimeField(null=True, blank=True)
    late_cancel = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="appointment_starts_before_end"
            ),
        ]
        indexes = [
            models.Index(fields=["location", "starts_at"], name="appointment_location_start"),
            models.Index(fields=["patient", "starts_at"], name="appointment_patient_start"),
        ]
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"appointment {self.pk}"


# --- The week's optimiser: proposals (ketaclinic/scheduling/proposals.py) ----------------------------------


class ProposalStatus(models.TextChoices):
    SOLVING = "solving", "Solving"
    READY = "ready", "Ready"
    ACCEPTED = "accepted", "Accepted"
    FAILED = "failed", "Failed"


class ProposedVisitStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    BOOKED = "booked", "Booked"
    REFUSED = "refused", "Refused on acceptance"


class Proposal(models.Model):
    """The optimiser's answer for one location's week: the visits it places (ProposedVisit) and the ones it
    cannot place (`unplaced`: session ids and reasons, no names). Booked visits are never moved by it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    week_start = models.DateField()
    status = models.CharField(max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.SOLVING)
    time_limit_seconds = models.FloatField()
    wanted = models.PositiveIntegerField(default=0)
    placed = models.PositiveIntegerField(default=0)
    proven_optimal = models.BooleanField(default=False)
    objective = models.IntegerField(default=0)
    greedy_objective = models.IntegerField(default=0)
    greedy_placed = models.PositiveIntegerField(default=0)
    solver = models.CharField(max_length=10, blank=True)
    seconds = models.FloatField(default=0)
    unplaced = models.JSONField(default=list)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["location", "week_start"], name="proposal_location_week")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"proposal {self.pk}"


class ProposedVisit(models.Model):
    """One visit a proposal places: a plan's session on a chair at a time, until accepted (then booked
    through the booking action, `appointment`) or refused by the rules on acceptance (`reason`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="visits")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        "treatment.TreatmentSession", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    chair = models.ForeignKey("clinicpolicy.Chair", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ProposedVisitStatus.choices, default=ProposedVisitStatus.PROPOSED
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=REASON_MAX, blank=True)

    class Meta:
        ordering = ["starts_at", "chair_id"]

    def __str__(self) -> str:
        return f"proposed visit {self.pk}"


# --- Reminders, the waitlist and calendar feeds (waitlist.py, feeds.py) ------------------------------------


class VisitConfirmation(models.Model):
    """The reminder sent before a visit and the patient's answer. The reminder's link carries a secret whose
    SHA-256 is kept here (never the secret); an unconfirmed visit near its start is flagged to front desk."""

    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="confirmation")
    token_hash = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"confirmation {self.pk}"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered a slot"
    BOOKED = "booked", "Booked"
    REMOVED = "removed", "Removed"


class WaitlistEntry(models.Model):
    """A patient waiting for a visit of `kind` at their location, with the days and times that suit them;
    freed slots are offered in the order entries were added."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    # Local weekdays (Monday = 0) and the local time span that suit the patient; empty: any.
    preferred_days = models.JSONField(default=list)
    preferred_from = models.TimeField(null=True, blank=True)
    preferred_to = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=REASON_MAX, blank=True)
    status = models.CharField(max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING)
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["location", "status", "added_at"], name="waitlist_queue")]
        ordering = ["added_at"]

    def __str__(self) -> str:
        return f"waitlist entry {self.pk}"


class OfferStatus(models.TextChoices):
    OPEN = "open", "Held for the patient"
    ACCEPTED = "accepted", "Accepted and booked"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn (the slot was taken)"


class SlotOffer(models.Model):
    """A freed slot held for one waitlist entry until `hold_until` (policy waitlist_hold_minutes); the
    message's link carries a secret whose SHA-256 is kept here. Accepting books it; expiry moves on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    chair = models.ForeignKey("clinicpolicy.Chair", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    freed_from = models.ForeignKey(Appointment, on_delete=models.PROTECT, null=True, related_name="+")
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, null=True, related_name="+")
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    token_hash = models.CharField(max_length=64, unique=True)
    offered_at = models.DateTimeField()
    hold_until = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["status", "hold_until"], name="offer_expiry")]
        ordering = ["offered_at"]

    def __str__(self) -> str:
        return f"slot offer {self.pk}"


class CalendarFeed(models.Model):
    """A staff member's private calendar-feed URL: only the SHA-256 of its secret is kept. Rotating makes a
    new row and revokes the old; a revoked secret answers 404."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="calendar_feed_one_live"
            )
        ]

    def __str__(self) -> str:
        return f"calendar feed {self.pk}"
