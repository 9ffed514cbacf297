"""Every free-text column of the ledger holds markup, written through the actions; every page that shows it
shows it as text, and the CSV report cannot run it as a formula. The columns come from the models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from conftest import World
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.ledger.actions import do_add_product, do_administer, do_record_event
from ketaclinic.ledger.inputs import EventIn, ProductIn
from ketaclinic.ledger.models import LedgerEvent, Lot, Product, WasteWitness
from ketaclinic.ledger.tests.helpers import SUPPLIER

ATTACK = '"><img src=x onerror=alert(1)><script>alert("{tag}")</script>'
# Columns whose input allows no markup (a slug, a DEA number) or that KetaClinic sets itself.
CHECKED_OR_SYSTEM = {"code", "supplier_dea_number", "method"}
PLANTED = {
    "Product": {"substance", "form", "ndc"},
    "Lot": {"lot_number"},
    "LedgerEvent": {"reason", "supplier_name", "supplier_address", "session_ref"},
    "WasteWitness": set(),
}


def _free_text(model: type[models.Model]) -> set[str]:
    return {
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices
    } - CHECKED_OR_SYSTEM


def _hostile(tag: str, length: int) -> str:
    return ATTACK.format(tag=tag)[:length]


def test_every_free_text_column_is_planted() -> None:
    for model in (Product, Lot, LedgerEvent, WasteWitness):
        assert _free_text(model) == PLANTED[model.__name__], model


def _plant(world: World) -> dict[str, Any]:
    north, nurse = ClinicLocation.objects.get(slug="north"), world.user("nurse.north")
    do_add_product(
        north,
        ProductIn(
            code="hostile",
            kind="esketamine_device",
            substance=_hostile("substance", 80),
            form=_hostile("form", 120),
            ndc=_hostile("ndc", 20),
            mg_per_ml=Decimal(140),
            container_ml=Decimal("0.2"),
        ),
        actor=nurse,
    )
    lot = _hostile("lot", 40)
    values: dict[str, Any] = {
        "product": "hostile",
        "kind": "receive",
        "quantity": Decimal(5),
        "lot_number": lot,
        "expires_on": dt.date.today() + dt.timedelta(days=90),
        **SUPPLIER,
        "supplier_name": _hostile("supplier_name", 200),
        "supplier_address": _hostile("supplier_address", 500),
        "reason": _hostile("reason", 500),
    }
    do_record_event(north, EventIn.model_validate(values), actor=nurse)
    do_administer(
        location=north,
        lot_number=lot,
        amount_mg=Decimal(28),
        session_ref=_hostile("session", 64),
        actor=nurse,
    )
    waste = EventIn(
        product="hostile", kind="waste", quantity=Decimal(1), lot_number=lot, reason=_hostile("w", 500)
    )
    return {"waste": do_record_event(north, waste, actor=nurse).pk}


def test_pages_show_hostile_values_as_text(world: World) -> None:
    planted = _plant(world)
    client = world.client("prescriber.north")
    for url in (
        "/ledger/",
        "/ledger/events/",
        f"/ledger/events/{planted['waste']}/witness/",
        "/ledger/record/waste/",
    ):
        html = client.get(url).content.decode()
        assert "<script>alert(" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html or url == "/ledger/record/waste/", url
    events_page = client.get("/ledger/events/").content.decode()
    for tag in ("supplier_name", "reason", "session"):
        assert f"alert(&#34;{tag}&#34;)" in events_page or f"alert(&quot;{tag}&quot;)" in events_page, tag


def test_the_csv_report_cannot_run_a_formula(world: World) -> None:
    north, nurse = ClinicLocation.objects.get(slug="north"), world.user("nurse.north")
    _plant(world)
    lot = Lot.objects.get(product__code="hostile")
    formula = EventIn(
        product="hostile",
        kind="count",
        quantity=Decimal(3),
        lot_number=lot.lot_number,
        reason="=HYPERLINK(1)",
    )
    do_record_event(north, formula, actor=nurse)
    today = timezone.localdate().isoformat()
    body = {"location": "north", "since": today, "until": today, "format": "csv"}
    text = world.client("nurse.north").post("/ledger/report/", body).content.decode()
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
