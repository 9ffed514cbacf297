"""API routes of the calendar (mounted under /api/v1 by ketaclinic/api/app.py): chairs, the schedule,
bookings, courses, cancellations and no-shows.

Each route checks the role, loads through the access getters, calls an action and answers with the output
model; every answer that shows an appointment writes its read event (the schedule a list event).
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from pydantic import BaseModel, Field

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.errors import Forbidden, error_body
from ketaclinic.patients.inputs import Day
from ketaclinic.patients.schemas import (
    ANY_OPERATION,
    NOT_FOUND,
    PAGE_LIMIT_DEFAULT,
    WITH_BODY,
    Limit,
    Offset,
    errors,
)
from ketaclinic.scheduling import actions, queries
from ketaclinic.scheduling.access import (
    booking_clinician,
    get_appointment_for,
    get_location_for,
    get_patient_to_book,
    get_session_of,
    require_booking,
)
from ketaclinic.scheduling.inputs import AppointmentIn, CancelIn, CourseBookingIn, NoShowIn
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.notes import notes_for
from ketaclinic.scheduling.schemas import (
    AppointmentOut,
    ChairPage,
    ConflictsOut,
    CourseOut,
    ScheduleOut,
)
from ketaclinic.treatment.access import get_plan_for

router = Router(tags=["Scheduling"])

READ = errors(*ANY_OPERATION, NOT_FOUND)
WRITTEN = errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY)
SCHEDULE_DAYS_MAX = 31


def _origin(request: HttpRequest) -> Origin:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


def _json(out: type[BaseModel], body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(
        out.model_validate(body).model_dump_json(), status=status, content_type="application/json"
    )


def _appointment_answer(request: HttpRequest, appointment: Appointment, status: int = 200) -> HttpResponse:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=_origin(request),
        obj=appointment,
        patient=appointment.patient,
    )
    body = queries.appointment_out(appointment)
    body["notes"] = notes_for(appointment.session) if appointment.session_id else []
    response = _json(AppointmentOut, body, status)
    response["ETag"] = f'"{appointment.version}"'
    if status == 201:
        response["Location"] = f"/api/v1/appointments/{appointment.pk}"
    return response


def _conflict(exc: actions.BookingConflict) -> HttpResponse:
    body = error_body("Hard rules refuse this booking; give override_reason to book it anyway.")
    body["conflicts"] = actions.conflicts_out(exc.refusals)
    return _json(ConflictsOut, body, 409)


@router.get(
    "/chairs", response={200: ChairPage, **READ}, summary="The chairs and rooms of your location (paged)"
)
def list_chairs(
    request: HttpRequest,
    location_id: int | None = None,
    limit: Limit = PAGE_LIMIT_DEFAULT,
    offset: Offset = 0,
) -> Any:
    """The chairs and rooms in use at `location_id` (default: your first location), by name. Every staff
    member of the location."""
    _require(request, Perm.CLINIC_READ)
    location = get_location_for(request.user, location_id, Perm.CLINIC_READ, origin=_origin(request))
    rows = Chair.objects.filter(location=location, active=True).order_by("name")
    return {
        "count": rows.count(),
        "limit": limit,
        "offset": offset,
        "items": [{"id": c.pk, "name": c.name, "kind": c.kind} for c in rows[offset : offset + limit]],
    }


Days = Annotated[int, Field(ge=1, le=SCHEDULE_DAYS_MAX, description="How many days, 1 to 31")]


class ScheduleQuery(BaseModel):
    start: Day = Field(description="The first local day, YYYY-MM-DD")
    days: Days = 7
    location_id: int | None = Field(
        default=None, description="Default: your first location with the calendar"
    )


@router.get(
    "/schedule",
    response={200: ScheduleOut, **READ},
    summary="A location's appointments over some days",
)
def schedule(request: HttpRequest, query: Query[ScheduleQuery]) -> Any:
    """Every appointment (every status) starting on the location's local days `start` .. `start + days - 1`,
    in start order. Front desk, nurses and prescribers of the location."""
    _require(request, Perm.SCHEDULE_READ)
    origin = _origin(request)
    location = get_location_for(request.user, query.location_id, Perm.SCHEDULE_READ, origin=origin)
    rows = queries.schedule(location, query.start, query.days)
    record(Action.PATIENT_LIST, actor=request.user, origin=origin, obj=location, location_id=location.pk)
    return {
        "location_id": location.pk,
        "start": query.start,
        "days": query.days,
        "appointments": [queries.appointment_out(a) for a in rows],
    }


@router.post(
    "/appointments",
    response={201: AppointmentOut, 409: ConflictsOut, **WRITTEN},
    summary="Book an appointment",
)
def book(request: HttpRequest, body: AppointmentIn) -> Any:
    """Book a visit of `kind` for the patient at their location, from `starts_at` for the kind's length
    (clinic policy), in `chair` or the first free one that suits. Every hard rule is checked; a refusal is
    409 with each rule in `conflicts` and nothing saved, unless `override_reason` is given: then the visit is
    booked, keeping the rules it overrides, and the override is audited. Front desk of the location.

    A therapist of the location books their own `preparation` or `integration` session: they are its
    clinician (`clinician_id`, if given, must be theirs) and their other visits count; any other kind, a
    colleague's `clinician_id` or an `override_reason` is 403. Front desk may name the therapist of a
    preparation or integration session in `clinician_id`."""
    origin = _origin(request)
    require_booking(request.user, body.kind, origin=origin)
    patient = get_patient_to_book(request.user, body.patient_id, origin=origin, kind=body.kind)
    clinician = booking_clinician(
        request.user,
        patient,
        body.kind,
        body.clinician_id,
        override_reason=body.override_reason,
        origin=origin,
    )
    session = None
    if body.session_id is not None:
        session = get_session_of(patient, body.session_id, user=request.user, origin=origin)
    try:
        appointment = actions.do_book_appointment(
            patient, body, actor=request.user, origin=origin, session=session, clinician=clinician
        )
    except actions.BookingConflict as exc:
        return _conflict(exc)
    appointment.patient = patient
    return _appointment_answer(request, appointment, 201)


@router.post(
    "/treatment-plans/{plan_id}/bookings",
    response={201: CourseOut, **WRITTEN},
    summary="Book a plan's course: every session still to book",
)
def book_course(request: HttpRequest, plan_id: str, body: CourseBookingIn) -> Any:
    """Books each of the plan's scheduled sessions without an appointment on its own day, the first at
    `first_starts_at`, the rest at the same local time and chair (`same_slot`, the default) or the first
    time of their day every rule allows. Every occurrence is checked against every hard rule and the ones
    booked before it; those that cannot be booked are in `unbooked` with the rule and reason. Front desk
    of the plan's location."""
    _require(request, Perm.SCHEDULE_BOOK)
    origin = _origin(request)
    plan = get_plan_for(request.user, plan_id, perm=Perm.SCHEDULE_BOOK, origin=origin)
    result = actions.do_book_course(plan, body, actor=request.user, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=plan, patient=plan.patient)
    return _json(
        CourseOut,
        {
            "booked": [queries.appointment_out(a) for a in result.booked],
            "unbooked": [
                {
                    "session_id": u.session.pk,
                    "number": u.session.number,
                    "date": u.session.date,
                    "rule_id": u.rule_id,
                    "reason": u.reason,
                }
                for u in result.unbooked
            ],
        },
        201,
    )


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: AppointmentOut, **WRITTEN},
    summary="Cancel an appointment",
)
def cancel(request: HttpRequest, appointment_id: str, body: CancelIn) -> Any:
    """Cancel a booked visit with a reason. Front desk of the location, or the therapist whose own session
    it is."""
    origin = _origin(request)
    require_booking(request.user, origin=origin)
    appointment = get_appointment_for(
        request.user, appointment_id, Perm.SCHEDULE_BOOK, origin=origin, own=True
    )
    done = actions.do_cancel_appointment(appointment, body.reason, actor=request.user, origin=origin)
    return _appointment_answer(request, done)


