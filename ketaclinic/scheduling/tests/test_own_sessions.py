"""Therapists book their own sessions (issue 13: "front desk books; therapists book their own sessions;
another location sees nothing").

A therapist books, moves and cancels preparation and integration visits with themselves as the clinician,
through the same checker as any booking (their other visits count: SCHED-CLINICIAN-OVERLAP). A dosing visit,
a consultation, a colleague's session or an override is 403 and audited; another location is 404. The routes'
allowed and denied cases are in the access matrix (scheduling/tests/matrix.py); these are the record-level
denials and the behaviour."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client as DjangoClient

from ketaclinic.accounts.actions import do_create_staff, do_grant_role
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.clinical.scheduling import VisitKind
from ketaclinic.scheduling import calendars, rules
from ketaclinic.scheduling.models import Appointment, AppointmentStatus
from ketaclinic.scheduling.tests.helpers import at, book, local_day, room, weekday_ahead

if TYPE_CHECKING:
    from django.test import Client

    from conftest import World


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def denials() -> int:
    return AuditEvent.objects.filter(outcome=Outcome.DENIED).count()


@pytest.fixture
def north(world: World) -> ClinicLocation:
    return ClinicLocation.objects.get(slug="north")


@pytest.fixture
def day(north: ClinicLocation) -> int:
    return weekday_ahead(north, 2)


@pytest.fixture
def colleague(world: World, north: ClinicLocation) -> User:
    """A second therapist at north."""
    user = do_create_staff(world.network("therapist.north"), "second.therapist", "a-long-enough-pass-phrase")
    do_grant_role(user, north, "therapist", actor=world.user("admin.north"))
    return user


def own_booking(world: World, who: str, start: dt.datetime, kind: str = "preparation", **more: Any) -> Any:
    body = {
        "patient_id": str(world.patient("north").pk),
        "kind": kind,
        "starts_at": start.isoformat(),
        **more,
    }
    return post(world.api(who), "/api/v1/appointments", body)


def session_of(world: World, therapist: User, start: dt.datetime, index: int = 0) -> Appointment:
    """A preparation session with `therapist`, booked by front desk for them."""
    return book(world.patient("north", index), start, "preparation", clinician_id=therapist.pk)


# --- Booking through the API --------------------------------------------------------------------------------


def test_a_therapist_books_their_own_session(world: World, north: ClinicLocation, day: int) -> None:
    therapist = world.user("therapist.north")
    response = own_booking(world, "therapist.north", at(north, day, 10))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["clinician_id"] == therapist.pk and body["kind"] == "preparation"
    visit = Appointment.objects.get(pk=body["id"])
    assert visit.clinician == therapist and visit.created_by == therapist
    assert visit.ends_at - visit.starts_at == dt.timedelta(minutes=50)  # the policy's preparation length
    event = AuditEvent.objects.get(action="schedule.book", object_id=str(visit.pk))
    assert "clinician" in event.changed_fields
    # On the therapist's own calendar (and so their feed).
    start, end = at(north, day, 0), at(north, day + 1, 0)
    assert [a.pk for a in calendars.staff_visits(therapist, start, end)] == [visit.pk]


def test_naming_themselves_is_the_same_as_naming_no_one(
    world: World, north: ClinicLocation, day: int
) -> None:
    therapist = world.user("therapist.north")
    response = own_booking(world, "therapist.north", at(north, day, 10), clinician_id=therapist.pk)
    assert response.status_code == 201, response.content
    assert response.json()["clinician_id"] == therapist.pk


@pytest.mark.parametrize("kind", ["esketamine_nasal", "iv_ketamine", "im_ketamine", "consultation"])
def test_a_therapist_may_not_book_other_kinds(
    world: World, north: ClinicLocation, day: int, kind: str
) -> None:
    before = denials()
    response = own_booking(world, "therapist.north", at(north, day, 10), kind)
    assert response.status_code == 403
    assert not Appointment.objects.exists()
    assert denials() == before + 1


def test_a_therapist_may_not_book_a_colleagues_session(
    world: World, north: ClinicLocation, day: int, colleague: User
) -> None:
    before = denials()
    response = own_booking(world, "therapist.north", at(north, day, 10), clinician_id=colleague.pk)
    assert response.status_code == 403
    assert not Appointment.objects.exists()
    assert denials() == before + 1


def test_a_therapist_never_books_against_a_rule(world: World, north: ClinicLocation, day: int) -> None:
    before = denials()
    response = own_booking(world, "therapist.north", at(north, -1, 10), override_reason="Recorded late")
    assert response.status_code == 403
    assert not Appointment.objects.exists()
    assert denials() == before + 1
    refused = own_booking(world, "therapist.north", at(north, -1, 10))
    assert refused.status_code == 409
    assert [c["rule_id"] for c in refused.json()["conflicts"]] == [rules.START_PAST]


def test_another_locations_therapist_finds_no_patient(world: World, north: ClinicLocation, day: int) -> None:
    before = denials()
    response = own_booking(world, "therapist.south", at(north, day, 10))
    assert response.status_code == 404
    assert world.patient("north").family_name.encode() not in response.content
    assert not Appointment.objects.exists()
    assert denials() == before + 1


def test_the_therapists_own_calendar_must_be_free(
    world: World, north: ClinicLocation, day: int, colleague: User
) -> None:
    """Another patient, another room, the same therapist at once: refused naming the rule (also when front
    desk books it for them); a colleague is free then."""
    therapist = world.user("therapist.north")
    first = session_of(world, therapist, at(north, day, 10))
    assert first.clinician == therapist
    body = {
        "patient_id": str(world.patient("north", 1).pk),
        "kind": "integration",
        "starts_at": at(north, day, 10, 30).isoformat(),
    }
    mine = post(world.api("therapist.north"), "/api/v1/appointments", body)
    assert mine.status_code == 409
    assert rules.CLINICIAN_OVERLAP in [c["rule_id"] for c in mine.json()["conflicts"]]
    desk = post(world.api("frontdesk.north"), "/api/v1/appointments", {**body, "clinician_id": therapist.pk})
    assert desk.status_code == 409
    assert rules.CLINICIAN_OVERLAP in [c["rule_id"] for c in desk.json()["conflicts"]]
    assert Appointment.objects.count() == 1
    theirs = post(
        world.api("frontdesk.north"), "/api/v1/appointments", {**body, "clinician_id": colleague.pk}
    )
    assert theirs.status_code == 201, theirs.content


def test_the_clinician_rule_in_the_checker() -> None:
    import zoneinfo

    zone = zoneinfo.ZoneInfo("UTC")
    start = dt.datetime(2030, 1, 7, 10, tzinfo=zone)

    def visit(ident: str, patient: str, chair: int, clinician: str | None) -> rules.Visit:
        return rules.Visit(
            ident,
            patient,
            1,
            chair,
            VisitKind.PREPARATION,
            start,
            start + dt.timedelta(minutes=50),
            clinician=clinician,
        )

    assert [r.rule_id for r in rules.pair_refusals(visit("a", "p", 1, "7"), visit("b", "q", 2, "7"))] == [
        rules.CLINICIAN_OVERLAP
    ]
    assert rules.pair_refusals(visit("a", "p", 1, "7"), visit("b", "q", 2, "8")) == []
    assert rules.pair_refusals(visit("a", "p", 1, None), visit("b", "q", 2, None)) == []


def test_front_desk_books_for_a_therapist_only_a_therapy_session(
    world: World, north: ClinicLocation, day: int
) -> None:
    therapist, nurse = world.user("therapist.north"), world.user("nurse.north")
    base = {"patient_id": str(world.patient("north").pk), "starts_at": at(north, day, 10).isoformat()}
    desk = world.api("frontdesk.north")
    wrong_kind = post(
        desk, "/api/v1/appointments", {**base, "kind": "consultation", "clinician_id": therapist.pk}
    )
    assert wrong_kind.status_code == 422 and "clinician_id" in wrong_kind.content.decode()
    not_a_therapist = post(
        desk, "/api/v1/appointments", {**base, "kind": "preparation", "clinician_id": nurse.pk}
    )
    assert not_a_therapist.status_code == 422 and "clinician_id" in not_a_therapist.content.decode()
    south = world.user("therapist.south")
    elsewhere = post(desk, "/api/v1/appointments", {**base, "kind": "preparation", "clinician_id": south.pk})
    assert elsewhere.status_code == 422
    assert not Appointment.objects.exists()
    done = post(desk, "/api/v1/appointments", {**base, "kind": "integration", "clinician_id": therapist.pk})
    assert done.status_code == 201 and done.json()["clinician_id"] == therapist.pk


# --- Moving and cancelling: record level ------------------------------------------------------------------


def test_a_therapist_moves_and_cancels_their_own_session(
    world: World, north: ClinicLocation, day: int
) -> None:
    therapist = world.user("therapist.north")
    visit = session_of(world, therapist, at(north, day, 10))
    api = world.api("therapist.north")
    moved = post(api, f"/api/v1/appointments/{visit.pk}/move", {"starts_at": at(north, day, 14).isoformat()})
    assert moved.status_code == 200, moved.content
    visit.refresh_from_db()
    assert visit.starts_at == at(north, day, 14)
    cancelled = post(api, f"/api/v1/appointments/{visit.pk}/cancel", {"reason": "Patient unwell"})
    assert cancelled.status_code == 200
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED


def test_a_therapist_never_moves_against_a_rule(world: World, north: ClinicLocation, day: int) -> None:
    visit = session_of(world, world.user("therapist.north"), at(north, day, 10))
    before = denials()
    body = {"starts_at": at(north, -1, 10).isoformat(), "override_reason": "Recorded late"}
    response = post(world.api("therapist.north"), f"/api/v1/appointments/{visit.pk}/move", body)
    assert response.status_code == 403
    assert denials() == before + 1
    visit.refresh_from_db()
    assert visit.starts_at == at(north, day, 10) and visit.version == 1


def test_a_colleagues_session_is_refused(
    world: World, north: ClinicLocation, day: int, colleague: User
) -> None:
    """Another therapist's session at the same location: 403 on every route, audited, nothing changed."""
    visit = session_of(world, colleague, at(north, day, 10))
    api, page = world.api("therapist.north"), world.client("therapist.north")
    before = denials()
    day_text = local_day(north, day).isoformat()
    answers = [
        post(api, f"/api/v1/appointments/{visit.pk}/move", {"starts_at": at(north, day, 14).isoformat()}),
        post(api, f"/api/v1/appointments/{visit.pk}/cancel", {"reason": "Not mine"}),
        page.get(f"/schedule/appointments/{visit.pk}/"),
        page.post(f"/schedule/appointments/{visit.pk}/move/", {"date": day_text, "time": "14:00"}),
        page.post(f"/schedule/appointments/{visit.pk}/cancel/", {"reason": "Not mine"}),
    ]
    assert [r.status_code for r in answers] == [403] * 5
    assert denials() == before + 5
    assert world.patient("north").family_name.encode() not in answers[2].content
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED and visit.version == 1
    # The colleague themselves may: their page, and cancelling takes them back to their own calendar.
    theirs = DjangoClient()
    theirs.force_login(colleague)
    assert theirs.get(f"/schedule/appointments/{visit.pk}/").status_code == 200
    done = theirs.post(f"/schedule/appointments/{visit.pk}/cancel/", {"reason": "Unwell"})
    assert done.status_code == 302 and done["Location"].startswith("/schedule/me/")
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED


