"""Demo ledger: the products each location stocks, and months of history written through the actions."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.ledger.actions import (
    do_add_product,
    do_administer,
    do_record_event,
    do_record_loss_step,
    do_report_loss,
    do_witness_waste,
)
from ketaclinic.ledger.inputs import EventIn, LossIn, LossStepIn, ProductIn
from ketaclinic.ledger.models import LedgerEvent, Lot, Product
from ketaclinic.patients.models import Patient

# An invented wholesaler; the DEA number is well formed (check digit) but belongs to no one.
SUPPLIER = {
    "supplier_name": "Cascade Medical Supply",
    "supplier_address": "1200 Harbor Way, Portland, OR 97201",
    "supplier_dea_number": "RC1234563",
}

PRODUCTS = (
    ProductIn(
        code="ketamine-50",
        kind="ketamine_vial",
        substance="Ketamine hydrochloride",
        form="Ketamine HCl injection 50 mg/mL, 10 mL multi-dose vial",
        mg_per_ml=Decimal(50),
        container_ml=Decimal(10),
    ),
    ProductIn(
        code="ketamine-100",
        kind="ketamine_vial",
        substance="Ketamine hydrochloride",
        form="Ketamine HCl injection 100 mg/mL, 5 mL multi-dose vial",
        mg_per_ml=Decimal(100),
        container_ml=Decimal(5),
    ),
    ProductIn(
        code="esketamine-28",
        kind="esketamine_device",
        substance="Esketamine hydrochloride",
        form="Esketamine nasal spray 28 mg/0.2 mL, single-use device",
        ndc="50458-028-02",
        mg_per_ml=Decimal(140),
        container_ml=Decimal("0.2"),
    ),
)


# An invented reverse distributor (well-formed DEA number of no one).
DISTRIBUTOR = {
    "distributor_name": "Returns Northwest",
    "distributor_address": "40 Dock Street, Tacoma, WA 98402",
    "distributor_dea_number": "RC1234563",
}

LOT_PREFIX = {"ketamine-50": "K50", "ketamine-100": "K100", "esketamine-28": "ESK"}


def products(location: ClinicLocation, actor: Any) -> list[Product]:
    """The three products every demo location stocks (those it has already are kept)."""
    have = set(Product.objects.filter(location=location).values_list("code", flat=True))
    return [do_add_product(location, data, actor=actor) for data in PRODUCTS if data.code not in have]


def _at(location: ClinicLocation, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=location_zone(location))


def history(location: ClinicLocation, today: dt.date, rng: random.Random, *, months: int = 4) -> None:
    """The location's products and `months` of its ledger, through the actions: a receipt of each product
    every month, doses on clinic days (linked to the location's patients), leftover ketamine wasted and
    witnessed, a physical count at each month's end, one count that found a device missing, settled by
    an adjustment, an esketamine device broken (witnessed), a cracked ketamine vial returned to a reverse
    distributor (witnessed), and, when another location of the network already keeps a ledger, two vials
    transferred to it and a theft of two devices reported a few days ago (notice sent, Form 106 due)."""
    nurse = User.objects.get(username=f"nurse.{location.slug}")
    products(location, nurse)
    if months <= 0:
        return
    prescriber = User.objects.get(username=f"prescriber.{location.slug}")
    patients = list(Patient.objects.filter(location=location).order_by("mrn")[:12])
    start = today - dt.timedelta(days=30 * months)
    lots: dict[str, str] = {}

    def record(kind: str, product: str, quantity: Decimal, when: dt.datetime, **extra: Any) -> LedgerEvent:
        data = EventIn.model_validate(
            {"product": product, "kind": kind, "quantity": quantity, "lot_number": lots[product], **extra}
        )
        return do_record_event(location, data, actor=nurse, occurred_at=when)

    receiving = (
        ClinicLocation.objects.filter(network_id=location.network_id)
        .exclude(pk=location.pk)
        .filter(pk__in=Product.objects.values("location_id"))
        .order_by("pk")
        .first()
    )

    for month in range(months):
        first = start + dt.timedelta(days=30 * month)
        expires = first + dt.timedelta(days=540)
        for code, containers in (("ketamine-50", 10), ("ketamine-100", 4), ("esketamine-28", 40)):
            lots[code] = f"{LOT_PREFIX[code]}-{location.slug[0].upper()}{first:%y%m%d}"
            record(
                "receive", code, Decimal(containers), _at(location, first, 8), expires_on=expires, **SUPPLIER
            )
        for offset in range(1, 29, 3):  # a clinic day every third day
            day = first + dt.timedelta(days=offset)
            if day >= today:
                break
            patient = rng.choice(patients) if patients else None
            weight_kg = Decimal(rng.randint(55, 100))
            dose_mg = (weight_kg * Decimal("0.5")).quantize(Decimal("0.1"))  # 0.5 mg/kg IV, reference 2.1
            given = _at(location, day, 9, 30)
            do_administer(
                location=location,
                lot_number=lots["ketamine-50"],
                amount_mg=dose_mg,
                session_ref=f"demo-{day:%Y%m%d}-iv",
                actor=nurse,
                patient=patient,
                occurred_at=given,
            )
            # The rest of the drawn-up millilitre is wasted, and witnessed by the prescriber.
            leftover = (Decimal(50) - dose_mg % Decimal(50)) % Decimal(50)
            if leftover:
                waste = record(
                    "waste",
                    "ketamine-50",
                    leftover,
                    given + dt.timedelta(minutes=45),
                    reason="left in syringe",
                )
                do_witness_waste(waste, actor=prescriber, witnessed_at=given + dt.timedelta(minutes=47))
            devices = rng.choice((2, 3))  # 56 or 84 mg, reference 1.2
            do_administer(
                location=location,
                lot_number=lots["esketamine-28"],
                amount_mg=Decimal(28 * devices),
                session_ref=f"demo-{day:%Y%m%d}-spravato",
                actor=nurse,
                patient=rng.choice(patients) if patients else None,
                occurred_at=_at(location, day, 11),
            )
        if month == min(1, months - 1):
            middle = first + dt.timedelta(days=14)
            broken = record(
                "breakage",
                "esketamine-28",
                Decimal(1),
                _at(location, middle, 10, 40),
                reason="Device slipped from the tray during set-up and cracked on the floor; contents lost",
            )
            do_witness_waste(broken, actor=prescriber, witnessed_at=_at(location, middle, 10, 45))
            returned = record(
                "dispose",
                "ketamine-100",
                Decimal(500),
                _at(location, middle, 16),
                manner="reverse_distributor",
                reason="Vial with a cracked cap found at receipt check; sealed and returned",
                **DISTRIBUTOR,
            )
            do_witness_waste(returned, actor=prescriber, witnessed_at=_at(location, middle, 16, 5))
            if receiving is not None:
                record(
                    "transfer_out",
                    "ketamine-50",
                    Decimal(1000),
                    _at(location, middle + dt.timedelta(days=1), 8, 30),
                    to_location=receiving.slug,
                    reason=f"Two vials lent to {receiving.name} for its clinic days",
                )
        end = first + dt.timedelta(days=29)
        if end >= today:
            continue
        for code in ("ketamine-50", "esketamine-28"):
            book = Lot.objects.get(location=location, lot_number=lots[code]).balance
            missing = code == "esketamine-28" and month == 1 and book > 0
            count = record("count", code, book - 1 if missing else book, _at(location, end, 17, 30))
            if missing:
                record(
                    "adjust",
                    code,
                    Decimal(-1),
                    _at(location, end + dt.timedelta(days=1), 9),
                    reason="Device dropped and broken during set-up; witnessed, not recoverable",
                    corrects=count.pk,
                )

    if receiving is not None and lots:
        _theft(location, today, nurse, lots["esketamine-28"])


def _theft(location: ClinicLocation, today: dt.date, nurse: Any, lot_number: str) -> None:
    """Two devices found missing four days ago; the written notice went out that day; Form 106 is due."""
    if Lot.objects.get(location=location, lot_number=lot_number).balance < 2:
        return
    found = today - dt.timedelta(days=4)
    report = do_report_loss(
        location,
        LossIn.model_validate(
            {
                "loss_type": "theft",
                "discovered_at": _at(location, found, 7, 50),
                "description": "Opening count: the locked drawer's tamper seal broken, two devices missing. "
                "Police report filed; building security reviewing access logs.",
                "items": [{"product": "esketamine-28", "lot_number": lot_number, "quantity": Decimal(2)}],
            }
        ),
        actor=nurse,
    )
    do_record_loss_step(
        report,
        LossStepIn(
            step="notice", done_at=_at(location, found, 11), reference="DEA Field Division, by letter"
        ),
        actor=nurse,
    )
