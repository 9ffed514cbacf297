"""Pages of calendars, the waitlist and feeds (mounted under /schedule/ by urls.py's appended block):

- an appointment's page: what the rules find wrong with it, its confirmation, and (front desk) moving it
  with the same rules as booking, checking the patient in, cancelling and no-show;
- a staff member's calendar (their shifts and the visits they are on), and the user's own with their feed
  URL to rotate or revoke;
- the capacity view, and the waitlist;
- the public pages of the patient's links: confirming a visit, taking a slot offered from the waitlist,
  and the staff member's iCalendar feed.

Every page showing patients writes its read event; denials are audited by the access getters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from ketaclinic.accounts.access import can, grants
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.clinical.scheduling import VisitKind
from ketaclinic.clinicpolicy.clock import day_bounds, local_today, location_zone
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.errors import Forbidden, InvalidInput, NotFound, errors_by_field
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import actions, calendars, feeds, moves, waitlist
from ketaclinic.scheduling.access import (
    THERAPIST_KINDS,
    booking_clinician,
    get_appointment_for,
    get_location_for,
    get_patient_to_book,
    is_own_session,
    locations_with,
    refuse_own_override,
    require_booking,
)
from ketaclinic.scheduling.inputs import MoveIn, WaitlistIn
from ketaclinic.scheduling.models import (
    HOLDING,
    AppointmentKind,
    Closure,
    OfferStatus,
    SlotOffer,
    VisitConfirmation,
    WaitlistEntry,
    WaitlistStatus,
)
from ketaclinic.scheduling.rules import SUITABLE
from ketaclinic.scheduling.views import (
    STATUS_TONE,
    WEEKDAYS,
    _day,
    _local_moment,
    booking_input,
    requires_one_of,
)
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

MOVE_LABELS = {"date": "Date", "time": "Time", "chair": "Chair or room", "override_reason": "Override reason"}
OWN_LABELS = {
    "patient_mrn": "Patient MRN",
    "kind": "Kind",
    "date": "Date",
    "time": "Time",
    "chair": "Room",
    "clinician_id": "Clinician",
}
WAITLIST_LABELS = {
    "patient_mrn": "Patient MRN",
    "kind": "Kind",
    "preferred_days": "Days that suit",
    "preferred_from": "From",
    "preferred_to": "To",
    "note": "Note",
}


def back_to_calendar(user: Any, location: ClinicLocation, day: dt.date) -> str:
    """The day of the location's calendar for its readers; the user's own calendar for a therapist."""
    if can(user, Perm.SCHEDULE_READ, location.pk):
        return f"{reverse('scheduling:calendar')}?location={location.pk}&start={day.isoformat()}"
    return f"{reverse('scheduling:my_calendar')}?start={day.isoformat()}"


# --- An appointment: conflicts, moving, check-in ------------------------------------------------------------


def _appointment_page(
    request: HttpRequest,
    appointment: Any,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    conflicts: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
) -> HttpResponse:
    location = appointment.patient.location
    zone = location_zone(location)
    now = timezone.now()
    found = calendars.conflicts(location, [appointment]) if appointment.status in HOLDING else {}
    confirmation = VisitConfirmation.objects.filter(appointment=appointment).first()
    local = appointment.starts_at.astimezone(zone)
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=web_origin(request),
        obj=appointment,
        patient=appointment.patient,
    )
    context = {
        "a": appointment,
        "patient": appointment.patient,
        "location": location,
        "tz": zone,
        "tone": STATUS_TONE,
        "rules_now": found.get(appointment.pk, []),
        "confirmation": confirmation,
        "flagged": appointment.pk in waitlist.unconfirmed([appointment], location, now),
        "may_book": can(request.user, Perm.SCHEDULE_BOOK, location.pk),
        # Moving and cancelling: front desk, or the therapist whose own session it is.
        "may_change": can(request.user, Perm.SCHEDULE_BOOK, location.pk)
        or is_own_session(request.user, appointment),
        "is_today": local.date() == local_today(location),
        "started": appointment.starts_at <= now,
        "chairs": [
            (c.pk, c.name)
            for c in Chair.objects.filter(
                location=location, active=True, kind__in=SUITABLE[VisitKind(appointment.kind)]
            ).order_by("name")
        ],
        "errors": errors or {},
        "conflicts": conflicts or [],
        "values": values
        or {
            "date": local.date().isoformat(),
            "time": local.strftime("%H:%M"),
            "chair": str(appointment.chair_id),
        },
        "labels": MOVE_LABELS,
        "notices": list(messages.get_messages(request)),
        "day_link": back_to_calendar(request.user, location, local.date()),
        "may_read_day": can(request.user, Perm.SCHEDULE_READ, location.pk),
    }
    return render(request, "scheduling/appointment.html", context, status=status)


@requires_one_of(Perm.SCHEDULE_READ, Perm.SCHEDULE_BOOK_OWN)
@require_GET
def appointment(request: HttpRequest, appointment_id: str) -> HttpResponse:
    """A visit: readers of the calendar at its location, and the therapist whose own session it is."""
    found = get_appointment_for(
        request.user, appointment_id, Perm.SCHEDULE_READ, origin=web_origin(request), own=True
    )
    return _appointment_page(request, found)


@requires_one_of(Perm.SCHEDULE_BOOK, Perm.SCHEDULE_BOOK_OWN)
@require_POST
def move(request: HttpRequest, appointment_id: str) -> HttpResponse:
    """Move a visit from its page's form; refusals are shown with their rules (an override reason books it
    anyway, audited; front desk only). A therapist moves their own sessions."""
    origin = web_origin(request)
    found = get_appointment_for(request.user, appointment_id, Perm.SCHEDULE_BOOK, origin=origin, own=True)
    location = found.patient.location
    form = {k: request.POST.get(k, "").strip() for k in ("date", "time", "chair", "override_reason")}
    refuse_own_override(request.user, found, form["override_reason"], origin=origin)
    try:
        data = MoveIn.model_validate(
            {
                "starts_at": _local_moment(location, form["date"], form["time"]) or form["date"],
                "chair": int(form["chair"]) if form["chair"].isdigit() else None,
                "override_reason": form["override_reason"],
            }
        )
        moved = moves.do_move_appointment(found, data, actor=request.user, origin=origin)
    except ValidationError as exc:
        errors = form_errors(errors_by_field(exc.errors()))
        errors = {("date" if k == "starts_at" else k): v for k, v in errors.items()}
        return _appointment_page(request, found, status=422, errors=errors, values=form)
    except InvalidInput as exc:
        return _appointment_page(request, found, status=422, errors=form_errors(exc.errors), values=form)
    except actions.BookingConflict as exc:
        refused = actions.conflicts_out(exc.refusals)
        return _appointment_page(request, found, status=409, conflicts=refused, values=form)
    note = (
        " against the rules shown, with your reason"
        if form["override_reason"] and moved.overridden_rules
        else ""
    )
    messages.success(request, f"Visit moved{note}.")
    return redirect("scheduling:appointment", appointment_id=moved.pk)


@requires(Perm.SCHEDULE_BOOK)
@require_POST
def check_in(request: HttpRequest, appointment_id: str) -> HttpResponse:
    origin = web_origin(request)
    found = get_appointment_for(request.user, appointment_id, Perm.SCHEDULE_BOOK, origin=origin)
    try:
        moves.do_check_in(found, actor=request.user, origin=origin)
    except InvalidInput as exc:
        messages.error(request, "Not checked in: " + "; ".join(exc.errors.values()))
        return redirect("scheduling:appointment", appointment_id=found.pk)
    messages.success(request, "Checked in.")
    return redirect("scheduling:appointment", appointment_id=found.pk)


# --- Staff calendars and the user's feed --------------------------------------------------------------------


def _span(request: HttpRequest, location: ClinicLocation) -> tuple[dt.date, int]:
    days = 1 if request.GET.get("days") == "1" else 7
    return _day(request.GET.get("start"), local_today(location)), days


def _staff_page(
    request: HttpRequest,
    staff: Any,
    location: ClinicLocation,
    *,
    mine: bool,
    first_day: dt.date | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    conflicts: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
) -> HttpResponse:
    first, days = _span(request, location)
    first = first_day or first
    start = day_bounds(location, first)[0]
    end = day_bounds(location, first + dt.timedelta(days=days - 1))[1]
    shifts = calendars.staff_shifts(staff, start, end)
    visits = calendars.staff_visits(staff, start, end, shifts)
    zone = location_zone(location)
    dates = [first + dt.timedelta(days=offset) for offset in range(days)]
    chairs = list(Chair.objects.filter(location=location).order_by("name"))
    closed = dict(Closure.objects.filter(location=location, date__in=dates).values_list("date", "reason"))
    schedule = [{"date": day, "closed": closed.get(day)} for day in dates]
    week = calendars.week_grid(location, schedule, visits, chairs, {}, set(), shifts)
    record(
        Action.PATIENT_LIST,
        actor=request.user,
        origin=web_origin(request),
        obj=location,
        location_id=location.pk,
    )
    feed = feeds.live_feed(request.user) if mine else None
    context = {
        "staff": staff,
        "location": location,
        "mine": mine,
        "week": week,
        "span": days,
        "first": first,
        "previous": first - dt.timedelta(days=days),
        "next": first + dt.timedelta(days=days),
        "tz": zone,
        "weekdays": WEEKDAYS,
        "tone": STATUS_TONE,
        "breaks": {},
        "flagged": set(),
        "holding": HOLDING,
        "feed_url": feeds.url_of(feed) if feed is not None else "",
        "notices": list(messages.get_messages(request)),
        "colleagues": _colleagues(request.user, location) if not mine else [],
        # A therapist books their own preparation and integration sessions here.
        "may_book_own": mine and can(request.user, Perm.SCHEDULE_BOOK_OWN, location.pk),
        "own_kinds": [(k, label) for k, label in AppointmentKind.choices if k in THERAPIST_KINDS],
        "rooms": [
            (c.pk, c.name)
            for c in Chair.objects.filter(
                location=location, active=True, kind__in=SUITABLE[VisitKind.PREPARATION]
            ).order_by("name")
        ],
        "errors": errors or {},
        "conflicts": conflicts or [],
        "values": values or {"date": first.isoformat(), "time": "10:00"},
        "labels": OWN_LABELS,
    }
    return render(request, "scheduling/staff.html", context, status=status)


def _colleagues(user: Any, location: ClinicLocation) -> list[Any]:
    return list(
        User.objects.filter(
            memberships__location=location,
            memberships__role__in=["nurse", "prescriber", "therapist"],
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name")
    )


@requires(Perm.SCHEDULE_READ)
@require_GET
def staff_calendar(request: HttpRequest, user_id: int) -> HttpResponse:
    """A colleague's calendar, for readers of the calendar at a location the colleague works at."""
    origin = web_origin(request)
    staff = User.objects.filter(pk=user_id, is_active=True).first()
    readable = {loc for loc, held in grants(request.user).items() if Perm.SCHEDULE_READ in held}
    shared = (
        sorted(set(staff.memberships.values_list("location_id", flat=True)) & readable)
        if staff is not None
        else []
    )
    if not shared:
        deny(request.user, origin, str(Perm.SCHEDULE_READ))
        raise NotFound
    wanted = request.GET.get("location")
    location_id = int(wanted) if wanted and wanted.isdigit() and int(wanted) in shared else shared[0]
    location = get_location_for(request.user, location_id, Perm.SCHEDULE_READ, origin=origin)
    return _staff_page(request, staff, location, mine=False)


