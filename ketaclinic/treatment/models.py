"""Treatment plans, their sessions and what the treatment day charts. Tables and constraints only; writes go
through actions.py.

A plan is prescribed for one modality and protocol and generates its dated sessions on the location's clinic
days. A session's chart is made of appended rows (pre-dose checks, vital signs, the dose and its devices,
observations, adverse events, alerts and their answers, the discharge): two staff charting one session never
overwrite each other. The rows that change (the plan, the session, an alert being answered) carry a `version`
for optimistic updates. A signed session is locked; later changes are amendments saying who, when and why.

The check constraints back up the input checks (inputs.py) as a last line: plausibility bounds for data
entry, never clinical thresholds (those are ClinicPolicy's, applied by ketaclinic/clinical).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from ketaclinic.clinical.common import Modality
from ketaclinic.clinical.protocols import PROTOCOLS, Phase
from ketaclinic.clinical.scales import Instrument
from ketaclinic.patients.models import (
    DIASTOLIC_MAX_MMHG,
    DIASTOLIC_MIN_MMHG,
    HEART_RATE_MAX_BPM,
    HEART_RATE_MIN_BPM,
    SYSTOLIC_MAX_MMHG,
    SYSTOLIC_MIN_MMHG,
    PregnancyStatus,
    Stamped,
)

# Data-entry plausibility bound for pulse oximetry (a reading, not an alert level): 1-100 %.
SPO2_MIN_PERCENT, SPO2_MAX_PERCENT = 1, 100
# Data-entry bounds of a plan's dose; the clinical limits are ClinicPolicy's and clinical/dosing's.
DOSE_MG_MAX = 1000
INFUSION_MINUTES_MIN, INFUSION_MINUTES_MAX = 2, 100  # clinical/dosing.IV_MINUTES_RANGE, as a last line


class PlanModality(models.TextChoices):
    """The in-clinic modalities a plan is prescribed for (clinical/common.Modality values)."""

    ESKETAMINE_NASAL = Modality.ESKETAMINE_NASAL.value, "Esketamine nasal spray"
    IV_KETAMINE = Modality.IV_KETAMINE.value, "IV ketamine infusion"
    IM_KETAMINE = Modality.IM_KETAMINE.value, "IM ketamine injection"


# The protocol files (clinical/protocol_data), in their order; a new file changes the choices (a migration).
PROTOCOL_CHOICES = [(protocol_id, spec.name) for protocol_id, spec in PROTOCOLS.items()]


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


class SessionPhase(models.TextChoices):
    INDUCTION = Phase.INDUCTION.value, "Induction"
    MAINTENANCE = Phase.MAINTENANCE.value, "Maintenance"


class SessionStatus(models.TextChoices):
    """Where a session stands. The treatment-floor stage within the day (pre-dose, dosing, monitoring, ready
    for discharge) follows from its charted rows (queries.py)."""

    SCHEDULED = "scheduled", "Scheduled"
    CHECKED_IN = "checked_in", "Checked in"
    DEFERRED = "deferred", "Deferred"
    DISCHARGED = "discharged", "Discharged"
    SIGNED = "signed", "Signed"
    CANCELLED = "cancelled", "Cancelled"


# Sessions the patient has had (discharged, then signed) and those still to come (booked, or in the chair).
SESSION_DONE = (SessionStatus.DISCHARGED, SessionStatus.SIGNED)
SESSION_AHEAD = (SessionStatus.SCHEDULED, SessionStatus.CHECKED_IN)


class PlanChangeKind(models.TextChoices):
    APPROVE = "approve", "Approved"
    PAUSE = "pause", "Paused"
    RESUME = "resume", "Resumed"
    CHANGE_DOSE = "change_dose", "Dose changed"
    CHANGE_FREQUENCY = "change_frequency", "Frequency changed"
    END = "end", "Ended"


class TimePoint(models.TextChoices):
    """Which scheduled reading a set of vital signs answers; any-time readings have none."""

    PRE_DOSE = "pre_dose", "Before dosing"
    DURING_INFUSION = "during_infusion", "During the infusion (scheduled)"
    POST_DOSE = "post_dose", "After dosing (scheduled)"
    PRE_DISCHARGE = "pre_discharge", "Before discharge"
    ANY_TIME = "any_time", "Any time"


class ObservationInstrument(models.TextChoices):
    MOAAS = Instrument.MOAAS.value, "MOAA/S (sedation)"
    CADSS = Instrument.CADSS.value, "CADSS (dissociation)"


class AdverseEventCode(models.TextChoices):
    NAUSEA = "nausea", "Nausea"
    VOMITING = "vomiting", "Vomiting"
    DIZZINESS = "dizziness", "Dizziness"
    HEADACHE = "headache", "Headache"
    BLURRED_VISION = "blurred_vision", "Blurred vision"
    DISSOCIATION = "dissociation", "Dissociation"
    SEDATION = "sedation", "Sedation"
    ANXIETY = "anxiety", "Anxiety"
    ELEVATED_BLOOD_PRESSURE = "elevated_blood_pressure", "Elevated blood pressure"
    RESPIRATORY_DEPRESSION = "respiratory_depression", "Respiratory depression"
    LOSS_OF_CONSCIOUSNESS = "loss_of_consciousness", "Loss of consciousness"
    OTHER = "other", "Other (describe)"


class AdverseEventSeverity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class AdverseEventOutcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    RESOLVING = "resolving", "Resolving"
    ONGOING = "ongoing", "Not resolved"
    TRANSFERRED = "transferred", "Transferred for further care"


class AlertKind(models.TextChoices):
    PREDOSE_GATE = "predose_gate", "Pre-dose blood pressure gate"
    SESSION = "session", "In-session alert"


class AlertLevel(models.TextChoices):
    """clinical/vitals GateLevel (acknowledge, defer) for the gate; `alert` for an in-session alert."""

    ACKNOWLEDGE = "acknowledge", "Acknowledge before dosing"
    DEFER = "defer", "Defer the dose"
    ALERT = "alert", "Alert"


class AlertAnswer(models.TextChoices):
    OPEN = "", "Not answered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged: proceed"
    DEFERRED = "deferred", "Deferred the dose"
    RESPONDED = "responded", "Responded"


_USER = settings.AUTH_USER_MODEL


def _user(*, null: bool = False) -> models.ForeignKey:  # type: ignore[type-arg]
    return models.ForeignKey(_USER, on_delete=models.PROTECT, related_name="+", null=null, blank=null)


class TreatmentPlan(Stamped):
    """A prescribed course: modality, protocol, dose and clinic days; its sessions are generated from it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="treatment_plans")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    modality = models.CharField(max_length=20, choices=PlanModality.choices)
    protocol = models.CharField(max_length=30, choices=PROTOCOL_CHOICES)
    # Esketamine is prescribed in mg (a whole number of 28 mg devices); IV and IM ketamine in mg/kg.
    dose_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    dose_mg_per_kg = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    # IV only: the infusion's length, for the pump rate (clinical/dosing.iv_ketamine).
    infusion_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    start_date = models.DateField()
    # Python weekday numbers (0 = Monday ... 6) the sessions may fall on, sorted.
    clinic_days = models.JSONField(default=list)
    maintenance_sessions = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = _user(null=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # clinical/policy.policy_to_json of the policy the plan was scheduled under.
    policy = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    modality=PlanModality.ESKETAMINE_NASAL, dose_mg__isnull=False, dose_mg_per_kg=None
                )
                | (
                    Q(modality__in=[PlanModality.IV_KETAMINE, PlanModality.IM_KETAMINE])
                    & Q(dose_mg=None, dose_mg_per_kg__isnull=False)
                ),
                name="plan_dose_unit_fits_modality",
            ),
            models.CheckConstraint(
                condition=Q(dose_mg=None) | Q(dose_mg__gt=0, dose_mg__lte=DOSE_MG_MAX),
                name="plan_dose_mg_range",
            ),
            models.CheckConstraint(
                condition=Q(dose_mg_per_kg=None) | Q(dose_mg_per_kg__gt=0),
                name="plan_dose_mg_per_kg_positive",
            ),
            models.CheckConstraint(
                condition=Q(infusion_minutes=None)
                | Q(infusion_minutes__gte=INFUSION_MINUTES_MIN, infusion_minutes__lte=INFUSION_MINUTES_MAX),
                name="plan_infusion_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(approved_at=None, approved_by=None)
                | Q(approved_at__isnull=False, approved_by__isnull=False),
                name="plan_approval_both_or_neither",
            ),
            models.CheckConstraint(
                condition=Q(status=PlanStatus.DRAFT)
                | Q(approved_at__isnull=False)
                # A draft may be ended without ever being approved.
                | Q(status=PlanStatus.ENDED),
                name="plan_active_or_paused_is_approved",
            ),
            models.CheckConstraint(
                condition=Q(status=PlanStatus.ENDED, ended_at__isnull=False)
                | (~Q(status=PlanStatus.ENDED) & Q(ended_at=None)),
                name="plan_ended_has_time",
            ),
        ]
        indexes = [models.Index(fields=["patient", "-created_at"], name="plan_patient_latest")]

    def __str__(self) -> str:
        return f"plan {self.protocol} ({self.status})"


