"""What a client may send to billing, validated once for pages and API alike; each check names its field.

Amounts are decimals to the cent, sent as JSON strings ("120.50") or numbers; a negative, non-numeric or
too precise amount is refused naming its field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from ketaclinic.billing.models import AMOUNT_MAX, EntryKind, PayerKind, PaymentMethod, PriceItem
from ketaclinic.clinical.vocab import CONDITIONS
from ketaclinic.patients.inputs import Day, Strict, Text, one_of
from ketaclinic.treatment.models import PlanModality

Amount = Annotated[Decimal, Field(gt=0, le=AMOUNT_MAX, max_digits=12, decimal_places=2)]
AmountOrZero = Annotated[Decimal, Field(ge=0, le=AMOUNT_MAX, max_digits=12, decimal_places=2)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, such as USD")]
# A billing code: CPT/HCPCS (96365, G2082, J0013) or the clinic's own code for a self-pay item.
Code = Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{1,19}$", description="CPT, HCPCS or clinic code")]


class PriceIn(Strict):
    item: PriceItem
    code: Code
    amount: AmountOrZero
    currency: Currency = "USD"
    effective_from: Day
    place_of_service: Annotated[str, Field(pattern=r"^([0-9]{2})?$")] = ""


class CoverageIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "payer": "Blue Cross Blue Shield",
                    "member_id": "XKC123456789",
                    "plan": "PPO Gold",
                    "group_number": "G-40021",
                    "carve_out": False,
                }
            ]
        }
    )
    payer: Annotated[str, Text(120, required=True)]
    member_id: Annotated[str, Text(40, required=True)]
    plan: Annotated[str, Text(120)] = ""
    group_number: Annotated[str, Text(40)] = ""
    carve_out: StrictBool = False
    payer_kind: PayerKind = PayerKind.COMMERCIAL
    payer_id: Annotated[str, Text(20)] = ""
    subscriber_name: Annotated[str, Text(120)] = ""
    subscriber_relationship: Annotated[str, Text(20)] = ""
    split_billing: StrictBool = False


class BenefitCheckIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "modality": "esketamine_nasal",
                    "covered": True,
                    "copay": "40",
                    "coinsurance_percent": "20",
                    "deductible_remaining": "350",
                    "prior_auth_required": True,
                }
            ]
        }
    )
    modality: PlanModality
    covered: StrictBool
    copay: AmountOrZero | None = None
    coinsurance_percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)] | None = None
    deductible_remaining: AmountOrZero | None = None
    prior_auth_required: StrictBool = False


class EstimateIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{}]})
    # Integration sessions priced per dose session of the plan (the clinic's usual: one each).
    integration_per_session: Annotated[StrictInt, Field(ge=0, le=4)] = 1


class InvoiceIn(Strict):
    """Nothing to send: the invoice is made from the signed session, the price list and the coverage."""

    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class PaymentIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount": "120.00", "method": "card", "received_on": "2026-11-27"}]}
    )
    amount: Amount
    method: PaymentMethod
    received_on: Day
    # A payment above the balance is refused unless taken as the patient's credit.
    as_credit: StrictBool = False

    @model_validator(mode="after")
    def _received(self) -> PaymentIn:
        # A calendar bound with a day's slack for the location's zone (the action checks the location's day).
        if self.received_on > dt.date.today() + dt.timedelta(days=1):  # noqa: DTZ011
            raise ValueError("received_on: cannot be in the future")
        return self


class EntryIn(Strict):
    """A refund (method and date), a write-off or a credit note (each with its reason)."""

    kind: EntryKind
    amount: Amount
    reason: Annotated[str, Text(300, required=True)]
    method: PaymentMethod | None = None
    received_on: Day | None = None

    @model_validator(mode="after")
    def _refund_has_method(self) -> EntryIn:
        if self.kind == EntryKind.PAYMENT:
            raise ValueError("kind: record a payment with the payment form")
        if self.kind == EntryKind.REFUND and self.method is None:
            raise ValueError("method: say how the refund was paid")
        return self


# --- Superbill identifiers, prior authorisations, report periods ----------------------------------------

Npi = Annotated[str, Field(pattern=r"^([0-9]{10})?$", description="A 10-digit National Provider Identifier")]
TaxId = Annotated[str, Field(pattern=r"^([0-9]{2}-?[0-9]{7})?$", description="An employer id: 12-3456789")]
Icd10 = Annotated[
    str, Field(pattern=r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$", description="An ICD-10-CM code: F33.2")
]


def _whole(value: object) -> object:
    """A whole number as a JSON integer or (from a form) its digits; never true/false or 12.5."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("must be a whole number")
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise ValueError("must be a whole number")
        return int(value.strip())
    return value


class PracticeIdentityIn(Strict):
    """A location's identifiers on its superbills: the practice's name as billed, NPI and tax id."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"practice_name": "North Ketamine Clinic", "npi": "1234567893", "tax_id": "12-3456789"}
            ]
        }
    )
    practice_name: Annotated[str, Text(120, required=True)]
    npi: Npi = ""
    tax_id: TaxId = ""
    address: Annotated[str, Text(250)] = ""
    phone: Annotated[str, Text(30)] = ""


class ClinicianIdentityIn(Strict):
    user_id: Annotated[int, BeforeValidator(_whole), Field(ge=1)]
    npi: Annotated[str, Field(pattern=r"^[0-9]{10}$", description="A 10-digit NPI")]
    credentials: Annotated[str, Text(30)] = ""


class DiagnosisCodeIn(Strict):
    condition: Annotated[str, one_of(CONDITIONS)]
    icd10: Icd10
    description: Annotated[str, Text(200)] = ""

    @field_validator("condition")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CONDITIONS:
            raise ValueError("not a condition of the chart's list")
        return value


class AuthorizationIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "number": "PA-88120",
                    "approved_from": "2026-12-01",
                    "approved_to": "2027-02-28",
                    "approved_sessions": 12,
                }
            ]
        }
    )
    number: Annotated[str, Text(40, required=True)]
    approved_from: Day
    approved_to: Day
    approved_sessions: Annotated[int, BeforeValidator(_whole), Field(ge=1, le=200)]
    note: Annotated[str, Text(300)] = ""

    @model_validator(mode="after")
    def _ordered(self) -> AuthorizationIn:
        if self.approved_to < self.approved_from:
            raise ValueError("approved_to: must be on or after approved_from")
        return self


class PeriodIn(Strict):
    """A period of service days, both ends included (a superbill or a report)."""

    start: Day
    end: Day

    @model_validator(mode="after")
    def _ordered(self) -> PeriodIn:
        if self.end < self.start:
            raise ValueError("end: must be on or after start")
        if (self.end - self.start).days > 3 * 366:
            raise ValueError("end: a period is at most three years")
        return self
