"""Costs and billing: the code rules (versioned data), each location's price list, patients' coverage with
their cards and benefits checks, course estimates kept with the plan, and invoices of signed sessions with
their payments, refunds, write-offs and credit notes. Tables and constraints only; writes go through
actions.py.

Nothing here is edited in place: a price changes by a row with a later `effective_from`, an estimate by a new
version, an invoice never (corrections are credit notes, entries of their own). Money is a Decimal to the cent
beside its 3-letter currency code.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from ketaclinic.patients.models import Stamped

AMOUNT_MAX = 1_000_000  # a data-entry bound for one price or entry, in the currency's units


def _user(*, null: bool = False) -> models.ForeignKey:  # type: ignore[type-arg]
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=null, blank=null
    )


class CodeRuleKind(models.TextChoices):
    INFUSION_INITIAL = "infusion_initial", "Infusion, first hour (units from documented minutes)"
    INFUSION_ADDITIONAL = "infusion_additional", "Infusion, each additional hour"
    ESKETAMINE_MEDICARE = "esketamine_medicare", "Esketamine session for Medicare, chosen by dose"
    DRUG_PER_MG = "drug_per_mg", "Drug, units per mg given"
    PER_SESSION = "per_session", "One unit per session"


class CodeRule(models.Model):
    """One version of a billing code's rule: its thresholds (`params`) in force from `effective_from` until
    a later version of the same code. Loaded from data/codes.toml; a clinic admin adds later versions."""

    code = models.CharField(max_length=10)
    description = models.CharField(max_length=200)
    rule = models.CharField(max_length=30, choices=CodeRuleKind.choices)
    params = models.JSONField(default=dict)
    effective_from = models.DateField()
    source = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "effective_from"], name="code_rule_version_unique"),
            models.CheckConstraint(condition=~Q(code=""), name="code_rule_code_present"),
        ]

    def __str__(self) -> str:
        return f"{self.code} from {self.effective_from}"


class PriceItem(models.TextChoices):
    """What a location prices: session kinds and drugs."""

    CONSULTATION = "consultation", "Consultation"
    PREPARATION = "preparation", "Preparation session"
    IV_INFUSION = "iv_infusion", "IV infusion, first hour"
    IV_INFUSION_ADDITIONAL_HOUR = "iv_infusion_additional_hour", "IV infusion, each additional hour"
    IM_INJECTION = "im_injection", "IM injection"
    ESKETAMINE_MONITORING = "esketamine_monitoring", "Esketamine monitoring visit"
    ESKETAMINE_MEDICARE = "esketamine_medicare", "Esketamine session (Medicare bundle)"
    ESKETAMINE_DRUG = "esketamine_drug", "Esketamine, per mg"
    RACEMIC_KETAMINE = "racemic_ketamine", "Racemic ketamine, per session"
    PROLONGED_SERVICE = "prolonged_service", "Prolonged service"
    INTEGRATION = "integration", "Integration session"
    KAP = "kap", "Ketamine-assisted psychotherapy (KAP)"


class Price(models.Model):
    """One price of an item at a location, with its billing code, in force from `effective_from` until a
    later price of the same item and code."""

    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    item = models.CharField(max_length=40, choices=PriceItem.choices)
    code = models.CharField(max_length=20)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    effective_from = models.DateField()
    # The CMS place-of-service code the location bills this item under (the clinic's setting).
    place_of_service = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField()
    created_by = _user()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "item", "code", "effective_from"], name="price_version_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="price_amount_not_negative"),
            models.CheckConstraint(condition=~Q(code=""), name="price_code_present"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="price_currency_code"),
        ]
        indexes = [models.Index(fields=["location", "item", "-effective_from"], name="price_in_force")]

    def __str__(self) -> str:
        return f"{self.item} {self.code} {self.amount} {self.currency}"


class PayerKind(models.TextChoices):
    MEDICARE = "medicare", "Medicare"
    MEDICAID = "medicaid", "Medicaid"
    COMMERCIAL = "commercial", "Commercial"
    OTHER = "other", "Other"


class Coverage(Stamped):
    """A patient's insurance: payer (with its payer id for claims), plan, member and group ids, subscriber,
    behavioural-health carve-out, and whether the payer wants esketamine billed split (drug, E/M and
    prolonged service)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="coverages")
    payer = models.CharField(max_length=120)
    payer_kind = models.CharField(max_length=12, choices=PayerKind.choices, default=PayerKind.COMMERCIAL)
    payer_id = models.CharField(max_length=20, blank=True)
    plan = models.CharField(max_length=120, blank=True)
    member_id = models.CharField(max_length=40)
    group_number = models.CharField(max_length=40, blank=True)
    subscriber_name = models.CharField(max_length=120, blank=True)
    subscriber_relationship = models.CharField(max_length=20, blank=True)
    carve_out = models.BooleanField(default=False)
    split_billing = models.BooleanField(default=False)
    ended_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(payer=""), name="coverage_payer_present"),
            models.CheckConstraint(condition=~Q(member_id=""), name="coverage_member_id_present"),
        ]
        indexes = [models.Index(fields=["patient", "-created_at"], name="coverage_patient_latest")]

    def __str__(self) -> str:
        return f"coverage {self.pk}"


