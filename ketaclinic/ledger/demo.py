"""Demo ledger: the products each location stocks, and months of history written through the actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.ledger.actions import do_add_product
from ketaclinic.ledger.inputs import ProductIn
from ketaclinic.ledger.models import Product

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


def products(location: ClinicLocation, actor: Any) -> list[Product]:
    """The three products every demo location stocks."""
    return [do_add_product(location, data, actor=actor) for data in PRODUCTS]