class PlanChange(models.Model):
    """One change of a plan's course (approval, pause, resume, dose or frequency change, end) with its
    reason and the changed values as {field: {"before", "after"}}."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=20, choices=PlanChangeKind.choices)
    reason = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict)
    changed_at = models.DateTimeField()
    changed_by = _user()

    class Meta:
        indexes = [models.Index(fields=["plan", "changed_at"], name="plan_change_order")]

    def __str__(self) -> str:
        return self.kind


class TreatmentSession(Stamped):
    """One dated session of a plan: the treatment day's chart hangs off it. Its day is the location's day."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="sessions")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="treatment_sessions"
    )
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    date = models.DateField()
    phase = models.CharField(max_length=12, choices=SessionPhase.choices)
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    chair = models.ForeignKey(
        "clinicpolicy.Chair", on_delete=models.PROTECT, related_name="sessions", null=True, blank=True
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = _user(null=True)
    # The staff member monitoring the patient (the REMS form's "HCP doing the monitoring").
    monitored_by = _user(null=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = _user(null=True)
    # clinical/policy.policy_to_json of the policy in force at check-in: the session is judged under it.
    policy = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="session_number_unique_in_plan"),
            models.CheckConstraint(condition=Q(number__gte=1), name="session_number_positive"),
            models.CheckConstraint(
                condition=Q(checked_in_at=None, checked_in_by=None)
                | Q(checked_in_at__isnull=False, checked_in_by__isnull=False),
                name="session_check_in_both_or_neither",
            ),
            models.CheckConstraint(
                condition=Q(signed_at=None, signed_by=None)
                | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="session_signature_both_or_neither",
            ),
            models.CheckConstraint(
                condition=~Q(status=SessionStatus.SIGNED) | Q(signed_at__isnull=False),
                name="session_signed_has_signature",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[SessionStatus.SCHEDULED, SessionStatus.CANCELLED])
                | Q(checked_in_at__isnull=False),
                name="session_started_is_checked_in",
            ),
        ]
        indexes = [
            models.Index(fields=["location", "date"], name="session_location_day"),
            models.Index(fields=["patient", "date"], name="session_patient_day"),
        ]

    def __str__(self) -> str:
        return f"session {self.number} on {self.date}"


