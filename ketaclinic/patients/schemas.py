"""What the API returns about patients. Input models live in inputs.py and are shared with the pages."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StrictInt

from ketaclinic.patients.inputs import Strict


def _plain(value: Decimal) -> str:
    """A decimal as the API writes every one: a string in plain notation, without trailing zeros."""
    return format(value.normalize(), "f")


# Every decimal the API returns, whatever its column's places: "150", "37.5", "82.4" (never 150.00).
Dec = Annotated[Decimal, PlainSerializer(_plain, return_type=str, when_used="json")]

if TYPE_CHECKING:
    from ketaclinic.patients.picture import Flag, Picture


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


T = TypeVar("T")

# Every list the API returns is paged the same way: ?limit (1-100, default 25) and ?offset. An offset past
# the end gives an empty page; one past PAGE_OFFSET_MAX is refused (422), so that no number reaches the
# database that it cannot hold (SQLite and PostgreSQL stop at 2^63 - 1).
PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX = 25, 100
PAGE_OFFSET_MAX = 2**31 - 1
Limit = Annotated[int, Field(ge=1, le=PAGE_LIMIT_MAX, description="How many to return (1-100)")]
Offset = Annotated[int, Field(ge=0, le=PAGE_OFFSET_MAX, description="How many to skip")]


class Page(Out, Generic[T]):
    count: int = Field(description="How many there are in all")
    limit: int
    offset: int
    items: list[T]


PatientPage = Page[PatientSummary]


class SearchIn(Strict):
    """Unknown fields are refused (422), as in every body; so are NUL characters in `q`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"q": "lindqvist", "limit": 25, "offset": 0}]})

    q: str = Field(default="", max_length=100)
    limit: Annotated[StrictInt, Field(ge=1, le=PAGE_LIMIT_MAX)] = PAGE_LIMIT_DEFAULT
    offset: Annotated[StrictInt, Field(ge=0, le=PAGE_OFFSET_MAX)] = 0


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
    max_daily_dose_mg: Dec
    weeks_at_dose: Dec
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
    weight_kg: Dec | None
    height_cm: Dec | None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    created_at: dt.datetime


class LatestMeasurementsOut(Out):
    """The latest of each measurement, each with the day it was measured (the chart's header)."""

    weight_kg: Dec | None
    weight_measured_on: dt.date | None
    height_cm: Dec | None
    height_measured_on: dt.date | None
    bmi: Dec | None
    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    heart_rate_bpm: int | None
    resting_measured_on: dt.date | None


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
    latest_measurements: LatestMeasurementsOut
    # The history sections (patients/sections.py), each at most 50 entries: `history_totals` has the full
    # counts, and GET /api/v1/patients/{id}/<section> pages through every entry.
    conditions: list[ConditionOut]
    medications: list[MedicationOut]
    allergies: list[AllergyOut]
    substance_use: list[SubstanceUseOut]
    antidepressant_trials: list[TrialOut]
    adequate_failed_trials_current_episode: int
    # TRD staging, a screening decision per modality and the safety flags, each finding with its sources:
    # computed from the record on every read, never stored.
    clinical_picture: ClinicalPictureOut
    history_totals: dict[str, int]


class ErrorOut(Out):
    """Every error answer under /api/: what happened, and for a refused value, a message per field."""

    detail: str
    errors: dict[str, str] | None = None


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error answers an operation documents, each in the one error shape."""
    return dict.fromkeys(sorted(statuses), ErrorOut)


# What any operation may answer: no valid token (401), a role without the permission (403), a refused value
# (422), too many failed authentications from the address (429), a fault of the server (500).
ANY_OPERATION = (401, 403, 422, 429, 500)
NOT_FOUND = 404  # a patient or entry id that does not exist, or is not the caller's to see
# An operation that reads a body: one that is not JSON (400), or larger than the server takes (413).
WITH_BODY = (400, 413)


class DuplicatesOut(Out):
    """409: a patient you can see has the same name and date of birth; resend with confirm_duplicate."""

    detail: str
    duplicates: list[uuid.UUID]


class EnteredInErrorOut(Out):
    id: uuid.UUID
    mrn: str
    entered_in_error_at: dt.datetime
    entered_in_error_reason: str


# --- The clinical picture (patients/picture.py), computed on read and never stored -------------------------


class SourceOut(Out):
    tag: str
    citation: str


class PictureFindingOut(Out):
    rule_id: str
    level: str
    level_label: str
    tone: str
    message: str
    sources: list[SourceOut]
    escalated_by_policy: bool


class RuleRefOut(Out):
    rule_id: str
    description: str
    sources: list[SourceOut]


class TRDStatusOut(Out):
    meets_definition: bool
    current_episode_failures: int
    adequate_failures: int
    min_trial_weeks: int
    mgh_score: Decimal
    maudsley_score: int | None
    maudsley_band: str | None
    maudsley_missing: list[str]
    rules: list[RuleRefOut]


class ModalityCellOut(Out):
    modality: str
    label: str
    decision: str
    decision_label: str
    tone: str
    first_reason: str
    findings: list[PictureFindingOut]


class FlagOut(Out):
    key: str
    label: str
    level: str
    detail: str
    findings: list[PictureFindingOut]


class RestingVitalsOut(Out):
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int | None
    measured_on: dt.date


class ClinicalPictureOut(Out):
    age: int
    resting: RestingVitalsOut | None
    trd: TRDStatusOut
    modalities: list[ModalityCellOut]
    flags: list[FlagOut]
    ruleset_version: str


def picture_out(picture: Picture) -> dict[str, Any]:
    """A `patients.picture.Picture` as the plain dict `ClinicalPictureOut` validates (enums as strings)."""
    return ClinicalPictureOut.model_validate(picture).model_dump()


def flags_out(flags: Iterable[Flag]) -> list[dict[str, Any]]:
    """`patients.picture.Flag`s (from `flags_for_patients`) as plain dicts for a list response."""
    return [FlagOut.model_validate(f).model_dump() for f in flags]


PatientOut.model_rebuild()
