"""What the billing API returns. Amounts are strings in plain notation ("120.5"), with their currency."""

from __future__ import annotations

import datetime as dt
import uuid

from ketaclinic.patients.schemas import Dec, Out, Page


class PriceOut(Out):
    id: int
    location: str
    item: str
    code: str
    amount: Dec
    currency: str
    effective_from: dt.date
    place_of_service: str


PricePage = Page[PriceOut]


class BenefitCheckOut(Out):
    id: int
    coverage_id: uuid.UUID
    modality: str
    covered: bool
    copay: Dec | None
    coinsurance_percent: Dec | None
    deductible_remaining: Dec | None
    prior_auth_required: bool
    checked_at: dt.datetime
    checked_by: int


class CoverageOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    payer: str
    payer_kind: str
    payer_id: str
    plan: str
    member_id: str
    group_number: str
    subscriber_name: str
    subscriber_relationship: str
    carve_out: bool
    split_billing: bool
    ended_on: dt.date | None
    cards: list[str]
    benefit_checks: list[BenefitCheckOut]


class EstimateLineOut(Out):
    item: str
    code: str
    description: str
    units: int
    unit_amount: Dec
    amount: Dec
    insurer: Dec
    patient: Dec
    sessions: int


class EstimateOut(Out):
    id: uuid.UUID
    plan_id: uuid.UUID
    version: int
    currency: str
    total: Dec
    insurer_expected: Dec
    patient_share: Dec
    self_pay_total: Dec
    payer: str
    integration_per_session: int
    lines: list[EstimateLineOut]
    self_pay_lines: list[EstimateLineOut]
    created_at: dt.datetime


class InvoiceLineOut(Out):
    code: str
    description: str
    item: str
    modifiers: list[str]
    units: int
    unit_amount: Dec
    amount: Dec
    place_of_service: str


class EntryOut(Out):
    id: int
    kind: str
    amount: Dec
    method: str
    received_on: dt.date | None
    reason: str
    as_credit: bool
    created_at: dt.datetime


class InvoiceOut(Out):
    id: uuid.UUID
    number: str
    patient_id: uuid.UUID
    session_id: uuid.UUID
    service_date: dt.date
    currency: str
    status: str
    total: Dec
    balance: Dec
    payer: str
    rendering_clinician: int
    lines: list[InvoiceLineOut]
    entries: list[EntryOut]