def test_a_visit_without_the_therapist_is_not_theirs(world: World, north: ClinicLocation, day: int) -> None:
    """A preparation front desk booked with no clinician, and a consultation: neither is the therapist's."""
    free = book(world.patient("north"), at(north, day, 10), "preparation")
    consult = book(world.patient("north", 1), at(north, day, 12))
    api = world.api("therapist.north")
    for visit in (free, consult):
        response = post(api, f"/api/v1/appointments/{visit.pk}/cancel", {"reason": "Not mine"})
        assert response.status_code == 403


def test_where_the_therapist_only_reads_they_book_nothing(
    world: World, north: ClinicLocation, day: int
) -> None:
    """A therapist at north who is a nurse at south reads south's calendar but books nothing there."""
    south = ClinicLocation.objects.get(slug="south")
    do_grant_role(world.user("therapist.north"), south, "nurse", actor=world.user("admin.south"))
    south_day = weekday_ahead(south, 2)
    patient = world.patient("south")
    start = at(south, south_day, 10)
    body = {"patient_id": str(patient.pk), "kind": "preparation", "starts_at": start.isoformat()}
    api = world.api("therapist.north")
    before = denials()
    assert post(api, "/api/v1/appointments", body).status_code == 403
    assert denials() == before + 1
    visit = book(patient, start, "preparation")
    later = {"starts_at": at(south, south_day, 14).isoformat()}
    assert post(api, f"/api/v1/appointments/{visit.pk}/move", later).status_code == 403
    page = world.client("therapist.north")
    assert page.get(f"/schedule/appointments/{visit.pk}/").status_code == 200  # a nurse there reads it
    assert list(Appointment.objects.filter(patient=patient)) == [visit]
    # At north they book as before.
    assert own_booking(world, "therapist.north", at(north, day, 10)).status_code == 201


