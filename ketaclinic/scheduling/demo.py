"""The demo clinic's calendar: opening hours, a holiday, nurse shifts and prescriber-present windows at both
locations for the weeks its courses run; in the full demo also the nurse monitoring ratio (clinic policy,
which has no default) and every demo plan's course booked, one occurrence falling on the holiday."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.actions import do_change_policy
from ketaclinic.clinicpolicy.clock import local_today, location_zone
from ketaclinic.clinicpolicy.inputs import PolicyChangeIn
from ketaclinic.clinicpolicy.queries import policy_version
from ketaclinic.scheduling import actions
from ketaclinic.scheduling.inputs import ClosureIn, CourseBookingIn, OpeningIn, ShiftIn
from ketaclinic.scheduling.models import ShiftKind
from ketaclinic.treatment.models import PlanStatus, SessionStatus, TreatmentPlan

# (weekdays, opens, closes): north is open every day, south on weekdays and Saturday mornings.
HOURS: dict[str, list[tuple[Sequence[int], dt.time, dt.time]]] = {
    "north": [(range(7), dt.time(8), dt.time(18))],
    "south": [(range(5), dt.time(8), dt.time(18)), ((5,), dt.time(9), dt.time(13))],
}
# Prescriber present: north all day; south all day but Wednesday afternoons (and not on Saturdays).
PRESCRIBER = {
    "north": lambda day: [(dt.time(8), dt.time(18))],
    "south": lambda day: (
        [] if day.weekday() >= 5 else [(dt.time(8), dt.time(18 if day.weekday() != 2 else 13))]
    ),
}
HOLIDAY_AFTER_DAYS = {"north": 7, "south": 14}
RATIO = {"north": 3, "south": 2}
# Resources for the weeks the demo's courses run (esketamine: about twelve weeks).
ROSTER_DAYS = 90
# Courses start at these local times in turn, so the nurse ratio leaves room for each.
COURSE_TIMES = (dt.time(8), dt.time(10, 30), dt.time(13), dt.time(15, 30))


def _admin(location: ClinicLocation) -> User:
    return User.objects.get(username=f"admin.{location.slug}")


def _at(location: ClinicLocation, day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=location_zone(location))


def resources(location: ClinicLocation, today: dt.date) -> None:
    admin = _admin(location)
    for weekdays, opens, closes in HOURS.get(location.slug, []):
        for weekday in weekdays:
            actions.do_add_opening(
                location, OpeningIn(weekday=weekday, opens=opens, closes=closes), actor=admin
            )
    holiday = today + dt.timedelta(days=HOLIDAY_AFTER_DAYS.get(location.slug, 7))
    actions.do_add_closure(location, ClosureIn(date=holiday, reason="Staff training day"), actor=admin)
    nurse = User.objects.get(username=f"nurse.{location.slug}")
    prescriber = User.objects.get(username=f"prescriber.{location.slug}")
    roster: list[ShiftIn] = []
    for offset in range(ROSTER_DAYS):
        day = today + dt.timedelta(days=offset)
        for opens, closes in (
            (o, c) for weekdays, o, c in HOURS.get(location.slug, []) if day.weekday() in weekdays
        ):
            roster.append(
                ShiftIn(
                    staff_id=nurse.pk,
                    kind=ShiftKind.NURSE,
                    starts_at=_at(location, day, opens),
                    ends_at=_at(location, day, closes),
                )
            )
        for opens, closes in PRESCRIBER.get(location.slug, lambda d: [])(day):
            roster.append(
                ShiftIn(
                    staff_id=prescriber.pk,
                    kind=ShiftKind.PRESCRIBER,
                    starts_at=_at(location, day, opens),
                    ends_at=_at(location, day, closes),
                )
            )
    actions.do_add_shifts(location, roster, actor=admin)


def ratio(location: ClinicLocation) -> None:
    data = PolicyChangeIn(
        values={"nurse_monitoring_ratio": RATIO.get(location.slug, 2)},
        reason="Our monitoring ratio: patients in monitoring per nurse on duty",
    )
    do_change_policy(location, data, actor=_admin(location), expected_version=policy_version(location))


def courses(location: ClinicLocation) -> list[actions.CourseResult]:
    """Book every active plan's course on its own days, the same time and chair each visit; the plans start
    at the course times in turn."""
    desk = User.objects.get(username=f"frontdesk.{location.slug}")
    plans = TreatmentPlan.objects.filter(location=location, status=PlanStatus.ACTIVE).select_related(
        "patient"
    )
    results = []
    for index, plan in enumerate(plans.order_by("created_at")):
        first = plan.sessions.filter(status=SessionStatus.SCHEDULED).order_by("number").first()
        if first is None:
            continue
        start = _at(location, first.date, COURSE_TIMES[index % len(COURSE_TIMES)])
        data = CourseBookingIn(first_starts_at=start, same_slot=True)
        results.append(actions.do_book_course(plan, data, actor=desk))
    return results


def load(locations: Iterable[ClinicLocation], *, full: bool) -> None:
    for location in locations:
        resources(location, local_today(location))
        if full:
            ratio(location)
            courses(location)
            calendar_life(location)


# --- Calendars, the waitlist and reminders (items 5-7) ------------------------------------------------------


def calendar_life(location: ClinicLocation) -> None:
    """A day's life on the calendar: two patients on the waitlist, a consultation booked then cancelled
    (its slot offered to the first of them, held), a consultation tomorrow morning the patient has not
    confirmed (flagged to front desk), reminders sent for the next visits and every other one confirmed,
    and today's next visit checked in when there is one."""
    from django.utils import timezone

    from ketaclinic.patients.models import Patient
    from ketaclinic.scheduling import moves, waitlist
    from ketaclinic.scheduling.inputs import AppointmentIn, WaitlistIn
    from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

    desk = User.objects.get(username=f"frontdesk.{location.slug}")
    today = local_today(location)
    busy = set(Appointment.objects.filter(location=location).values_list("patient_id", flat=True))
    free = list(Patient.objects.filter(location=location).exclude(pk__in=busy).order_by("mrn")[:4])
    if len(free) < 4:
        return
    for patient, days in ((free[0], [0, 1, 2, 3, 4]), (free[1], [])):
        data = WaitlistIn(
            patient_id=patient.pk,
            kind=AppointmentKind.CONSULTATION,
            preferred_days=days,
            preferred_from=dt.time(9),
            preferred_to=dt.time(17),
            note="Would like an earlier consultation",
        )
        waitlist.do_add_to_waitlist(patient, data, actor=desk)
    day = today + dt.timedelta(days=2)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    bookings = [
        (free[2], _at(location, day, dt.time(14))),
        (free[3], _at(location, today + dt.timedelta(days=1), dt.time(10))),
    ]
    made: list[Any] = []
    for patient, start in bookings:
        booking = AppointmentIn(patient_id=patient.pk, kind=AppointmentKind.CONSULTATION, starts_at=start)
        try:
            made.append(actions.do_book_appointment(patient, booking, actor=desk))
        except actions.BookingConflict:
            made.append(None)
    if made[0] is not None:
        actions.do_cancel_appointment(made[0], "Patient has to work that day", actor=desk)
    now = timezone.now()
    upcoming = Appointment.objects.filter(
        location=location, status=AppointmentStatus.BOOKED, starts_at__gt=now
    ).order_by("starts_at")[:8]
    for n, visit in enumerate(upcoming):
        if waitlist.do_send_visit_reminder(visit, now=now) and n % 2 and visit != made[1]:
            found = waitlist.confirmation_of_appointment(visit)
            if found is not None:
                waitlist.do_confirm_visit(found, now=now)
    first_today = (
        Appointment.objects.filter(location=location, status=AppointmentStatus.BOOKED, starts_at__gte=now)
        .filter(starts_at__lt=_at(location, today + dt.timedelta(days=1), dt.time(0)))
        .order_by("starts_at")
        .first()
    )
    if first_today is not None:
        moves.do_check_in(first_today, actor=desk)
