"""Every write to the controlled-substance ledger. Each do_* runs in one transaction and leaves one audit row.

A lot's book balance changes only here, under `select_for_update` of its `Lot` row: the new balance is
computed, refused if it would go below zero (and the database's CHECK constraints refuse it again), and
written both to the lot and, as `balance_after`, to the appended event.

Conversions (`Product.unit`):
- ketamine vial (unit mg): a dose or waste is taken in mg; mL = mg / the vial's mg/mL; a receipt of n vials
  adds n x mL per vial x mg/mL.
- esketamine device (unit device): one device is 28 mg in 0.2 mL; a dose of `amount_mg` uses
  amount_mg / 28 devices and must be a whole number of them (56 mg = 2 devices, 84 mg = 3).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.clock import local_date, local_now
from ketaclinic.errors import Forbidden, InvalidInput, Refused
from ketaclinic.ledger import inputs
from ketaclinic.ledger.calendar import loss_deadlines
from ketaclinic.ledger.models import (
    WITNESSED_KINDS,
    EventKind,
    LedgerEvent,
    LossReport,
    LossStep,
    Lot,
    Product,
    Unit,
    WasteWitness,
)

KIND_ACTIONS = {
    EventKind.RECEIVE: Action.LEDGER_RECEIVE,
    EventKind.WASTE: Action.LEDGER_WASTE,
    EventKind.BREAKAGE: Action.LEDGER_BREAKAGE,
    EventKind.DISPOSE: Action.LEDGER_DISPOSE,
    EventKind.TRANSFER_OUT: Action.LEDGER_TRANSFER,
    EventKind.COUNT: Action.LEDGER_COUNT,
    EventKind.ADJUST: Action.LEDGER_ADJUST,
}


def mg_per_unit(product: Product) -> Decimal:
    """Milligrams of drug in one unit of the product's balance (1 for mg; 28 for an esketamine device)."""
    return product.mg_per_container if product.unit == Unit.DEVICE else Decimal(1)


def as_mg_and_ml(product: Product, units: Decimal) -> tuple[Decimal, Decimal]:
    """A quantity in the product's unit as (mg, mL), both unsigned."""
    mg = abs(units) * mg_per_unit(product)
    return mg, (mg / product.mg_per_ml).quantize(Decimal("0.001"))


def _whole_units(product: Product, units: Decimal, field: str) -> None:
    if product.unit == Unit.DEVICE and units != units.to_integral_value():
        raise InvalidInput({field: "esketamine is counted in whole devices"})


def _locked_lot(
    location: ClinicLocation, lot_number: str, field: str = "lot_number", *, lock: bool = True
) -> Lot:
    rows = Lot.objects.select_for_update() if lock else Lot.objects.all()
    lot = rows.select_related("product").filter(location=location, lot_number=lot_number).first()
    if lot is None:
        raise InvalidInput({field: f"no lot '{lot_number}' has been received at this location"})
    return lot


def _append(
    lot: Lot,
    kind: str,
    delta: Decimal,
    *,
    actor: Any,
    reason: str = "",
    occurred_at: dt.datetime | None = None,
    **fields: Any,
) -> LedgerEvent:
    """Apply `delta` to the locked lot and append the event; refuses a balance below zero."""
    product = lot.product
    after = lot.balance + delta
    if after < 0:
        raise Refused(
            "The balance would go below zero",
            [
                f"lot {lot.lot_number} of {product.form} holds {lot.balance.normalize():f} {product.unit}; "
                f"{abs(delta).normalize():f} {product.unit} cannot be taken from it"
            ],
            field="quantity",
        )
    mg, ml = as_mg_and_ml(product, delta if kind != EventKind.COUNT else fields.get("counted", Decimal(0)))
    event = LedgerEvent.objects.create(
        location_id=lot.location_id,
        product=product,
        lot=lot,
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        recorded_by=actor,
        reason=reason,
        delta=delta,
        balance_after=after,
        amount_mg=mg,
        volume_ml=ml,
        **fields,
    )
    if delta:
        Lot.objects.filter(pk=lot.pk).update(balance=after)
        lot.balance = after
    return event


@transaction.atomic
def do_add_product(
    location: ClinicLocation, data: inputs.ProductIn, *, actor: Any, origin: Origin = SYSTEM
) -> Product:
    """Add a controlled substance as the location stocks it (substance, form and container size)."""
    if Product.objects.filter(location=location, code=data.code).exists():
        raise InvalidInput({"code": f"this location already has a product '{data.code}'"})
    product = Product.objects.create(location=location, **data.model_dump())
    record(
        Action.LEDGER_PRODUCT,
        actor=actor,
        origin=origin,
        obj=product,
        location_id=location.pk,
        changed_fields=data.model_dump().keys(),
    )
    return product