def _may_have_feed(user: Any) -> bool:
    return can(user, Perm.SCHEDULE_READ) or can(user, Perm.THERAPY_WRITE)


def _my_location(request: HttpRequest) -> ClinicLocation:
    mine = locations_with(request.user, Perm.SCHEDULE_READ) or locations_with(
        request.user, Perm.THERAPY_WRITE
    )
    if not mine:
        deny(request.user, web_origin(request), str(Perm.SCHEDULE_READ))
        raise Forbidden
    return mine[0]


@require_GET
def my_calendar(request: HttpRequest) -> HttpResponse:
    """The user's own calendar and their feed URL (staff who see visits: clinicians, front desk)."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    if not _may_have_feed(request.user):
        from ketaclinic.web.shortcuts import forbidden

        deny(request.user, web_origin(request), str(Perm.SCHEDULE_READ))
        return forbidden(request)
    return _staff_page(request, request.user, _my_location(request), mine=True)


@requires(Perm.SCHEDULE_BOOK_OWN)
@require_POST
def my_book(request: HttpRequest) -> HttpResponse:
    """A therapist books their own preparation or integration session from their calendar, through the
    same rules as any booking (their other visits count); refusals are shown with their rules. No override:
    that is the front desk's."""
    origin = web_origin(request)
    location = get_location_for(
        request.user, request.POST.get("location"), Perm.SCHEDULE_BOOK_OWN, origin=origin
    )
    keys = ("patient_mrn", "kind", "date", "time", "chair")
    form = {k: request.POST.get(k, "").strip() for k in keys}
    first = _day(form["date"], local_today(location))

    def again(status: int, **more: Any) -> HttpResponse:
        return _staff_page(
            request, request.user, location, mine=True, first_day=first, status=status, values=form, **more
        )

    if form["kind"] not in AppointmentKind.values:
        return again(422, errors={"kind": "Choose preparation or integration"})
    require_booking(request.user, form["kind"], origin=origin)  # a dosing visit: 403 before any lookup
    patient = Patient.objects.filter(location=location, mrn__iexact=form["patient_mrn"]).first()
    if patient is None:
        return again(422, errors={"patient_mrn": "No patient with this MRN at " + location.name})
    patient = get_patient_to_book(request.user, patient.pk, origin=origin, kind=form["kind"])
    try:
        data = booking_input(location, patient, form, clinician_id=request.user.pk)
        clinician = booking_clinician(request.user, patient, data.kind, request.user.pk, origin=origin)
        booked = actions.do_book_appointment(
            patient, data, actor=request.user, origin=origin, clinician=clinician
        )
    except ValidationError as exc:
        errors = form_errors(errors_by_field(exc.errors()))
        return again(422, errors={("date" if k == "starts_at" else k): v for k, v in errors.items()})
    except InvalidInput as exc:
        return again(422, errors=form_errors(exc.errors))
    except actions.BookingConflict as exc:
        return again(409, conflicts=actions.conflicts_out(exc.refusals))
    messages.success(request, f"Booked {booked.get_kind_display().lower()}.")
    return redirect(f"{reverse('scheduling:my_calendar')}?start={first.isoformat()}")


