"""What a client may send to create or change patient records, validated once for pages and API alike.

Each model refuses unknown fields (no mass assignment) and names the field in every message.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.utils import timezone
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

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

Text = Annotated[str, StringConstraints(strip_whitespace=True)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
# An identifier from a referring system: letters, digits and a few separators, compared case-blind.
ExternalMrn = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]*$|^$")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def today() -> dt.date:
    return timezone.localdate()


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


PastDate = Annotated[dt.date, AfterValidator(_past_date)]
PastYear = Annotated[int, AfterValidator(_past_year)]


def _known_drug(value: str, lexicon: dict[str, Any]) -> str:
    if value not in lexicon:
        raise ValueError(f"'{value}' is not in the drug lexicon; choose 'other' and give its name")
    return value


def _other_name_given(drug: str, other_name: str) -> None:
    if drug == OTHER_DRUG and not other_name:
        raise ValueError("other_name: give the drug's name when the drug is 'other'")


class ConditionIn(Strict):
    code: str
    onset_year: PastYear | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""

    @field_validator("code")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CONDITIONS:
            raise ValueError(f"'{value}' is not a known condition code")
        return value


class MedicationIn(Strict):
    drug: str
    other_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    dose: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] = ""
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
    substance: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    category: AllergyCategory
    reaction: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    severity: Severity = Severity.UNKNOWN
    ketamine_related: bool = False


class SubstanceUseIn(Strict):
    substance: Substance
    use_status: UseStatus
    use_disorder: bool = False
    last_used_on: PastDate | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""


class TrialIn(Strict):
    drug: str
    other_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    max_daily_dose_mg: Decimal = Field(gt=0, le=10000, decimal_places=2)
    weeks_at_dose: Decimal = Field(ge=0, le=520, decimal_places=1)
    adequate_dose: bool
    dose_optimised: bool = False
    augmented: bool = False
    augmentation_agent: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    outcome: TrialOutcome
    current_episode: bool
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

    measured_on: PastDate = Field(default_factory=today)
    weight_kg: Decimal | None = Field(default=None, decimal_places=1)
    height_cm: Decimal | None = Field(default=None, decimal_places=1)
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None

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
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=250)] | None = None
    emergency_contact_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None
    ) = None
    emergency_contact_phone: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None
    ) = None
    emergency_contact_relationship: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] | None
    ) = None
    pregnancy_status: PregnancyStatus | None = None
    breastfeeding: bool | None = None

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

    location: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
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
    confirm_duplicate: bool = False


class PatientUpdate(Demographics):
    """A partial update: only the fields sent are changed."""


class StatusChange(Strict):
    status: EntryStatus
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""

    @model_validator(mode="after")
    def _reason(self) -> StatusChange:
        if self.status == EntryStatus.ENTERED_IN_ERROR and not self.reason:
            raise ValueError("reason: say why the entry was wrong")
        return self


class EnteredInError(Strict):
    """Why a registration was a mistake (a duplicate, the wrong person): kept with the record."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
