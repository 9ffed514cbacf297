"""What the API returns about patients. Input models live in inputs.py and are shared with the pages."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    """What the API returns, validated by pydantic alone.

    Handlers build plain dicts, so ninja's Schema (which wraps every nested object in a Python attribute
    getter) is not needed here; it made a chart with 50 trials cost twice the read of a short one
    (docs/performance.md). Inputs stay ninja Schemas.
    """

    model_config = ConfigDict(from_attributes=True)


class PatientSummary(Out):
    id: uuid.UUID
    mrn: str
    external_mrn: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sex: str
    location: str


class PatientPage(Out):
    count: int
    limit: int
    offset: int
    items: list[PatientSummary]


class SearchIn(Schema):
    """Unknown fields are refused (422), as in every body."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=100)
    limit: int = 25
    offset: int = 0


class Stamp(Out):
    id: int
    status: str
    status_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ConditionOut(Stamp):
    code: str
    display: str
    onset_year: int | None
    note: str


class MedicationOut(Stamp):
    drug: str
    name: str
    interaction_classes: list[str]
    other_name: str
    dose: str
    started_on: dt.date | None
    stopped_on: dt.date | None


class AllergyOut(Stamp):
    substance: str
    category: str
    reaction: str
    severity: str
    ketamine_related: bool


class SubstanceUseOut(Stamp):
    substance: str
    use_status: str
    use_disorder: bool
    last_used_on: dt.date | None
    note: str


class TrialOut(Stamp):
    drug: str
    name: str
    other_name: str
    max_daily_dose_mg: Decimal
    weeks_at_dose: Decimal
    adequate_dose: bool
    dose_optimised: bool
    augmented: bool
    augmentation_agent: str
    outcome: str
    current_episode: bool
    started_year: int | None


class MeasurementOut(Out):
    id: int
    measured_on: dt.date
    weight_kg: Decimal | None
    height_cm: Decimal | None


class PatientOut(PatientSummary):
    version: int
    phone: str
    email: str
    address: str
    emergency_contact_name: str
    emergency_contact_phone: str
    emergency_contact_relationship: str
    pregnancy_status: str
    breastfeeding: bool
    pregnancy_recorded_on: dt.date | None
    entered_in_error_at: dt.datetime | None
    entered_in_error_reason: str
    weight: MeasurementOut | None
    height: MeasurementOut | None
    conditions: list[ConditionOut]
    medications: list[MedicationOut]
    allergies: list[AllergyOut]
    substance_use: list[SubstanceUseOut]
    antidepressant_trials: list[TrialOut]
    adequate_failed_trials_current_episode: int
    # Each history list above holds at most 50 entries; these are the full counts (section endpoints page).
    history_totals: dict[str, int]


class ErrorOut(Out):
    detail: str
    errors: dict[str, str] | None = None


class DuplicatesOut(Out):
    """409: a patient you can see has the same name and date of birth; resend with confirm_duplicate."""

    detail: str
    duplicates: list[uuid.UUID]


class EnteredInErrorOut(Out):
    id: uuid.UUID
    mrn: str
    entered_in_error_at: dt.datetime
    entered_in_error_reason: str
