"""What the API returns about plans and sessions. Inputs live in inputs.py, shared with the pages."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import JsonValue

from ketaclinic.patients.schemas import Dec, ErrorOut, Out


class RefusedOut(ErrorOut):
    """409: a gate refuses the step; `reasons` lists every unmet reason."""

    reasons: list[str]


class SessionBrief(Out):
    id: uuid.UUID
    number: int
    date: dt.date
    phase: str
    status: str


class PlanChangeOut(Out):
    kind: str
    reason: str
    changes: dict[str, Any]
    changed_at: dt.datetime


class PlanOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    location: str
    modality: str
    protocol: str
    dose_mg: Dec | None
    dose_mg_per_kg: Dec | None
    infusion_minutes: int | None
    start_date: dt.date
    clinic_days: list[int]
    maintenance_sessions: int
    status: str
    approved_at: dt.datetime | None
    ended_at: dt.datetime | None
    version: int
    sessions: list[SessionBrief]
    changes: list[PlanChangeOut]


class AlertOut(Out):
    id: int
    kind: str
    level: str
    rule_id: str
    message: str
    sources: list[str]
    raised_at: dt.datetime
    answer: str
    answer_note: str
    answered_at: dt.datetime | None
    version: int


class PreDoseCheckOut(Out):
    id: int
    identity_confirmed: bool
    consent_current: bool
    fasting_confirmed: bool | None
    ride_home_arranged: bool
    pregnancy_status: str
    medication_changes: bool
    medication_note: str
    interaction_findings: list[dict[str, str]]
    created_at: dt.datetime


class VitalsOut(Out):
    id: int
    taken_at: dt.datetime
    time_point: str
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    spo2_percent: int
    alerts: list[AlertOut]


class DeviceOut(Out):
    number: int
    due_at: dt.datetime
    used_at: dt.datetime | None


class DoseOut(Out):
    id: int
    amount_mg: Dec
    lot_number: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    weight_kg: Dec | None
    mg_per_kg: Dec | None
    concentration_mg_per_ml: Dec | None
    volume_ml: Dec | None
    infusion_minutes: int | None
    pump_rate_ml_per_hour: Dec | None
    devices: list[DeviceOut]
    next_device_due_at: dt.datetime | None


class ObservationOut(Out):
    id: int
    instrument: str
    answers: JsonValue
    total: int
    band: str
    flags: list[str]
    taken_at: dt.datetime
    alerts: list[AlertOut]


class AdverseEventOut(Out):
    id: int
    code: str
    description: str
    severity: str
    onset_at: dt.datetime
    action_taken: str
    outcome: str


class DischargeOut(Out):
    discharged_at: dt.datetime
    ready_to_leave_minutes: int
    escort_name: str
    minutes_observed: int
    dissociation_resolved: bool
    respiratory_depression_resolved: bool


class AmendmentOut(Out):
    id: int
    amended_at: dt.datetime
    reason: str
    record: str
    changes: dict[str, Any]


class DueOut(Out):
    """The next vital-signs reading due, and whether it is overdue."""

    what: str
    due_at: dt.datetime | None
    overdue: bool


class ReadinessOut(Out):
    ready: bool
    minutes_observed: int
    reasons: list[str]


class SessionOut(Out):
    id: uuid.UUID
    plan_id: uuid.UUID
    patient_id: uuid.UUID
    location: str
    modality: str
    number: int
    date: dt.date
    phase: str
    status: str
    stage: str
    chair: str | None
    checked_in_at: dt.datetime | None
    monitored_by: str | None
    signed_at: dt.datetime | None
    version: int
    prescribed_dose_mg: Dec | None
    prescribed_dose_mg_per_kg: Dec | None
    checks: list[PreDoseCheckOut]
    vitals: list[VitalsOut]
    next_vitals: DueOut | None
    doses: list[DoseOut]
    observations: list[ObservationOut]
    events: list[AdverseEventOut]
    alerts: list[AlertOut]
    discharge: DischargeOut | None
    discharge_readiness: ReadinessOut | None
    amendments: list[AmendmentOut]
