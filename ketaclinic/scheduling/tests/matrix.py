"""The calendar's routes of the access matrix (patients/tests/test_access_matrix.py), and the state each needs
for an allowed call to succeed: a plan with sessions to book, a booked visit to cancel, a visit that has
started to mark a no-show. The read-event and idempotency tests send the same routes through `call`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ketaclinic.accounts.models import User
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import actions, waitlist
from ketaclinic.scheduling.inputs import AppointmentIn, WaitlistIn
from ketaclinic.scheduling.models import Appointment, AppointmentKind
from ketaclinic.scheduling.tests.helpers import at, future_plan, local_day, set_ratio
from ketaclinic.tests import memo
from ketaclinic.treatment.models import TreatmentPlan

ALL = {"admin", "prescriber", "nurse", "therapist", "frontdesk"}
READERS = {"prescriber", "nurse", "frontdesk"}
FRONT = {"frontdesk"}
# A therapist books, moves and cancels their own preparation and integration sessions (the state prepared for
# those routes is a session of therapist.<location>'s; another's session is record_level in test_own.py).
OWN = FRONT | {"therapist"}
ADMINS = {"admin"}
A = "/api/v1/appointments/{appointment}"
BOOKING = {"patient_id": "{pid}", "kind": "consultation", "starts_at": "{start}"}
THERAPY_BOOKING = {"patient_id": "{pid}", "kind": "preparation", "starts_at": "{start}"}
BOOK_FORM = {
    "location": "{location_id}",
    "patient_mrn": "{mrn}",
    "kind": "consultation",
    "date": "{day}",
    "time": "10:00",
}

# (name, method, url template, body, allowed roles, scoped to the patient's location, API?)
ROUTES: list[tuple[str, str, str, Any, set[str], bool, bool]] = [
    ("api schedule chairs", "get", "/api/v1/chairs?location_id={location_id}", None, ALL, True, True),
    (
        "api schedule",
        "get",
        "/api/v1/schedule?start={today}&days=7&location_id={location_id}",
        None,
        READERS,
        True,
        True,
    ),
    ("api book appointment", "post", "/api/v1/appointments", BOOKING, FRONT, True, True),
    ("api book therapy session", "post", "/api/v1/appointments", THERAPY_BOOKING, OWN, True, True),
    (
        "api book course",
        "post",
        "/api/v1/treatment-plans/{plan}/bookings",
        {"first_starts_at": "{plan_start}"},
        FRONT,
        True,
        True,
    ),
    ("api cancel appointment", "post", f"{A}/cancel", {"reason": "Unwell"}, OWN, True, True),
    ("api no-show", "post", f"{A}/no-show", {}, FRONT, True, True),
    ("schedule page", "get", "/schedule/?location={location_id}", None, READERS, True, False),
    ("schedule book page", "post", "/schedule/book/", BOOK_FORM, FRONT, True, False),
    (
        "schedule cancel page",
        "post",
        "/schedule/appointments/{appointment}/cancel/",
        {"reason": "Unwell"},
        OWN,
        True,
        False,
    ),
    (
        "schedule no-show page",
        "post",
        "/schedule/appointments/{appointment}/no-show/",
        {},
        FRONT,
        True,
        False,
    ),
    ("course page", "get", "/schedule/plans/{plan}/", None, READERS, True, False),
    (
        "course booking page",
        "post",
        "/schedule/plans/{plan}/",
        {"date": "{plan_day}", "time": "11:00", "same_slot": "on"},
        FRONT,
        True,
        False,
    ),
    ("schedule resources page", "get", "/schedule/resources/{location_id}/", None, ALL, True, False),
    (
        "schedule add closure page",
        "post",
        "/schedule/resources/{location_id}/closure/",
        {"closure-date": "{far_day}", "closure-reason": "Holiday"},
        ADMINS,
        True,
        False,
    ),
]

# Calendars, the waitlist and feeds (items 5-7).
FEED_HOLDERS = {"prescriber", "nurse", "therapist", "frontdesk"}
MOVE = {"date": "{day}", "time": "11:00"}
ROUTES += [
    (
        "appointment page",
        "get",
        "/schedule/appointments/{appointment}/",
        None,
        READERS | {"therapist"},
        True,
        False,
    ),
    ("appointment move page", "post", "/schedule/appointments/{appointment}/move/", MOVE, OWN, True, False),
    (
        "appointment check-in page",
        "post",
        "/schedule/appointments/{appointment}/check-in/",
        {},
        FRONT,
        True,
        False,
    ),
    ("staff calendar page", "get", "/schedule/staff/{staff}/", None, READERS, True, False),
    ("my calendar page", "get", "/schedule/me/", None, FEED_HOLDERS, False, False),
    ("my feed rotate page", "post", "/schedule/me/feed/rotate/", {}, FEED_HOLDERS, False, False),
    (
        "my calendar book page",
        "post",
        "/schedule/me/book/",
        {
            "location": "{location_id}",
            "patient_mrn": "{mrn}",
            "kind": "integration",
            "date": "{day}",
            "time": "10:00",
        },
        {"therapist"},
        True,
        False,
    ),
    ("capacity page", "get", "/schedule/capacity/?location={location_id}", None, READERS, True, False),
    ("waitlist page", "get", "/schedule/waitlist/?location={location_id}", None, READERS, True, False),
    (
        "waitlist add page",
        "post",
        "/schedule/waitlist/add/",
        {"location": "{location_id}", "patient_mrn": "{mrn}", "kind": "consultation"},
        FRONT,
        True,
        False,
    ),
    ("waitlist remove page", "post", "/schedule/waitlist/{entry}/remove/", {}, FRONT, True, False),
    ("api calendar feed", "get", "/api/v1/me/calendar-feed", None, FEED_HOLDERS, False, True),
    (
        "api move appointment",
        "post",
        f"{A}/move",
        {"starts_at": "{later}"},
        OWN,
        True,
        True,
    ),
    ("api check-in", "post", f"{A}/check-in", {}, FRONT, True, True),
    (
        "api waitlist add",
        "post",
        "/api/v1/waitlist",
        {"patient_id": "{pid}", "kind": "consultation"},
        FRONT,
        True,
        True,
    ),
    ("api waitlist", "get", "/api/v1/waitlist?location_id={location_id}", None, READERS, True, True),
    (
        "api capacity",
        "get",
        "/api/v1/schedule/capacity?start={today}&location_id={location_id}",
        None,
        READERS,
        True,
        True,
    ),
]
# The patient's public links and the feed itself: the secret is the key (tests in test_calendars.py).
PUBLIC = {"scheduling:confirm_visit", "scheduling:take_offer", "scheduling:feed"}

NAMES = {r[0] for r in ROUTES}
SAMPLE_IDS = {
    "appointment": "00000000-0000-4000-8000-000000000000",
    "staff": 1,
    "entry": "00000000-0000-4000-8000-000000000000",
}

_PREPARED: dict[tuple[str, Any], dict[str, Any]] = memo.per_test()


def _still_there(ids: dict[str, Any]) -> bool:
    if "plan" in ids and not TreatmentPlan.objects.filter(pk=ids["plan"]).exists():
        return False
    return "appointment" not in ids or Appointment.objects.filter(pk=ids["appointment"]).exists()


def prepare(name: str, patient: Patient) -> dict[str, Any]:
    """The ids the route names, made through the actions."""
    location = patient.location
    desk = User.objects.get(username=f"frontdesk.{location.slug}")
    ids: dict[str, Any] = {}
    if "course" in name:
        set_ratio(location, 2)
        plan = future_plan(patient, 2)
        ids["plan"] = plan.pk
        first = plan.sessions.order_by("number").first()
        assert first is not None
        ids["plan_day"] = first.date.isoformat()
        ids["plan_start"] = at(location, 2, 11).isoformat()
    if "appointment page" in name or "move" in name:
        ids["appointment"] = own_session(patient, at(location, 2), desk).pk
    if "check-in" in name:
        ids["appointment"] = book(patient, at(location, 0, 0, 5), desk, "Recorded late").pk
    if "waitlist remove" in name:
        data_in = WaitlistIn(patient_id=patient.pk, kind=AppointmentKind.CONSULTATION)
        ids["entry"] = waitlist.do_add_to_waitlist(patient, data_in, actor=desk).pk
    if "staff calendar" in name:
        ids["staff"] = User.objects.get(username=f"nurse.{location.slug}").pk
    if "cancel" in name:
        ids["appointment"] = own_session(patient, at(location, 2), desk).pk
    if "no-show" in name:
        started = "no-show" in name
        start = at(location, 0, 0, 5) if started else at(location, 2)
        data = AppointmentIn(
            patient_id=patient.pk,
            kind=AppointmentKind.CONSULTATION,
            starts_at=start,
            override_reason="Recorded late" if started else "",
        )
        ids["appointment"] = actions.do_book_appointment(patient, data, actor=desk).pk
    return ids


def own_session(patient: Patient, start: Any, desk: User) -> Appointment:
    """A preparation session of therapist.<location>'s with the patient, booked by front desk for them."""
    therapist = User.objects.get(username=f"therapist.{patient.location.slug}")
    data = AppointmentIn(
        patient_id=patient.pk,
        kind=AppointmentKind.PREPARATION,
        starts_at=start,
        clinician_id=therapist.pk,
    )
    return actions.do_book_appointment(patient, data, actor=desk, clinician=therapist)


