"""The calendar's pages: a location's day or week by chair with the booking form and what refuses a booking,
a plan's course booking, and the resources of a location (opening hours, closures, shifts).

Every page that shows patients writes its read event (the calendar a list event for the location, the
course page a read of the plan's patient).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action
from ketaclinic.clinical.scheduling import KIND_LABELS
from ketaclinic.clinicpolicy.clock import local_today, location_zone
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.errors import Forbidden, InvalidInput, NotFound, errors_by_field
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import actions, queries
from ketaclinic.scheduling.access import (
    get_appointment_for,
    get_location_for,
    get_patient_to_book,
    locations_with,
)
from ketaclinic.scheduling.inputs import (
    AppointmentIn,
    CancelIn,
    ClosureIn,
    CourseBookingIn,
    OpeningIn,
    ShiftIn,
)
from ketaclinic.scheduling.models import (
    HOLDING,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Closure,
    OpeningHours,
    Shift,
    ShiftKind,
)
from ketaclinic.scheduling.notes import notes_for
from ketaclinic.scheduling.rules import HOUSE_RULES
from ketaclinic.treatment.access import get_plan_for
from ketaclinic.web.errors import not_found
from ketaclinic.web.shortcuts import View, forbidden, form_errors, requires, web_origin

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STATUS_TONE = {
    AppointmentStatus.BOOKED: "",
    AppointmentStatus.ARRIVED: "ok",
    AppointmentStatus.FULFILLED: "ok",
    AppointmentStatus.CANCELLED: "muted",
    AppointmentStatus.NOSHOW: "warn",
    AppointmentStatus.PROPOSED: "muted",
    AppointmentStatus.WAITLIST: "muted",
}
BOOK_LABELS = {
    "patient_mrn": "Patient MRN",
    "kind": "Kind",
    "date": "Date",
    "time": "Time",
    "chair": "Chair or room",
    "override_reason": "Override reason",
}


def requires_one_of(*perms: Perm) -> Callable[[View], View]:
    """Log in first; then the user must hold one of `perms` at some location, else 403 (audited, naming the
    first). The access getter then decides per record."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(can(request.user, p) for p in perms):
                deny(request.user, web_origin(request), str(perms[0]))
                return forbidden(request)
            try:
                response: HttpResponse = view(request, *args, **kwargs)
            except NotFound:
                return not_found(request)
            except Forbidden:
                return forbidden(request)
            return response

        return wrapped

    return decorate


