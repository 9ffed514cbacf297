"""What the calendar's API answers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import Field

from ketaclinic.patients.schemas import ErrorOut, Out, Page


class ScheduleChairOut(Out):
    id: int
    name: str
    kind: str = Field(description="chair, room or therapy_room")


ChairPage = Page[ScheduleChairOut]


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
    clinician_id: int | None = Field(
        default=None, description="The staff member the visit is with (a therapist's own session), if any"
    )
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


# --- The week's optimiser ----------------------------------------------------------------------------------


class UnplacedOut(Out):
    session_id: uuid.UUID
    patient_id: uuid.UUID
    kind: str
    number: int | None
    date: dt.date = Field(description="The session's planned day")
    reason: str = Field(description="Why the optimiser could not place it this week")


class ProposedOut(Out):
    id: uuid.UUID = Field(description="The proposed visit's id (accept it by this id)")
    patient_id: uuid.UUID
    session_id: uuid.UUID | None
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    chair: int
    status: str = Field(
        description="proposed, booked (accepted) or refused (the rules refused it on acceptance)"
    )
    change: str = Field(description="add: a new booking (booked visits are never moved)")
    appointment_id: uuid.UUID | None = Field(description="The appointment booked when accepted")
    reason: str = Field(description="Why the rules refused it on acceptance")


class ProposalOut(Out):
    id: uuid.UUID
    status: str = Field(description="solving, ready, accepted or failed")
    location_id: int
    week_start: dt.date
    time_limit_seconds: float
    wanted: int = Field(description="Visits the week still had to book")
    placed: int
    unplaced: list[UnplacedOut]
    proven_optimal: bool
    objective: int
    greedy_objective: int = Field(description="The greedy first fit's objective (the instant answer)")
    greedy_placed: int
    solver: str = Field(description="cp-sat, or greedy when the solver found nothing better")
    seconds: float
    appointments: list[ProposedOut]
