"""What a client may send to prescribe plans and chart the treatment day, validated once for pages and API.

Every model refuses unknown fields and names the field in each message (patients/inputs.py explains the
conventions). Times must carry their UTC offset. The bounds here are data-entry checks; the clinical
limits (dose ranges, permitted esketamine doses, the BP gate, alert levels) are applied by the actions
through ketaclinic/clinical with the clinic policy in force.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, JsonValue, StrictBool, StrictInt, model_validator

from ketaclinic.clinical.protocols import PROTOCOLS
from ketaclinic.patients.inputs import Day, Moment, Strict, Text, bounded
from ketaclinic.patients.models import (
    DIASTOLIC_MAX_MMHG,
    DIASTOLIC_MIN_MMHG,
    HEART_RATE_MAX_BPM,
    HEART_RATE_MIN_BPM,
    SYSTOLIC_MAX_MMHG,
    SYSTOLIC_MIN_MMHG,
    PregnancyStatus,
)
from ketaclinic.treatment.models import (
    DOSE_MG_MAX,
    INFUSION_MINUTES_MAX,
    INFUSION_MINUTES_MIN,
    SPO2_MAX_PERCENT,
    SPO2_MIN_PERCENT,
    AdverseEventCode,
    AdverseEventOutcome,
    AdverseEventSeverity,
    AlertAnswer,
    ObservationInstrument,
    PlanModality,
    TimePoint,
)

MAINTENANCE_SESSIONS_MAX = 52
READY_TO_LEAVE_MINUTES_MAX = 24 * 60
Reason = Annotated[str, Text(300, required=True)]
Note = Annotated[str, Text(300)]
Weekday = Annotated[StrictInt, Field(ge=0, le=6)]
ProtocolName = Annotated[str, Field(json_schema_extra={"enum": sorted(PROTOCOLS)})]


def _within(value: int, low: int, high: int, what: str, unit: str) -> int:
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low} and {high} {unit}")
    return value


def _clinic_days(days: list[int] | None) -> list[int] | None:
    if days is None:
        return None
    if not days:
        raise ValueError("clinic_days: give at least one weekday (0 = Monday ... 6 = Sunday)")
    if len(set(days)) != len(days):
        raise ValueError("clinic_days: a weekday is listed twice")
    return sorted(days)


class DoseIn(Strict):
    """The prescribed dose: `dose_mg` for esketamine, `dose_mg_per_kg` for IV and IM ketamine."""

    dose_mg: Decimal | None = Field(default=None, gt=0, le=DOSE_MG_MAX, decimal_places=1)
    dose_mg_per_kg: Decimal | None = Field(default=None, gt=0, le=10, decimal_places=2)


class PlanIn(DoseIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "modality": "esketamine_nasal",
                    "protocol": "esketamine_trd",
                    "start_date": "2026-03-02",
                    "dose_mg": "56",
                    "clinic_days": [0, 3],
                }
            ]
        }
    )
    modality: PlanModality
    protocol: ProtocolName
    start_date: Day
    # Python weekday numbers the sessions may fall on; Monday to Friday when not given.
    clinic_days: list[Weekday] | None = None
    maintenance_sessions: Annotated[StrictInt, Field(ge=0, le=MAINTENANCE_SESSIONS_MAX)] = 0
    # IV only: the infusion's length in minutes (40 when not given).
    infusion_minutes: Annotated[StrictInt, bounded(INFUSION_MINUTES_MIN, INFUSION_MINUTES_MAX)] | None = None

    @model_validator(mode="after")
    def _checks(self) -> PlanIn:
        if self.protocol not in PROTOCOLS:
            known = ", ".join(sorted(PROTOCOLS))
            raise ValueError(f"protocol: '{self.protocol}' is not a protocol; one of {known}")
        self.clinic_days = _clinic_days(self.clinic_days)
        if self.modality == PlanModality.ESKETAMINE_NASAL:
            if self.dose_mg_per_kg is not None:
                raise ValueError("dose_mg_per_kg: esketamine is prescribed in mg; send dose_mg")
            if self.dose_mg is None:
                raise ValueError("dose_mg: give the esketamine dose in mg")
            if self.infusion_minutes is not None:
                raise ValueError("infusion_minutes: only an IV infusion has a length")
        else:
            if self.dose_mg is not None:
                raise ValueError("dose_mg: IV and IM ketamine are prescribed in mg/kg; send dose_mg_per_kg")
            if self.dose_mg_per_kg is None:
                raise ValueError("dose_mg_per_kg: give the dose in mg/kg")
            if self.infusion_minutes is not None and self.modality != PlanModality.IV_KETAMINE:
                raise ValueError("infusion_minutes: only an IV infusion has a length")
        if self.infusion_minutes is not None:
            _within(self.infusion_minutes, INFUSION_MINUTES_MIN, INFUSION_MINUTES_MAX, "infusion", "minutes")
        return self


class ReasonIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Patient travelling for 3 weeks"}]})
    reason: Reason


class DoseChangeIn(DoseIn):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"dose_mg": "84", "reason": "Tolerated 56 mg; response partial"}]}
    )
    reason: Reason

    @model_validator(mode="after")
    def _one(self) -> DoseChangeIn:
        if (self.dose_mg is None) == (self.dose_mg_per_kg is None):
            raise ValueError("dose_mg: give the new dose_mg (esketamine) or dose_mg_per_kg (IV, IM)")
        return self


class FrequencyChangeIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"clinic_days": [1, 4], "reason": "Patient now works Mondays"}]}
    )
    clinic_days: list[Weekday] | None = None
    maintenance_sessions: Annotated[StrictInt, Field(ge=0, le=MAINTENANCE_SESSIONS_MAX)] | None = None
    reason: Reason

    @model_validator(mode="after")
    def _checks(self) -> FrequencyChangeIn:
        self.clinic_days = _clinic_days(self.clinic_days)
        if self.clinic_days is None and self.maintenance_sessions is None:
            raise ValueError("clinic_days: give new clinic_days or maintenance_sessions")
        return self


class CheckInIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"checked_in_at": "2026-03-02T09:05:00-08:00"}]}
    )
    # Now when not given; may be back-charted within the session's day.
    checked_in_at: Moment | None = None
    chair_id: StrictInt | None = None


class AssignIn(Strict):
    """Assign a chair or room, and who monitors the patient."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"chair_id": 3, "monitored_by_me": True}]})

    chair_id: StrictInt | None = None
    monitored_by_me: StrictBool = False


class PreDoseCheckIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "identity_confirmed": True,
                    "fasting_confirmed": True,
                    "ride_home_arranged": True,
                    "medication_changes": False,
                }
            ]
        }
    )
    identity_confirmed: StrictBool
    # Null where the modality does not require fasting.
    fasting_confirmed: StrictBool | None = None
    ride_home_arranged: StrictBool
    medication_changes: StrictBool
    medication_note: Note = ""
    # Asked where relevant (a patient who could be pregnant).
    pregnancy_status: PregnancyStatus | None = None


def _bounded(value: int, low: int, high: int, what: str, unit: str) -> int:
    return _within(value, low, high, what, unit)


class VitalsIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "taken_at": "2026-03-02T09:20:00-08:00",
                    "systolic_mmhg": 128,
                    "diastolic_mmhg": 82,
                    "heart_rate_bpm": 72,
                    "spo2_percent": 98,
                }
            ]
        }
    )
    taken_at: Moment
    systolic_mmhg: Annotated[StrictInt, bounded(SYSTOLIC_MIN_MMHG, SYSTOLIC_MAX_MMHG)]
    diastolic_mmhg: Annotated[StrictInt, bounded(DIASTOLIC_MIN_MMHG, DIASTOLIC_MAX_MMHG)]
    heart_rate_bpm: Annotated[StrictInt, bounded(HEART_RATE_MIN_BPM, HEART_RATE_MAX_BPM)]
    spo2_percent: Annotated[StrictInt, bounded(SPO2_MIN_PERCENT, SPO2_MAX_PERCENT)]
    # Which scheduled reading this is; worked out from the session when not given.
    time_point: TimePoint | None = None

    @model_validator(mode="after")
    def _checks(self) -> VitalsIn:
        # Each bound by name, so a reading refused is refused for the field that is wrong.
        for name, low, high, what, unit in (
            ("systolic_mmhg", SYSTOLIC_MIN_MMHG, SYSTOLIC_MAX_MMHG, "systolic pressure", "mmHg"),
            ("diastolic_mmhg", DIASTOLIC_MIN_MMHG, DIASTOLIC_MAX_MMHG, "diastolic pressure", "mmHg"),
            ("heart_rate_bpm", HEART_RATE_MIN_BPM, HEART_RATE_MAX_BPM, "heart rate", "bpm"),
            ("spo2_percent", SPO2_MIN_PERCENT, SPO2_MAX_PERCENT, "SpO2", "%"),
        ):
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{name}: {what} must be between {low} and {high} {unit}")
        if self.diastolic_mmhg >= self.systolic_mmhg:
            raise ValueError("diastolic_mmhg: must be below the systolic pressure")
        return self


class AlertAnswerIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"answer": "acknowledged", "note": "Usual for this patient; rechecked"}]
        }
    )
    answer: AlertAnswer
    note: Note = ""

    @model_validator(mode="after")
    def _checks(self) -> AlertAnswerIn:
        if self.answer == AlertAnswer.OPEN:
            raise ValueError("answer: choose acknowledged, deferred or responded")
        if self.answer != AlertAnswer.DEFERRED and not self.note:
            raise ValueError("note: say why, or what was done")
        return self


class AdministerIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"amount_mg": "56", "lot_number": "ESK2401A", "started_at": "2026-03-02T09:30:00-08:00"}
            ]
        }
    )
    amount_mg: Decimal = Field(gt=0, le=DOSE_MG_MAX, decimal_places=1)
    lot_number: Annotated[str, Text(40, required=True)]
    started_at: Moment
    # Infusions: when the infusion stopped (may be sent later with the dose's end).
    ended_at: Moment | None = None

    @model_validator(mode="after")
    def _checks(self) -> AdministerIn:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at: must not be before started_at")
        return self


class DeviceUseIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"used_at": "2026-03-02T09:35:00-08:00"}]})
    # Now when not given.
    used_at: Moment | None = None


class DoseEndIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ended_at": "2026-03-02T10:10:00-08:00"}]})
    ended_at: Moment | None = None


class ObservationIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"instrument": "moaas", "answers": [5], "taken_at": "2026-03-02T09:45:00-08:00"}]
        }
    )
    instrument: ObservationInstrument
    answers: JsonValue
    taken_at: Moment


class AdverseEventIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "nausea",
                    "severity": "mild",
                    "onset_at": "2026-03-02T09:50:00-08:00",
                    "action_taken": "Ondansetron 4 mg given",
                    "outcome": "resolved",
                }
            ]
        }
    )
    code: AdverseEventCode
    severity: AdverseEventSeverity
    onset_at: Moment
    action_taken: Annotated[str, Text(300, required=True)]
    outcome: AdverseEventOutcome
    # Required for "other".
    description: Annotated[str, Text(200)] = ""

    @model_validator(mode="after")
    def _checks(self) -> AdverseEventIn:
        if self.code == AdverseEventCode.OTHER and not self.description:
            raise ValueError("description: describe the event when the code is 'other'")
        return self


class DischargeIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "discharged_at": "2026-03-02T11:40:00-08:00",
                    "ready_to_leave_minutes": 90,
                    "escort_name": "Sam Rivera (partner)",
                }
            ]
        }
    )
    discharged_at: Moment | None = None
    # The REMS evaluation question: with no 2-hour minimum, after how many minutes from the start of dosing
    # would the patient have been ready to leave?
    ready_to_leave_minutes: Annotated[StrictInt, Field(ge=0, le=READY_TO_LEAVE_MINUTES_MAX)]
    escort_name: Annotated[str, Text(120, required=True)]
    # The monitoring clinician's judgement; discharge_readiness refuses while either is false.
    dissociation_resolved: StrictBool = True
    respiratory_depression_resolved: StrictBool = True


class SignIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class AmendmentIn(Strict):
    """A late entry or correction to a signed session: why, and what (said in words)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"reason": "Late entry", "note": "Patient phoned at 18:00: home safely, no symptoms"}
            ]
        }
    )
    reason: Reason
    note: Annotated[str, Text(1000, required=True)]