class Charted(Stamped):
    """A row appended to a session's chart."""

    class Meta:
        abstract = True


class PreDoseCheck(Charted):
    """The pre-dose checklist as answered; a later check supersedes an earlier one, both are kept."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="predose_checks")
    identity_confirmed = models.BooleanField()
    # Computed at the time by consent.queries.consent_is_current, not asked.
    consent_current = models.BooleanField()
    # Null where the modality does not require fasting.
    fasting_confirmed = models.BooleanField(null=True, blank=True)
    ride_home_arranged = models.BooleanField()
    # Asked where relevant; blank where it was not.
    pregnancy_status = models.CharField(max_length=20, choices=PregnancyStatus.choices, blank=True)
    medication_changes = models.BooleanField()
    medication_note = models.CharField(max_length=300, blank=True)
    # The interaction findings re-checked against the current medication list: [{"rule_id", "level",
    # "message"}].
    interaction_findings = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"pre-dose check {self.pk}"


class VitalSigns(Charted):
    """One set of readings, in the session's flowsheet."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="vitals")
    taken_at = models.DateTimeField()
    time_point = models.CharField(max_length=20, choices=TimePoint.choices, default=TimePoint.ANY_TIME)
    systolic_mmhg = models.PositiveSmallIntegerField()
    diastolic_mmhg = models.PositiveSmallIntegerField()
    heart_rate_bpm = models.PositiveSmallIntegerField()
    spo2_percent = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(diastolic_mmhg__lt=F("systolic_mmhg")), name="vitals_diastolic_below_systolic"
            ),
            models.CheckConstraint(
                condition=Q(systolic_mmhg__gte=SYSTOLIC_MIN_MMHG, systolic_mmhg__lte=SYSTOLIC_MAX_MMHG),
                name="vitals_systolic_range",
            ),
            models.CheckConstraint(
                condition=Q(diastolic_mmhg__gte=DIASTOLIC_MIN_MMHG, diastolic_mmhg__lte=DIASTOLIC_MAX_MMHG),
                name="vitals_diastolic_range",
            ),
            models.CheckConstraint(
                condition=Q(heart_rate_bpm__gte=HEART_RATE_MIN_BPM, heart_rate_bpm__lte=HEART_RATE_MAX_BPM),
                name="vitals_heart_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(spo2_percent__gte=SPO2_MIN_PERCENT, spo2_percent__lte=SPO2_MAX_PERCENT),
                name="vitals_spo2_range",
            ),
        ]
        indexes = [models.Index(fields=["session", "taken_at"], name="vitals_session_time")]

    def __str__(self) -> str:
        return f"{self.systolic_mmhg}/{self.diastolic_mmhg}"


