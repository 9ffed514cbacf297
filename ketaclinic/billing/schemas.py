"""What the billing API returns. Amounts are strings in plain notation ("120.5"), with their currency."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

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


# --- Superbills, prior authorisation, authorisations of a plan --------------------------------------------


class PracticeOut(Out):
    name: str
    npi: str
    tax_id: str
    address: str
    phone: str


class InsuranceOut(Out):
    payer: str
    payer_id: str
    plan: str
    member_id: str
    group_number: str
    subscriber_name: str
    subscriber_relationship: str


class DiagnosisOut(Out):
    condition: str
    display: str
    icd10: str = Field(description="ICD-10-CM as the location codes the condition; empty when it has none")
    icd10_description: str
    pointer: str = ""


class ServiceOut(Out):
    invoice: str
    service_date: dt.date
    place_of_service: str
    code: str
    modifiers: list[str]
    description: str
    units: int
    charge: Dec
    diagnosis_pointer: str
    rendering_clinician: str
    rendering_npi: str


class SuperbillOut(Out):
    start: dt.date
    end: dt.date
    practice: PracticeOut
    insurance: InsuranceOut | None
    diagnoses: list[DiagnosisOut]
    services: list[ServiceOut]
    currency: str
    total_charges: Dec
    amount_paid: Dec
    adjustments: Dec
    balance: Dec
    missing: list[str] = Field(description="What the records lack for a complete claim")


class PacketTrialOut(Out):
    drug: str
    drug_name: str
    max_daily_dose_mg: Dec
    weeks_at_dose: Dec
    adequate_dose: bool
    augmented: bool
    augmentation_agent: str
    outcome: str
    current_episode: bool
    started_year: int | None
    adequate_failure: bool = Field(description="An adequate failed trial under the clinic's TRD policy")


class ScoreOut(Out):
    instrument: str
    total: int | None
    band: str
    taken_at: dt.datetime


class ScoreSeriesOut(Out):
    latest: ScoreOut | None
    baseline: ScoreOut | None


class PacketPatientOut(Out):
    id: uuid.UUID
    name: str
    mrn: str
    date_of_birth: dt.date
    sex: str


class PrescriberOut(Out):
    name: str
    npi: str
    credentials: str


class PacketOut(Out):
    """The prior-authorisation packet, written from the chart."""

    modality: str
    modality_name: str
    practice: PracticeOut
    patient: PacketPatientOut
    insurance: InsuranceOut | None
    prescriber: PrescriberOut | None
    plan: dict[str, Any] | None
    diagnoses: list[DiagnosisOut]
    trials: list[PacketTrialOut]
    adequate_failures: int
    psychotherapy: dict[str, Any]
    scores: dict[str, ScoreSeriesOut] = Field(description="phq9 and madrs: the latest and the first result")
    suicidal_ideation: dict[str, Any]
    screening: dict[str, Any] | None = Field(
        description="The latest contraindication screening of the modality"
    )
    height_cm: Dec | None
    height_measured_on: dt.date | None
    weight_kg: Dec | None
    weight_measured_on: dt.date | None
    authorization: dict[str, Any] | None
    missing: list[str]


class AuthorizationOut(Out):
    id: uuid.UUID
    plan_id: uuid.UUID
    number: str
    approved_from: dt.date
    approved_to: dt.date
    approved_sessions: int
    note: str
    payer: str
    created_at: dt.datetime


class StandingOut(Out):
    id: uuid.UUID
    number: str
    approved_from: dt.date
    approved_to: dt.date
    approved_sessions: int
    sessions_given: int
    sessions_booked: int
    sessions_remaining: int = Field(description="What a booking may still use")
    sessions_beyond: list[int] = Field(description="Numbers of planned sessions past the approved count")
    sessions_outside_dates: list[int] = Field(description="Numbers of planned sessions outside the dates")


class AuthorizationPage(Page[AuthorizationOut]):
    in_force: StandingOut | None = Field(description="The authorisation in force today, with its use")
