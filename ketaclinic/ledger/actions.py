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
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.errors import Forbidden, InvalidInput, Refused
from ketaclinic.ledger import inputs
from ketaclinic.ledger.models import EventKind, LedgerEvent, Lot, Product, Unit, WasteWitness

KIND_ACTIONS = {
    EventKind.RECEIVE: Action.LEDGER_RECEIVE,
    EventKind.WASTE: Action.LEDGER_WASTE,
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


def _locked_lot(location: ClinicLocation, lot_number: str, field: str = "lot_number") -> Lot:
    lot = (
        Lot.objects.select_for_update()
        .select_related("product")
        .filter(location=location, lot_number=lot_number)
        .first()
    )
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


def _receive(location: ClinicLocation, product: Product, data: inputs.EventIn, actor: Any) -> LedgerEvent:
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


@transaction.atomic
def do_record_event(
    location: ClinicLocation, data: inputs.EventIn, *, actor: Any, origin: Origin = SYSTEM
) -> LedgerEvent:
    """Record a receipt, a waste (pending until witnessed), a physical count or an adjustment."""
    product = product_for(location, data.product)
    if data.kind == "receive":
        event = _receive(location, product, data, actor)
    else:
        _whole_units(product, data.quantity, "quantity")
        lot = _locked_lot(location, data.lot_number)
        if lot.product_id != product.pk:
            raise InvalidInput({"lot_number": f"lot '{lot.lot_number}' is a lot of another product"})
        if data.kind == "waste":
            event = _append(lot, EventKind.WASTE, -data.quantity, actor=actor, reason=data.reason)
        elif data.kind == "count":
            event = _append(
                lot,
                EventKind.COUNT,
                Decimal(0),
                actor=actor,
                reason=data.reason,
                counted=data.quantity,
                book_balance=lot.balance,
            )
        else:
            original = _correctable(location, data.corrects)
            event = _append(
                lot, EventKind.ADJUST, data.quantity, actor=actor, reason=data.reason, corrects=original
            )
    record(
        KIND_ACTIONS[EventKind(data.kind)],
        actor=actor,
        origin=origin,
        obj=event,
        location_id=location.pk,
        changed_fields=[name for name in data.model_fields_set if name != "kind"],
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
    event: LedgerEvent, *, actor: Any, method: str = WitnessMethod.SESSION, origin: Origin = SYSTEM
) -> WasteWitness:
    """A second staff member, signed in with their own credentials, confirms a waste.

    The recorder cannot witness their own waste, and the witness must hold ledger.write at the event's
    location (Forbidden); a waste is witnessed once (Refused).
    """
    if event.kind != EventKind.WASTE:
        raise Refused("Only a waste is witnessed", [f"event {event.pk} is a {event.kind}"])
    if actor.pk == event.recorded_by_id:
        raise Forbidden("the person who recorded a waste cannot witness it")
    if not can(actor, Perm.LEDGER_WRITE, event.location_id):
        raise Forbidden("witnessing a waste needs a role that records in the ledger")
    # Lock the lot so two witnesses of one waste are ordered; the second finds the first.
    Lot.objects.select_for_update().filter(pk=event.lot_id).first()
    if WasteWitness.objects.filter(event=event).exists():
        raise Refused("This waste is already witnessed", [f"event {event.pk} has a witness"])
    witness = WasteWitness.objects.create(
        event=event, witnessed_by=actor, witnessed_at=timezone.now(), method=method
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