class Dose(Charted):
    """The session's dose: one per session. IV keeps the pump rate it was run at; esketamine has devices."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="doses")
    amount_mg = models.DecimalField(max_digits=6, decimal_places=1)
    lot_number = models.CharField(max_length=40)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # IV and IM: the weight and mg/kg the amount was calculated from, and the volume at the concentration.
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    mg_per_kg = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    concentration_mg_per_ml = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    volume_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    # IV only.
    infusion_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    pump_rate_ml_per_hour = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session"], name="dose_one_per_session"),
            models.CheckConstraint(
                condition=Q(amount_mg__gt=0, amount_mg__lte=DOSE_MG_MAX), name="dose_amount_range"
            ),
            models.CheckConstraint(
                condition=Q(ended_at=None) | Q(ended_at__gte=F("started_at")), name="dose_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(pump_rate_ml_per_hour=None) | Q(pump_rate_ml_per_hour__gt=0),
                name="dose_pump_rate_positive",
            ),
            models.CheckConstraint(condition=~Q(lot_number=""), name="dose_lot_number_present"),
        ]

    def __str__(self) -> str:
        return f"{self.amount_mg} mg"


class DoseDevice(Charted):
    """One esketamine nasal device of a dose (28 mg): due at its time after the 5-minute rests, and when it
    was used."""

    dose = models.ForeignKey(Dose, on_delete=models.PROTECT, related_name="devices")
    number = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = _user(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dose", "number"], name="device_number_unique_in_dose"),
            models.CheckConstraint(condition=Q(number__gte=1), name="device_number_positive"),
            models.CheckConstraint(
                condition=Q(used_at=None, used_by=None) | Q(used_at__isnull=False, used_by__isnull=False),
                name="device_use_both_or_neither",
            ),
        ]
        ordering = ["dose", "number"]

    def __str__(self) -> str:
        return f"device {self.number}"


class Observation(Charted):
    """A MOAA/S or CADSS, scored by clinical/scales."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="observations")
    instrument = models.CharField(max_length=10, choices=ObservationInstrument.choices)
    answers = models.JSONField()
    total = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=60, blank=True)
    flags = models.JSONField(default=list)
    taken_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["session", "taken_at"], name="observation_session_time")]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total}"


