"""The calendar's API: chairs, the schedule, booking with its refusals and overrides, courses booked as a
whole, cancellations and no-shows; who may do each, and bad input refused naming the field."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from ketaclinic.accounts.actions import do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.scheduling.models import Appointment, AppointmentKind, Closure, Shift
from ketaclinic.scheduling.tests.helpers import (
    at,
    book,
    future_plan,
    holiday_ahead,
    local_day,
    room,
    weekday_ahead,
)

if TYPE_CHECKING:
    from django.test import Client

    from conftest import World


def post(client: Client, url: str, body: Any, **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def consult(
    world: World, north: ClinicLocation, days: int = 2, hour: int = 10, **more: Any
) -> dict[str, Any]:
    patient = world.patient("north")
    return {
        "patient_id": str(patient.pk),
        "kind": "consultation",
        "starts_at": at(north, days, hour).isoformat(),
        **more,
    }


# --- Chairs and the schedule -------------------------------------------------------------------------------


def test_chairs_of_the_callers_location(world: World, north: ClinicLocation) -> None:
    response = world.api("frontdesk.north").get("/api/v1/chairs")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 8 and {i["kind"] for i in body["items"]} == {"chair", "room"}
    assert set(body["items"][0]) == {"id", "name", "kind"}
    assert world.api("frontdesk.north").get(f"/api/v1/chairs?location_id={north.pk}").json() == body
    south = ClinicLocation.objects.get(slug="south")
    assert world.api("frontdesk.north").get(f"/api/v1/chairs?location_id={south.pk}").status_code == 404
    assert world.api(None).get("/api/v1/chairs").status_code == 401


def test_schedule_lists_the_locations_appointments(world: World, north: ClinicLocation) -> None:
    made = book(world.patient("north"), at(north, 2))
    south = ClinicLocation.objects.get(slug="south")
    book(world.patient("south"), at(south, weekday_ahead(south)))
    for who in ("frontdesk.north", "nurse.north", "prescriber.north"):
        response = world.api(who).get(f"/api/v1/schedule?start={local_day(north, 0)}&days=7")
        assert response.status_code == 200, who
        items = response.json()["appointments"]
        assert [i["id"] for i in items] == [str(made.pk)]
        assert set(items[0]) >= {"id", "patient_id", "kind", "starts_at", "ends_at", "chair", "status"}
    assert (
        world.api("therapist.north").get(f"/api/v1/schedule?start={local_day(north, 0)}").status_code == 403
    )
    assert world.api("admin.north").get(f"/api/v1/schedule?start={local_day(north, 0)}").status_code == 403
    elsewhere = world.api("frontdesk.south").get(
        f"/api/v1/schedule?start={local_day(north, 0)}&location_id={north.pk}"
    )
    assert elsewhere.status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-13-01", "start"),
        # Digits are not a day (pydantic would read them as seconds since 1970).
        ("start=0", "start"),
        ("start=20261201", "start"),
        ("start=2026-12-01&days=0", "days"),
        ("start=2026-12-01&days=99", "days"),
        ("", "start"),
    ],
)
def test_schedule_bad_query_names_the_field(
    world: World, north: ClinicLocation, query: str, field: str
) -> None:
    response = world.api("frontdesk.north").get(f"/api/v1/schedule?{query}")
    assert response.status_code == 422
    assert any(field in key for key in response.json()["errors"]), response.json()


# --- Booking ---------------------------------------------------------------------------------------------


def test_book_a_visit(world: World, north: ClinicLocation) -> None:
    response = post(world.api("frontdesk.north"), "/api/v1/appointments", consult(world, north))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "booked" and body["kind"] == "consultation"
    starts, ends = dt.datetime.fromisoformat(body["starts_at"]), dt.datetime.fromisoformat(body["ends_at"])
    assert ends - starts == dt.timedelta(minutes=60)
    assert body["chair"] == room(north).pk  # the first free room that suits a consultation
    assert response["Location"] == f"/api/v1/appointments/{body['id']}"
    event = AuditEvent.objects.filter(action="schedule.book").get()
    assert event.object_id == body["id"]


def test_overlap_is_refused_naming_the_rule_and_nothing_is_saved(world: World, north: ClinicLocation) -> None:
    api = world.api("frontdesk.north")
    first = post(api, "/api/v1/appointments", consult(world, north, chair=room(north).pk))
    assert first.status_code == 201
    other = world.patient("north", 1)
    body = {**consult(world, north, chair=room(north).pk), "patient_id": str(other.pk)}
    response = post(api, "/api/v1/appointments", body)
    assert response.status_code == 409
    answer = response.json()
    assert answer["detail"] and [c["rule_id"] for c in answer["conflicts"]] == ["SCHED-CHAIR-OVERLAP"]
    assert Appointment.objects.count() == 1


def test_an_override_books_it_with_the_reason_and_is_audited(world: World, north: ClinicLocation) -> None:
    api = world.api("frontdesk.north")
    post(api, "/api/v1/appointments", consult(world, north, chair=room(north).pk))
    other = world.patient("north", 1)
    body = {
        **consult(world, north, chair=room(north).pk),
        "patient_id": str(other.pk),
        "override_reason": "Shared room for a family meeting",
    }
    response = post(api, "/api/v1/appointments", body)
    assert response.status_code == 201
    assert response.json()["overridden_rules"] == ["SCHED-CHAIR-OVERLAP"]
    saved = Appointment.objects.get(pk=response.json()["id"])
    assert saved.override_reason == "Shared room for a family meeting"
    event = AuditEvent.objects.get(action="schedule.override")
    assert event.changed_fields == ["SCHED-CHAIR-OVERLAP"] and event.patient_id == other.pk
    assert "family" not in json.dumps(event.changed_fields)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"days": -1}, "SCHED-START-PAST"),
        ({"hour": 6}, "SCHED-OPENING-HOURS"),
        ({}, "SCHED-CLOSURE"),  # the demo's holiday at north
    ],
)
def test_each_rule_refuses_through_the_api(
    world: World, north: ClinicLocation, change: dict[str, int], rule: str
) -> None:
    if rule == "SCHED-CLOSURE":
        change = {"days": holiday_ahead(north)}
    response = post(world.api("frontdesk.north"), "/api/v1/appointments", consult(world, north, **change))
    assert response.status_code == 409
    assert rule in [c["rule_id"] for c in response.json()["conflicts"]]
    assert not Appointment.objects.exists()


def test_a_chair_of_another_location_is_refused(world: World, north: ClinicLocation) -> None:
    south = ClinicLocation.objects.get(slug="south")
    response = post(
        world.api("frontdesk.north"), "/api/v1/appointments", consult(world, north, chair=room(south).pk)
    )
    assert response.status_code == 409
    assert "SCHED-CHAIR-LOCATION" in [c["rule_id"] for c in response.json()["conflicts"]]


def test_dosing_visits_need_the_nurse_ratio_set(world: World) -> None:
    south = ClinicLocation.objects.get(slug="south")  # no ratio set there
    patient = world.patient("south")
    start = at(south, weekday_ahead(south))
    body = {"patient_id": str(patient.pk), "kind": "iv_ketamine", "starts_at": start.isoformat()}
    response = post(world.api("frontdesk.south"), "/api/v1/appointments", body)
    assert response.status_code == 409
    assert [c["rule_id"] for c in response.json()["conflicts"]] == ["SCHED-NURSE-RATIO"]


def test_nurse_ratio_over_time_through_the_api(world: World, north: ClinicLocation) -> None:
    """North has one nurse on duty and a ratio of 2: a third IV at once is refused."""
    api = world.api("frontdesk.north")
    for index in range(2):
        body = {
            "patient_id": str(world.patient("north", index).pk),
            "kind": "iv_ketamine",
            "starts_at": at(north, 2).isoformat(),
        }
        assert post(api, "/api/v1/appointments", body).status_code == 201
    body = {
        "patient_id": str(world.patient("north", 2).pk),
        "kind": "iv_ketamine",
        "starts_at": at(north, 2, 11).isoformat(),
    }
    response = post(api, "/api/v1/appointments", body)
    assert [c["rule_id"] for c in response.json()["conflicts"]] == ["SCHED-NURSE-RATIO"]


def test_esketamine_needs_rems_enrolment_and_a_prescriber_present(
    world: World, north: ClinicLocation
) -> None:
    patient = world.patient("north", 3)
    Shift.objects.filter(location=north, kind="prescriber").delete()
    body = {"patient_id": str(patient.pk), "kind": "esketamine_nasal", "starts_at": at(north, 2).isoformat()}
    response = post(world.api("frontdesk.north"), "/api/v1/appointments", body)
    rules = {c["rule_id"] for c in response.json()["conflicts"]}
    assert response.status_code == 409
    assert "REMS-SETTING" in rules
    from ketaclinic.screening.queries import rems_enrolment

    if rems_enrolment(patient) is None:
        assert "REMS-ENROL-BEFORE-FIRST" in rules


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "massage"}, "kind"),
        ({"starts_at": "2026-12-01T10:00:00"}, "starts_at"),
        ({"starts_at": "soon"}, "starts_at"),
        ({"chair": "1"}, "chair"),
        ({"patient_id": "not-a-uuid"}, "patient_id"),
        ({"colour": "red"}, "colour"),
        ({"override_reason": "x" * 301}, "override_reason"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    world: World, north: ClinicLocation, change: dict[str, Any], field: str
) -> None:
    response = post(world.api("frontdesk.north"), "/api/v1/appointments", {**consult(world, north), **change})
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert not Appointment.objects.exists()


def test_a_missing_chair_id_is_named(world: World, north: ClinicLocation) -> None:
    response = post(world.api("frontdesk.north"), "/api/v1/appointments", consult(world, north, chair=999999))
    assert response.status_code == 422 and "chair" in response.json()["errors"]


def test_an_idempotent_booking_books_once(world: World, north: ClinicLocation) -> None:
    api = world.api("frontdesk.north")
    first = post(api, "/api/v1/appointments", consult(world, north), **{"Idempotency-Key": "book-1"})
    again = post(api, "/api/v1/appointments", consult(world, north), **{"Idempotency-Key": "book-1"})
    assert first.status_code == again.status_code == 201 and first.content == again.content
    assert Appointment.objects.count() == 1


# --- Who may book ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("nurse.north", 403),
        ("prescriber.north", 403),
        ("therapist.north", 403),
        ("admin.north", 403),
        ("frontdesk.south", 404),
        (None, 401),
    ],
)
def test_only_the_front_desk_of_the_patients_location_books(
    world: World, north: ClinicLocation, who: str | None, status: int
) -> None:
    response = post(world.api(who), "/api/v1/appointments", consult(world, north))
    assert response.status_code == status
    assert not Appointment.objects.exists()
    assert world.patient("north").family_name.encode() not in response.content


def test_a_writer_here_and_reader_there_books_only_here(world: World, north: ClinicLocation) -> None:
    """Front desk at north who is a nurse at south: books at north, reads south's calendar, books nothing
    there."""
    south = ClinicLocation.objects.get(slug="south")
    desk = world.user("frontdesk.north")
    do_grant_role(desk, south, "nurse", actor=world.user("admin.south"))
    api = world.api("frontdesk.north")
    assert post(api, "/api/v1/appointments", consult(world, north)).status_code == 201
    body = {
        "patient_id": str(world.patient("south").pk),
        "kind": "consultation",
        "starts_at": at(south, weekday_ahead(south)).isoformat(),
    }
    assert post(api, "/api/v1/appointments", body).status_code == 403
    assert api.get(f"/api/v1/schedule?start={local_day(south, 0)}&location_id={south.pk}").status_code == 200
    assert Appointment.objects.count() == 1


def test_another_patients_session_under_a_visible_patient_is_not_found(
    world: World, north: ClinicLocation
) -> None:
    other = world.patient("north", 1)
    plan = future_plan(other, 2)
    session = plan.sessions.order_by("number").first()
    assert session is not None
    body = {**consult(world, north), "kind": "iv_ketamine", "session_id": str(session.pk)}
    before = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    response = post(world.api("frontdesk.north"), "/api/v1/appointments", body)
    assert response.status_code == 404
    assert not Appointment.objects.exists()
    denial = AuditEvent.objects.filter(outcome=Outcome.DENIED).order_by("-seq").first()
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == before + 1
    assert denial is not None and denial.patient_id == world.patient("north").pk


# --- Courses ---------------------------------------------------------------------------------------------


def test_a_course_books_every_session_and_reports_the_holiday(world: World, north: ClinicLocation) -> None:
    patient = world.patient("north", 1)
    plan = future_plan(patient, 2)
    sessions = list(plan.sessions.order_by("number"))
    holiday = sessions[2].date
    Closure.objects.create(location=north, date=holiday, reason="Holiday")
    body = {"first_starts_at": at(north, 2, 11).isoformat()}
    response = post(world.api("frontdesk.north"), f"/api/v1/treatment-plans/{plan.pk}/bookings", body)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert len(answer["booked"]) + len(answer["unbooked"]) == len(sessions)
    assert [u["session_id"] for u in answer["unbooked"]] == [str(sessions[2].pk)]
    assert (
        answer["unbooked"][0]["rule_id"] == "SCHED-CLOSURE"
        and holiday.isoformat() in answer["unbooked"][0]["reason"]
    )
    assert {b["session_id"] for b in answer["booked"]} == {str(s.pk) for s in sessions} - {
        str(sessions[2].pk)
    }
    # Same slot: every visit at 11:00 local in one chair.
    assert len({b["chair"] for b in answer["booked"]}) == 1
    assert AuditEvent.objects.filter(action="schedule.course_book").count() == 1


def test_a_course_fills_the_day_when_not_the_same_slot(world: World, north: ClinicLocation) -> None:
    plan = future_plan(world.patient("north", 1), 2)
    sessions = list(plan.sessions.order_by("number"))
    # Every chair taken at 11:00 on the second session's day: the visit moves to another time that day.
    other = world.patient("north", 2)
    book(
        other,
        at(north, 0, 11) + dt.timedelta(days=(sessions[1].date - local_day(north, 0)).days),
        kind="iv_ketamine",
    )
    body = {"first_starts_at": at(north, 2, 11).isoformat(), "same_slot": False}
    response = post(world.api("frontdesk.north"), f"/api/v1/treatment-plans/{plan.pk}/bookings", body)
    assert response.status_code == 201
    assert response.json()["unbooked"] == []


def test_a_course_checks_day_gaps_against_visits_already_booked(world: World, north: ClinicLocation) -> None:
    plan = future_plan(world.patient("north", 1), 2)
    sessions = list(plan.sessions.order_by("number"))
    desk = world.user("frontdesk.north")
    from ketaclinic.scheduling import actions
    from ketaclinic.scheduling.inputs import AppointmentIn

    # Session 2 booked (with an override) the day after session 1's day: session 1 can no longer be booked.
    start = dt.datetime.combine(
        sessions[0].date + dt.timedelta(days=1), dt.time(11), tzinfo=at(north, 0).tzinfo
    )
    data = AppointmentIn(
        patient_id=plan.patient_id,
        kind=AppointmentKind.IV_KETAMINE,
        starts_at=start,
        session_id=sessions[1].pk,
        override_reason="Patient's request",
    )
    sessions[1].plan = plan
    actions.do_book_appointment(plan.patient, data, actor=desk, session=sessions[1])
    body = {"first_starts_at": at(north, 2, 11).isoformat()}
    response = post(world.api("frontdesk.north"), f"/api/v1/treatment-plans/{plan.pk}/bookings", body)
    unbooked = response.json()["unbooked"]
    assert (
        unbooked[0]["session_id"] == str(sessions[0].pk) and unbooked[0]["rule_id"] == "PROTO-SESSION-SPACING"
    )


def test_a_course_first_start_must_be_on_the_first_sessions_day(world: World, north: ClinicLocation) -> None:
    plan = future_plan(world.patient("north", 1), 2)
    body = {"first_starts_at": at(north, 3, 11).isoformat()}
    response = post(world.api("frontdesk.north"), f"/api/v1/treatment-plans/{plan.pk}/bookings", body)
    assert response.status_code == 422 and "first_starts_at" in response.json()["errors"]
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("nurse.north", 403), ("frontdesk.south", 404), (None, 401)])
def test_only_the_front_desk_books_a_course(
    world: World, north: ClinicLocation, who: str | None, status: int
) -> None:
    plan = future_plan(world.patient("north", 1), 2)
    body = {"first_starts_at": at(north, 2, 11).isoformat()}
    assert post(world.api(who), f"/api/v1/treatment-plans/{plan.pk}/bookings", body).status_code == status
    assert not Appointment.objects.exists()


# --- Cancel and no-show ----------------------------------------------------------------------------------


def test_cancel_frees_the_chair(world: World, north: ClinicLocation) -> None:
    made = book(world.patient("north"), at(north, 2), chair=room(north).pk)
    api = world.api("frontdesk.north")
    assert post(api, f"/api/v1/appointments/{made.pk}/cancel", {}).status_code == 422
    response = post(api, f"/api/v1/appointments/{made.pk}/cancel", {"reason": "Unwell"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = post(
        api,
        "/api/v1/appointments",
        {**consult(world, north, chair=room(north).pk), "patient_id": str(world.patient("north", 1).pk)},
    )
    assert again.status_code == 201
    assert post(api, f"/api/v1/appointments/{made.pk}/cancel", {"reason": "Twice"}).status_code == 422


def test_no_show_only_once_the_visit_has_started(
    world: World, north: ClinicLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = book(world.patient("north"), at(north, 2))
    api = world.api("frontdesk.north")
    assert post(api, f"/api/v1/appointments/{made.pk}/no-show", {}).status_code == 422
    later = made.starts_at + dt.timedelta(minutes=20)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = post(api, f"/api/v1/appointments/{made.pk}/no-show", {})
    assert response.status_code == 200 and response.json()["status"] == "noshow"


@pytest.mark.parametrize("action", ["cancel", "no-show"])
@pytest.mark.parametrize(("who", "status"), [("nurse.north", 403), ("frontdesk.south", 404), (None, 401)])
def test_who_may_cancel_or_record_a_no_show(
    world: World, north: ClinicLocation, action: str, who: str | None, status: int
) -> None:
    made = book(world.patient("north"), at(north, 2))
    response = post(
        world.api(who),
        f"/api/v1/appointments/{made.pk}/{action}",
        {"reason": "x"} if action == "cancel" else {},
    )
    assert response.status_code == status
    made.refresh_from_db()
    assert made.status == "booked"


def test_an_unknown_appointment_is_not_found(world: World, north: ClinicLocation) -> None:
    api = world.api("frontdesk.north")
    assert (
        post(
            api, "/api/v1/appointments/00000000-0000-4000-8000-000000000000/cancel", {"reason": "x"}
        ).status_code
        == 404
    )
    assert post(api, "/api/v1/appointments/nope/no-show", {}).status_code == 404


def test_the_openapi_document_names_the_contract() -> None:
    from ketaclinic.api.app import api

    schema = api.get_openapi_schema()
    paths = schema["paths"]
    assert set(paths["/api/v1/appointments"]["post"]["responses"]) >= {201, 409, 422, 403, 404}
    conflict = paths["/api/v1/appointments"]["post"]["responses"][409]["content"]["application/json"][
        "schema"
    ]
    assert conflict["$ref"].endswith("ConflictsOut")
    assert set(schema["components"]["schemas"]["ConflictsOut"]["properties"]) >= {"detail", "conflicts"}
    course = schema["components"]["schemas"]["CourseOut"]["properties"]
    assert set(course) == {"booked", "unbooked"}
    unbooked = schema["components"]["schemas"]["UnbookedOut"]["properties"]
    assert {"session_id", "reason"} <= set(unbooked)
    appointment = schema["components"]["schemas"]["AppointmentOut"]["properties"]
    assert {"id", "patient_id", "kind", "starts_at", "ends_at", "chair", "status"} <= set(appointment)
    body = schema["components"]["schemas"]["AppointmentIn"]["properties"]
    # The contract's fields, and the therapist a therapy session is with (front desk booking for them).
    contract = {"patient_id", "kind", "starts_at", "chair", "session_id", "override_reason"}
    assert contract | {"clinician_id"} == set(body)
    assert set(schema["components"]["schemas"]["CourseBookingIn"]["properties"]) == {
        "first_starts_at",
        "same_slot",
    }
    for path in ("/api/v1/chairs", "/api/v1/schedule"):
        assert "get" in paths[path]
    assert "post" in paths["/api/v1/treatment-plans/{plan_id}/bookings"]
    assert "post" in paths["/api/v1/appointments/{appointment_id}/cancel"]
    assert "post" in paths["/api/v1/appointments/{appointment_id}/no-show"]


def test_a_draft_plan_has_no_course_to_book(world: World, north: ClinicLocation) -> None:
    plan = future_plan(world.patient("north", 1), 2, approve=False)
    body = {"first_starts_at": at(north, 2, 11).isoformat()}
    response = post(world.api("frontdesk.north"), f"/api/v1/treatment-plans/{plan.pk}/bookings", body)
    assert response.status_code == 422 and "plan" in response.json()["errors"]
    assert not Appointment.objects.exists()


def test_the_schedule_reads_in_a_fixed_number_of_queries(world: World, north: ClinicLocation) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api, page = world.api("nurse.north"), world.client("nurse.north")
    url = f"/api/v1/schedule?start={local_day(north, 2)}&days=1"
    page_url = f"/schedule/?location={north.pk}&start={local_day(north, 2)}"
    plan = future_plan(world.patient("north", 1), 2)
    body = {"first_starts_at": at(north, 2, 8).isoformat()}
    assert (
        post(world.api("frontdesk.north"), f"/api/v1/treatment-plans/{plan.pk}/bookings", body).status_code
        == 201
    )
    counts = []
    for extra in range(3):
        book(world.patient("north", 2 + extra % 2), at(north, 2, 12 + extra), chair=room(north).pk)
        api.get(url)  # warm the token, session and policy caches
        page.get(page_url)
        with CaptureQueriesContext(connection) as api_queries:
            assert api.get(url).status_code == 200
        with CaptureQueriesContext(connection) as page_queries:
            assert page.get(page_url).status_code == 200
        counts.append((len(api_queries), len(page_queries)))
    assert counts[0] == counts[1] == counts[2], counts