class CardSide(models.TextChoices):
    FRONT = "front", "Front"
    BACK = "back", "Back"


class CoverageCard(models.Model):
    """An image of one side of the insurance card: PHI, stored in the database and shown only through the
    coverage's access check. A newer image of a side supersedes the older; both are kept."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="cards")
    side = models.CharField(max_length=5, choices=CardSide.choices)
    content_type = models.CharField(max_length=20)
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by = _user()

    class Meta:
        indexes = [models.Index(fields=["coverage", "side", "-uploaded_at"], name="card_latest")]

    def __str__(self) -> str:
        return f"card {self.side}"


class BenefitCheck(models.Model):
    """A benefits check of a coverage for one modality, with who checked and when."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="benefit_checks")
    modality = models.CharField(max_length=20)
    covered = models.BooleanField()
    copay = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    coinsurance_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    deductible_remaining = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    prior_auth_required = models.BooleanField()
    checked_at = models.DateTimeField()
    checked_by = _user()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(copay=None) | Q(copay__gte=0), name="benefit_copay_range"),
            models.CheckConstraint(
                condition=Q(coinsurance_percent=None)
                | Q(coinsurance_percent__gte=0, coinsurance_percent__lte=100),
                name="benefit_coinsurance_range",
            ),
            models.CheckConstraint(
                condition=Q(deductible_remaining=None) | Q(deductible_remaining__gte=0),
                name="benefit_deductible_range",
            ),
        ]
        indexes = [models.Index(fields=["coverage", "modality", "-checked_at"], name="benefit_latest")]

    def __str__(self) -> str:
        return f"benefit check {self.modality}"


class Estimate(models.Model):
    """One version of a plan's course estimate, kept as it was shown: its lines as
    [{"item", "code", "units", "amount", "insurer", "patient", "sessions"}] and its totals, insured and
    self-pay side by side."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey("treatment.TreatmentPlan", on_delete=models.PROTECT, related_name="estimates")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    insurer_expected = models.DecimalField(max_digits=12, decimal_places=2)
    patient_share = models.DecimalField(max_digits=12, decimal_places=2)
    self_pay_total = models.DecimalField(max_digits=12, decimal_places=2)
    lines = models.JSONField(default=list)
    self_pay_lines = models.JSONField(default=list)
    benefit_check = models.ForeignKey(
        BenefitCheck, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    payer = models.CharField(max_length=120, blank=True)
    integration_per_session = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    created_by = _user()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="estimate_version_unique"),
        ]

    def __str__(self) -> str:
        return f"estimate v{self.version}"


class Invoice(models.Model):
    """The invoice of one signed session: its lines are written once and never changed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=20, unique=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="invoices")
    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    session = models.OneToOneField(
        "treatment.TreatmentSession", on_delete=models.PROTECT, related_name="invoice"
    )
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    rendering_clinician = _user()
    service_date = models.DateField()
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField()
    created_by = _user()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_not_negative")]
        indexes = [models.Index(fields=["patient", "-created_at"], name="invoice_patient_latest")]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    number = models.PositiveSmallIntegerField()
    item = models.CharField(max_length=40, choices=PriceItem.choices)
    code = models.CharField(max_length=20)
    description = models.CharField(max_length=200)
    modifiers = models.JSONField(default=list)
    units = models.PositiveIntegerField()
    unit_amount = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    place_of_service = models.CharField(max_length=2, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "number"], name="invoice_line_number_unique"),
            models.CheckConstraint(condition=Q(units__gte=1), name="invoice_line_units_positive"),
        ]
        ordering = ["invoice", "number"]

    def __str__(self) -> str:
        return f"{self.code} x{self.units}"


class EntryKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    REFUND = "refund", "Refund"
    WRITE_OFF = "write_off", "Write-off"
    CREDIT_NOTE = "credit_note", "Credit note"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    CARD = "card", "Card (taken outside KetaClinic)"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    INSURER = "insurer", "Insurer payment"
    OTHER = "other", "Other"


class InvoiceEntry(models.Model):
    """A money event on an invoice, appended and never changed: a payment (amount, method, date received), a
    refund, a write-off or a credit note (each with its reason)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    method = models.CharField(max_length=15, choices=PaymentMethod.choices, blank=True)
    received_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    # A payment above the balance, taken knowingly: the excess is the patient's credit.
    as_credit = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    created_by = _user()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="entry_amount_positive"),
            models.CheckConstraint(condition=Q(kind="payment") | ~Q(reason=""), name="entry_reason_present"),
            models.CheckConstraint(
                condition=~Q(kind__in=["payment", "refund"]) | ~Q(method=""), name="entry_method_present"
            ),
        ]
        indexes = [models.Index(fields=["invoice", "created_at"], name="entry_invoice_order")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


# --- Superbills: the identifiers a claim names (the clinic's data, kept by a clinic admin) ----------------

NPI_PATTERN = r"^[0-9]{10}$"
TAX_ID_PATTERN = r"^[0-9]{2}-?[0-9]{7}$"
ICD10_PATTERN = r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$"


class PracticeIdentity(models.Model):
    """A location's billing identifiers for superbills and prior-authorisation requests: the practice's
    name as billed, its organisational NPI, tax id, billing address and phone. One row per location,
    changed in place with a version (the change is audited with the fields it touched)."""

    location = models.OneToOneField(
        "accounts.ClinicLocation", on_delete=models.PROTECT, related_name="practice_identity"
    )
    practice_name = models.CharField(max_length=120)
    npi = models.CharField(max_length=10, blank=True)
    tax_id = models.CharField(max_length=10, blank=True)
    address = models.CharField(max_length=250, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()
    updated_by = _user()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(npi="") | Q(npi__regex=NPI_PATTERN), name="practice_npi_digits"
            ),
            models.CheckConstraint(
                condition=Q(tax_id="") | Q(tax_id__regex=TAX_ID_PATTERN), name="practice_tax_id_format"
            ),
        ]

    def __str__(self) -> str:
        return f"practice identity of {self.location_id}"


class ClinicianIdentity(models.Model):
    """A rendering clinician's individual NPI and credentials as a claim names them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    npi = models.CharField(max_length=10)
    credentials = models.CharField(max_length=30, blank=True)
    updated_at = models.DateTimeField()
    updated_by = _user()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(npi__regex=NPI_PATTERN), name="clinician_npi_digits"),
        ]

    def __str__(self) -> str:
        return f"clinician identity of {self.user_id}"


class DiagnosisCode(models.Model):
    """The ICD-10-CM code a location bills a chart condition under. The chart's conditions carry
    KetaClinic's own codes (clinical/vocab.py, no ICD-10 in the reference), and the right ICD-10 code
    depends on what the clinic documents (episode, severity), so the clinic keeps the mapping; a condition
    without one is shown on the superbill as missing."""

    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    condition = models.CharField(max_length=60)
    icd10 = models.CharField(max_length=8)
    description = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField()
    updated_by = _user()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "condition"], name="diagnosis_code_unique"),
            models.CheckConstraint(condition=Q(icd10__regex=ICD10_PATTERN), name="diagnosis_icd10_format"),
        ]

    def __str__(self) -> str:
        return f"{self.condition} {self.icd10}"


# --- Prior authorisation ----------------------------------------------------------------------------------


class PriorAuthorization(models.Model):
    """A payer's prior authorisation of a plan's sessions: its number, the dates it covers and how many
    sessions it approves. Appended, never changed: a renewal or correction is a new row, and the latest
    row covering a day is the one in force on it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(
        "treatment.TreatmentPlan", on_delete=models.PROTECT, related_name="prior_authorizations"
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    number = models.CharField(max_length=40)
    approved_from = models.DateField()
    approved_to = models.DateField()
    approved_sessions = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = _user()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(number=""), name="authorization_number_present"),
            models.CheckConstraint(
                condition=Q(approved_from__lte=models.F("approved_to")), name="authorization_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(approved_sessions__gte=1), name="authorization_sessions_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["plan", "-created_at"], name="authorization_plan_latest"),
            models.Index(fields=["approved_to"], name="authorization_expiry"),
        ]

    def __str__(self) -> str:
        return f"authorisation {self.pk}"
