"""API routes of calendars, the waitlist and feeds, on the calendar's router (api.py imports this module at
its end): the caller's calendar-feed URL, moving a visit, checking a patient in, the waitlist, and the
capacity view."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query
from pydantic import AfterValidator, BaseModel, Field

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.errors import Forbidden
from ketaclinic.patients.inputs import Day
from ketaclinic.patients.schemas import (
    ANY_OPERATION,
    NOT_FOUND,
    PAGE_LIMIT_DEFAULT,
    WITH_BODY,
    Limit,
    Offset,
    Out,
    Page,
    errors,
)
from ketaclinic.scheduling import actions, calendars, feeds, moves, waitlist
from ketaclinic.scheduling.access import (
    get_appointment_for,
    get_location_for,
    get_patient_to_book,
    refuse_own_override,
    require_booking,
)
from ketaclinic.scheduling.api import _appointment_answer, _conflict, _json, _origin, _require, router
from ketaclinic.scheduling.inputs import AppointmentCheckInIn, MoveIn, WaitlistIn
from ketaclinic.scheduling.models import WaitlistEntry, WaitlistStatus
from ketaclinic.scheduling.schemas import AppointmentOut, ConflictsOut

READ = errors(*ANY_OPERATION, NOT_FOUND)
WRITTEN = errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY)


class FeedOut(Out):
    url: str = Field(
        description="Your private iCalendar feed URL (text/calendar); rotate or revoke it on /schedule/me/"
    )


class WaitlistEntryOut(Out):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: str
    preferred_days: list[int] = Field(description="Local weekdays that suit (Monday = 0); empty: any")
    preferred_from: str | None
    preferred_to: str | None
    status: str = Field(description="waiting, offered, booked or removed")
    added_at: str


WaitlistPage = Page[WaitlistEntryOut]


def _entry_out(e: WaitlistEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "patient_id": e.patient_id,
        "kind": e.kind,
        "preferred_days": e.preferred_days,
        "preferred_from": e.preferred_from.isoformat() if e.preferred_from else None,
        "preferred_to": e.preferred_to.isoformat() if e.preferred_to else None,
        "status": e.status,
        "added_at": e.added_at.isoformat(),
    }


@router.get("/me/calendar-feed", response={200: FeedOut, **READ}, summary="Your calendar feed's URL")
def calendar_feed(request: HttpRequest) -> Any:
    """The URL of your private iCalendar feed (made on first ask): your shifts and the visits you are on,
    with patients' initials only. Staff who see visits (front desk, nurses, prescribers, therapists)."""
    if not (can(request.user, Perm.SCHEDULE_READ) or can(request.user, Perm.THERAPY_WRITE)):
        deny(request.user, _origin(request), str(Perm.SCHEDULE_READ))
        raise Forbidden
    feed = feeds.do_get_or_make_feed(request.user, origin=_origin(request))
    return _json(FeedOut, {"url": feeds.url_of(feed)})


@router.post(
    "/appointments/{appointment_id}/move",
    response={200: AppointmentOut, 409: ConflictsOut, **WRITTEN},
    summary="Move an appointment",
)
def move(request: HttpRequest, appointment_id: str, body: MoveIn) -> Any:
    """Move a booked visit to `starts_at` (its length kept), in `chair` or its own / the first that suits.
    The same hard rules as booking: a refusal is 409 naming each rule, nothing saved, unless
    `override_reason` is given (audited). Front desk of the location, or the therapist whose own session
    it is (never with `override_reason`: 403)."""
    origin = _origin(request)
    require_booking(request.user, origin=origin)
    appointment = get_appointment_for(
        request.user, appointment_id, Perm.SCHEDULE_BOOK, origin=origin, own=True
    )
    refuse_own_override(request.user, appointment, body.override_reason, origin=origin)
    try:
        done = moves.do_move_appointment(appointment, body, actor=request.user, origin=origin)
    except actions.BookingConflict as exc:
        return _conflict(exc)
    return _appointment_answer(request, done)


@router.post(
    "/appointments/{appointment_id}/check-in",
    response={200: AppointmentOut, **WRITTEN},
    summary="Check a patient in (arrived)",
)
def check_in(request: HttpRequest, appointment_id: str, body: AppointmentCheckInIn) -> Any:
    """The patient has arrived for today's booked visit. Front desk of the location."""
    _require(request, Perm.SCHEDULE_BOOK)
    origin = _origin(request)
    appointment = get_appointment_for(request.user, appointment_id, Perm.SCHEDULE_BOOK, origin=origin)
    done = moves.do_check_in(appointment, actor=request.user, origin=origin)
    return _appointment_answer(request, done)


@router.post(
    "/waitlist", response={201: WaitlistEntryOut, **WRITTEN}, summary="Add a patient to the waitlist"
)
def add_to_waitlist(request: HttpRequest, body: WaitlistIn) -> Any:
    """The patient waits for a visit of `kind` at their location; freed slots are offered in order, with a
    timed hold (policy waitlist_hold_minutes). Front desk of the location."""
    _require(request, Perm.SCHEDULE_BOOK)
    origin = _origin(request)
    patient = get_patient_to_book(request.user, body.patient_id, origin=origin)
    entry = waitlist.do_add_to_waitlist(patient, body, actor=request.user, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=entry, patient=patient)
    return _json(WaitlistEntryOut, _entry_out(entry), 201)