def product_for(location: ClinicLocation, code: str) -> Product:
    product = Product.objects.filter(location=location, code=code, active=True).first()
    if product is None:
        raise InvalidInput({"product": f"'{code}' is not a product of this location"})
    return product


def _receive(
    location: ClinicLocation, product: Product, data: inputs.EventIn, actor: Any, when: dt.datetime | None
) -> LedgerEvent:
    assert data.expires_on is not None  # EventIn requires it for a receipt
    lot = Lot.objects.select_for_update().filter(location=location, lot_number=data.lot_number).first()
    if lot is None:
        try:
            with transaction.atomic():
                Lot.objects.create(
                    location=location, product=product, lot_number=data.lot_number, expires_on=data.expires_on
                )
        except IntegrityError:  # a concurrent receipt created it first
            pass
        lot = _locked_lot(location, data.lot_number)
    if lot.product_id != product.pk:
        raise InvalidInput({"lot_number": f"lot '{lot.lot_number}' is a lot of another product"})
    if lot.expires_on != data.expires_on:
        raise InvalidInput({"expires_on": f"lot '{lot.lot_number}' expires on {lot.expires_on.isoformat()}"})
    containers = int(data.quantity)
    units = Decimal(containers) if product.unit == Unit.DEVICE else containers * product.mg_per_container
    return _append(
        lot,
        EventKind.RECEIVE,
        units,
        actor=actor,
        reason=data.reason,
        occurred_at=when,
        containers=containers,
        supplier_name=data.supplier_name,
        supplier_address=data.supplier_address,
        supplier_dea_number=data.supplier_dea_number,
    )


def _correctable(location: ClinicLocation, event_id: int | None) -> LedgerEvent | None:
    if event_id is None:
        return None
    original = LedgerEvent.objects.filter(location=location, pk=event_id).first()
    if original is None:
        raise InvalidInput({"corrects": "no such event in this location's ledger"})
    return original


def _transfer(
    location: ClinicLocation, lot: Lot, data: inputs.EventIn, actor: Any, when: dt.datetime | None
) -> LedgerEvent:
    """Move a quantity of `lot` to the same lot at another location of the network: the sending lot's
    transfer_out and the receiving lot's transfer_in are appended in this one transaction, each balanced
    under its own lot's row lock (both locks taken in key order, so crossing transfers cannot deadlock).

    The receiving location must stock the same product (by code); the lot is opened there with the same
    number and expiry if it is new, and must have them if it is not.
    """
    destination = ClinicLocation.objects.filter(network_id=location.network_id, slug=data.to_location).first()
    if destination is None or destination.pk == location.pk:
        raise InvalidInput({"to_location": f"'{data.to_location}' is not another location of this network"})
    product = Product.objects.filter(location=destination, code=lot.product.code, active=True).first()
    if product is None:
        raise InvalidInput({"to_location": f"{destination.name} does not stock {lot.product.code}"})
    there = Lot.objects.filter(location=destination, lot_number=lot.lot_number).first()
    if there is None:
        try:
            with transaction.atomic():
                there = Lot.objects.create(
                    location=destination,
                    product=product,
                    lot_number=lot.lot_number,
                    expires_on=lot.expires_on,
                )
        except IntegrityError:  # a concurrent transfer opened it first
            there = Lot.objects.get(location=destination, lot_number=lot.lot_number)
    if there.product_id != product.pk or there.expires_on != lot.expires_on:
        raise InvalidInput(
            {"lot_number": f"{destination.name} holds a lot '{lot.lot_number}' of another product or expiry"}
        )
    locked = {
        row.pk: row
        for row in Lot.objects.select_for_update()
        .select_related("product")
        .filter(pk__in=[lot.pk, there.pk])
        .order_by("pk")
    }
    source, target = locked[lot.pk], locked[there.pk]
    when = when or timezone.now()
    reason = data.reason or f"transfer to {destination.name}"
    out = _append(
        source,
        EventKind.TRANSFER_OUT,
        -data.quantity,
        actor=actor,
        reason=reason,
        occurred_at=when,
        counterpart_location=destination,
    )
    _append(
        target,
        EventKind.TRANSFER_IN,
        data.quantity,
        actor=actor,
        reason=data.reason or f"transfer from {location.name}",
        occurred_at=when,
        counterpart_location=location,
        transfer_of=out,
    )
    return out