@router.post(
    "/appointments/{appointment_id}/no-show",
    response={200: AppointmentOut, **WRITTEN},
    summary="Record a no-show",
)
def no_show(request: HttpRequest, appointment_id: str, body: NoShowIn) -> Any:
    """Mark a booked visit that has started as a no-show. Front desk of the location."""
    _require(request, Perm.SCHEDULE_BOOK)
    origin = _origin(request)
    appointment = get_appointment_for(request.user, appointment_id, Perm.SCHEDULE_BOOK, origin=origin)
    done = actions.do_mark_no_show(appointment, actor=request.user, origin=origin)
    return _appointment_answer(request, done)


# --- The week's optimiser (scheduling/proposals.py) --------------------------------------------------------

import contextlib  # noqa: E402

from ketaclinic.scheduling import proposals as week_proposals  # noqa: E402
from ketaclinic.scheduling import tasks as scheduling_tasks  # noqa: E402
from ketaclinic.scheduling.schemas import ProposalOut  # noqa: E402

# How long the API waits for the task runner beyond the time limit before answering "solving".
PROPOSAL_WAIT_MARGIN_SECONDS = 5.0


def _proposal_answer(request: HttpRequest, proposal: Any, status: int = 200) -> HttpResponse:
    rows = week_proposals.visits_of(proposal)
    record(
        Action.PATIENT_LIST,
        actor=request.user,
        origin=_origin(request),
        obj=proposal,
        location_id=proposal.location_id,
    )
    response = _json(ProposalOut, week_proposals.proposal_out(proposal, rows), status)
    if status == 201:
        response["Location"] = f"/api/v1/schedule/proposals/{proposal.pk}"
    return response


