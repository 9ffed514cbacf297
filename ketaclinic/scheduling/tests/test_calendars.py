"""Calendars, check-in, late cancellation, the waitlist, reminders and feeds (issue 13, items 5-7).

Moving a visit is refused by each hard rule (nothing saved) and an override moves it, audited; the waitlist
offers a freed slot in order with a timed hold, expiry passes it to the next and accepting books it; a
reminder's link confirms only on POST; the feed never carries a patient's name (the demo's names), and a
revoked or rotated URL is 404. (Allowed and denied for every page and endpoint: the access matrix,
scheduling/tests/matrix.py.)"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from ketaclinic.accounts.actions import do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import AuditEvent
from ketaclinic.demo.data import FAMILY, GIVEN_F, GIVEN_M
from ketaclinic.messaging.models import Message
from ketaclinic.scheduling import calendars, waitlist
from ketaclinic.scheduling.inputs import WaitlistIn
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentKind,
    CalendarFeed,
    OfferStatus,
    Shift,
    SlotOffer,
    VisitConfirmation,
    WaitlistEntry,
    WaitlistStatus,
)
from ketaclinic.scheduling.tests.helpers import (
    at,
    book,
    chair,
    future_plan,
    holiday_ahead,
    local_day,
    room,
    weekday_ahead,
)

if TYPE_CHECKING:
    from django.test import Client

    from conftest import World


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def move_url(appointment: Appointment) -> str:
    return f"/api/v1/appointments/{appointment.pk}/move"


# --- Moving a visit -----------------------------------------------------------------------------------------


def test_a_move_keeps_the_length_and_is_audited(world: World, north: ClinicLocation) -> None:
    visit = book(world.patient("north"), at(north, 2), chair=room(north).pk)
    response = post(
        world.api("frontdesk.north"), move_url(visit), {"starts_at": at(north, 3, 14).isoformat()}
    )
    assert response.status_code == 200, response.content
    visit.refresh_from_db()
    assert visit.starts_at == at(north, 3, 14) and visit.ends_at - visit.starts_at == dt.timedelta(minutes=60)
    assert AuditEvent.objects.filter(action="schedule.move", object_id=str(visit.pk)).count() == 1


def _refused_by(world: World, north: ClinicLocation, rule: str) -> tuple[Appointment, dict[str, Any]]:
    """A booked visit and a move that breaks `rule` (and, where it can be, only it)."""
    patient = world.patient("north")
    if rule == "SCHED-NURSE-RATIO":
        for index in (1, 2):
            book(world.patient("north", index), at(north, 2, 14), "iv_ketamine")
        visit = book(patient, at(north, 3, 10), "iv_ketamine")
        return visit, {"starts_at": at(north, 2, 14).isoformat()}
    if rule == "REMS-SETTING":
        visit = book(patient, at(north, 2, 10), "consultation", chair=room(north).pk)
        Appointment.objects.filter(pk=visit.pk).update(kind="esketamine_nasal")
        Shift.objects.filter(location=north, kind="prescriber", starts_at__date=local_day(north, 3)).delete()
        visit.refresh_from_db()
        return visit, {"starts_at": at(north, 3, 10).isoformat(), "chair": room(north).pk}
    if rule == "PROTO-SESSION-SPACING":
        plan = future_plan(world.patient("north", 1), 2)
        api = world.api("frontdesk.north")
        body = {"first_starts_at": at(north, 2, 11).isoformat()}
        assert post(api, f"/api/v1/treatment-plans/{plan.pk}/bookings", body).status_code == 201
        first, second = Appointment.objects.filter(session__plan=plan).order_by("starts_at")[:2]
        day = second.starts_at.astimezone(at(north, 0).tzinfo).date() - dt.timedelta(days=1)
        start = dt.datetime.combine(day, dt.time(15), tzinfo=at(north, 0).tzinfo)
        return first, {"starts_at": start.isoformat()}
    visit = book(patient, at(north, 2, 10), chair=room(north).pk)
    if rule == "SCHED-CHAIR-OVERLAP":
        book(world.patient("north", 1), at(north, 3, 10), chair=room(north).pk)
        return visit, {"starts_at": at(north, 3, 10, 30).isoformat(), "chair": room(north).pk}
    if rule == "SCHED-PATIENT-OVERLAP":
        book(patient, at(north, 3, 10), chair=room(north).pk)
        return visit, {"starts_at": at(north, 3, 10, 30).isoformat()}
    if rule == "SCHED-CHAIR-KIND":
        return visit, {"starts_at": at(north, 3, 10).isoformat(), "chair": chair(north).pk}
    if rule == "SCHED-CHAIR-LOCATION":
        south = ClinicLocation.objects.get(slug="south")
        return visit, {"starts_at": at(north, 3, 10).isoformat(), "chair": room(south).pk}
    change = {
        "SCHED-START-PAST": at(north, -1, 10),
        "SCHED-OPENING-HOURS": at(north, 3, 6),
        "SCHED-CLOSURE": at(north, holiday_ahead(north), 10),  # the demo's holiday at north
    }[rule]
    return visit, {"starts_at": change.isoformat()}


MOVE_RULES = [
    "SCHED-START-PAST",
    "SCHED-OPENING-HOURS",
    "SCHED-CLOSURE",
    "SCHED-CHAIR-OVERLAP",
    "SCHED-PATIENT-OVERLAP",
    "SCHED-CHAIR-KIND",
    "SCHED-CHAIR-LOCATION",
    "SCHED-NURSE-RATIO",
    "REMS-SETTING",
    "PROTO-SESSION-SPACING",
]


@pytest.mark.parametrize("rule", MOVE_RULES)
def test_a_move_is_refused_by_each_rule_and_nothing_is_saved(
    world: World, north: ClinicLocation, rule: str
) -> None:
    visit, body = _refused_by(world, north, rule)
    before = (visit.starts_at, visit.chair_id, visit.version)
    response = post(world.api("frontdesk.north"), move_url(visit), body)
    assert response.status_code == 409, response.content
    assert rule in [c["rule_id"] for c in response.json()["conflicts"]]
    visit.refresh_from_db()
    assert (visit.starts_at, visit.chair_id, visit.version) == before
    assert not AuditEvent.objects.filter(action="schedule.move").exists()


@pytest.mark.parametrize("rule", ["SCHED-CLOSURE", "SCHED-CHAIR-OVERLAP"])
def test_a_refused_move_on_the_page_shows_the_rule_then_moves_with_an_override(
    world: World, north: ClinicLocation, rule: str
) -> None:
    visit, body = _refused_by(world, north, rule)
    when = dt.datetime.fromisoformat(body["starts_at"]).astimezone(at(north, 0).tzinfo)
    form = {
        "date": when.date().isoformat(),
        "time": when.strftime("%H:%M"),
        "chair": str(body.get("chair", "")),
    }
    client = world.client("frontdesk.north")
    refused = client.post(f"/schedule/appointments/{visit.pk}/move/", form)
    assert refused.status_code == 409 and rule in refused.content.decode()
    moved = client.post(
        f"/schedule/appointments/{visit.pk}/move/", {**form, "override_reason": "Director agreed"}
    )
    assert moved.status_code == 302
    visit.refresh_from_db()
    assert rule in visit.overridden_rules and visit.override_reason == "Director agreed"
    event = AuditEvent.objects.get(action="schedule.move", object_id=str(visit.pk))
    assert f"override:{rule}" in event.changed_fields
    page = client.get(f"/schedule/?location={north.pk}&start={when.date().isoformat()}").content.decode()
    assert "override" in page  # the grid flags it


def test_bad_move_input_names_the_field(world: World, north: ClinicLocation) -> None:
    visit = book(world.patient("north"), at(north, 2), chair=room(north).pk)
    api = world.api("frontdesk.north")
    for body, field in (
        ({"starts_at": "soon"}, "starts_at"),
        ({"starts_at": at(north, 3).isoformat(), "x": 1}, "x"),
    ):
        response = post(api, move_url(visit), body)
        assert response.status_code == 422 and field in response.json()["errors"]
    page = world.client("frontdesk.north").post(
        f"/schedule/appointments/{visit.pk}/move/", {"date": "", "time": ""}
    )
    assert page.status_code == 422
    visit.refresh_from_db()
    assert visit.version == 1


def test_a_writer_here_and_reader_there_moves_only_here(world: World, north: ClinicLocation) -> None:
    south = ClinicLocation.objects.get(slug="south")
    user = world.user("frontdesk.south")
    do_grant_role(user, north, "nurse", actor=world.user("admin.north"))
    visit = book(world.patient("north"), at(north, 2), chair=room(north).pk)
    client = world.client("frontdesk.south")
    assert client.get(f"/schedule/appointments/{visit.pk}/").status_code == 200
    assert (
        post(
            world.api("frontdesk.south"), move_url(visit), {"starts_at": at(north, 3).isoformat()}
        ).status_code
        == 403
    )
    days = weekday_ahead(south)
    mine = book(world.patient("south"), at(south, days), chair=room(south).pk)
    assert (
        post(
            world.api("frontdesk.south"), move_url(mine), {"starts_at": at(south, days, 14).isoformat()}
        ).status_code
        == 200
    )


# --- Conflicts on the grid, check-in, late cancellation -----------------------------------------------------


def test_the_day_grid_flags_a_visit_a_later_closure_breaks(world: World, north: ClinicLocation) -> None:
    visit = book(world.patient("north"), at(north, 3), chair=room(north).pk)
    from ketaclinic.scheduling import actions
    from ketaclinic.scheduling.inputs import ClosureIn

    actions.do_add_closure(
        north, ClosureIn(date=local_day(north, 3), reason="Flood"), actor=world.user("admin.north")
    )
    rows = list(Appointment.objects.filter(pk=visit.pk).select_related("session"))
    assert calendars.conflicts(north, rows) == {visit.pk: ["SCHED-CLOSURE"]}
    page = world.client("nurse.north").get(f"/schedule/?location={north.pk}&start={local_day(north, 3)}")
    html = page.content.decode()
    assert "sched-grid" in html and "Breaks now: SCHED-CLOSURE" in html


def test_check_in_on_the_day(world: World, north: ClinicLocation) -> None:
    today = book(world.patient("north"), at(north, 0, 0, 5), chair=room(north).pk, override_reason="Walk-in")
    later = book(world.patient("north", 1), at(north, 2), chair=room(north).pk)
    api = world.api("frontdesk.north")
    assert post(api, f"/api/v1/appointments/{later.pk}/check-in", {}).status_code == 422
    response = post(api, f"/api/v1/appointments/{today.pk}/check-in", {})
    assert response.status_code == 200 and response.json()["status"] == "arrived"
    today.refresh_from_db()
    assert today.arrived_at is not None
    assert AuditEvent.objects.filter(action="schedule.arrive").count() == 1


def test_a_late_cancellation_is_recorded(world: World, north: ClinicLocation) -> None:
    soon = book(
        world.patient("north"), timezone.now() + dt.timedelta(hours=3), "consultation", override_reason="x"
    )
    far = book(world.patient("north", 1), at(north, 9), chair=room(north).pk, override_reason="x")
    api = world.api("frontdesk.north")
    for visit in (soon, far):
        assert post(api, f"/api/v1/appointments/{visit.pk}/cancel", {"reason": "Unwell"}).status_code == 200
    soon.refresh_from_db()
    far.refresh_from_db()
    assert soon.late_cancel and not far.late_cancel


# --- The waitlist: offer, hold, expiry, next, accept --------------------------------------------------------


def _wait(world: World, index: int, **more: Any) -> WaitlistEntry:
    patient = world.patient("north", index)
    data = WaitlistIn(patient_id=patient.pk, kind=AppointmentKind.CONSULTATION, **more)
    return waitlist.do_add_to_waitlist(patient, data, actor=world.user("frontdesk.north"))


def test_a_freed_slot_is_offered_in_order_held_then_passed_on_and_accepted(
    world: World, north: ClinicLocation, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    visit = book(world.patient("north"), at(north, 3, 10), chair=room(north).pk)
    slot_day = local_day(north, 3).weekday()
    never = _wait(world, 1, preferred_days=[(slot_day + 1) % 7])  # the slot's weekday does not suit
    first = _wait(world, 2)
    second = _wait(world, 3)
    api = world.api("frontdesk.north")
    with_captured = post(api, f"/api/v1/appointments/{visit.pk}/cancel", {"reason": "Moving away"})
    assert with_captured.status_code == 200
    offer = SlotOffer.objects.get()
    assert offer.entry == first and offer.status == OfferStatus.OPEN
    assert offer.hold_until == offer.offered_at + dt.timedelta(minutes=60)  # the policy's default hold
    assert Message.objects.filter(key=f"slot_offer:{offer.pk}").exists()
    # The hold has not ended: nothing moves.
    assert waitlist.expire_offers(offer.hold_until - dt.timedelta(seconds=1)) == 0
    # It ends: the first patient keeps their place, the slot goes to the next it suits.
    assert waitlist.expire_offers(offer.hold_until + dt.timedelta(seconds=1)) == 1
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert WaitlistEntry.objects.get(pk=first.pk).status == WaitlistStatus.WAITING
    nxt = SlotOffer.objects.get(status=OfferStatus.OPEN)
    assert nxt.entry == second and WaitlistEntry.objects.get(pk=never.pk).status == WaitlistStatus.WAITING
    assert AuditEvent.objects.filter(action="schedule.offer_expire").count() == 1
    # The second patient takes it through the message's link.
    secret = waitlist.new_secret()
    SlotOffer.objects.filter(pk=nxt.pk).update(token_hash=waitlist.secret_hash(secret))
    page = world.client(None).get(f"/schedule/offer/{secret}/")
    assert page.status_code == 200 and "Take this visit" in page.content.decode()
    for name in (second.patient.family_name, second.patient.given_name):
        assert name not in page.content.decode()
    taken = world.client(None).post(f"/schedule/offer/{secret}/")
    assert taken.status_code == 200 and "Booked" in taken.content.decode()
    booked = Appointment.objects.get(patient=second.patient, status="booked")
    assert booked.starts_at == visit.starts_at and booked.chair_id == visit.chair_id
    assert WaitlistEntry.objects.get(pk=second.pk).status == WaitlistStatus.BOOKED
    assert AuditEvent.objects.filter(action="schedule.offer_accept").count() == 1
    # A second click, or the expired offer's link, books nothing more.
    world.client(None).post(f"/schedule/offer/{secret}/")
    assert Appointment.objects.filter(patient=second.patient).count() == 1


def test_an_offer_for_a_slot_taken_meanwhile_is_withdrawn(world: World, north: ClinicLocation) -> None:
    visit = book(world.patient("north"), at(north, 3, 10), chair=room(north).pk)
    entry = _wait(world, 1)
    post(world.api("frontdesk.north"), f"/api/v1/appointments/{visit.pk}/cancel", {"reason": "Unwell"})
    offer = SlotOffer.objects.get(entry=entry)
    book(world.patient("north", 2), at(north, 3, 10), chair=room(north).pk)  # the desk booked it by phone
    assert waitlist.do_accept_offer(offer, now=timezone.now()) is None
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.WAITING


def test_the_waitlist_through_the_api_and_page(world: World, north: ClinicLocation) -> None:
    patient = world.patient("north", 1)
    api = world.api("frontdesk.north")
    body = {
        "patient_id": str(patient.pk),
        "kind": "consultation",
        "preferred_days": [0, 2],
        "preferred_from": "09:00",
        "preferred_to": "12:00",
    }
    made = post(api, "/api/v1/waitlist", body)
    assert made.status_code == 201 and made.json()["preferred_days"] == [0, 2]
    bad = post(api, "/api/v1/waitlist", {**body, "preferred_to": "08:00"})
    assert bad.status_code == 422 and "preferred_to" in bad.json()["errors"]
    assert post(api, "/api/v1/waitlist", {**body, "preferred_days": [9]}).status_code == 422
    assert WaitlistEntry.objects.count() == 1
    listed = world.api("nurse.north").get(f"/api/v1/waitlist?location_id={north.pk}")
    assert listed.status_code == 200 and listed.json()["count"] == 1
    page = world.client("frontdesk.north").get(f"/schedule/waitlist/?location={north.pk}")
    assert patient.family_name in page.content.decode()


# --- Reminders and confirmation -----------------------------------------------------------------------------


def test_a_reminder_asks_for_confirmation_and_unconfirmed_visits_are_flagged(
    world: World, north: ClinicLocation
) -> None:
    visit = book(world.patient("north"), timezone.now() + dt.timedelta(hours=5), override_reason="x")
    day = (
        local_day(north, 0)
        if visit.starts_at.astimezone(at(north, 0).tzinfo).date() == local_day(north, 0)
        else local_day(north, 1)
    )
    calendar = f"/schedule/?location={north.pk}&start={day.isoformat()}"
    assert (
        'title="Not confirmed by the patient"'
        in world.client("frontdesk.north").get(calendar).content.decode()
    )
    assert waitlist.send_visit_reminders(timezone.now()) >= 1
    assert waitlist.send_visit_reminders(timezone.now()) == 0  # sent once
    confirmation = VisitConfirmation.objects.get(appointment=visit)
    assert Message.objects.filter(key=f"visit_reminder:{visit.pk}").exists()
    secret = waitlist.new_secret()
    VisitConfirmation.objects.filter(pk=confirmation.pk).update(token_hash=waitlist.secret_hash(secret))
    public = world.client(None)
    opened = public.get(f"/schedule/visit/{secret}/")
    assert opened.status_code == 200 and "I will come" in opened.content.decode()
    assert VisitConfirmation.objects.get(pk=confirmation.pk).confirmed_at is None  # a GET confirms nothing
    assert not AuditEvent.objects.filter(action="schedule.confirm").exists()
    assert public.post(f"/schedule/visit/{secret}/").status_code == 200
    assert VisitConfirmation.objects.get(pk=confirmation.pk).confirmed_at is not None
    confirmed = AuditEvent.objects.get(action="schedule.confirm")  # the public page's audit, for the patient
    assert confirmed.patient_id == visit.patient_id
    assert (
        'title="Not confirmed by the patient"'
        not in world.client("frontdesk.north").get(calendar).content.decode()
    )
    assert public.get("/schedule/visit/not-a-secret/").status_code == 404


def test_reminder_message_names_no_patient_or_treatment(world: World, north: ClinicLocation) -> None:
    subject, body = waitlist.reminder_message(north, at(north, 2), "s3cret")
    text = subject + body
    assert "s3cret" in body and "/schedule/visit/" in body
    for word in ("ketamine", "esketamine", "Spravato", world.patient("north").family_name):
        assert word.lower() not in text.lower()


# --- Calendar feeds -----------------------------------------------------------------------------------------


def _path(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[1].join(["/", ""])


def test_the_nurses_feed_carries_visits_without_names(world: World, north: ClinicLocation) -> None:
    for index in range(2):
        book(world.patient("north", index), at(north, 2, 10 + 3 * index), "iv_ketamine")
    book(world.patient("north", 2), at(north, 2, 9), chair=room(north).pk)  # a consultation: not the nurse's
    response = world.api("nurse.north").get("/api/v1/me/calendar-feed")
    assert response.status_code == 200
    url = response.json()["url"]
    assert world.api("nurse.north").get("/api/v1/me/calendar-feed").json()["url"] == url  # the same again
    feed = world.client(None).get(_path(url))
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    text = feed.content.decode()
    assert text.count("BEGIN:VEVENT") >= 2 and "SUMMARY:" in text
    names = {*GIVEN_F, *GIVEN_M, *FAMILY}
    found = [n for n in names if re.search(rf"\b{re.escape(n)}\b", text)]
    assert found == [], found
    for index in range(3):
        patient = world.patient("north", index)
        assert patient.family_name not in text and patient.given_name not in text and patient.mrn not in text
    initials = f"{world.patient('north', 0).given_name[0]}.{world.patient('north', 0).family_name[0]}."
    assert initials in text
    assert "consultation" not in text.lower() and "ketamine" not in text.lower()
    assert AuditEvent.objects.filter(action="schedule.feed_read").exists()
    assert CalendarFeed.objects.get().token_hash not in url  # only the hash is stored


def test_a_revoked_or_rotated_feed_is_not_found(world: World, north: ClinicLocation) -> None:
    api, page = world.api("nurse.north"), world.client("nurse.north")
    old = _path(api.get("/api/v1/me/calendar-feed").json()["url"])
    assert page.post("/schedule/me/feed/rotate/").status_code == 302
    assert world.client(None).get(old).status_code == 404
    new = _path(api.get("/api/v1/me/calendar-feed").json()["url"])
    assert new != old and world.client(None).get(new).status_code == 200
    assert new.split("/")[-1].removesuffix(".ics") in page.get("/schedule/me/").content.decode()
    assert page.post("/schedule/me/feed/revoke/").status_code == 302
    assert world.client(None).get(new).status_code == 404
    assert world.client(None).get("/schedule/feed/unknown.ics").status_code == 404
    events = AuditEvent.objects.filter(action="schedule.feed").values_list("changed_fields", flat=True)
    assert [list(e) for e in events] == [["made"], ["rotated"], ["revoked"]]


def test_a_disabled_accounts_feed_is_not_found(world: World, north: ClinicLocation) -> None:
    url = _path(world.api("nurse.north").get("/api/v1/me/calendar-feed").json()["url"])
    user = world.user("nurse.north")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert world.client(None).get(url).status_code == 404


# --- Staff calendars and capacity ---------------------------------------------------------------------------


def test_a_nurses_calendar_shows_the_dosing_visits_of_their_shifts(
    world: World, north: ClinicLocation
) -> None:
    book(world.patient("north"), at(north, 2, 10), "iv_ketamine")
    nurse = world.user("nurse.north")
    page = world.client("frontdesk.north").get(
        f"/schedule/staff/{nurse.pk}/?start={local_day(north, 2)}&days=1"
    )
    html = page.content.decode()
    assert page.status_code == 200 and world.patient("north").family_name in html and "Nurse on duty" in html
    mine = (
        world.client("nurse.north").get(f"/schedule/me/?start={local_day(north, 2)}&days=1").content.decode()
    )
    assert world.patient("north").family_name in mine and "Calendar feed" in mine


def test_capacity_counts_induction_starts_and_states_its_method(world: World, north: ClinicLocation) -> None:
    first = local_day(north, 1)
    empty = calendars.capacity(north, first, 7)
    assert [m.kind for m in empty.modalities] == ["esketamine_nasal", "iv_ketamine"]
    assert all(m.induction_starts > 0 for m in empty.modalities) and len(empty.days) == 7
    for index in range(2):
        book(world.patient("north", index), at(north, 1, 10), "iv_ketamine")
    fuller = calendars.capacity(north, first, 7)
    assert fuller.days[0].chair_booked_minutes == 240 and fuller.days[0].nurse_used_minutes == 240
    for kind in ("esketamine_nasal", "iv_ketamine"):
        assert fuller.days[0].free_visits[kind] < empty.days[0].free_visits[kind]
    page = world.client("prescriber.north").get(f"/schedule/capacity/?location={north.pk}")
    html = page.content.decode()
    assert page.status_code == 200 and "How this is computed" in html and "induction" in html