@transaction.atomic
def do_record_event(
    location: ClinicLocation,
    data: inputs.EventIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    occurred_at: dt.datetime | None = None,
) -> LedgerEvent:
    """Record a receipt, a waste, a breakage or a disposal (each pending until witnessed), a transfer to
    another location (both books move here), a physical count or an adjustment.

    `occurred_at` (default now) is for the demo's history; pages and the API always record now.
    """
    product = product_for(location, data.product)
    if data.kind == "receive":
        event = _receive(location, product, data, actor, occurred_at)
    else:
        _whole_units(product, data.quantity, "quantity")
        # A transfer locks its two lots itself, in key order (so crossing transfers cannot deadlock).
        lot = _locked_lot(location, data.lot_number, lock=data.kind != "transfer_out")
        if lot.product_id != product.pk:
            raise InvalidInput({"lot_number": f"lot '{lot.lot_number}' is a lot of another product"})
        if data.kind in ("waste", "breakage"):
            event = _append(
                lot,
                EventKind(data.kind),
                -data.quantity,
                actor=actor,
                reason=data.reason,
                occurred_at=occurred_at,
            )
        elif data.kind == "dispose":
            event = _append(
                lot,
                EventKind.DISPOSE,
                -data.quantity,
                actor=actor,
                reason=data.reason,
                occurred_at=occurred_at,
                manner=data.manner,
                distributor_name=data.distributor_name,
                distributor_address=data.distributor_address,
                distributor_dea_number=data.distributor_dea_number,
            )
        elif data.kind == "transfer_out":
            event = _transfer(location, lot, data, actor, occurred_at)
        elif data.kind == "count":
            event = _append(
                lot,
                EventKind.COUNT,
                Decimal(0),
                actor=actor,
                reason=data.reason,
                occurred_at=occurred_at,
                counted=data.quantity,
                book_balance=lot.balance,
            )
        else:
            original = _correctable(location, data.corrects)
            event = _append(
                lot,
                EventKind.ADJUST,
                data.quantity,
                actor=actor,
                reason=data.reason,
                occurred_at=occurred_at,
                corrects=original,
            )
    record(
        KIND_ACTIONS[EventKind(data.kind)],
        actor=actor,
        origin=origin,
        obj=event,
        location_id=location.pk,
        changed_fields=[name for name in data.model_fields_set if name not in {"kind", "location"}],
    )
    return event


@transaction.atomic
def do_administer(
    *,
    location: ClinicLocation,
    lot_number: str,
    amount_mg: Decimal,
    session_ref: str,
    actor: Any,
    origin: Origin = SYSTEM,
    patient: Any = None,
    occurred_at: dt.datetime | None = None,
) -> LedgerEvent:
    """Take a dose given in a treatment session from the lot's balance; called by the session's dose action
    inside its own transaction, so the dose, this event and both audit rows commit together.

    `amount_mg` is converted to the product's unit (ketamine vials: mg; esketamine: whole 28 mg devices).
    `patient` (the session's patient) goes into the DEA record; `session_ref` names the dose or session.
    Raises InvalidInput({"lot_number"}) for a lot this location never received, InvalidInput({"amount_mg"})
    for an amount that is not a positive whole number of devices, and Refused when the lot is expired or the
    balance would go below zero.
    """
    if not isinstance(amount_mg, Decimal) or not amount_mg.is_finite() or amount_mg <= 0:
        raise InvalidInput({"amount_mg": "give the amount given in mg, above 0"})
    lot = _locked_lot(location, lot_number)
    product = lot.product
    units = amount_mg / mg_per_unit(product)
    if product.unit == Unit.DEVICE and units != units.to_integral_value():
        raise InvalidInput(
            {"amount_mg": f"esketamine is given in whole devices of {mg_per_unit(product)} mg"}
        )
    when = occurred_at or timezone.now()
    if lot.expires_on < local_date(location, when):
        raise Refused(
            "This lot cannot be used",
            [f"lot {lot.lot_number} expired on {lot.expires_on.isoformat()}"],
            field="lot_number",
        )
    event = _append(
        lot,
        EventKind.ADMINISTER,
        -units,
        actor=actor,
        occurred_at=when,
        patient=patient,
        session_ref=session_ref[:64],
    )
    record(
        Action.LEDGER_ADMINISTER,
        actor=actor,
        origin=origin,
        obj=event,
        patient=patient,
        location_id=location.pk,
        changed_fields=["lot_number", "amount_mg", "session_ref"],
    )
    return event


class WitnessMethod:
    TOKEN = "api_token"
    SESSION = "own_session"


