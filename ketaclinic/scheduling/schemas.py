"""What the calendar's API answers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

from ketaclinic.patients.schemas import ErrorOut, Out, Page


class ChairOut(Out):
    id: int
    name: str
    kind: str = Field(description="chair, room or therapy_room")


ChairPage = Page[ChairOut]


class AppointmentOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: str = Field(
        description="esketamine_nasal, iv_ketamine, im_ketamine, consultation, preparation, integration"
    )
    starts_at: dt.datetime
    ends_at: dt.datetime
    chair: int = Field(description="The chair or room's id (GET /api/v1/chairs)")
    status: str = Field(
        description="FHIR Appointment status: proposed, booked, arrived, fulfilled, cancelled, "
        "noshow, waitlist"
    )
    session_id: uuid.UUID | None = Field(description="The treatment session the visit is for, if any")
    overridden_rules: list[str] = Field(description="Hard rules this booking was made against (an override)")
    notes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="What other areas say about booking this session: a prior authorisation's sessions used "
        "up (kind prior_authorization, with message and sessions_remaining)",
    )


class ScheduleOut(Out):
    location_id: int
    start: dt.date
    days: int
    appointments: list[AppointmentOut]


class ConflictOut(Out):
    rule_id: str = Field(description="The hard rule that refuses the booking")
    message: str


class ConflictsOut(ErrorOut):
    """409: hard rules refuse the booking; resend with `override_reason` to book it anyway (audited)."""

    conflicts: list[ConflictOut]


class UnbookedOut(Out):
    session_id: uuid.UUID
    number: int
    date: dt.date
    rule_id: str
    reason: str


class CourseOut(Out):
    booked: list[AppointmentOut]
    unbooked: list[UnbookedOut]