@require_POST
def my_feed(request: HttpRequest, what: str) -> HttpResponse:
    """Make, rotate or revoke the user's feed URL."""
    from django.contrib.auth.views import redirect_to_login

    from ketaclinic.web.shortcuts import forbidden

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not _may_have_feed(request.user):
        deny(request.user, web_origin(request), str(Perm.SCHEDULE_READ))
        return forbidden(request)
    origin = web_origin(request)
    if what == "rotate":
        had = feeds.live_feed(request.user) is not None
        feeds.do_rotate_feed(request.user, origin=origin)
        messages.success(
            request,
            "A new feed address is ready; the old one no longer works."
            if had
            else "Your feed address is ready.",
        )
    elif what == "revoke":
        feeds.do_revoke_feed(request.user, origin=origin)
        messages.success(request, "Your feed address no longer works.")
    else:
        raise Http404
    return redirect("scheduling:my_calendar")


# --- Capacity -----------------------------------------------------------------------------------------------


@requires(Perm.SCHEDULE_READ)
@require_GET
def capacity(request: HttpRequest) -> HttpResponse:
    location = get_location_for(
        request.user, request.GET.get("location"), Perm.SCHEDULE_READ, origin=web_origin(request)
    )
    first = _day(request.GET.get("start"), local_today(location))
    result = calendars.capacity(location, first)
    context = {
        "location": location,
        "locations": locations_with(request.user, Perm.SCHEDULE_READ),
        "first": first,
        "cap": result,
        "weekdays": WEEKDAYS,
    }
    return render(request, "scheduling/capacity.html", context)


