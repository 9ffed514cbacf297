"""Ledger set-up for tests, through the actions: the two demo products and a received lot of each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.ledger import demo
from ketaclinic.ledger.actions import do_administer, do_record_event, do_witness_waste
from ketaclinic.ledger.inputs import EventIn
from ketaclinic.ledger.models import LedgerEvent, Lot

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


def matrix_recorder() -> Any:
    """A nurse at north and south who is none of the personas (made once per test)."""
    from ketaclinic.accounts.actions import do_create_staff, do_grant_role
    from ketaclinic.accounts.models import User

    recorder = User.objects.filter(username="ledger.recorder").first()
    if recorder is None:
        north = ClinicLocation.objects.get(slug="north")
        recorder = do_create_staff(
            north.network, "ledger.recorder", "", first_name="Lee", last_name="Recorder", password_hash="!"
        )
        for location in ClinicLocation.objects.filter(network=north.network):
            do_grant_role(recorder, location, "nurse")
    return recorder


def matrix_waste() -> int:
    """A waste at north recorded by a nurse who is none of the personas (so every persona's witness
    attempt is judged on role and location alone); the id of the event. Made once per test, so a request
    sent twice (an Idempotency-Key replay) names the same event."""
    north = ClinicLocation.objects.get(slug="north")
    recorder = matrix_recorder()
    made = LedgerEvent.objects.filter(recorded_by=recorder, kind="waste").order_by("-id").first()
    if made is not None:
        return made.pk
    ensure_products(north, recorder)
    if not Lot.objects.filter(location=north, lot_number="MATRIX-1").exists():
        receive(north, recorder, "ketamine-50", "MATRIX-1", 1)
    # The same waste for every call of one test (witnessed or not), so a retried request names the same event.
    pending = LedgerEvent.objects.filter(recorded_by=recorder, kind="waste").order_by("-pk").first()
    if pending is not None:
        return pending.pk
    return event(north, recorder, "ketamine-50", "waste", "5", "MATRIX-1", reason="left in vial").pk


def matrix_receipt(location_slug: str) -> dict[str, str]:
    """A receipt body for the caller's own location (its products made first)."""
    location = ClinicLocation.objects.get(slug=location_slug)
    ensure_products(location, location.network.staff.first())
    return {
        "product": "esketamine-28",
        "kind": "receive",
        "quantity": "2",
        "lot_number": f"MATRIX-{location_slug}",
        "expires_on": (dt.date.today() + dt.timedelta(days=300)).isoformat(),
        **SUPPLIER,
    }


def matrix_report(location_slug: str) -> dict[str, str]:
    """A report request for today at the caller's own location."""
    today = dt.date.today().isoformat()
    return {"location": location_slug, "since": today, "until": today, "format": "csv"}
