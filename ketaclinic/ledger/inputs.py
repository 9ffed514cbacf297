"""What a client may send to the ledger, validated once for pages and API alike; each check names its field.

`quantity` is in the product's unit (`Product.unit`: mg for ketamine vials, devices for esketamine) except
for a receipt, where it is the number of containers received (vials or devices), as the DEA record counts
them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictInt, model_validator

from ketaclinic.patients.inputs import Day, Moment, Strict, Text

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


WRITTEN_KINDS = ("receive", "waste", "breakage", "dispose", "transfer_out", "count", "adjust")
# Kinds that leave the lot and are given in the product's unit, above 0.
TAKEN_KINDS = ("waste", "breakage", "dispose", "transfer_out")


class EventIn(Strict):
    """One ledger event as staff record it: `receive`, `waste`, `breakage`, `dispose`, `transfer_out`,
    `count` or `adjust` (administrations are written by the dose action of a treatment session; a theft or
    significant loss is reported with `LossIn`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "product": "esketamine-28",
                    "kind": "receive",
                    "quantity": "12",
                    "reason": "",
                    "lot_number": "ESK-24A17",
                    "expires_on": "2030-06-30",
                    "supplier_name": "Cascade Medical Supply",
                    "supplier_address": "1200 Harbor Way, Portland, OR 97201",
                    "supplier_dea_number": "RC1234563",
                },
            ]
        }
    )

    product: Annotated[str, Text(40, required=True)]
    kind: Literal["receive", "waste", "breakage", "dispose", "transfer_out", "count", "adjust"]
    # The location's slug; may be left out by someone who records at one location only.
    location: Annotated[str, Text(60)] = ""
    quantity: Quantity
    reason: Annotated[str, Text(500)] = ""
    lot_number: LotNumber
    # receive: the lot's expiry and the supplier (CS-04).
    expires_on: Day | None = None
    supplier_name: Annotated[str, Text(200)] = ""
    supplier_address: Annotated[str, Text(500)] = ""
    supplier_dea_number: Annotated[str, Text(9)] = ""
    # adjust: the event this corrects or settles (optional).
    corrects: StrictInt | None = None
    # dispose: destroyed on site, or returned to a reverse distributor (its name, address and DEA number).
    manner: Literal["destroyed", "reverse_distributor", ""] = ""
    distributor_name: Annotated[str, Text(200)] = ""
    distributor_address: Annotated[str, Text(500)] = ""
    distributor_dea_number: Annotated[str, Text(9)] = ""
    # transfer_out: the slug of the location of the same network that receives the lot.
    to_location: Annotated[str, Text(60)] = ""

    @model_validator(mode="after")
    def _by_kind(self) -> EventIn:
        errors: dict[str, str] = {}
        if self.quantity.is_nan() or self.quantity.is_infinite():
            raise ValueError("quantity: enter a number")
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
        if self.kind in TAKEN_KINDS and self.quantity <= 0:
            errors["quantity"] = "give the quantity taken off the balance, above 0"
        if self.kind == "breakage" and not self.reason:
            errors["reason"] = "describe what broke or spilled and how (the record of the circumstances)"
        if self.kind == "dispose":
            if not self.manner:
                errors["manner"] = "choose destroyed on site or returned to a reverse distributor"
            elif self.manner == "reverse_distributor":
                if not self.distributor_name:
                    errors["distributor_name"] = "give the reverse distributor's name"
                if not self.distributor_address:
                    errors["distributor_address"] = "give the reverse distributor's address"
                problem = dea_number_problem(self.distributor_dea_number.upper())
                if problem:
                    errors["distributor_dea_number"] = problem
                else:
                    self.distributor_dea_number = self.distributor_dea_number.upper()
        if not (self.kind == "dispose" and self.manner == "reverse_distributor"):
            for name in ("distributor_name", "distributor_address", "distributor_dea_number"):
                if getattr(self, name):
                    errors[name] = "only a return to a reverse distributor names one"
        if self.manner and self.kind != "dispose":
            errors["manner"] = "only a disposal has a manner"
        if self.kind == "transfer_out" and not self.to_location:
            errors["to_location"] = "name the location that receives the stock"
        if self.to_location and self.kind != "transfer_out":
            errors["to_location"] = "only a transfer names a receiving location"
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


class WitnessIn(Strict):
    """Witnessing takes no fields: who witnesses is the bearer of the token."""

    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class EventFilter(Strict):
    """Filters of the events list (API query and page alike); none names a patient."""

    location: Annotated[str, Text(60)] = ""
    product: Annotated[str, Text(40)] = ""
    kind: Literal[
        "receive",
        "administer",
        "waste",
        "breakage",
        "dispose",
        "transfer_out",
        "transfer_in",
        "loss",
        "count",
        "adjust",
        "",
    ] = ""
    lot_number: Annotated[str, Text(40)] = ""
    since: Day | None = Field(default=None, description="From this day (the location's), with location")
    until: Day | None = Field(default=None, description="To this day (the location's), with location")

    @model_validator(mode="after")
    def _range(self) -> EventFilter:
        if (self.since or self.until) and not self.location:
            raise ValueError("location: name the location whose days since and until count")
        if self.since and self.until and self.until < self.since:
            raise ValueError("until: must not be before since")
        return self


class LossItemIn(Strict):
    """One lot's quantity taken by a theft or loss, in the product's unit."""

    product: Annotated[str, Text(40, required=True)]
    lot_number: LotNumber
    quantity: Annotated[Decimal, Field(gt=0, le=QUANTITY_MAX, max_digits=10, decimal_places=3)]


class LossIn(Strict):
    """A theft or significant loss as discovered (21 CFR 1301.76(b); DEA Form 106)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "loss_type": "theft",
                    "discovered_at": "2026-11-27T08:10:00-08:00",
                    "description": "Safe found open at opening; two devices missing from the lot in use.",
                    "items": [{"product": "esketamine-28", "lot_number": "ESK-24A17", "quantity": "2"}],
                }
            ]
        }
    )

    location: Annotated[str, Text(60)] = ""
    loss_type: Literal["theft", "significant_loss", "in_transit"]
    discovered_at: Moment
    description: Annotated[str, Text(2000, required=True)]
    items: Annotated[list[LossItemIn], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _checks(self) -> LossIn:
        lots = [item.lot_number for item in self.items]
        if len(set(lots)) != len(lots):
            raise ValueError("items: name each lot once")
        return self


class LossStepIn(Strict):
    """A step of a loss report: the written notice to the DEA Field Division sent, or Form 106 filed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "step": "notice",
                    "done_at": "2026-11-27T11:00:00-08:00",
                    "reference": "Seattle Field Division",
                }
            ]
        }
    )

    step: Literal["notice", "form_106"]
    done_at: Moment
    reference: Annotated[str, Text(200, required=True)]


# The longest report range: two years, the DEA's retention period (21 CFR 1304.04(a)), and a day.
REPORT_DAYS_MAX = 2 * 366 + 1


class ReportIn(Strict):
    """The ledger report for a date range (the location's days), as CSV or PDF."""

    location: Annotated[str, Text(60, required=True)]
    since: Day
    until: Day
    format: Literal["csv", "pdf"] = "csv"

    @model_validator(mode="after")
    def _range(self) -> ReportIn:
        if self.until < self.since:
            raise ValueError("until: must not be before since")
        if (self.until - self.since).days > REPORT_DAYS_MAX:
            raise ValueError(f"until: a report covers at most {REPORT_DAYS_MAX} days")
        return self