@router.get("/waitlist", response={200: WaitlistPage, **READ}, summary="A location's waitlist, in order")
def list_waitlist(
    request: HttpRequest,
    location_id: int | None = None,
    limit: Limit = PAGE_LIMIT_DEFAULT,
    offset: Offset = 0,
) -> Any:
    """Entries still waiting or holding an offer, first added first. Readers of the calendar."""
    _require(request, Perm.SCHEDULE_READ)
    origin = _origin(request)
    location = get_location_for(request.user, location_id, Perm.SCHEDULE_READ, origin=origin)
    rows = WaitlistEntry.objects.filter(
        location=location, status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED]
    ).order_by("added_at")
    record(Action.PATIENT_LIST, actor=request.user, origin=origin, obj=location, location_id=location.pk)
    return {
        "count": rows.count(),
        "limit": limit,
        "offset": offset,
        "items": [_entry_out(e) for e in rows[offset : offset + limit]],
    }


# --- Capacity -----------------------------------------------------------------------------------------------


# How far from today the capacity view may start (past or future): beyond it the answer means nothing.
CAPACITY_REACH_DAYS = 366


def _within_reach(value: dt.date | None) -> dt.date | None:
    if value is not None and abs((value - timezone.now().date()).days) > CAPACITY_REACH_DAYS:
        raise ValueError("must be within a year of today")
    return value


class CapacityQuery(BaseModel):
    start: Annotated[Day | None, AfterValidator(_within_reach)] = Field(
        default=None, description="The first local day, YYYY-MM-DD, within a year of today (default: today)"
    )
    location_id: int | None = Field(
        default=None, description="Default: your first location with the calendar"
    )


class CapacityDayOut(Out):
    date: dt.date
    closed: bool
    chair_open_minutes: int = Field(description="Open minutes of the day times the infusion chairs in use")
    chair_booked_minutes: int = Field(description="Minutes of dosing visits booked in those chairs")
    chair_use_percent: int | None = Field(description="Booked over open; null when closed or no chairs")
    nurse_capacity_minutes: int = Field(
        description="Patient-minutes of monitoring the nurses on duty cover (the ratio x nurse minutes)"
    )
    nurse_used_minutes: int = Field(description="Patient-minutes of dosing visits booked")
    nurse_use_percent: int | None = Field(description="Used over capacity; null with no nurse on duty")
    free_visits: dict[str, int] = Field(
        description="Per dosing kind the location offers: further visits every hard rule would allow that day"
    )


class StartsOnOut(Out):
    date: dt.date
    count: int


class ModalityCapacityOut(Out):
    kind: str = Field(description="esketamine_nasal or iv_ketamine")
    protocol: str = Field(description="The protocol whose induction is counted (its id)")
    sessions: int = Field(description="Visits of one induction course")
    weeks: int = Field(description="Weeks of one induction course")
    visit_minutes: int = Field(description="The clinic's length of one visit of the kind")
    induction_starts: int = Field(description="Induction courses that could start in the horizon")
    starts_by_day: list[StartsOnOut]


class CapacityOut(Out):
    location_id: int
    start: dt.date
    days: int = Field(description="The horizon: 28 days")
    per_day: list[CapacityDayOut]
    induction_starts: list[ModalityCapacityOut] = Field(
        description="Per dosing modality the location offers, each counted on its own (they share chairs "
        "and nurses: alternatives, not a sum)"
    )


@router.get(
    "/schedule/capacity",
    response={200: CapacityOut, **READ},
    summary="Chair and nurse use per day, and induction starts per modality",
)
def capacity(request: HttpRequest, query: Query[CapacityQuery]) -> Any:
    """For the 28 days from `start`: each day's chair and nurse use, the visits of each dosing modality
    still free, and how many induction courses of each modality the location offers could start (the
    method: docs/scheduling-calendars.md). Counts only, no patient. Readers of the calendar."""
    _require(request, Perm.SCHEDULE_READ)
    location = get_location_for(request.user, query.location_id, Perm.SCHEDULE_READ, origin=_origin(request))
    first = query.start or local_today(location)
    found = calendars.capacity(location, first)
    return _json(
        CapacityOut,
        {
            "location_id": location.pk,
            "start": first,
            "days": found.horizon_days,
            "per_day": [
                {
                    "date": d.day,
                    "closed": d.closed,
                    "chair_open_minutes": d.chair_open_minutes,
                    "chair_booked_minutes": d.chair_booked_minutes,
                    "chair_use_percent": d.chair_percent,
                    "nurse_capacity_minutes": d.nurse_capacity_minutes,
                    "nurse_used_minutes": d.nurse_used_minutes,
                    "nurse_use_percent": d.nurse_percent,
                    "free_visits": d.free_visits,
                }
                for d in found.days
            ],
            "induction_starts": [
                {
                    "kind": m.kind.value,
                    "protocol": m.induction.protocol,
                    "sessions": m.induction.sessions,
                    "weeks": m.induction.weeks,
                    "visit_minutes": m.visit_minutes,
                    "induction_starts": m.induction_starts,
                    "starts_by_day": [{"date": day, "count": n} for day, n in m.starts_by_day],
                }
                for m in found.modalities
            ],
        },
    )