# --- The waitlist -------------------------------------------------------------------------------------------


def _waitlist_page(
    request: HttpRequest,
    location: ClinicLocation,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HttpResponse:
    entries = list(
        WaitlistEntry.objects.filter(
            location=location, status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED]
        )
        .select_related("patient")
        .order_by("added_at")
    )
    offers = {
        o.entry_id: o
        for o in SlotOffer.objects.filter(entry__in=entries, status=OfferStatus.OPEN).select_related("chair")
    }
    recent = list(
        SlotOffer.objects.filter(location=location)
        .exclude(status=OfferStatus.OPEN)
        .select_related("entry__patient", "chair")
        .order_by("-offered_at")[:10]
    )
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
        "entries": entries,
        "offers": offers,
        "recent": recent,
        "tz": location_zone(location),
        "weekdays": WEEKDAYS,
        "kinds": AppointmentKind.choices,
        "may_book": can(request.user, Perm.SCHEDULE_BOOK, location.pk),
        "errors": errors or {},
        "values": values or {},
        "labels": WAITLIST_LABELS,
        "notices": list(messages.get_messages(request)),
    }
    return render(request, "scheduling/waitlist.html", context, status=status)


@requires(Perm.SCHEDULE_READ)
@require_GET
def waitlist_page(request: HttpRequest) -> HttpResponse:
    location = get_location_for(
        request.user, request.GET.get("location"), Perm.SCHEDULE_READ, origin=web_origin(request)
    )
    return _waitlist_page(request, location)


