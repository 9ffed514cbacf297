"""The only code that writes the calendar: each do_* function runs in one transaction, takes the acting user
keyword-only and leaves one audit row.

Bookings at a location are serialised on the location's row (`select_for_update`), so two desks booking the
last chair at once cannot both succeed: the second sees the first's appointment when its rules run.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinical.scheduling import Refusal, VisitKind, duration_minutes, is_late_cancellation
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import InvalidInput, VersionConflict
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import queries
from ketaclinic.scheduling.inputs import AppointmentIn, ClosureIn, CourseBookingIn, OpeningIn, ShiftIn
from ketaclinic.scheduling.models import (
    HOLDING,
    Appointment,
    AppointmentStatus,
    Closure,
    OpeningHours,
    Shift,
    ShiftKind,
)
from ketaclinic.scheduling.rules import SUITABLE, Resources, Visit, check_new
from ketaclinic.treatment.models import PlanStatus, SessionStatus, TreatmentPlan, TreatmentSession

# When a course's visit cannot keep its slot, the other times of its day tried, in steps of this.
SLOT_STEP = dt.timedelta(minutes=15)


class BookingConflict(Exception):
    """Hard rules refuse the booking and no override reason was given (409 naming each rule)."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals = list(refusals)
        super().__init__("; ".join(f"{r.rule_id}: {r.message}" for r in refusals))


def conflicts_out(refusals: Iterable[Refusal]) -> list[dict[str, str]]:
    return [{"rule_id": r.rule_id, "message": r.message} for r in refusals]


def _lock(location_id: int) -> ClinicLocation:
    return ClinicLocation.objects.select_for_update().get(pk=location_id)


def _chairs_to_try(location: ClinicLocation, kind: VisitKind) -> list[int]:
    return list(
        Chair.objects.filter(location=location, active=True, kind__in=SUITABLE[kind])
        .order_by("name")
        .values_list("pk", flat=True)
    )


def _visit(
    patient: Patient,
    kind: VisitKind,
    start: dt.datetime,
    minutes: int,
    chair: int | None,
    session: TreatmentSession | None,
    clinician: Any = None,
) -> Visit:
    return Visit(
        id=str(uuid.uuid4()),
        patient=str(patient.pk),
        location=patient.location_id,
        chair=chair,
        kind=kind,
        starts_at=start.astimezone(dt.UTC),
        ends_at=start.astimezone(dt.UTC) + dt.timedelta(minutes=minutes),
        plan=str(session.plan_id) if session is not None else None,
        protocol=session.plan.protocol if session is not None else None,
        session_number=session.number if session is not None else None,
        clinician=str(clinician) if clinician is not None else None,
    )


def _first_fit(
    patient: Patient,
    kind: VisitKind,
    start: dt.datetime,
    minutes: int,
    chairs: Sequence[int | None],
    session: TreatmentSession | None,
    kept: Sequence[Visit],
    resources: Resources,
    now: dt.datetime,
    clinician: Any = None,
) -> tuple[Visit, list[Refusal]]:
    """The visit in the first chair every rule allows; otherwise in the first chair with what refuses it."""
    tried: list[tuple[Visit, list[Refusal]]] = []
    for chair in chairs or [None]:
        visit = _visit(patient, kind, start, minutes, chair, session, clinician)
        refusals = check_new(visit, kept, resources, now=now)
        if not refusals:
            return visit, []
        tried.append((visit, refusals))
    return min(tried, key=lambda t: len(t[1]))  # the chair with least against it (the first of equals)


def _session_already_booked(session: TreatmentSession) -> bool:
    return Appointment.objects.filter(session=session, status__in=HOLDING).exists()


def _save(
    visit: Visit,
    patient: Patient,
    *,
    actor: Any,
    session: TreatmentSession | None,
    refusals: Sequence[Refusal] = (),
    override_reason: str = "",
    clinician: Any = None,
) -> Appointment:
    now = timezone.now()
    assert visit.chair is not None
    return Appointment.objects.create(
        id=uuid.UUID(visit.id),
        patient=patient,
        location_id=visit.location,
        chair_id=visit.chair,
        kind=visit.kind.value,
        status=AppointmentStatus.BOOKED,
        starts_at=visit.starts_at,
        ends_at=visit.ends_at,
        session=session,
        overridden_rules=sorted({r.rule_id for r in refusals}),
        override_reason=override_reason if refusals else "",
        created_at=now,
        created_by=actor,
        updated_at=now,
        clinician=clinician,
    )