def _day(raw: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _local_moment(location: ClinicLocation, date: str, time: str) -> str:
    """The form's local date and time at the location, as the ISO moment the input model takes."""
    try:
        moment = dt.datetime.combine(dt.date.fromisoformat(date), dt.time.fromisoformat(time))
    except ValueError:
        return ""
    return moment.replace(tzinfo=location_zone(location)).isoformat()


def booking_input(
    location: ClinicLocation, patient: Any, form: dict[str, str], **extra: Any
) -> AppointmentIn:
    """A booking form's fields (date and time local to the location, the chair's id) as the API's input;
    `extra` adds the fields only one form has. Raises pydantic's ValidationError as the model does."""
    return AppointmentIn.model_validate(
        {
            "patient_id": str(patient.pk),
            "kind": form["kind"],
            "starts_at": _local_moment(location, form["date"], form["time"]) or form["date"],
            "chair": int(form["chair"]) if form["chair"].isdigit() else None,
            **extra,
        }
    )


def _days(location: ClinicLocation, first: dt.date, count: int) -> list[dict[str, Any]]:
    rows = queries.schedule(location, first, count)
    zone = location_zone(location)
    chairs = list(Chair.objects.filter(location=location, active=True).order_by("name"))
    closed = dict(
        Closure.objects.filter(
            location=location, date__gte=first, date__lt=first + dt.timedelta(days=count)
        ).values_list("date", "reason")
    )
    out = []
    for offset in range(count):
        day = first + dt.timedelta(days=offset)
        todays = [a for a in rows if a.starts_at.astimezone(zone).date() == day]
        by_chair = [
            {"chair": c, "appointments": [a for a in todays if a.chair_id == c.pk]}
            for c in chairs
            if view_all_chairs(count) or any(a.chair_id == c.pk for a in todays)
        ]
        out.append({"date": day, "closed": closed.get(day), "chairs": by_chair, "count": len(todays)})
    return out


def view_all_chairs(days: int) -> bool:
    """A day shows every chair (empty ones too); a week only the chairs in use each day."""
    return days == 1


def _calendar(
    request: HttpRequest,
    location: ClinicLocation,
    *,
    first: dt.date | None = None,
    days: int = 1,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    conflicts: list[dict[str, str]] | None = None,
    values: Mapping[str, str] | None = None,
) -> HttpResponse:
    first = first or local_today(location)
    record(
        Action.PATIENT_LIST,
        actor=request.user,
        origin=web_origin(request),
        obj=location,
        location_id=location.pk,
    )
    context = {
        "location": location,
        "locations": locations_with(request.user, Perm.SCHEDULE_READ),
        "first": first,
        "days": days,
        "previous": first - dt.timedelta(days=days),
        "next": first + dt.timedelta(days=days),
        "schedule": _days(location, first, days),
        "tz": location_zone(location),
        "tone": STATUS_TONE,
        "kinds": AppointmentKind.choices,
        "kind_labels": KIND_LABELS,
        "chairs": [
            (c.pk, c.name) for c in Chair.objects.filter(location=location, active=True).order_by("name")
        ],
        "may_book": can(request.user, Perm.SCHEDULE_BOOK, location.pk),
        "errors": dict(errors or {}),
        "conflicts": conflicts or [],
        "values": dict(values or {"date": first.isoformat(), "time": "10:00"}),
        "labels": BOOK_LABELS,
        "holding": HOLDING,
        "notices": list(messages.get_messages(request)),
        "weekdays": WEEKDAYS,
    }
    from ketaclinic.scheduling import calendars  # the grid, conflicts and flags (items 5-6)

    context.update(calendars.page_extras(location, _days_of(context), timezone.now()))
    return render(request, "scheduling/calendar.html", context, status=status)


@requires(Perm.SCHEDULE_READ)
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """A location's day (`days=1`) or week (`days=7`) from `start`, by chair."""
    location = get_location_for(
        request.user, request.GET.get("location"), Perm.SCHEDULE_READ, origin=web_origin(request)
    )
    days = 7 if request.GET.get("days") == "7" else 1
    first = _day(request.GET.get("start"), local_today(location))
    return _calendar(request, location, first=first, days=days)


def _book_form(request: HttpRequest, location: ClinicLocation) -> dict[str, str]:
    keys = ("patient_mrn", "kind", "date", "time", "chair", "override_reason")
    return {k: request.POST.get(k, "").strip() for k in keys}


@requires(Perm.SCHEDULE_BOOK)
@require_POST
def book(request: HttpRequest) -> HttpResponse:
    """Book one visit from the calendar's form; refusals are shown with their rules, and the form keeps what
    was typed so an override reason can be added."""
    origin = web_origin(request)
    location = get_location_for(request.user, request.POST.get("location"), Perm.SCHEDULE_BOOK, origin=origin)
    form = _book_form(request, location)
    first = _day(form["date"], local_today(location))
    patient = Patient.objects.filter(location=location, mrn__iexact=form["patient_mrn"]).first()
    if patient is None:
        errors = {"patient_mrn": "No patient with this MRN at " + location.name}
        return _calendar(request, location, first=first, status=422, errors=errors, values=form)
    patient = get_patient_to_book(request.user, patient.pk, origin=origin)
    try:
        data = booking_input(location, patient, form, override_reason=form["override_reason"])
        appointment = actions.do_book_appointment(patient, data, actor=request.user, origin=origin)
    except ValidationError as exc:
        errors = form_errors(errors_by_field(exc.errors()))
        errors = {("date" if k == "starts_at" else k): v for k, v in errors.items()}
        return _calendar(request, location, first=first, status=422, errors=errors, values=form)
    except InvalidInput as exc:
        return _calendar(
            request, location, first=first, status=422, errors=form_errors(exc.errors), values=form
        )
    except actions.BookingConflict as exc:
        conflicts = actions.conflicts_out(exc.refusals)
        return _calendar(request, location, first=first, status=409, conflicts=conflicts, values=form)
    note = " against the rules shown, with your reason" if appointment.overridden_rules else ""
    messages.success(request, f"Booked {appointment.get_kind_display().lower()}{note}.")
    return redirect(f"{reverse('scheduling:calendar')}?location={location.pk}&start={first.isoformat()}")


def _back(appointment: Appointment, user: Any = None) -> HttpResponse:
    location = appointment.patient.location
    day = appointment.starts_at.astimezone(location_zone(location)).date()
    if user is not None and not can(user, Perm.SCHEDULE_READ, location.pk):  # a therapist: their calendar
        return redirect(f"{reverse('scheduling:my_calendar')}?start={day.isoformat()}")
    return redirect(
        f"{reverse('scheduling:calendar')}?location={appointment.location_id}&start={day.isoformat()}"
    )


@requires_one_of(Perm.SCHEDULE_BOOK, Perm.SCHEDULE_BOOK_OWN)
@require_POST
def cancel(request: HttpRequest, appointment_id: str) -> HttpResponse:
    """Cancel a visit with a reason: front desk, or the therapist whose own session it is."""
    origin = web_origin(request)
    appointment = get_appointment_for(
        request.user, appointment_id, Perm.SCHEDULE_BOOK, origin=origin, own=True
    )
    try:
        data = CancelIn.model_validate({"reason": request.POST.get("reason", "")})
        actions.do_cancel_appointment(appointment, data.reason, actor=request.user, origin=origin)
    except ValidationError:
        messages.error(request, "Not cancelled: give a reason.")
        return _back(appointment, request.user)
    except InvalidInput as exc:
        messages.error(request, "Not cancelled: " + "; ".join(exc.errors.values()))
        return _back(appointment, request.user)
    messages.success(request, "Appointment cancelled.")
    return _back(appointment, request.user)


@requires(Perm.SCHEDULE_BOOK)
@require_POST
def no_show(request: HttpRequest, appointment_id: str) -> HttpResponse:
    origin = web_origin(request)
    appointment = get_appointment_for(request.user, appointment_id, Perm.SCHEDULE_BOOK, origin=origin)
    try:
        actions.do_mark_no_show(appointment, actor=request.user, origin=origin)
    except InvalidInput as exc:
        messages.error(request, "Not recorded: " + "; ".join(exc.errors.values()))
        return _back(appointment)
    messages.success(request, "No-show recorded.")
    return _back(appointment)


# --- A plan's course -----------------------------------------------------------------------------------


def _course_page(
    request: HttpRequest,
    plan: Any,
    *,
    status: int = 200,
    result: actions.CourseResult | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> HttpResponse:
    zone = location_zone(plan.location)
    sessions = list(plan.sessions.order_by("number"))
    booked = {
        a.session_id: a
        for a in Appointment.objects.filter(session__plan=plan, status__in=HOLDING).select_related("chair")
    }
    unbooked = {u.session.pk: u for u in (result.unbooked if result else [])}
    first_open = next((s for s in sessions if s.status == "scheduled" and s.pk not in booked), None)
    record(
        Action.PATIENT_READ, actor=request.user, origin=web_origin(request), obj=plan, patient=plan.patient
    )
    context = {
        "plan": plan,
        "patient": plan.patient,
        "location": plan.location,
        "sessions": sessions,
        "booked": booked,
        "unbooked": unbooked,
        "result": result,
        "tz": zone,
        "may_book": can(request.user, Perm.SCHEDULE_BOOK, plan.location_id),
        # Before booking, what the areas above say of each session still to book (billing: beyond the prior
        # authorisation on record); shown to whoever books, as the booking's answer is.
        "notes": {s.pk: notes_for(s) for s in sessions if s.status == "scheduled" and s.pk not in booked}
        if can(request.user, Perm.SCHEDULE_BOOK, plan.location_id)
        else {},
        "errors": dict(errors or {}),
        "values": dict(
            values
            or {"date": first_open.date.isoformat() if first_open else "", "time": "10:00", "same_slot": "on"}
        ),
        "labels": {"date": "First visit's date", "time": "Time", "first_starts_at": "First visit"},
        "first_open": first_open,
    }
    return render(request, "scheduling/course.html", context, status=status)


@requires(Perm.SCHEDULE_READ)
@require_http_methods(["GET", "POST"])
def course(request: HttpRequest, plan_id: str) -> HttpResponse:
    """GET: the plan's sessions and their appointments. POST (front desk): book every session still to book,
    and show which were booked and which not, with the reason."""
    origin = web_origin(request)
    if request.method == "GET":
        plan = get_plan_for(request.user, plan_id, perm=Perm.SCHEDULE_READ, origin=origin)
        return _course_page(request, plan)
    if not can(request.user, Perm.SCHEDULE_BOOK):  # the role books nowhere: refused before any lookup
        deny(request.user, origin, str(Perm.SCHEDULE_BOOK))
        raise Forbidden
    plan = get_plan_for(request.user, plan_id, perm=Perm.SCHEDULE_BOOK, origin=origin)
    form = {k: request.POST.get(k, "").strip() for k in ("date", "time", "same_slot")}
    try:
        data = CourseBookingIn.model_validate(
            {
                "first_starts_at": _local_moment(plan.location, form["date"], form["time"]) or form["date"],
                "same_slot": bool(form["same_slot"]),
            }
        )
        result = actions.do_book_course(plan, data, actor=request.user, origin=origin)
    except ValidationError as exc:
        errors = {
            ("date" if k == "first_starts_at" else k): v for k, v in errors_by_field(exc.errors()).items()
        }
        return _course_page(request, plan, status=422, errors=form_errors(errors), values=form)
    except InvalidInput as exc:
        errors = {("date" if k == "first_starts_at" else k): v for k, v in exc.errors.items()}
        return _course_page(request, plan, status=422, errors=form_errors(errors), values=form)
    return _course_page(request, plan, result=result, values=form)


# --- Resources ---------------------------------------------------------------------------------------------


def _resources_page(
    request: HttpRequest,
    location: ClinicLocation,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> HttpResponse:
    zone = location_zone(location)
    today = local_today(location)
    start = dt.datetime.combine(today, dt.time.min, tzinfo=zone)
    shifts = list(
        Shift.objects.filter(
            location=location, ends_at__gt=start, starts_at__lt=start + dt.timedelta(days=14)
        )
        .select_related("staff")
        .order_by("starts_at", "kind")
    )
    staff = User.objects.filter(memberships__location=location, memberships__role__in=["nurse", "prescriber"])
    context = {
        "location": location,
        "locations": locations_with(request.user, Perm.CLINIC_READ),
        "opening": list(OpeningHours.objects.filter(location=location).order_by("weekday", "opens")),
        "closures": list(Closure.objects.filter(location=location, date__gte=today).order_by("date")),
        "shifts": shifts,
        "tz": zone,
        "weekdays": WEEKDAYS,
        "weekday_choices": list(enumerate(WEEKDAYS)),
        "shift_kinds": ShiftKind.choices,
        "staff": [(u.pk, u.get_full_name() or u.username) for u in staff.distinct().order_by("last_name")],
        "may_change": can(request.user, Perm.CLINIC_MANAGE, location.pk),
        "errors": dict(errors or {}),
        "values": dict(values or {}),
        "notices": list(messages.get_messages(request)),
        "house_rules": HOUSE_RULES,
    }
    return render(request, "scheduling/resources.html", context, status=status)


@requires(Perm.CLINIC_READ)
@require_GET
def resources(request: HttpRequest, location_id: int) -> HttpResponse:
    location = get_location_for(request.user, location_id, Perm.CLINIC_READ, origin=web_origin(request))
    return _resources_page(request, location)


def _resource_input(what: str, post: Mapping[str, str], location: ClinicLocation) -> Any:
    if what == "opening":
        return OpeningIn.model_validate(
            {
                "weekday": int(post.get("weekday", "-1") or -1),
                "opens": post.get("opens"),
                "closes": post.get("closes"),
            }
        )
    if what == "closure":
        return ClosureIn.model_validate({"date": post.get("date"), "reason": post.get("reason", "")})
    day = post.get("shift_date", "")
    staff = post.get("staff_id", "")
    return ShiftIn.model_validate(
        {
            "staff_id": int(staff) if staff.isdigit() else 0,
            "kind": post.get("kind"),
            "starts_at": _local_moment(location, day, post.get("starts", "")) or day,
            "ends_at": _local_moment(location, day, post.get("ends", "")) or day,
        }
    )


@requires(Perm.CLINIC_MANAGE)
@require_POST
def add_resource(request: HttpRequest, location_id: int, what: str) -> HttpResponse:
    """Add opening hours, a closure or a shift (clinic admins of the location)."""
    origin = web_origin(request)
    location = get_location_for(request.user, location_id, Perm.CLINIC_MANAGE, origin=origin)
    if what not in ("opening", "closure", "shift"):
        raise NotFound
    typed = {k: request.POST.get(k, "").strip() for k in request.POST if k != "csrfmiddlewaretoken"}
    post = {k.removeprefix(f"{what}-"): v for k, v in typed.items()}
    try:
        data = _resource_input(what, post, location)
        if what == "opening":
            actions.do_add_opening(location, data, actor=request.user, origin=origin)
        elif what == "closure":
            actions.do_add_closure(location, data, actor=request.user, origin=origin)
        else:
            actions.do_add_shift(location, data, actor=request.user, origin=origin)
    except ValidationError as exc:
        errors = {f"{what}-{k}": v for k, v in form_errors(errors_by_field(exc.errors())).items()}
        return _resources_page(request, location, status=422, errors=errors, values=typed)
    except InvalidInput as exc:
        errors = {f"{what}-{k}": v for k, v in form_errors(exc.errors).items()}
        return _resources_page(request, location, status=422, errors=errors, values=typed)
    messages.success(
        request,
        {"opening": "Opening hours added.", "closure": "Closure added.", "shift": "Shift added."}[what],
    )
    return redirect("scheduling:resources", location_id=location.pk)


# --- The week's proposals (scheduling/proposals.py) --------------------------------------------------------

from ketaclinic.scheduling import proposals as week_proposals  # noqa: E402
from ketaclinic.scheduling import tasks as scheduling_tasks  # noqa: E402
from ketaclinic.scheduling.models import Proposal, ProposalStatus  # noqa: E402

PROPOSAL_LABELS = {"week_start": "Week starting", "time_limit_seconds": "Time limit (seconds)"}
PROPOSALS_LISTED = 10
# While the task runner solves, the proposal page reloads itself this often (seconds).
PROPOSAL_REFRESH_SECONDS = 2


def _next_monday(location: ClinicLocation) -> dt.date:
    today = local_today(location)
    return today + dt.timedelta(days=7 - today.weekday())


def _proposals_page(
    request: HttpRequest,
    location: ClinicLocation,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
) -> HttpResponse:
    context = {
        "location": location,
        "locations": locations_with(request.user, Perm.SCHEDULE_BOOK),
        "recent": list(Proposal.objects.filter(location=location).order_by("-created_at")[:PROPOSALS_LISTED]),
        "errors": dict(errors or {}),
        "labels": PROPOSAL_LABELS,
        "values": dict(
            values or {"week_start": _next_monday(location).isoformat(), "time_limit_seconds": "10"}
        ),
        "tz": location_zone(location),
    }
    return render(request, "scheduling/proposals.html", context, status=status)


@requires(Perm.SCHEDULE_BOOK)
@require_http_methods(["GET", "POST"])
def proposals(request: HttpRequest) -> HttpResponse:
    """GET: ask for a week's proposal, and the location's recent ones. POST: ask; the task runner solves it
    and the proposal's page shows it. Front desk."""
    origin = web_origin(request)
    source = request.POST if request.method == "POST" else request.GET
    location = get_location_for(request.user, source.get("location"), Perm.SCHEDULE_BOOK, origin=origin)
    if request.method == "GET":
        return _proposals_page(request, location)
    form = {k: request.POST.get(k, "").strip() for k in PROPOSAL_LABELS}
    try:
        seconds: float | str = float(form["time_limit_seconds"]) if form["time_limit_seconds"] else 10.0
    except ValueError:
        seconds = form["time_limit_seconds"]
    try:
        data = week_proposals.ProposalIn.model_validate(
            {"week_start": form["week_start"], "time_limit_seconds": seconds}
        )
        made = week_proposals.do_request_proposal(location, data, actor=request.user, origin=origin)
    except ValidationError as exc:
        return _proposals_page(
            request, location, status=422, errors=form_errors(errors_by_field(exc.errors())), values=form
        )
    except InvalidInput as exc:
        return _proposals_page(request, location, status=422, errors=form_errors(exc.errors), values=form)
    scheduling_tasks.solve_proposal(str(made.pk))
    return redirect("scheduling:proposal", proposal_id=made.pk)


def _proposal_page(request: HttpRequest, found: Proposal, *, notice: str = "") -> HttpResponse:
    rows = week_proposals.visits_of(found)
    record(
        Action.PATIENT_LIST,
        actor=request.user,
        origin=web_origin(request),
        obj=found,
        location_id=found.location_id,
    )
    names = {
        str(p.pk): p
        for p in Patient.objects.filter(pk__in=[u["patient_id"] for u in found.unplaced]).only(
            "family_name", "given_name", "mrn"
        )
    }
    context = {
        "proposal": found,
        "location": found.location,
        "rows": rows,
        "unplaced": [{**u, "patient": names.get(u["patient_id"])} for u in found.unplaced],
        "tz": location_zone(found.location),
        "kind_labels": KIND_LABELS,
        "solving": found.status == ProposalStatus.SOLVING,
        "refresh": PROPOSAL_REFRESH_SECONDS,
        "to_accept": [p for p in rows if p.status == "proposed"],
        "notice": notice,
        "weekdays": WEEKDAYS,
    }
    return render(request, "scheduling/proposal.html", context)


@requires(Perm.SCHEDULE_BOOK)
@require_GET
def proposal(request: HttpRequest, proposal_id: str) -> HttpResponse:
    """A proposal: its status while the task runner solves (the page reloads itself), then the visits it
    adds to the calendar and those it cannot place, with their reasons. Front desk of its location."""
    found = week_proposals.get_proposal_for(request.user, proposal_id, origin=web_origin(request))
    return _proposal_page(request, found)


@requires(Perm.SCHEDULE_BOOK)
@require_POST
def accept_proposal(request: HttpRequest, proposal_id: str) -> HttpResponse:
    """Accept the visits ticked (`visit`), or all still proposed (`all`). Front desk of its location."""
    origin = web_origin(request)
    found = week_proposals.get_proposal_for(request.user, proposal_id, origin=origin)
    ticked = request.POST.getlist("visit")
    try:
        data = week_proposals.AcceptIn.model_validate(
            {} if request.POST.get("all") else {"appointment_ids": ticked or None}
        )
        if data.appointment_ids is None and not request.POST.get("all"):
            raise InvalidInput({"appointment_ids": "tick the visits to accept, or accept all"})
        done = week_proposals.do_accept(found, data, actor=request.user, origin=origin)
    except (ValidationError, InvalidInput) as exc:
        message = (
            next(iter(exc.errors.values()))
            if isinstance(exc, InvalidInput)
            else "one of the visits ticked is not a visit of this proposal"
        )
        response = _proposal_page(request, found, notice=message[0].upper() + message[1:])
        response.status_code = 422
        return response
    return _proposal_page(request, done, notice="accepted")


def _days_of(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    days: list[dict[str, Any]] = context["schedule"]
    return days