@router.post(
    "/schedule/proposals",
    response={201: ProposalOut, **WRITTEN},
    summary="Ask the optimiser for a week's proposal",
)
def propose(request: HttpRequest, body: week_proposals.ProposalIn, location_id: int | None = None) -> Any:
    """Places the location's sessions still to book in the week starting `week_start` on chairs and times
    under every hard rule (OR-Tools CP-SAT warm-started from a greedy first fit, in the task runner, for at
    most `time_limit_seconds`, default 10, cut to 60), at `location_id` (default: your first location
    where you book). Waits for the answer up to the limit plus a margin;
    a proposal still solving answers `status: solving` (poll GET /schedule/proposals/{id}). Booked visits
    are never moved. Front desk of the location."""
    _require(request, Perm.SCHEDULE_BOOK)
    origin = _origin(request)
    location = get_location_for(request.user, location_id, Perm.SCHEDULE_BOOK, origin=origin)
    proposal = week_proposals.do_request_proposal(location, body, actor=request.user, origin=origin)
    pending: Any = scheduling_tasks.solve_proposal(str(proposal.pk))  # huey's Result
    # Still solving past the wait: the answer says so and the caller polls.
    with contextlib.suppress(Exception):
        pending.get(blocking=True, timeout=proposal.time_limit_seconds + PROPOSAL_WAIT_MARGIN_SECONDS)
    proposal.refresh_from_db()
    return _proposal_answer(request, proposal, 201)


@router.get(
    "/schedule/proposals/{proposal_id}",
    response={200: ProposalOut, **READ},
    summary="A week's proposal",
)
def proposal(request: HttpRequest, proposal_id: str) -> Any:
    """The proposal: its status while solving, then what it places and what not. Front desk of its
    location."""
    _require(request, Perm.SCHEDULE_BOOK)
    found = week_proposals.get_proposal_for(request.user, proposal_id, origin=_origin(request))
    return _proposal_answer(request, found)


@router.post(
    "/schedule/proposals/{proposal_id}/accept",
    response={200: ProposalOut, **WRITTEN},
    summary="Accept a week's proposal, whole or in part",
)
def accept_proposal(request: HttpRequest, proposal_id: str, body: week_proposals.AcceptIn) -> Any:
    """Books every visit still proposed (`{}`) or those in `appointment_ids`. The set is re-checked against
    every hard rule with the calendar as it is now, and each visit is booked through the booking action
    (audited); a visit the rules refuse now is answered `refused` with the rule. Front desk."""
    _require(request, Perm.SCHEDULE_BOOK)
    origin = _origin(request)
    found = week_proposals.get_proposal_for(request.user, proposal_id, origin=origin)
    done = week_proposals.do_accept(found, body, actor=request.user, origin=origin)
    return _proposal_answer(request, done)


# Calendars, the waitlist and feeds (items 5-7): their routes join this router.
from ketaclinic.scheduling import calendar_api as _calendar_api  # noqa: E402,F401
