"""What the API returns about home programs, their doses and check-ins, and the hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from ketaclinic.clinical.home import Hold
from ketaclinic.homecare.models import HoldRelease, HomeCheckIn, HomeDose, HomeProgram
from ketaclinic.patients.schemas import Out

Severity = Literal["none", "mild", "moderate", "severe"]


class HoldOut(Out):
    held: bool
    checkin_missing: bool
    reasons: list[str] = Field(description="Why the next home dose is held, as a prescriber reads it")


class HomeProgramOut(Out):
    id: int
    modality: Literal["home_ketamine"]
    drug: Literal["ketamine"]
    route: Literal["sublingual", "oral", "im"]
    dose_mg: Decimal
    min_days_between_doses: int
    start_date: dt.date
    status: Literal["active", "paused", "ended"]
    monitor_name: str
    created_at: dt.datetime
    status_changed_at: dt.datetime | None
    status_reason: str
    version: int
    next_dose_on: dt.date | None
    hold: HoldOut


class CheckInOut(Out):
    recorded_at: dt.datetime
    side_effects: list[str]
    side_effects_other: str
    side_effect_severity: Severity
    dissociation: Severity
    systolic_mmhg: int
    diastolic_mmhg: int
    note: str
    failed: bool
    failed_reasons: list[str]


class ReleaseOut(Out):
    id: int
    dose_id: int
    released_at: dt.datetime
    released_by: str
    reason: str
    reasons_released: list[str]


class HomeDoseOut(Out):
    id: int
    day: dt.date
    recorded_at: dt.datetime
    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int
    monitor_name: str
    monitor_relationship: str
    outcome: Literal["bp_too_high", "held", "cleared", "taken"]
    outcome_reason: str
    prescribed_mg: Decimal
    taken_at: dt.datetime | None
    taken_mg: Decimal | None
    checkin_opens_at: dt.datetime | None
    checkin_due_at: dt.datetime | None
    checkin_missed_at: dt.datetime | None
    checkin: CheckInOut | None
    release: ReleaseOut | None


def hold_dict(found: Hold) -> dict[str, Any]:
    return {"held": found.held, "checkin_missing": found.checkin_missing, "reasons": list(found.reasons)}


def program_dict(program: HomeProgram, found: Hold, next_on: dt.date | None) -> dict[str, Any]:
    return {
        "id": program.pk,
        "modality": program.modality,
        "drug": program.drug,
        "route": program.route,
        "dose_mg": program.dose_mg,
        "min_days_between_doses": program.min_days_between_doses,
        "start_date": program.start_date,
        "status": program.status,
        "monitor_name": program.monitor_name,
        "created_at": program.created_at,
        "status_changed_at": program.status_changed_at,
        "status_reason": program.status_reason,
        "version": program.version,
        "next_dose_on": next_on,
        "hold": hold_dict(found),
    }


def _checkin(c: HomeCheckIn) -> dict[str, Any]:
    return {
        "recorded_at": c.recorded_at,
        "side_effects": list(c.side_effects),
        "side_effects_other": c.side_effects_other,
        "side_effect_severity": c.side_effect_severity,
        "dissociation": c.dissociation,
        "systolic_mmhg": c.systolic_mmhg,
        "diastolic_mmhg": c.diastolic_mmhg,
        "note": c.note,
        "failed": c.failed,
        "failed_reasons": list(c.failed_reasons),
    }


def release_dict(r: HoldRelease) -> dict[str, Any]:
    return {
        "id": r.pk,
        "dose_id": r.dose_id,
        "released_at": r.released_at,
        "released_by": str(r.released_by),
        "reason": r.reason,
        "reasons_released": list(r.reasons_released),
    }


def dose_dict(d: HomeDose) -> dict[str, Any]:
    return {
        "id": d.pk,
        "day": d.day,
        "recorded_at": d.recorded_at,
        "systolic_mmhg": d.systolic_mmhg,
        "diastolic_mmhg": d.diastolic_mmhg,
        "heart_rate_bpm": d.heart_rate_bpm,
        "monitor_name": d.monitor_name,
        "monitor_relationship": d.monitor_relationship,
        "outcome": d.outcome,
        "outcome_reason": d.outcome_reason,
        "prescribed_mg": d.prescribed_mg,
        "taken_at": d.taken_at,
        "taken_mg": d.taken_mg,
        "checkin_opens_at": d.checkin_opens_at,
        "checkin_due_at": d.checkin_due_at,
        "checkin_missed_at": d.checkin_missed_at,
        "checkin": _checkin(d.checkin) if hasattr(d, "checkin") else None,
        "release": release_dict(d.release) if hasattr(d, "release") else None,
    }
