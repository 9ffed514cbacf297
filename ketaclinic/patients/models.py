"""Patients and what intake records about them. Tables and constraints only; writes go through actions.py.

Clinical entries are amended, not deleted: a medication is stopped, a condition resolved, a wrong entry
marked entered-in-error with a reason, each change leaving an audit row.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from ketaclinic.clinical.vocab import CONDITIONS, DRUGS


class Sex(models.TextChoices):
    """Sex as recorded for clinical purposes (FHIR AdministrativeGender values)."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class PregnancyStatus(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    NOT_PREGNANT = "not_pregnant", "Not pregnant"
    PREGNANT = "pregnant", "Pregnant"
    UNKNOWN = "unknown", "Unknown"


class EntryStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved / stopped"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class Severity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"
    UNKNOWN = "unknown", "Not known"


class AllergyCategory(models.TextChoices):
    MEDICATION = "medication", "Medication"
    FOOD = "food", "Food"
    ENVIRONMENT = "environment", "Environment"
    OTHER = "other", "Other"


class Substance(models.TextChoices):
    ALCOHOL = "alcohol", "Alcohol"
    CANNABIS = "cannabis", "Cannabis"
    OPIOIDS = "opioids", "Opioids (non-prescribed)"
    STIMULANTS = "stimulants", "Stimulants (cocaine, methamphetamine)"
    SEDATIVES = "sedatives", "Sedatives (non-prescribed benzodiazepines)"
    KETAMINE = "ketamine", "Ketamine (non-medical)"
    HALLUCINOGENS = "hallucinogens", "Hallucinogens"
    TOBACCO = "tobacco", "Tobacco / nicotine"
    OTHER = "other", "Other"


class UseStatus(models.TextChoices):
    CURRENT = "current", "Current use"
    PAST = "past", "Past use"
    NEVER = "never", "Never"


class TrialOutcome(models.TextChoices):
    RESPONSE = "response", "Response"
    PARTIAL = "partial", "Partial response"
    NONE = "none", "No response"
    INTOLERANCE = "intolerance", "Stopped for intolerance"


CONDITION_CHOICES = [(c.code, c.display) for c in CONDITIONS.values()]
DRUG_CHOICES = [(d.code, d.display) for d in DRUGS.values()]


class Stamped(models.Model):
    """Who created and last changed a row, and when."""

    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class Patient(Stamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.ForeignKey("accounts.ClinicNetwork", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="patients")
    # Assigned by KetaClinic at registration from the network's sequence (MrnSequence): "KC-000123".
    mrn = models.CharField("MRN", max_length=20, editable=False)
    # An identifier from a referring system, as typed (trimmed); unique per location through its key.
    external_mrn = models.CharField("External MRN", max_length=40, blank=True)
    # external_mrn trimmed and case-folded; empty when there is none or the registration was entered in error.
    external_mrn_key = models.CharField(max_length=40, blank=True, editable=False)
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=250, blank=True)
    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_phone = models.CharField(max_length=30, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    pregnancy_status = models.CharField(
        max_length=20, choices=PregnancyStatus.choices, default=PregnancyStatus.NOT_APPLICABLE
    )
    breastfeeding = models.BooleanField(default=False)
    pregnancy_recorded_on = models.DateField(null=True, blank=True)
    # Lower-cased "family given" for search; kept in step by the actions.
    search_name = models.CharField(max_length=170, db_index=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    # A registration made by mistake (a duplicate, the wrong person): kept, hidden from lists and search.
    entered_in_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    entered_in_error_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "mrn"], name="patient_mrn_unique_in_network"),
            models.UniqueConstraint(
                fields=["location", "external_mrn_key"],
                condition=~Q(external_mrn_key=""),
                name="patient_external_mrn_unique_in_location",
            ),
        ]
        indexes = [
            models.Index(fields=["location", "family_name", "given_name"], name="patient_location_name"),
            models.Index(fields=["date_of_birth"], name="patient_dob"),
        ]

    def __str__(self) -> str:
        return f"Patient {self.mrn}"

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class MrnSequence(models.Model):
    """The last MRN number handed out in a clinic network; its row is locked while one is allocated."""

    network = models.OneToOneField("accounts.ClinicNetwork", on_delete=models.PROTECT, related_name="+")
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"MRN sequence {self.network_id}: {self.last_value}"