@transaction.atomic
def do_book_appointment(
    patient: Patient,
    data: AppointmentIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    session: TreatmentSession | None = None,
    clinician: Any = None,
) -> Appointment:
    """Book one visit for the patient at their location. Refused (BookingConflict, nothing saved) when a
    hard rule forbids it, unless `override_reason` is given: then it is booked, keeping the rules it broke,
    and audited as an override naming them. With `clinician` (a therapist's own session, the access getter's
    answer; else `data.clinician_id`, checked to be a therapist of the location) the visit is with them, and
    their other visits count (SCHED-CLINICIAN-OVERLAP)."""
    location = _lock(patient.location_id)
    kind = VisitKind(data.kind)
    if clinician is None and data.clinician_id is not None:
        from ketaclinic.scheduling.access import (
            therapist_of,  # a check of the staff member, not a read of PHI
        )

        clinician = therapist_of(location, kind, data.clinician_id)
    elif clinician is not None and data.clinician_id not in (None, clinician.pk):
        raise InvalidInput({"clinician_id": "the visit is booked with the therapist booking it"})
    if session is not None:
        if session.plan.modality != kind.value:
            raise InvalidInput({"kind": f"the session is a {session.plan.modality} session"})
        if session.plan.status != PlanStatus.ACTIVE:
            raise InvalidInput({"session_id": "the session's plan is not approved, or is paused or ended"})
        if session.status != SessionStatus.SCHEDULED:
            raise InvalidInput({"session_id": "the session is not waiting to be scheduled"})
        if _session_already_booked(session):
            raise InvalidInput({"session_id": "the session already has an appointment; cancel it first"})
    minutes = duration_minutes(kind, policy_for(location))
    start = data.starts_at.astimezone(dt.UTC)
    end = start + dt.timedelta(minutes=minutes)
    extra = [data.chair] if data.chair is not None else []
    resources = queries.resources(location, start, end, patients=[patient.pk], chairs=extra)
    if data.chair is not None and data.chair not in resources.chairs:
        raise InvalidInput({"chair": "no such chair or room"})
    plans = [session.plan_id] if session is not None else []
    staff = [clinician.pk] if clinician is not None else []
    kept = queries.kept_visits(location, start, end, patients=[patient.pk], plans=plans, clinicians=staff)
    chairs: list[int | None] = [data.chair] if data.chair is not None else [*_chairs_to_try(location, kind)]
    visit, refusals = _first_fit(
        patient, kind, start, minutes, chairs, session, kept, resources, timezone.now(), *staff
    )
    if refusals and not data.override_reason:
        raise BookingConflict(refusals)
    if visit.chair is None:
        raise InvalidInput({"chair": "the location has no chair or room for this kind of visit"})
    appointment = _save(
        visit,
        patient,
        actor=actor,
        session=session,
        refusals=refusals,
        override_reason=data.override_reason,
        clinician=clinician,
    )
    action = Action.APPOINTMENT_OVERRIDE if refusals else Action.APPOINTMENT_BOOK
    changed = [*(appointment.overridden_rules if refusals else ()), *(["clinician"] if clinician else [])]
    record(action, actor=actor, origin=origin, obj=appointment, patient=patient, changed_fields=changed)
    return appointment


@dataclass(frozen=True, slots=True)
class Unbooked:
    session: TreatmentSession
    reason: str
    rule_id: str


@dataclass(frozen=True, slots=True)
class CourseResult:
    booked: list[Appointment]
    unbooked: list[Unbooked]


def _course_sessions(plan: TreatmentPlan) -> list[TreatmentSession]:
    booked = set(
        Appointment.objects.filter(session__plan=plan, status__in=HOLDING).values_list(
            "session_id", flat=True
        )
    )
    sessions = plan.sessions.filter(status=SessionStatus.SCHEDULED).order_by("number")
    return [s for s in sessions if s.pk not in booked]


def _day_starts(
    day: dt.date, preferred: dt.time, zone: dt.tzinfo, resources: Resources, location: int
) -> list[dt.datetime]:
    """The preferred local time of `day`, then every later and earlier step of its opening hours."""
    first = dt.datetime.combine(day, preferred, tzinfo=zone)
    times = [first]
    spans = resources.sites[location].opening.get(day.weekday(), ())
    for opens, closes in spans:
        at = dt.datetime.combine(day, opens, tzinfo=zone)
        while at < dt.datetime.combine(day, closes, tzinfo=zone):
            if at != first:
                times.append(at)
            at += SLOT_STEP
    later = sorted(t for t in times[1:] if t > first)
    earlier = sorted((t for t in times[1:] if t < first), reverse=True)
    return [first, *later, *earlier]