@requires(Perm.SCHEDULE_BOOK)
@require_POST
def waitlist_add(request: HttpRequest) -> HttpResponse:
    origin = web_origin(request)
    location = get_location_for(request.user, request.POST.get("location"), Perm.SCHEDULE_BOOK, origin=origin)
    form = {
        k: request.POST.get(k, "").strip()
        for k in ("patient_mrn", "kind", "preferred_from", "preferred_to", "note")
    }
    days = request.POST.getlist("preferred_days")
    patient = Patient.objects.filter(location=location, mrn__iexact=form["patient_mrn"]).first()
    values = {**form, "preferred_days": days}
    if patient is None:
        errors = {"patient_mrn": "No patient with this MRN at " + location.name}
        return _waitlist_page(request, location, status=422, errors=errors, values=values)
    patient = get_patient_to_book(request.user, patient.pk, origin=origin)
    try:
        data = WaitlistIn.model_validate(
            {
                "patient_id": str(patient.pk),
                "kind": form["kind"],
                "preferred_days": [int(d) if d.isdigit() else -1 for d in days],
                "preferred_from": form["preferred_from"] or None,
                "preferred_to": form["preferred_to"] or None,
                "note": form["note"],
            }
        )
    except ValidationError as exc:
        errors = form_errors(errors_by_field(exc.errors()))
        return _waitlist_page(request, location, status=422, errors=errors, values=values)
    waitlist.do_add_to_waitlist(patient, data, actor=request.user, origin=origin)
    messages.success(request, "Added to the waitlist.")
    return redirect(f"{reverse('scheduling:waitlist')}?location={location.pk}")


@requires(Perm.SCHEDULE_BOOK)
@require_POST
def waitlist_remove(request: HttpRequest, entry_id: str) -> HttpResponse:
    origin = web_origin(request)
    entry = WaitlistEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound
    get_patient_to_book(request.user, entry.patient_id, origin=origin)
    try:
        waitlist.do_remove_from_waitlist(entry, actor=request.user, origin=origin)
    except InvalidInput as exc:
        messages.error(request, "Not removed: " + "; ".join(exc.errors.values()))
    else:
        messages.success(request, "Removed from the waitlist.")
    return redirect(f"{reverse('scheduling:waitlist')}?location={entry.location_id}")


# --- The patient's links (public: the secret is the key) ----------------------------------------------------


def _public(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return _public(render(request, "scheduling/public/gone.html", {}, status=404))


@require_http_methods(["GET", "POST"])
def confirm_visit(request: HttpRequest, secret: str) -> HttpResponse:
    """GET shows the visit's day and time (no name, no kind of visit) and a Confirm button; POST confirms.
    A link scanner that opens the page confirms nothing."""
    now = timezone.now()
    found = waitlist.confirmation_of(secret)
    if not waitlist.confirmable(found, now):
        return _gone(request)
    assert found is not None
    location = found.appointment.patient.location
    done = found.confirmed_at is not None
    if request.method == "POST" and not done:
        waitlist.do_confirm_visit(found, now=now, origin=origin_of(request, Via.WEB))
        done = True
    context = {
        "location": location,
        "starts_at": found.appointment.starts_at.astimezone(location_zone(location)),
        "done": done,
    }
    return _public(render(request, "scheduling/public/confirm.html", context))


@require_http_methods(["GET", "POST"])
def take_offer(request: HttpRequest, secret: str) -> HttpResponse:
    """GET shows the slot held and until when; POST takes it (booked if still free)."""
    now = timezone.now()
    offer = waitlist.offer_of(secret)
    if offer is None:
        return _gone(request)
    location = offer.location
    zone = location_zone(location)
    context: dict[str, Any] = {
        "location": location,
        "starts_at": offer.starts_at.astimezone(zone),
        "hold_until": offer.hold_until.astimezone(zone),
        "state": "accepted" if offer.status == OfferStatus.ACCEPTED else "open",
    }
    if offer.status not in (OfferStatus.OPEN, OfferStatus.ACCEPTED) or (
        offer.status == OfferStatus.OPEN and offer.hold_until <= now
    ):
        context["state"] = "ended"
        return _public(render(request, "scheduling/public/offer.html", context, status=410))
    if request.method == "POST" and offer.status == OfferStatus.OPEN:
        booked = waitlist.do_accept_offer(offer, now=now, origin=origin_of(request, Via.WEB))
        context["state"] = "accepted" if booked is not None else "ended"
    return _public(render(request, "scheduling/public/offer.html", context))


@require_GET
def feed(request: HttpRequest, secret: str) -> HttpResponse:
    """The staff member's iCalendar feed; 404 for a revoked or unknown secret."""
    found = feeds.feed_of(secret)
    if found is None:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    now = timezone.now()
    body, visits = feeds.build(found, now)
    locations: list[int | None] = [*sorted({a.location_id for a in visits})] or [None]
    for location_id in locations:
        record(
            Action.CALENDAR_FEED_READ,
            actor=found.user,
            origin=origin_of(request, Via.WEB),
            obj=found,
            location_id=location_id,
            changed_fields=[f"visits:{sum(1 for a in visits if a.location_id == location_id)}"],
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
