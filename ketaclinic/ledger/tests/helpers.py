"""Ledger set-up for tests, through the actions: the two demo products and a received lot of each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.ledger import demo
from ketaclinic.ledger.actions import do_administer, do_record_event, do_witness_waste
from ketaclinic.ledger.inputs import EventIn
from ketaclinic.ledger.models import LedgerEvent, Product

SUPPLIER = demo.SUPPLIER
LOT_KETAMINE = "KET-T1"
LOT_ESKETAMINE = "ESK-T1"


def receive(
    location: ClinicLocation, actor: Any, product: str, lot: str, containers: int, **extra: Any
) -> LedgerEvent:
    values: dict[str, Any] = {
        "product": product,
        "kind": "receive",
        "quantity": Decimal(containers),
        "lot_number": lot,
        "expires_on": dt.date.today() + dt.timedelta(days=365),
        **SUPPLIER,
        **extra,
    }
    data = EventIn(**values)
    return do_record_event(location, data, actor=actor)


def event(
    location: ClinicLocation, actor: Any, product: str, kind: str, quantity: str, lot: str, **extra: Any
) -> LedgerEvent:
    data = EventIn(product=product, kind=kind, quantity=Decimal(quantity), lot_number=lot, **extra)  # type: ignore[arg-type]
    return do_record_event(location, data, actor=actor)


def ensure_products(location: ClinicLocation, actor: Any) -> None:
    if not Product.objects.filter(location=location).exists():
        demo.products(location, actor)


def fill(location: ClinicLocation, recorder: Any, witness: Any, patient: Any) -> None:
    """Every kind of ledger row, with nulls and values both present where a column allows them."""
    ensure_products(location, recorder)
    receive(location, recorder, "esketamine-28", "FILL-1", 3)
    do_administer(
        location=location,
        lot_number="FILL-1",
        amount_mg=Decimal(28),
        session_ref="fill",
        actor=recorder,
        patient=patient,
    )
    waste = event(location, recorder, "esketamine-28", "waste", "1", "FILL-1", reason="dropped")
    do_witness_waste(waste, actor=witness)
    count = event(location, recorder, "esketamine-28", "count", "0", "FILL-1")
    event(location, recorder, "esketamine-28", "adjust", "-1", "FILL-1", reason="missing", corrects=count.pk)


def stocked(location: ClinicLocation, actor: Any) -> None:
    """The location's products, a lot each: 2 vials of ketamine 50 mg/mL x 10 mL, 6 esketamine devices."""
    demo.products(location, actor)
    receive(location, actor, "ketamine-50", LOT_KETAMINE, 2)
    receive(location, actor, "esketamine-28", LOT_ESKETAMINE, 6)