def book(patient: Patient, start: Any, desk: User, override: str = "") -> Appointment:
    data = AppointmentIn(
        patient_id=patient.pk, kind=AppointmentKind.CONSULTATION, starts_at=start, override_reason=override
    )
    return actions.do_book_appointment(patient, data, actor=desk)


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return values.get(value[1:-1], value)
    return value


def call(route: tuple[Any, ...], patient: Patient, send: Callable[[str, Any], Any]) -> Any:
    """Prepare the route's state (once per route and patient, so a replay finds the same), then send it."""
    name, _, url, body = route[:4]
    known = _PREPARED.get((name, patient.pk))
    if known is not None and _still_there(known):
        ids = known
    else:
        ids = prepare(name, patient)
        _PREPARED[(name, patient.pk)] = ids
    location = patient.location
    values = {
        "pid": str(patient.pk),
        "mrn": patient.mrn,
        "location_id": str(location.pk),
        "today": local_day(location, 0).isoformat(),
        "day": local_day(location, 2).isoformat(),
        "far_day": local_day(location, 60).isoformat(),
        "start": at(location, 2).isoformat(),
        "past": at(location, -1).isoformat(),
        "later": at(location, 2, 14).isoformat(),
        **{k: str(v) for k, v in ids.items()},
    }
    target = url.format(**values)
    return send(target, _fill(body, values))


