"""The controlled-substance ledger: products, lots and their append-only events. Tables and constraints only.

Units. Each product keeps its balance in one unit (`Product.unit`):
- racemic ketamine vials: milligrams (a partly used multi-dose vial is a real balance); millilitres are
  derived from the vial's concentration (mL = mg / mg_per_ml), containers from the vial's volume;
- esketamine nasal devices: devices (one device holds 28 mg in 0.2 mL; a 56 mg dose is 2 devices).

Kinds (security-checks section 3): `receive`, `administer`, `waste`, `breakage` (non-recoverable, two
signatures), `dispose` (recoverable stock destroyed or returned to a reverse distributor, witnessed),
`transfer_out`/`transfer_in` (one lot moving between two locations of a network; both books in one
transaction), `loss` (theft or significant loss, part of a `LossReport`: DEA Form 106), `count`, `adjust`.

Retention (21 CFR 1304.04(a), at least two years; KetaClinic never hard-deletes): products, lots, events,
witness rows, loss reports and their steps refuse DELETE in the database (migration 0004) and in `delete()`.

Every event carries the signed change to the lot's book balance (`delta`) and the balance after it
(`balance_after`, CHECK >= 0), computed under a row lock of the lot (`Lot.balance`, CHECK >= 0). Events and
witness rows are never updated or deleted (database triggers, migration 0002); a correction is a new
`adjust` event that references the event it corrects.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Undeletable(models.Model):
    """A controlled-substance record that is kept for good (retention guard, security-checks CS-09)."""

    class Meta:
        abstract = True

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        from ketaclinic.errors import Refused

        raise Refused(
            "Controlled-substance records are never deleted",
            ["21 CFR 1304.04(a) keeps them at least two years; KetaClinic keeps them for good"],
        )


class ProductKind(models.TextChoices):
    KETAMINE_VIAL = "ketamine_vial", "Ketamine HCl injection, multi-dose vial"
    ESKETAMINE_DEVICE = "esketamine_device", "Esketamine nasal spray device (28 mg)"


class Unit(models.TextChoices):
    MG = "mg", "mg"
    DEVICE = "device", "devices"


# Reference 1.1: one esketamine device holds 28 mg esketamine in 0.2 mL.
ESKETAMINE_MG_PER_DEVICE = Decimal("28")
ESKETAMINE_ML_PER_DEVICE = Decimal("0.2")


class Product(Undeletable):
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


class Lot(Undeletable):
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
    BREAKAGE = "breakage", "Breakage or spillage"
    DISPOSE = "dispose", "Disposed of"
    TRANSFER_OUT = "transfer_out", "Transferred out"
    TRANSFER_IN = "transfer_in", "Transferred in"
    LOSS = "loss", "Theft or loss"
    COUNT = "count", "Physical count"
    ADJUST = "adjust", "Adjustment"


# Events that take stock off the book and need a second person's signature (a witness) to be complete.
WITNESSED_KINDS = frozenset({EventKind.WASTE, EventKind.BREAKAGE, EventKind.DISPOSE})
# Events that only ever reduce a balance.
REDUCING_KINDS = ("administer", "waste", "breakage", "dispose", "transfer_out", "loss")


class DisposalManner(models.TextChoices):
    DESTROYED = "destroyed", "Destroyed on site (rendered non-retrievable)"
    REVERSE_DISTRIBUTOR = "reverse_distributor", "Returned to a reverse distributor"


class LossType(models.TextChoices):
    THEFT = "theft", "Theft"
    SIGNIFICANT_LOSS = "significant_loss", "Significant loss"
    IN_TRANSIT = "in_transit", "Loss in transit"


class LossReport(Undeletable):
    """A theft or significant loss (21 CFR 1301.76(b)): the written notice to the DEA Field Division is due
    one business day after discovery, DEA Form 106 within 45 days. Append-only; its loss events take the
    quantities off the book, its steps record the notice and the filing."""

    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    loss_type = models.CharField(max_length=20, choices=LossType.choices)
    discovered_at = models.DateTimeField()
    # What happened and how it was found (Form 106 asks for the circumstances).
    description = models.CharField(max_length=2000)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    notice_due_on = models.DateField()
    form_106_due_on = models.DateField()

    class Meta:
        ordering = ["-discovered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(form_106_due_on__gte=F("notice_due_on")), name="ledger_loss_dues_in_order"
            ),
        ]

    def __str__(self) -> str:
        return f"loss report {self.pk}"


class LossStepKind(models.TextChoices):
    NOTICE = "notice", "Written notice to the DEA Field Division"
    FORM_106 = "form_106", "DEA Form 106 filed"


class LossStep(Undeletable):
    """One step of a loss report, done once: the notice sent or Form 106 filed. Append-only."""

    report = models.ForeignKey(LossReport, on_delete=models.PROTECT, related_name="steps")
    step = models.CharField(max_length=10, choices=LossStepKind.choices)
    done_at = models.DateTimeField()
    # The Field Division notified, or Form 106's confirmation number.
    reference = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["done_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "step"], name="ledger_loss_step_once"),
        ]

    def __str__(self) -> str:
        return f"{self.step} of loss report {self.report_id}"


class LedgerEvent(Undeletable):
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
    # dispose: destroyed on site or returned to a reverse distributor (then its name, address and DEA number).
    manner = models.CharField(max_length=20, choices=DisposalManner.choices, blank=True)
    distributor_name = models.CharField(max_length=200, blank=True)
    distributor_address = models.CharField(max_length=500, blank=True)
    distributor_dea_number = models.CharField("Reverse distributor DEA number", max_length=9, blank=True)
    # transfer_in: the other location's transfer_out it receives (the pair moves in one transaction).
    transfer_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, related_name="transferred_as"
    )
    # transfer_out and transfer_in: the other location of the transfer.
    counterpart_location = models.ForeignKey(
        "accounts.ClinicLocation", on_delete=models.PROTECT, null=True, related_name="+"
    )
    # loss: the theft or significant-loss report it belongs to.
    loss_report = models.ForeignKey(LossReport, on_delete=models.PROTECT, null=True, related_name="events")

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
                condition=~Q(kind__in=REDUCING_KINDS) | Q(delta__lt=0),
                name="ledger_use_reduces_balance",
            ),
            models.CheckConstraint(
                condition=~Q(kind="transfer_in") | (Q(delta__gt=0) & Q(transfer_of__isnull=False)),
                name="ledger_transfer_in_complete",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["transfer_out", "transfer_in"])
                | Q(counterpart_location__isnull=False),
                name="ledger_transfer_names_location",
            ),
            models.CheckConstraint(
                condition=~Q(kind="loss") | Q(loss_report__isnull=False),
                name="ledger_loss_has_report",
            ),
            models.CheckConstraint(
                condition=~Q(kind="dispose")
                | Q(manner="destroyed")
                | (Q(manner="reverse_distributor") & ~Q(distributor_dea_number="")),
                name="ledger_disposal_complete",
            ),
            models.CheckConstraint(
                condition=~Q(kind="breakage") | ~Q(reason=""), name="ledger_breakage_has_circumstances"
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


class WasteWitness(Undeletable):
    """A second staff member's confirmation of a waste, a breakage or a disposal, made with their own
    credentials. Append-only."""

    event = models.OneToOneField(LedgerEvent, on_delete=models.PROTECT, related_name="witness")
    witnessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    witnessed_at = models.DateTimeField()
    # How the witness proved who they were: their own API token, their own session, or their password
    # typed on the recorder's screen.
    method = models.CharField(max_length=20)

    def __str__(self) -> str:
        return f"witness of event {self.event_id}"