@transaction.atomic
def do_book_course(
    plan: TreatmentPlan, data: CourseBookingIn, *, actor: Any, origin: Origin = SYSTEM
) -> CourseResult:
    """Book every session of the plan still to book, each on its own day, checking every one against every
    hard rule and the visits booked before it. A session that cannot be booked is returned with its reason,
    never dropped; nothing is booked against a rule here (an override is a single booking's)."""
    location = _lock(plan.location_id)
    if plan.status != PlanStatus.ACTIVE:
        raise InvalidInput({"plan": "only an approved plan that is not paused or ended has a course to book"})
    patient = plan.patient
    kind = VisitKind(plan.modality)
    sessions = _course_sessions(plan)
    if not sessions:
        raise InvalidInput({"first_starts_at": "every session of the plan is booked already"})
    zone = location_zone(location)
    first_local = data.first_starts_at.astimezone(zone)
    if first_local.date() != sessions[0].date:
        day = sessions[0].date.isoformat()
        raise InvalidInput({"first_starts_at": f"the first session to book is on {day} (the plan's day)"})
    minutes = duration_minutes(kind, policy_for(location))
    span_start = dt.datetime.combine(sessions[0].date, dt.time.min, tzinfo=zone)
    span_end = dt.datetime.combine(sessions[-1].date, dt.time.max, tzinfo=zone)
    resources = queries.resources(location, span_start, span_end, patients=[patient.pk])
    kept = queries.kept_visits(location, span_start, span_end, patients=[patient.pk], plans=[plan.pk])
    chairs = _chairs_to_try(location, kind)
    now = timezone.now()
    booked: list[Appointment] = []
    unbooked: list[Unbooked] = []
    slot_chair: int | None = None
    for session in sessions:
        session.plan = plan
        order: list[int | None] = list(chairs)
        if data.same_slot and slot_chair is not None:
            order = [slot_chair, *[c for c in chairs if c != slot_chair]]
        starts = (
            [dt.datetime.combine(session.date, first_local.time(), tzinfo=zone)]
            if data.same_slot
            else _day_starts(session.date, first_local.time(), zone, resources, location.pk)
        )
        found: tuple[Visit, list[Refusal]] | None = None
        for start in starts:
            visit, refusals = _first_fit(patient, kind, start, minutes, order, session, kept, resources, now)
            if found is None or not refusals:
                found = (visit, refusals)
            if not refusals:
                break
        assert found is not None
        visit, refusals = found
        if refusals or visit.chair is None:
            first = (
                refusals[0] if refusals else Refusal("SCHED-CHAIR-KIND", "no chair or room suits the visit")
            )
            unbooked.append(Unbooked(session, first.message, first.rule_id))
            continue
        appointment = _save(visit, patient, actor=actor, session=session)
        booked.append(appointment)
        kept.append(visit)
        slot_chair = slot_chair or visit.chair
    record(
        Action.COURSE_BOOK,
        actor=actor,
        origin=origin,
        obj=plan,
        patient=patient,
        changed_fields=[f"booked:{len(booked)}", f"unbooked:{len(unbooked)}"],
    )
    return CourseResult(booked, unbooked)


def locked(appointment: Appointment, expected_version: int | None) -> Appointment:
    """The appointment row locked for a change (cancel, no-show, move, check-in), at the version expected."""
    row = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("session__plan")
        .get(pk=appointment.pk)
    )
    if expected_version is not None and row.version != expected_version:
        raise VersionConflict(row.version)
    row.patient = appointment.patient
    return row


@transaction.atomic
def do_cancel_appointment(
    appointment: Appointment,
    reason: str,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int | None = None,
) -> Appointment:
    """Cancel a booked (or arrived) visit with a reason; its chair and the patient's time are freed."""
    row = locked(appointment, expected_version)
    if row.status not in (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.PROPOSED):
        raise InvalidInput(
            {"status": f"a {row.get_status_display().lower()} appointment cannot be cancelled"}
        )
    from ketaclinic.scheduling import waitlist  # they build on this module

    now = timezone.now()
    row.status, row.cancel_reason = AppointmentStatus.CANCELLED, reason
    row.late_cancel = is_late_cancellation(row.starts_at, now, policy_for(row.patient.location))
    row.version += 1
    row.updated_at = now
    row.save(update_fields=["status", "cancel_reason", "late_cancel", "version", "updated_at"])
    changed = ["late_cancel"] if row.late_cancel else []
    record(
        Action.APPOINTMENT_CANCEL,
        actor=actor,
        origin=origin,
        obj=row,
        patient=row.patient,
        changed_fields=changed,
    )
    waitlist.offer_freed(row, now=now, origin=origin)  # the freed slot goes to the waitlist, in order
    return row


