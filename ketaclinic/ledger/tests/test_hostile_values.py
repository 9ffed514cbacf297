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
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.ledger.actions import (
    do_add_product,
    do_administer,
    do_record_event,
    do_record_loss_step,
    do_report_loss,
)
from ketaclinic.ledger.inputs import EventIn, LossIn, LossStepIn, ProductIn
from ketaclinic.ledger.models import LedgerEvent, LossReport, LossStep, Lot, Product, WasteWitness
from ketaclinic.ledger.tests.helpers import SUPPLIER

ATTACK = '"><img src=x onerror=alert(1)><script>alert("{tag}")</script>'
# Columns whose input allows no markup (a slug, a DEA number) or that KetaClinic sets itself.
CHECKED_OR_SYSTEM = {"code", "supplier_dea_number", "distributor_dea_number", "method"}
PLANTED = {
    "Product": {"substance", "form", "ndc"},
    "Lot": {"lot_number"},
    "LedgerEvent": {
        "reason",
        "supplier_name",
        "supplier_address",
        "session_ref",
        "distributor_name",
        "distributor_address",
    },
    "WasteWitness": set(),
    "LossReport": {"description"},
    "LossStep": {"reference"},
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
    for model in (Product, Lot, LedgerEvent, WasteWitness, LossReport, LossStep):
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
    disposal = EventIn(
        product="hostile",
        kind="dispose",
        quantity=Decimal(1),
        lot_number=lot,
        manner="reverse_distributor",
        distributor_name=_hostile("distributor_name", 200),
        distributor_address=_hostile("distributor_address", 500),
        distributor_dea_number=SUPPLIER["supplier_dea_number"],
    )
    do_record_event(north, disposal, actor=nurse)
    loss = do_report_loss(
        north,
        LossIn(
            loss_type="theft",
            discovered_at=timezone.now() - dt.timedelta(hours=2),
            description=_hostile("description", 2000),
            items=[{"product": "hostile", "lot_number": lot, "quantity": Decimal(1)}],  # type: ignore[list-item]
        ),
        actor=nurse,
    )
    do_record_loss_step(
        loss,
        LossStepIn(
            step="notice", done_at=timezone.now() - dt.timedelta(hours=1), reference=_hostile("ref", 200)
        ),
        actor=nurse,
    )
    return {"waste": do_record_event(north, waste, actor=nurse).pk, "loss": loss.pk}


def test_pages_show_hostile_values_as_text(world: World) -> None:
    planted = _plant(world)
    client = world.client("prescriber.north")
    for url in (
        "/ledger/",
        "/ledger/events/",
        f"/ledger/events/{planted['waste']}/witness/",
        "/ledger/record/waste/",
        "/ledger/losses/",
        f"/ledger/losses/{planted['loss']}/",
    ):
        html = client.get(url).content.decode()
        assert "<script>alert(" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html or url in ("/ledger/record/waste/", "/ledger/losses/"), url
    events_page = client.get("/ledger/events/").content.decode()
    for tag in ("supplier_name", "reason", "session", "distributor_name"):
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
    today = local_today(north).isoformat()  # the report's days are the location's
    body = {"location": "north", "since": today, "until": today, "format": "csv"}
    text = world.client("nurse.north").post("/ledger/report/", body).content.decode()
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text


def test_the_form_106_export_cannot_run_a_formula(world: World) -> None:
    north, nurse = ClinicLocation.objects.get(slug="north"), world.user("nurse.north")
    _plant(world)
    lot = Lot.objects.get(product__code="hostile")
    loss = do_report_loss(
        north,
        LossIn(
            loss_type="significant_loss",
            discovered_at=timezone.now() - dt.timedelta(hours=1),
            description="=HYPERLINK(1)",
            items=[{"product": "hostile", "lot_number": lot.lot_number, "quantity": Decimal(1)}],  # type: ignore[list-item]
        ),
        actor=nurse,
    )
    text = world.client("nurse.north").get(f"/ledger/losses/{loss.pk}/form-106.csv").content.decode()
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
