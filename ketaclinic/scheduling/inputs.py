"""What the calendar's pages and API accept: one pydantic model per write, shared by both."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, StrictInt, model_validator

from ketaclinic.patients.inputs import Day, Moment, Strict, Text
from ketaclinic.scheduling.models import REASON_MAX, AppointmentKind, ShiftKind

Reason = Annotated[str, Text(REASON_MAX, required=True)]
OptionalReason = Annotated[str, Text(REASON_MAX)]
Weekday = Annotated[StrictInt, Field(ge=0, le=6)]
ChairId = Annotated[StrictInt, Field(ge=1, le=2**62)]
StaffId = Annotated[StrictInt, Field(ge=1, le=2**62)]


class AppointmentIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "patient_id": "5b1c0d3e-0000-4000-8000-000000000000",
                    "kind": "consultation",
                    "starts_at": "2026-12-01T10:00:00+00:00",
                }
            ]
        }
    )
    patient_id: uuid.UUID
    kind: AppointmentKind
    starts_at: Moment
    # A chair or room of the patient's location; the first free one that suits the visit when not given.
    chair: ChairId | None = None
    # The treatment session the visit is for (its plan's course; its modality is the visit's kind).
    session_id: uuid.UUID | None = None
    # Book although hard rules refuse: why (audited, kept with the rules it overrides). Front desk only.
    override_reason: OptionalReason = ""
    # The therapist a preparation or integration session is with (a staff member's id). A therapist booking
    # their own session is its clinician without it; front desk names the therapist it books for.
    clinician_id: StaffId | None = None


class CourseBookingIn(Strict):
    """Book every unbooked session of a plan: the first at `first_starts_at` (on that session's day), the
    others on their own days at the same local time and in the same chair when `same_slot`, otherwise at
    the first time of their day that every rule allows."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"first_starts_at": "2026-12-01T09:00:00-08:00", "same_slot": True}]}
    )

    first_starts_at: Moment
    same_slot: StrictBool = True


class CancelIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Patient asked to move the visit"}]})
    reason: Reason


class NoShowIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{}]})
    pass


class OpeningIn(Strict):
    weekday: Weekday
    opens: dt.time
    closes: dt.time

    @model_validator(mode="after")
    def _order(self) -> OpeningIn:
        if self.opens >= self.closes:
            raise ValueError("closes: must be after opens")
        return self


class ClosureIn(Strict):
    date: Day
    reason: Annotated[str, Text(120, required=True)]


class ShiftIn(Strict):
    staff_id: Annotated[StrictInt, Field(ge=1, le=2**62)]
    kind: ShiftKind
    starts_at: Moment
    ends_at: Moment

    @model_validator(mode="after")
    def _order(self) -> ShiftIn:
        if self.starts_at >= self.ends_at:
            raise ValueError("ends_at: must be after starts_at")
        if self.ends_at - self.starts_at > dt.timedelta(hours=24):
            raise ValueError("ends_at: a shift lasts at most 24 hours")
        return self


# --- Calendars, the waitlist and feeds (moves.py, waitlist.py, feeds.py) ----------------------------------


class MoveIn(Strict):
    """Move a booked visit: the new start (its length kept) and optionally another chair or room."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"starts_at": "2026-12-02T10:00:00-08:00", "chair": 3}]}
    )
    starts_at: Moment
    chair: ChairId | None = None
    override_reason: OptionalReason = ""


class AppointmentCheckInIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{}]})


class WaitlistIn(Strict):
    """A patient waiting for a visit of `kind`: the local weekdays (Monday = 0) and times that suit them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "patient_id": "5b1c0d3e-0000-4000-8000-000000000000",
                    "kind": "esketamine_nasal",
                    "preferred_days": [0, 2, 4],
                    "preferred_from": "08:00",
                    "preferred_to": "13:00",
                }
            ]
        }
    )
    patient_id: uuid.UUID
    kind: AppointmentKind
    preferred_days: Annotated[list[Weekday], Field(max_length=7)] = []
    preferred_from: dt.time | None = None
    preferred_to: dt.time | None = None
    note: OptionalReason = ""

    @model_validator(mode="after")
    def _span(self) -> WaitlistIn:
        if self.preferred_from and self.preferred_to and self.preferred_from >= self.preferred_to:
            raise ValueError("preferred_to: must be after preferred_from")
        return self