@transaction.atomic
def do_witness_waste(
    event: LedgerEvent,
    *,
    actor: Any,
    method: str = WitnessMethod.SESSION,
    origin: Origin = SYSTEM,
    witnessed_at: dt.datetime | None = None,
) -> WasteWitness:
    """A second staff member, signed in with their own credentials, confirms a waste, a breakage (its second
    signature) or a disposal.

    The recorder cannot witness their own event, and the witness must hold ledger.write at the event's
    location (Forbidden); an event is witnessed once (Refused).
    """
    if event.kind not in WITNESSED_KINDS:
        raise Refused(
            "Only a waste, a breakage or a disposal is witnessed", [f"event {event.pk} is a {event.kind}"]
        )
    if actor.pk == event.recorded_by_id:
        raise Forbidden("the person who recorded a waste cannot witness it")
    if not can(actor, Perm.LEDGER_WRITE, event.location_id):
        raise Forbidden("witnessing a waste needs a role that records in the ledger")
    # Lock the lot so two witnesses of one waste are ordered; the second finds the first.
    Lot.objects.select_for_update().filter(pk=event.lot_id).first()
    if WasteWitness.objects.filter(event=event).exists():
        raise Refused("This waste is already witnessed", [f"event {event.pk} has a witness"])
    witness = WasteWitness.objects.create(
        event=event, witnessed_by=actor, witnessed_at=witnessed_at or timezone.now(), method=method
    )
    record(
        Action.LEDGER_WITNESS,
        actor=actor,
        origin=origin,
        obj=event,
        location_id=event.location_id,
        changed_fields=["witnessed_by"],
    )
    return witness


@transaction.atomic
def do_report_loss(
    location: ClinicLocation,
    data: inputs.LossIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    recorded_at: dt.datetime | None = None,
) -> LossReport:
    """Report a theft or significant loss: the report (with its notice and Form 106 due dates, counted in
    the location's business days) and one `loss` event per lot taking the quantity off the book.

    The discovery cannot lie in the future; each lot must be a lot of its product at this location and hold
    the quantity (Refused otherwise, and nothing is saved).
    """
    now = recorded_at or timezone.now()
    if data.discovered_at > now + dt.timedelta(minutes=5):
        raise InvalidInput({"discovered_at": "the discovery cannot be in the future"})
    notice_due, form_due = loss_deadlines(local_date(location, data.discovered_at))
    report = LossReport.objects.create(
        location=location,
        loss_type=data.loss_type,
        discovered_at=data.discovered_at,
        description=data.description,
        recorded_by=actor,
        recorded_at=now,
        notice_due_on=notice_due,
        form_106_due_on=form_due,
    )
    for index, item in enumerate(data.items):
        product = product_for(location, item.product)
        _whole_units(product, item.quantity, f"items.{index}.quantity")
        lot = _locked_lot(location, item.lot_number, f"items.{index}.lot_number")
        if lot.product_id != product.pk:
            raise InvalidInput(
                {f"items.{index}.lot_number": f"lot '{lot.lot_number}' is a lot of another product"}
            )
        _append(
            lot,
            EventKind.LOSS,
            -item.quantity,
            actor=actor,
            reason=f"{report.get_loss_type_display()}: loss report {report.pk}",
            occurred_at=data.discovered_at,
            loss_report=report,
        )
    record(
        Action.LEDGER_LOSS,
        actor=actor,
        origin=origin,
        obj=report,
        location_id=location.pk,
        changed_fields=["loss_type", "discovered_at", "description", "items"],
    )
    return report


@transaction.atomic
def do_record_loss_step(
    report: LossReport, data: inputs.LossStepIn, *, actor: Any, origin: Origin = SYSTEM
) -> LossStep:
    """Record that the written notice was sent to the DEA Field Division, or that Form 106 was filed (with
    its confirmation). Each step is recorded once, not before the discovery nor in the future; Form 106
    comes after the notice."""
    LossReport.objects.select_for_update().filter(pk=report.pk).first()
    done = set(LossStep.objects.filter(report=report).values_list("step", flat=True))
    if data.step in done:
        raise Refused("This step is already recorded", [f"loss report {report.pk} has its {data.step}"])
    if data.step == "form_106" and "notice" not in done:
        raise Refused("Record the written notice first", ["Form 106 follows the notice"], field="step")
    now = timezone.now()
    if data.done_at > now + dt.timedelta(minutes=5):
        raise InvalidInput({"done_at": "cannot be in the future"})
    if data.done_at < report.discovered_at:
        raise InvalidInput({"done_at": "cannot be before the loss was discovered"})
    step = LossStep.objects.create(
        report=report,
        step=data.step,
        done_at=data.done_at,
        reference=data.reference,
        recorded_by=actor,
        recorded_at=now,
    )
    record(
        Action.LEDGER_LOSS_STEP,
        actor=actor,
        origin=origin,
        obj=report,
        location_id=report.location_id,
        changed_fields=[data.step],
    )
    return step


def loss_status(report: LossReport, today: dt.date | None = None) -> str:
    """Where a loss report stands: notice_due, notice_overdue, form_106_due, form_106_overdue or filed."""
    done = {step.step for step in report.steps.all()}
    today = today or local_now(report.location).date()
    if "form_106" in done:
        return "filed"
    if "notice" not in done:
        return "notice_overdue" if today > report.notice_due_on else "notice_due"
    return "form_106_overdue" if today > report.form_106_due_on else "form_106_due"