# --- The week's proposals (scheduling/proposals.py) --------------------------------------------------------
# A proposal of the patient's location for the week from two days on, whose plan has sessions to place.

P = "/api/v1/schedule/proposals"
ROUTES += [
    (
        "api schedule proposal ask",
        "post",
        P,
        {"week_start": "{day}", "time_limit_seconds": 1},
        FRONT,
        False,  # at the caller's own location (another's by ?location_id: test_proposals.py)
        True,
    ),
    ("api schedule proposal", "get", P + "/{proposal}", None, FRONT, True, True),
    ("api schedule proposal accept", "post", P + "/{proposal}/accept", {}, FRONT, True, True),
    ("proposals page", "get", "/schedule/proposals/?location={location_id}", None, FRONT, True, False),
    (
        "proposals ask page",
        "post",
        "/schedule/proposals/",
        {"location": "{location_id}", "week_start": "{day}", "time_limit_seconds": "1"},
        FRONT,
        True,
        False,
    ),
    ("proposal page", "get", "/schedule/proposals/{proposal}/", None, FRONT, True, False),
    (
        "proposal accept page",
        "post",
        "/schedule/proposals/{proposal}/accept/",
        {"all": "1"},
        FRONT,
        True,
        False,
    ),
]
NAMES = {r[0] for r in ROUTES}
SAMPLE_IDS["proposal"] = "00000000-0000-4000-8000-000000000000"

_prepare_booking = prepare
_still_booked = _still_there


def solved_proposal(patient: Patient) -> Any:
    """A solved proposal for the patient's location, placing the patient's plan's sessions of the week."""
    from ketaclinic.scheduling import proposals

    location = patient.location
    _ratio(location)
    future_plan(patient, 2)
    desk = User.objects.get(username=f"frontdesk.{location.slug}")
    data = proposals.ProposalIn(week_start=local_day(location, 2), time_limit_seconds=1)
    return proposals.do_solve(proposals.do_request_proposal(location, data, actor=desk))


def prepare(name: str, patient: Patient) -> dict[str, Any]:  # type: ignore[no-redef]
    if "proposal" not in name:
        return _prepare_booking(name, patient)
    if name in ("api schedule proposal ask", "proposals page", "proposals ask page"):
        _ratio(patient.location)
        return {"plan": future_plan(patient, 2).pk}
    return {"proposal": solved_proposal(patient).pk}


def _ratio(location: Any) -> None:
    from ketaclinic.clinicpolicy.queries import policy_for

    if policy_for(location).nurse_monitoring_ratio != 2:
        set_ratio(location, 2)


def _still_there(ids: dict[str, Any]) -> bool:  # type: ignore[no-redef]
    from ketaclinic.scheduling.models import Proposal

    if "proposal" in ids and not Proposal.objects.filter(pk=ids["proposal"]).exists():
        return False
    return _still_booked(ids)
