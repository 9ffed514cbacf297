"""What a client may send to the ledger, validated once for pages and API alike; each check names its field.

`quantity` is in the product's unit (`Product.unit`: mg for ketamine vials, devices for esketamine) except
for a receipt, where it is the number of containers received (vials or devices), as the DEA record counts
them.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StrictInt, model_validator

from ketaclinic.patients.inputs import Strict, Text

# A DEA registration number: two letters and seven digits whose last digit is a check digit (21 CFR 1301).
DEA_NUMBER = re.compile(r"^[A-Z][A-Z9][0-9]{7}$")
QUANTITY_MAX = Decimal("1000000")


def dea_number_problem(value: str) -> str | None:
    """Why `value` is not a well-formed DEA registration number, or None."""
    if not DEA_NUMBER.match(value):
        return "enter a DEA number: two letters and seven digits"
    digits = [int(c) for c in value[2:]]
    check = (digits[0] + digits[2] + digits[4] + 2 * (digits[1] + digits[3] + digits[5])) % 10
    if check != digits[6]:
        return "this DEA number's check digit does not match"
    return None


LotNumber = Annotated[str, Text(40, required=True)]
Quantity = Annotated[Decimal, Field(ge=-QUANTITY_MAX, le=QUANTITY_MAX, max_digits=10, decimal_places=3)]


class ProductIn(Strict):
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
    kind: Literal["ketamine_vial", "esketamine_device"]
    substance: Annotated[str, Text(80, required=True)]
    form: Annotated[str, Text(120, required=True)]
    ndc: Annotated[str, Text(20)] = ""
    mg_per_ml: Annotated[Decimal, Field(gt=0, le=1000, max_digits=8, decimal_places=3)]
    container_ml: Annotated[Decimal, Field(gt=0, le=1000, max_digits=8, decimal_places=3)]


class EventIn(Strict):
    """One ledger event as staff record it: `receive`, `waste`, `count` or `adjust` (administrations are
    written by the dose action of a treatment session)."""

    product: Annotated[str, Text(40, required=True)]
    kind: Literal["receive", "waste", "count", "adjust"]
    quantity: Quantity
    reason: Annotated[str, Text(500)] = ""
    lot_number: LotNumber
    # receive: the lot's expiry and the supplier (CS-04).
    expires_on: dt.date | None = None
    supplier_name: Annotated[str, Text(200)] = ""
    supplier_address: Annotated[str, Text(500)] = ""
    supplier_dea_number: Annotated[str, Text(9)] = ""
    # adjust: the event this corrects or settles (optional).
    corrects: StrictInt | None = None

    @model_validator(mode="after")
    def _by_kind(self) -> EventIn:
        errors: dict[str, str] = {}
        if self.kind == "receive":
            if self.quantity <= 0 or self.quantity != self.quantity.to_integral_value():
                errors["quantity"] = "give the number of containers received, a whole number above 0"
            if self.expires_on is None:
                errors["expires_on"] = "give the lot's expiry date"
            if not self.supplier_name:
                errors["supplier_name"] = "give the supplier's name"
            if not self.supplier_address:
                errors["supplier_address"] = "give the supplier's address"
            problem = dea_number_problem(self.supplier_dea_number.upper())
            if problem:
                errors["supplier_dea_number"] = problem
            else:
                self.supplier_dea_number = self.supplier_dea_number.upper()
        else:
            for name in ("expires_on", "supplier_name", "supplier_address", "supplier_dea_number"):
                if getattr(self, name):
                    errors[name] = "only a receipt names a supplier or an expiry"
        if self.kind == "waste" and self.quantity <= 0:
            errors["quantity"] = "give the quantity wasted, above 0"
        if self.kind == "count" and self.quantity < 0:
            errors["quantity"] = "give the quantity counted, 0 or more"
        if self.kind == "adjust":
            if self.quantity == 0:
                errors["quantity"] = "give the change to the balance, above or below 0"
            if not self.reason:
                errors["reason"] = "give the reason for the adjustment"
        elif self.corrects is not None:
            errors["corrects"] = "only an adjustment corrects another event"
        if errors:  # a cross-field check names its field as "field: message" (errors.errors_by_field)
            field, message = next(iter(errors.items()))
            raise ValueError(f"{field}: {message}")
        return self