class PatientNameToken(models.Model):
    """What a search can find a patient by: one row per prefix of each folded word of the name, and
    per MRN, external MRN and date of birth (patients/search.py). Kept by the actions in the registering
    or changing transaction; a patient entered in error has none.

    A search word is an equality on the index that leads with the location (so the visible-patients
    restriction is part of the index walk); `sort_key` (folded family and given names, then the MRN)
    follows, so a page of matches is read in list order from the index alone.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    token = models.CharField(max_length=80)
    sort_key = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "token"], name="name_token_unique_per_patient")
        ]
        indexes = [
            models.Index(fields=["location", "token", "sort_key", "patient"], name="name_token_search")
        ]

    def __str__(self) -> str:
        return self.token


class PatientListFacts(models.Model):
    """What a listed patient's safety chips are computed from besides the patient's own row: the active
    condition codes and medication drugs, the active ketamine-related allergies, whether an active
    substance use meets criteria for a use disorder, and the latest resting blood pressure, as JSON text
    (patients/listfacts.py). Kept by the actions in the writing transaction, as the search tokens are, so a
    search page reads them with its rows instead of from five tables. The chips themselves are computed
    when shown (they depend on the patient's age and on the rule set and policy in force).
    """

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, primary_key=True, related_name="+")
    facts = models.TextField()

    def __str__(self) -> str:
        return f"list facts of {self.patient_id}"


class PatientEntry(Stamped):
    """A row of a patient's history with a status, amended rather than deleted."""

    status = models.CharField(max_length=20, choices=EntryStatus.choices, default=EntryStatus.ACTIVE)
    status_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True


# Data-entry plausibility bounds for resting vitals, not clinical thresholds: they catch a slipped digit or
# swapped fields (clinical levels are ClinicPolicy's). The input model and the check constraints share them.
SYSTOLIC_MIN_MMHG, SYSTOLIC_MAX_MMHG = 50, 300
DIASTOLIC_MIN_MMHG, DIASTOLIC_MAX_MMHG = 20, 200
HEART_RATE_MIN_BPM, HEART_RATE_MAX_BPM = 20, 250


class BodyMeasurement(Stamped):
    """Weight, height and resting vitals on one day; any of them may be recorded alone."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measurements")
    measured_on = models.DateField()
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    # Resting blood pressure (both parts or neither) and heart rate, as screening reads them.
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=False)
                | Q(height_cm__isnull=False)
                | Q(systolic_mmhg__isnull=False)
                | Q(heart_rate_bpm__isnull=False),
                name="measurement_not_empty",
            ),
            # The default ClinicPolicy.dose_weight_min_kg/max_kg, as a last line behind the input check.
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gte=20, weight_kg__lte=400),
                name="measurement_weight_range",
            ),
            models.CheckConstraint(
                condition=Q(systolic_mmhg__isnull=True, diastolic_mmhg__isnull=True)
                | Q(systolic_mmhg__isnull=False, diastolic_mmhg__isnull=False),
                name="measurement_bp_both_or_neither",
            ),
            models.CheckConstraint(
                condition=Q(systolic_mmhg__isnull=True) | Q(diastolic_mmhg__lt=F("systolic_mmhg")),
                name="measurement_bp_diastolic_below_systolic",
            ),
            models.CheckConstraint(
                condition=Q(systolic_mmhg__isnull=True)
                | Q(systolic_mmhg__gte=SYSTOLIC_MIN_MMHG, systolic_mmhg__lte=SYSTOLIC_MAX_MMHG),
                name="measurement_systolic_range",
            ),
            models.CheckConstraint(
                condition=Q(diastolic_mmhg__isnull=True)
                | Q(diastolic_mmhg__gte=DIASTOLIC_MIN_MMHG, diastolic_mmhg__lte=DIASTOLIC_MAX_MMHG),
                name="measurement_diastolic_range",
            ),
            models.CheckConstraint(
                condition=Q(heart_rate_bpm__isnull=True)
                | Q(heart_rate_bpm__gte=HEART_RATE_MIN_BPM, heart_rate_bpm__lte=HEART_RATE_MAX_BPM),
                name="measurement_heart_rate_range",
            ),
        ]
        indexes = [models.Index(fields=["patient", "-measured_on"], name="measurement_latest")]

    def __str__(self) -> str:
        return f"measurement {self.measured_on}"


# The chart reads each section as `patient = x AND status <> 'entered_in_error' ORDER BY status, created_at,
# id LIMIT 51` (queries.entries): on this index that is a range of the patient's rows already in order, so a
# 500-trial history costs what a 5-entry one does; on the foreign key's index alone the database read and
# sorted every row of the patient first (0.5 ms for 500 trials on SQLite, docs/performance.md).
CHART_ORDER = ["patient", "status", "created_at", "id"]


class Condition(PatientEntry):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="conditions")
    code = models.CharField(max_length=60, choices=CONDITION_CHOICES)
    onset_year = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "code"], condition=Q(status="active"), name="condition_active_unique"
            )
        ]
        indexes = [models.Index(fields=CHART_ORDER, name="condition_chart_order")]

    def __str__(self) -> str:
        return self.code


class Medication(PatientEntry):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="medications")
    drug = models.CharField(max_length=40, choices=DRUG_CHOICES)
    other_name = models.CharField(max_length=120, blank=True)
    dose = models.CharField(max_length=80, blank=True, help_text="As taken, e.g. '100 mg twice daily'")
    started_on = models.DateField(null=True, blank=True)
    stopped_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=CHART_ORDER, name="medication_chart_order")]

    def __str__(self) -> str:
        return self.drug


class Allergy(PatientEntry):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=120)
    category = models.CharField(max_length=20, choices=AllergyCategory.choices)
    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.UNKNOWN)
    # Hypersensitivity to ketamine, esketamine or an excipient is a label contraindication [S7].
    ketamine_related = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=CHART_ORDER, name="allergy_chart_order")]

    def __str__(self) -> str:
        return self.substance


class SubstanceUse(PatientEntry):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="substance_use")
    substance = models.CharField(max_length=20, choices=Substance.choices)
    use_status = models.CharField(max_length=10, choices=UseStatus.choices)
    use_disorder = models.BooleanField(default=False, help_text="Meets criteria for a use disorder")
    last_used_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=CHART_ORDER, name="substance_use_chart_order")]

    def __str__(self) -> str:
        return self.substance


class AntidepressantTrial(PatientEntry):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="antidepressant_trials")
    drug = models.CharField(max_length=40, choices=DRUG_CHOICES)
    other_name = models.CharField(max_length=120, blank=True)
    max_daily_dose_mg = models.DecimalField(max_digits=7, decimal_places=2)
    weeks_at_dose = models.DecimalField(max_digits=5, decimal_places=1)
    adequate_dose = models.BooleanField(help_text="Adequate dose, in the prescriber's judgement")
    dose_optimised = models.BooleanField(default=False)
    augmented = models.BooleanField(default=False)
    augmentation_agent = models.CharField(max_length=120, blank=True)
    outcome = models.CharField(max_length=12, choices=TrialOutcome.choices)
    current_episode = models.BooleanField()
    started_year = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(max_daily_dose_mg__gt=0), name="trial_dose_positive"),
            models.CheckConstraint(condition=Q(weeks_at_dose__gte=0), name="trial_weeks_nonnegative"),
        ]
        indexes = [models.Index(fields=CHART_ORDER, name="trial_chart_order")]

    def __str__(self) -> str:
        return self.drug