# --- Pages ------------------------------------------------------------------------------------------------


def test_a_therapist_books_from_their_calendar(world: World, north: ClinicLocation, day: int) -> None:
    page = world.client("therapist.north")
    calendar = page.get("/schedule/me/")
    assert calendar.status_code == 200 and b"Book a session" in calendar.content
    assert b"Book a session" not in world.client("nurse.north").get("/schedule/me/").content
    form = {
        "location": str(north.pk),
        "patient_mrn": world.patient("north").mrn,
        "kind": "integration",
        "date": local_day(north, day).isoformat(),
        "time": "10:00",
        "chair": str(room(north).pk),
    }
    done = page.post("/schedule/me/book/", form)
    assert done.status_code == 302, done.content[:400]
    visit = Appointment.objects.get()
    assert visit.clinician == world.user("therapist.north") and visit.kind == "integration"
    again = page.post("/schedule/me/book/", {**form, "patient_mrn": world.patient("north", 1).mrn})
    assert again.status_code == 409
    assert rules.CHAIR_OVERLAP.encode() in again.content
    assert rules.CLINICIAN_OVERLAP.encode() in again.content
    assert page.post("/schedule/me/book/", {**form, "kind": "esketamine_nasal"}).status_code == 403
    no_kind = page.post("/schedule/me/book/", {**form, "kind": ""})
    assert no_kind.status_code == 422 and b"Choose preparation or integration" in no_kind.content
    unknown = page.post("/schedule/me/book/", {**form, "patient_mrn": "NOPE"})
    assert unknown.status_code == 422 and b"No patient with this MRN" in unknown.content
    assert Appointment.objects.count() == 1
    # Its page: move and cancel; no check-in or no-show (front desk's), no override.
    shown = page.get(f"/schedule/appointments/{visit.pk}/")
    assert shown.status_code == 200
    assert b"Move the visit" in shown.content and b"Cancel visit" in shown.content
    assert b"No-show" not in shown.content and b"Check in" not in shown.content
    override = {"date": local_day(north, day).isoformat(), "time": "10:00", "override_reason": "Because"}
    assert page.post(f"/schedule/appointments/{visit.pk}/move/", override).status_code == 403
