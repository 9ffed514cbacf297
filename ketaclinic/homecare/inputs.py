"""What prescribers, the API and patients may send about home programs, validated once for pages and API.

Every model refuses unknown fields and names the field in each message (patients/inputs.py explains the
conventions). Bounds are data-entry checks; the clinical thresholds are the clinic policy's, applied by the
actions through ketaclinic/clinical/home.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, StrictInt, field_validator

from ketaclinic.clinical.home import refuse_esketamine
from ketaclinic.homecare.models import (
    HOME_DOSE_MG_MAX,
    MIN_DAYS_MAX,
    NAME_MAX,
    REASON_MAX,
    TEXT_MAX,
    ProgramStatus,
    Relationship,
    Route,
    Severity,
    SideEffect,
)
from ketaclinic.patients.inputs import Day, Moment, Strict, Text, bounded
from ketaclinic.patients.models import (
    DIASTOLIC_MAX_MMHG,
    DIASTOLIC_MIN_MMHG,
    HEART_RATE_MAX_BPM,
    HEART_RATE_MIN_BPM,
    SYSTOLIC_MAX_MMHG,
    SYSTOLIC_MIN_MMHG,
)

Reason = Annotated[str, Text(REASON_MAX, required=True)]
PersonName = Annotated[str, Text(NAME_MAX, required=True)]
OptionalName = Annotated[str, Text(NAME_MAX)]
Systolic = Annotated[StrictInt, bounded(SYSTOLIC_MIN_MMHG, SYSTOLIC_MAX_MMHG)]
Diastolic = Annotated[StrictInt, bounded(DIASTOLIC_MIN_MMHG, DIASTOLIC_MAX_MMHG)]
Pulse = Annotated[StrictInt, bounded(HEART_RATE_MIN_BPM, HEART_RATE_MAX_BPM)]
DoseMg = Annotated[Decimal, Field(gt=0, le=HOME_DOSE_MG_MAX, decimal_places=1)]


def _within(value: int, low: int, high: int, unit: str) -> int:
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high} {unit}")
    return value


class HomeProgramIn(Strict):
    """A home program: racemic ketamine only (`drug` "esketamine" is refused by name: REMS)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "route": "sublingual",
                    "dose_mg": "100",
                    "min_days_between_doses": 3,
                    "start_date": "2026-12-01",
                    "monitor_name": "Sam Rivera",
                }
            ]
        }
    )

    drug: Annotated[str, Text(20)] = "ketamine"
    route: Route
    dose_mg: DoseMg
    min_days_between_doses: Annotated[StrictInt, bounded(1, MIN_DAYS_MAX)]
    start_date: Day
    monitor_name: OptionalName = ""

    @field_validator("drug")
    @classmethod
    def _ketamine_only(cls, value: str) -> str:
        refused = refuse_esketamine(value)
        if refused:
            raise ValueError(refused)
        return "ketamine"

    @field_validator("min_days_between_doses")
    @classmethod
    def _days(cls, value: int) -> int:
        return _within(value, 1, MIN_DAYS_MAX, "days")


class ProgramStatusIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "paused", "reason": "Travelling for two weeks"}]}
    )
    status: ProgramStatus
    reason: Reason


class ReleaseIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "Spoke with the patient; blood pressure normal on recheck"}]
        }
    )
    reason: Reason


class PreDoseIn(Strict):
    """The patient's step before a home dose."""

    systolic_mmhg: Systolic
    diastolic_mmhg: Diastolic
    heart_rate_bpm: Pulse
    monitor_name: PersonName
    monitor_relationship: Relationship
    confirmed_safe: StrictBool
    submit_key: Annotated[str, Text(64, required=True)]

    @field_validator("systolic_mmhg")
    @classmethod
    def _sys(cls, value: int) -> int:
        return _within(value, SYSTOLIC_MIN_MMHG, SYSTOLIC_MAX_MMHG, "mmHg")

    @field_validator("diastolic_mmhg")
    @classmethod
    def _dia(cls, value: int) -> int:
        return _within(value, DIASTOLIC_MIN_MMHG, DIASTOLIC_MAX_MMHG, "mmHg")

    @field_validator("heart_rate_bpm")
    @classmethod
    def _hr(cls, value: int) -> int:
        return _within(value, HEART_RATE_MIN_BPM, HEART_RATE_MAX_BPM, "beats a minute")

    @field_validator("confirmed_safe")
    @classmethod
    def _confirmed(cls, value: bool) -> bool:
        if not value:
            raise ValueError("confirm that you will not drive and that your monitor is with you")
        return value


class TakenIn(Strict):
    taken_at: Moment
    taken_mg: DoseMg


class HomeCheckInIn(Strict):
    side_effects: list[SideEffect] = Field(default_factory=list, max_length=len(SideEffect))
    side_effects_other: OptionalName = ""
    side_effect_severity: Severity
    dissociation: Severity
    systolic_mmhg: Systolic
    diastolic_mmhg: Diastolic
    note: Annotated[str, Text(TEXT_MAX)] = ""

    @field_validator("systolic_mmhg")
    @classmethod
    def _sys(cls, value: int) -> int:
        return _within(value, SYSTOLIC_MIN_MMHG, SYSTOLIC_MAX_MMHG, "mmHg")

    @field_validator("diastolic_mmhg")
    @classmethod
    def _dia(cls, value: int) -> int:
        return _within(value, DIASTOLIC_MIN_MMHG, DIASTOLIC_MAX_MMHG, "mmHg")

    @field_validator("side_effects")
    @classmethod
    def _once(cls, value: list[SideEffect]) -> list[SideEffect]:
        if len(set(value)) != len(value):
            raise ValueError("a side effect is listed twice")
        return value
