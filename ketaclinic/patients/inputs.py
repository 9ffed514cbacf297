"""What a client may send to create or change patient records, validated once for pages and API alike.

Each model refuses unknown fields (no mass assignment) and names the field in every message. The OpenAPI
document is made from these models, and says what they accept: a value the document calls valid is
refused only by a rule it cannot state (a date in the future, a field another field makes required), and
one it calls invalid is always refused. So whole numbers and yes/no answers are taken only as JSON numbers
and booleans, dates only as "YYYY-MM-DD", and text is measured as sent, before it is trimmed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from django.utils import timezone
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    JsonValue,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinical.vocab import ANTIDEPRESSANTS, CONDITIONS, DRUGS, OTHER_DRUG
from ketaclinic.patients.models import (
    DIASTOLIC_MAX_MMHG,
    DIASTOLIC_MIN_MMHG,
    HEART_RATE_MAX_BPM,
    HEART_RATE_MIN_BPM,
    SYSTOLIC_MAX_MMHG,
    SYSTOLIC_MIN_MMHG,
    AllergyCategory,
    EntryStatus,
    PregnancyStatus,
    Severity,
    Sex,
    Substance,
    TrialOutcome,
    UseStatus,
)

# The clinic's dosing bounds: a weight a dose cannot be calculated for is refused at entry.
WEIGHT_MIN_KG, WEIGHT_MAX_KG = DEFAULT_POLICY.dose_weight_min_kg, DEFAULT_POLICY.dose_weight_max_kg
# A data-entry plausibility bound, not a clinical threshold: catches metres or inches typed as cm.
HEIGHT_MIN_CM, HEIGHT_MAX_CM = Decimal(50), Decimal(250)
EARLIEST_DATE = dt.date(1900, 1, 1)

# What text is trimmed of: spaces, tabs and line breaks. The patterns of the OpenAPI document name the same
# characters (SPACE_CLASS), so that the document and the checks agree on every string.
SPACE = " \t\n\r\f\v"
SPACE_CLASS = r"[ \t\n\r\f\v]"
# Text as the OpenAPI document describes it: no NUL character anywhere (`Strict` refuses one by name), and
# for a required field, something besides spaces.
ANY_TEXT = r"^[^\x00]*$"
SOME_TEXT = r"^[^\x00]*[^\x00 \t\n\r\f\v][^\x00]*$"


def _trim(value: str) -> str:
    return value.strip(SPACE)


def _required(value: str) -> str:
    if not value.strip(SPACE):
        raise ValueError("this field is required")
    return value.strip(SPACE)


@dataclass(frozen=True)
class Text:
    """A text field, as `Annotated[str, Text(80)]`: at most `max_length` characters as sent, then trimmed
    of spaces and line breaks; a `required` one must hold something else. The OpenAPI document says the
    same (maxLength, and a pattern of SPACE_CLASS's characters)."""

    max_length: int
    required: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        checked = core_schema.str_schema(max_length=self.max_length)
        return core_schema.no_info_after_validator_function(_required if self.required else _trim, checked)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        documented: JsonSchemaValue = handler(schema)
        documented["pattern"] = SOME_TEXT if self.required else ANY_TEXT
        return documented


Name = Annotated[str, Text(80, required=True)]
# An identifier from a referring system: letters, digits and a few separators, compared case-blind.
EXTERNAL_MRN_PATTERN = rf"^{SPACE_CLASS}*([A-Za-z0-9][A-Za-z0-9 ._/-]*)?{SPACE_CLASS}*$"
ExternalMrn = Annotated[
    str,
    StringConstraints(max_length=40, pattern=EXTERNAL_MRN_PATTERN),
    AfterValidator(_trim),
]

# A location named in a query by its slug (as in its pages' addresses): letters, digits, '-' and '_'.
LocationSlug = Annotated[
    str, StringConstraints(max_length=60, pattern=r"^[-a-zA-Z0-9_]*$"), Field(description="A location's slug")
]


def refuse_unsafe_text(value: object) -> object:
    """NUL characters and lone surrogates are not text: a database refuses them (PostgreSQL) or stores what
    no page can show, so they are refused where they come in, naming the field."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if any("\ud800" <= char <= "\udfff" for char in value):
            raise ValueError("contains a character that is not valid text")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _safe_text(cls, value: object) -> object:
        return refuse_unsafe_text(value)


def today() -> dt.date:
    return timezone.localdate()


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_as_text(value: object) -> object:
    """A date comes as "YYYY-MM-DD" (or a date, from code); never as a number of seconds, which pydantic
    would take, as a number or as digits in text ("0" is 1970-01-01)."""
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        return value
    raise ValueError("enter a date as YYYY-MM-DD")


def _past_date(value: dt.date) -> dt.date:
    if value > today():
        raise ValueError("cannot be in the future")
    if value < EARLIEST_DATE:
        raise ValueError("must be after 1900")
    return value


def _past_year(value: int) -> int:
    if not EARLIEST_DATE.year <= value <= today().year:
        raise ValueError(f"must be a year between {EARLIEST_DATE.year} and {today().year}")
    return value


def _nullable(schema: dict[str, Any]) -> None:
    """Documents that null is taken (a validator turns it into the default)."""
    schema["anyOf"] = [
        {key: schema.pop(key) for key in ("type", "format") if key in schema},
        {"type": "null"},
    ]


def _year_bounds(schema: dict[str, Any]) -> None:
    """The OpenAPI document's bounds of a year: made when the document is, so they follow the calendar."""
    schema.update(minimum=EARLIEST_DATE.year, maximum=today().year)


# A day: "YYYY-MM-DD" only. The OpenAPI document says string, format date.
Day = Annotated[dt.date, BeforeValidator(_date_as_text)]
PastDate = Annotated[dt.date, BeforeValidator(_date_as_text), AfterValidator(_past_date)]


def _moment_as_text(value: object) -> object:
    """A moment comes as ISO 8601 text with its UTC offset (or a datetime, from code); never as a number of
    seconds, which a clinic's records cannot tell from a typing slip."""
    if isinstance(value, dt.datetime | str):
        return value
    raise ValueError("enter a time as ISO 8601 with its UTC offset, such as 2026-11-27T09:30:00-08:00")


# A moment in time: ISO 8601 with its UTC offset. The OpenAPI document says string, format date-time.
Moment = Annotated[AwareDatetime, BeforeValidator(_moment_as_text)]
PastYear = Annotated[StrictInt, AfterValidator(_past_year), Field(json_schema_extra=_year_bounds)]


def one_of(codes: Iterable[str]) -> Any:
    """Documents a coded field's values in the OpenAPI document; its validator refuses others by name."""
    values: list[JsonValue] = [*sorted(codes)]
    return Field(json_schema_extra={"enum": values})


def bounded(low: int, high: int) -> Any:
    """Documents a whole number's bounds; its validator refuses others with a message naming the unit."""
    return Field(json_schema_extra={"minimum": low, "maximum": high})


def _known_drug(value: str, lexicon: dict[str, Any]) -> str:
    if value not in lexicon:
        raise ValueError(f"'{value}' is not in the drug lexicon; choose 'other' and give its name")
    return value


def _other_name_given(drug: str, other_name: str) -> None:
    if drug == OTHER_DRUG and not other_name:
        raise ValueError("other_name: give the drug's name when the drug is 'other'")


class ConditionIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "major_depressive_disorder", "onset_year": 2015}]}
    )
    code: Annotated[str, one_of(CONDITIONS)]
    onset_year: PastYear | None = None
    note: Annotated[str, Text(300)] = ""

    @field_validator("code")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CONDITIONS:
            raise ValueError(f"'{value}' is not a known condition code")
        return value


class MedicationIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"drug": "sertraline", "dose": "100 mg daily", "started_on": "2024-03-01"}]
        }
    )
    drug: Annotated[str, one_of(DRUGS)]
    other_name: Annotated[str, Text(120)] = ""
    dose: Annotated[str, Text(80)] = ""
    started_on: PastDate | None = None

    @field_validator("drug")
    @classmethod
    def _drug(cls, value: str) -> str:
        return _known_drug(value, DRUGS)

    @model_validator(mode="after")
    def _other(self) -> MedicationIn:
        _other_name_given(self.drug, self.other_name)
        return self


class AllergyIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"substance": "Penicillin", "category": "medication", "reaction": "Rash", "severity": "mild"}
            ]
        }
    )
    substance: Annotated[str, Text(120, required=True)]
    category: AllergyCategory
    reaction: Annotated[str, Text(200)] = ""
    severity: Severity = Severity.UNKNOWN
    ketamine_related: StrictBool = False


class SubstanceUseIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"substance": "alcohol", "use_status": "past", "last_used_on": "2023-06-01"}]
        }
    )
    substance: Substance
    use_status: UseStatus
    use_disorder: StrictBool = False
    last_used_on: PastDate | None = None
    note: Annotated[str, Text(300)] = ""


class TrialIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "drug": "escitalopram",
                    "max_daily_dose_mg": "20",
                    "weeks_at_dose": "8",
                    "adequate_dose": True,
                    "outcome": "none",
                    "current_episode": True,
                }
            ]
        }
    )
    drug: Annotated[str, one_of([*ANTIDEPRESSANTS, OTHER_DRUG])]
    other_name: Annotated[str, Text(120)] = ""
    max_daily_dose_mg: Decimal = Field(gt=0, le=10000, decimal_places=2)
    weeks_at_dose: Decimal = Field(ge=0, le=520, decimal_places=1)
    adequate_dose: StrictBool
    dose_optimised: StrictBool = False
    augmented: StrictBool = False
    augmentation_agent: Annotated[str, Text(120)] = ""
    outcome: TrialOutcome
    current_episode: StrictBool
    started_year: PastYear | None = None

    @field_validator("drug")
    @classmethod
    def _antidepressant(cls, value: str) -> str:
        if value == OTHER_DRUG:
            return value
        if value in DRUGS and value not in ANTIDEPRESSANTS:
            raise ValueError(f"'{value}' is not an antidepressant")
        return _known_drug(value, ANTIDEPRESSANTS)

    @model_validator(mode="after")
    def _checks(self) -> TrialIn:
        _other_name_given(self.drug, self.other_name)
        if self.augmentation_agent and not self.augmented:
            self.augmented = True
        return self