class AdverseEvent(Charted):
    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="adverse_events")
    code = models.CharField(max_length=30, choices=AdverseEventCode.choices)
    # Required for "other"; an optional detail for a coded event.
    description = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=AdverseEventSeverity.choices)
    onset_at = models.DateTimeField()
    action_taken = models.CharField(max_length=300)
    outcome = models.CharField(max_length=12, choices=AdverseEventOutcome.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(code=AdverseEventCode.OTHER) | ~Q(description=""),
                name="adverse_event_other_is_described",
            ),
            models.CheckConstraint(condition=~Q(action_taken=""), name="adverse_event_action_present"),
        ]

    def __str__(self) -> str:
        return self.code


class SessionAlert(Charted):
    """A judgement of clinical/vitals that needs an answer: the pre-dose BP gate (acknowledge with a reason,
    or defer) or an in-session alert (what was done). Raised by the action that charted the reading."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="alerts")
    vitals = models.ForeignKey(
        VitalSigns, on_delete=models.PROTECT, related_name="alerts", null=True, blank=True
    )
    observation = models.ForeignKey(
        Observation, on_delete=models.PROTECT, related_name="alerts", null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    level = models.CharField(max_length=12, choices=AlertLevel.choices)
    rule_id = models.CharField(max_length=60)
    message = models.CharField(max_length=500)
    sources = models.JSONField(default=list)
    raised_at = models.DateTimeField()
    answer = models.CharField(
        max_length=12, choices=AlertAnswer.choices, blank=True, default=AlertAnswer.OPEN
    )
    answer_note = models.CharField(max_length=300, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = _user(null=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(answer="", answered_at=None, answered_by=None)
                | (~Q(answer="") & Q(answered_at__isnull=False, answered_by__isnull=False)),
                name="alert_answer_complete",
            ),
            models.CheckConstraint(
                condition=Q(answer__in=["", AlertAnswer.DEFERRED]) | ~Q(answer_note=""),
                name="alert_answer_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(level=AlertLevel.DEFER) | Q(answer__in=["", AlertAnswer.DEFERRED]),
                name="alert_defer_gate_only_defers",
            ),
        ]
        indexes = [models.Index(fields=["session", "answer"], name="alert_session_open")]

    def __str__(self) -> str:
        return self.rule_id


class Discharge(Charted):
    """The discharge: when, the REMS evaluation question (when the patient would have been ready to leave),
    who took the patient home, and the readiness check it passed."""

    session = models.OneToOneField(TreatmentSession, on_delete=models.PROTECT, related_name="discharge")
    discharged_at = models.DateTimeField()
    ready_to_leave_minutes = models.PositiveSmallIntegerField()
    escort_name = models.CharField(max_length=120)
    minutes_observed = models.PositiveSmallIntegerField()
    dissociation_resolved = models.BooleanField()
    respiratory_depression_resolved = models.BooleanField()

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(escort_name=""), name="discharge_escort_named")]

    def __str__(self) -> str:
        return f"discharged {self.discharged_at}"


class Amendment(models.Model):
    """A change to a signed session's chart: who, when, why and what ({field: {"before", "after"}} of the
    record named by `record` and `record_id`, or an added record)."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="amendments")
    amended_at = models.DateTimeField()
    amended_by = _user()
    reason = models.CharField(max_length=300)
    record = models.CharField(max_length=30)
    record_id = models.CharField(max_length=40, blank=True)
    changes = models.JSONField(default=dict)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="amendment_reason_present")]
        indexes = [models.Index(fields=["session", "amended_at"], name="amendment_session_time")]

    def __str__(self) -> str:
        return f"amendment {self.amended_at}"
