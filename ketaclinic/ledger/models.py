"""The controlled-substance ledger: products, lots and their append-only events. Tables and constraints only.

Units. Each product keeps its balance in one unit (`Product.unit`):
- racemic ketamine vials: milligrams (a partly used multi-dose vial is a real balance); millilitres are
  derived from the vial's concentration (mL = mg / mg_per_ml), containers from the vial's volume;
- esketamine nasal devices: devices (one device holds 28 mg in 0.2 mL; a 56 mg dose is 2 devices).

Every event carries the signed change to the lot's book balance (`delta`) and the balance after it
(`balance_after`, CHECK >= 0), computed under a row lock of the lot (`Lot.balance`, CHECK >= 0). Events and
witness rows are never updated or deleted (database triggers, migration 0002); a correction is a new
`adjust` event that references the event it corrects.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class ProductKind(models.TextChoices):
    KETAMINE_VIAL = "ketamine_vial", "Ketamine HCl injection, multi-dose vial"
    ESKETAMINE_DEVICE = "esketamine_device", "Esketamine nasal spray device (28 mg)"


class Unit(models.TextChoices):
    MG = "mg", "mg"
    DEVICE = "device", "devices"


# Reference 1.1: one esketamine device holds 28 mg esketamine in 0.2 mL.
ESKETAMINE_MG_PER_DEVICE = Decimal("28")
ESKETAMINE_ML_PER_DEVICE = Decimal("0.2")


class Product(models.Model):
    """A controlled substance as a location stocks it: substance, finished form and container size."""

    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    # Short code used by the API and forms ("ketamine-50", "esketamine-28"), unique per location.
    code = models.SlugField(max_length=40)
    kind = models.CharField(max_length=20, choices=ProductKind.choices)
    substance = models.CharField(max_length=80)
    # Finished form and strength as the DEA record names it ("ketamine HCl 50 mg/mL, 10 mL multi-dose vial").
    form = models.CharField(max_length=120)
    ndc = models.CharField("NDC", max_length=20, blank=True)
    mg_per_ml = models.DecimalField(max_digits=8, decimal_places=3)
    # Volume of one container (vial) or one device, in mL.
    container_ml = models.DecimalField(max_digits=8, decimal_places=3)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "code"], name="ledger_product_code_unique"),
            models.CheckConstraint(condition=Q(mg_per_ml__gt=0), name="ledger_product_mg_per_ml_positive"),
            models.CheckConstraint(condition=Q(container_ml__gt=0), name="ledger_product_container_positive"),
        ]
        ordering = ["location", "code"]

    def __str__(self) -> str:
        return self.form

    @property
    def unit(self) -> str:
        return Unit.DEVICE if self.kind == ProductKind.ESKETAMINE_DEVICE else Unit.MG

    @property
    def mg_per_container(self) -> Decimal:
        return self.mg_per_ml * self.container_ml


class Lot(models.Model):
    """One manufacturer's lot of a product at a location, with its running book balance (product unit)."""

    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=40)
    expires_on = models.DateField()
    # The book balance, changed only by ledger actions under select_for_update of this row.
    balance = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal(0))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "lot_number"], name="ledger_lot_number_unique"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="ledger_lot_balance_not_negative"),
        ]
        ordering = ["product", "expires_on", "lot_number"]

    def __str__(self) -> str:
        return self.lot_number


class EventKind(models.TextChoices):
    RECEIVE = "receive", "Received"
    ADMINISTER = "administer", "Administered"
    WASTE = "waste", "Wasted"
    COUNT = "count", "Physical count"
    ADJUST = "adjust", "Adjustment"


class LedgerEvent(models.Model):
    """One entry of the ledger. Append-only (database triggers); never changed, never deleted."""

    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    occurred_at = models.DateTimeField(db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    # Signed change to the lot's book balance, in the product's unit, and the balance after it.
    delta = models.DecimalField(max_digits=12, decimal_places=3)
    balance_after = models.DecimalField(max_digits=12, decimal_places=3)
    # The same quantity as the DEA record states it: mg and mL of drug (unsigned).
    amount_mg = models.DecimalField(max_digits=12, decimal_places=3)
    volume_ml = models.DecimalField(max_digits=12, decimal_places=3)
    # receive: containers received and the supplier (21 CFR 1304.22(c)).
    containers = models.PositiveIntegerField(null=True, blank=True)
    supplier_name = models.CharField(max_length=200, blank=True)
    supplier_address = models.CharField(max_length=500, blank=True)
    supplier_dea_number = models.CharField("Supplier DEA number", max_length=9, blank=True)
    # administer: the patient and the treatment session's dose it was given in.
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True, related_name="+")
    session_ref = models.CharField(max_length=64, blank=True)
    # count: the physical count and the book balance it was compared with (product unit).
    counted = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    book_balance = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    # adjust: the event it corrects or settles (a count's discrepancy, a wrong entry).
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, related_name="corrections")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_event_balance_not_negative"
            ),
            models.CheckConstraint(condition=Q(amount_mg__gte=0), name="ledger_event_amount_not_negative"),
            models.CheckConstraint(
                condition=~Q(kind="receive")
                | (Q(delta__gt=0) & Q(containers__gt=0) & ~Q(supplier_dea_number="")),
                name="ledger_receipt_complete",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["administer", "waste"]) | Q(delta__lt=0),
                name="ledger_use_reduces_balance",
            ),
            models.CheckConstraint(
                condition=~Q(kind="count") | (Q(delta=0) & Q(counted__gte=0) & Q(book_balance__gte=0)),
                name="ledger_count_complete",
            ),
        ]
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.lot_id} #{self.pk}"

    @property
    def discrepancy(self) -> Decimal | None:
        """A count's physical count minus the book balance (None for other events)."""
        if self.kind != EventKind.COUNT or self.counted is None or self.book_balance is None:
            return None
        return self.counted - self.book_balance


class WasteWitness(models.Model):
    """A second staff member's confirmation of a waste, made with their own credentials. Append-only."""

    event = models.OneToOneField(LedgerEvent, on_delete=models.PROTECT, related_name="witness")
    witnessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witnessed_at = models.DateTimeField()
    # How the witness proved who they were: their own API token, their own session, or their password
    # typed on the recorder's screen.
    method = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"witness of event {self.event_id}"