@transaction.atomic
def do_mark_no_show(
    appointment: Appointment, *, actor: Any, origin: Origin = SYSTEM, expected_version: int | None = None
) -> Appointment:
    """Record that the patient did not come to a booked visit that has started."""
    row = locked(appointment, expected_version)
    if row.status != AppointmentStatus.BOOKED:
        raise InvalidInput({"status": "only a booked appointment can be marked a no-show"})
    if row.starts_at > timezone.now():
        raise InvalidInput({"status": "the appointment has not started yet"})
    row.status = AppointmentStatus.NOSHOW
    row.version += 1
    row.updated_at = timezone.now()
    row.save(update_fields=["status", "version", "updated_at"])
    record(Action.APPOINTMENT_NO_SHOW, actor=actor, origin=origin, obj=row, patient=row.patient)
    return row


# --- Resources: opening hours, closures, shifts (clinic admins; not PHI) -----------------------------------


def _resources_event(location: ClinicLocation, actor: Any, origin: Origin, obj: Any, what: str) -> None:
    record(
        Action.SCHEDULE_RESOURCES,
        actor=actor,
        origin=origin,
        obj=obj,
        location_id=location.pk,
        changed_fields=[what],
    )


@transaction.atomic
def do_add_opening(
    location: ClinicLocation, data: OpeningIn, *, actor: Any, origin: Origin = SYSTEM
) -> OpeningHours:
    for opens, closes in OpeningHours.objects.filter(location=location, weekday=data.weekday).values_list(
        "opens", "closes"
    ):
        if data.opens < closes and opens < data.closes:
            raise InvalidInput({"opens": "overlaps opening hours already set for that day"})
    row = OpeningHours.objects.create(
        location=location, weekday=data.weekday, opens=data.opens, closes=data.closes
    )
    _resources_event(location, actor, origin, row, "opening_hours")
    return row


@transaction.atomic
def do_remove_opening(row: OpeningHours, *, actor: Any, origin: Origin = SYSTEM) -> None:
    location = row.location
    _resources_event(location, actor, origin, row, "opening_hours_removed")
    row.delete()


@transaction.atomic
def do_add_closure(
    location: ClinicLocation, data: ClosureIn, *, actor: Any, origin: Origin = SYSTEM
) -> Closure:
    if Closure.objects.filter(location=location, date=data.date).exists():
        raise InvalidInput({"date": "the location is closed that day already"})
    row = Closure.objects.create(location=location, date=data.date, reason=data.reason)
    _resources_event(location, actor, origin, row, "closure")
    return row


@transaction.atomic
def do_remove_closure(row: Closure, *, actor: Any, origin: Origin = SYSTEM) -> None:
    _resources_event(row.location, actor, origin, row, "closure_removed")
    row.delete()


def _shift_staff(location: ClinicLocation, data: ShiftIn) -> Any:
    from ketaclinic.accounts.models import Membership, User

    staff = User.objects.filter(pk=data.staff_id, network_id=location.network_id).first()
    roles = set(Membership.objects.filter(user=staff, location=location).values_list("role", flat=True))
    if staff is None or not roles:
        raise InvalidInput({"staff_id": "not a staff member of this location"})
    if data.kind == ShiftKind.PRESCRIBER and "prescriber" not in roles:
        raise InvalidInput({"staff_id": "a prescriber-present window needs a prescriber of this location"})
    if data.kind == ShiftKind.NURSE and "nurse" not in roles:
        raise InvalidInput({"staff_id": "a nurse shift needs a nurse of this location"})
    return staff


@transaction.atomic
def do_add_shifts(
    location: ClinicLocation, rows: Sequence[ShiftIn], *, actor: Any, origin: Origin = SYSTEM
) -> list[Shift]:
    """A roster: nurse shifts and prescriber-present windows at the location, one audit row for all."""
    staff: dict[tuple[int, str], Any] = {}
    for data in rows:
        if (data.staff_id, data.kind) not in staff:
            staff[(data.staff_id, data.kind)] = _shift_staff(location, data)
    made = Shift.objects.bulk_create(
        Shift(
            location=location,
            staff=staff[(data.staff_id, data.kind)],
            kind=data.kind,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
        )
        for data in rows
    )
    kinds = sorted({f"shift:{data.kind}" for data in rows})
    record(
        Action.SCHEDULE_RESOURCES,
        actor=actor,
        origin=origin,
        obj=location,
        location_id=location.pk,
        changed_fields=kinds,
    )
    return made


def do_add_shift(location: ClinicLocation, data: ShiftIn, *, actor: Any, origin: Origin = SYSTEM) -> Shift:
    return do_add_shifts(location, [data], actor=actor, origin=origin)[0]


@transaction.atomic
def do_remove_shift(row: Shift, *, actor: Any, origin: Origin = SYSTEM) -> None:
    _resources_event(row.location, actor, origin, row, "shift_removed")
    row.delete()