def _within(value: int | None, low: int, high: int, what: str, unit: str) -> int | None:
    if value is not None and not low <= value <= high:
        raise ValueError(f"{what} must be between {low} and {high} {unit}")
    return value


class MeasurementIn(Strict):
    """Weight, height and resting vitals measured on one day (today unless given).

    Any of them may come alone; blood pressure needs both parts. The bounds are data-entry checks that catch
    a slipped digit or swapped fields; whether a value is clinically acceptable is the clinical rules' call.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"measured_on": "2025-01-15", "weight_kg": "72.5", "systolic_mmhg": 124, "diastolic_mmhg": 78}
            ]
        }
    )

    # null (or nothing) means today.
    measured_on: PastDate = Field(default_factory=today, json_schema_extra=_nullable)
    weight_kg: Decimal | None = Field(default=None, decimal_places=1)
    height_cm: Decimal | None = Field(default=None, decimal_places=1)
    systolic_mmhg: Annotated[StrictInt, bounded(SYSTOLIC_MIN_MMHG, SYSTOLIC_MAX_MMHG)] | None = None
    diastolic_mmhg: Annotated[StrictInt, bounded(DIASTOLIC_MIN_MMHG, DIASTOLIC_MAX_MMHG)] | None = None
    heart_rate_bpm: Annotated[StrictInt, bounded(HEART_RATE_MIN_BPM, HEART_RATE_MAX_BPM)] | None = None

    @field_validator("measured_on", mode="before")
    @classmethod
    def _today_when_blank(cls, value: object) -> object:
        return today() if value is None else value

    @field_validator("weight_kg")
    @classmethod
    def _weight(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not WEIGHT_MIN_KG <= value <= WEIGHT_MAX_KG:
            raise ValueError(f"weight must be between {WEIGHT_MIN_KG} and {WEIGHT_MAX_KG} kg")
        return value

    @field_validator("height_cm")
    @classmethod
    def _height(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and not HEIGHT_MIN_CM <= value <= HEIGHT_MAX_CM:
            raise ValueError(f"height must be between {HEIGHT_MIN_CM} and {HEIGHT_MAX_CM} cm")
        return value

    @field_validator("systolic_mmhg")
    @classmethod
    def _systolic(cls, value: int | None) -> int | None:
        return _within(value, SYSTOLIC_MIN_MMHG, SYSTOLIC_MAX_MMHG, "systolic pressure", "mmHg")

    @field_validator("diastolic_mmhg")
    @classmethod
    def _diastolic(cls, value: int | None) -> int | None:
        return _within(value, DIASTOLIC_MIN_MMHG, DIASTOLIC_MAX_MMHG, "diastolic pressure", "mmHg")

    @field_validator("heart_rate_bpm")
    @classmethod
    def _heart_rate(cls, value: int | None) -> int | None:
        return _within(value, HEART_RATE_MIN_BPM, HEART_RATE_MAX_BPM, "heart rate", "bpm")

    @model_validator(mode="after")
    def _blood_pressure(self) -> MeasurementIn:
        systolic, diastolic = self.systolic_mmhg, self.diastolic_mmhg
        if systolic is not None and diastolic is None:
            raise ValueError("diastolic_mmhg: give the diastolic pressure with the systolic")
        if diastolic is not None and systolic is None:
            raise ValueError("systolic_mmhg: give the systolic pressure with the diastolic")
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            raise ValueError("diastolic_mmhg: must be below the systolic pressure")
        return self

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f) is None for f in MEASURED)


# What a measurement can record besides its date, in the order the chart shows them.
MEASURED = ("weight_kg", "height_cm", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm")


class Demographics(Strict):
    """Fields of the patient record itself; every one optional so that the same model serves updates."""

    given_name: Name | None = None
    family_name: Name | None = None
    date_of_birth: PastDate | None = None
    sex: Sex | None = None
    external_mrn: ExternalMrn | None = None
    phone: Annotated[str, Text(30)] | None = None
    email: Annotated[str, Text(254)] | None = None
    address: Annotated[str, Text(250)] | None = None
    emergency_contact_name: Annotated[str, Text(120)] | None = None
    emergency_contact_phone: Annotated[str, Text(30)] | None = None
    emergency_contact_relationship: Annotated[str, Text(60)] | None = None
    pregnancy_status: PregnancyStatus | None = None
    breastfeeding: StrictBool | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and ("@" not in value or value.startswith("@") or value.endswith("@")):
            raise ValueError("enter a valid e-mail address")
        return value

    @model_validator(mode="after")
    def _pregnancy(self) -> Demographics:
        if self.sex == Sex.MALE and self.pregnancy_status == PregnancyStatus.PREGNANT:
            raise ValueError("pregnancy_status: cannot be 'pregnant' when sex is male")
        return self


class PatientCreate(Demographics):
    """A registration. The MRN is assigned by KetaClinic; `confirm_duplicate` registers a person with the
    name and date of birth of a patient already there (otherwise refused, listing the possible duplicates).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "location": "north",
                    "given_name": "Rosa",
                    "family_name": "Lindqvist",
                    "date_of_birth": "1966-09-12",
                    "sex": "female",
                    "conditions": [{"code": "major_depressive_disorder"}],
                }
            ]
        }
    )

    location: Annotated[str, Text(60, required=True)]
    given_name: Name
    family_name: Name
    date_of_birth: PastDate
    sex: Sex
    measurement: MeasurementIn | None = None
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=50)
    medications: list[MedicationIn] = Field(default_factory=list, max_length=50)
    allergies: list[AllergyIn] = Field(default_factory=list, max_length=50)
    substance_use: list[SubstanceUseIn] = Field(default_factory=list, max_length=20)
    antidepressant_trials: list[TrialIn] = Field(default_factory=list, max_length=50)
    confirm_duplicate: StrictBool = False


class PatientUpdate(Demographics):
    """A partial update: only the fields sent are changed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "555-0100", "email": "rosa@example.org"}]}
    )


class StatusChange(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "entered_in_error", "reason": "Recorded for the wrong patient"}]
        }
    )
    status: EntryStatus
    reason: Annotated[str, Text(200)] = ""

    @model_validator(mode="after")
    def _reason(self) -> StatusChange:
        if self.status == EntryStatus.ENTERED_IN_ERROR and not self.reason:
            raise ValueError("reason: say why the entry was wrong")
        return self


class EnteredInError(Strict):
    """Why a registration was a mistake (a duplicate, the wrong person): kept with the record."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Registered twice"}]})

    reason: Annotated[str, Text(200, required=True)]
