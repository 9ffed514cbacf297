"""The week's proposals through the API and the pages: asked for by front desk and solved in the task runner
(immediate in tests), accepted whole or in part through the booking action after the checker re-verifies
each visit; who may do each; bad input refused naming the field, nothing saved."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from ketaclinic.accounts.actions import do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.scheduling import actions, proposals
from ketaclinic.scheduling.inputs import AppointmentIn
from ketaclinic.scheduling.models import (
    HOLDING,
    Appointment,
    Proposal,
    ProposalStatus,
    ProposedVisit,
)
from ketaclinic.scheduling.tests.helpers import book, future_plan, local_day, set_ratio
from ketaclinic.treatment.models import TreatmentPlan

if TYPE_CHECKING:
    from django.test import Client

    from conftest import World

URL = "/api/v1/schedule/proposals"
CONTRACT = {"id", "placed", "unplaced", "proven_optimal", "objective", "greedy_objective", "appointments"}


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def plan(world: World, north: ClinicLocation) -> TreatmentPlan:
    return future_plan(world.patient("north", 1), 2)


def ask(world: World, north: ClinicLocation, who: str = "frontdesk.north", **more: Any) -> Any:
    body = {"week_start": local_day(north, 2).isoformat(), "time_limit_seconds": 2, **more}
    return post(world.api(who), URL, body)


def week_sessions(plan: TreatmentPlan, north: ClinicLocation) -> set[str]:
    first = local_day(north, 2)
    return {str(s.pk) for s in plan.sessions.all() if 0 <= (s.date - first).days < 7}


def test_a_proposal_places_the_weeks_sessions_and_accepting_books_them(
    world: World, north: ClinicLocation, plan: TreatmentPlan
) -> None:
    response = ask(world, north)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= CONTRACT and body["status"] == "ready"
    assert response["Location"] == f"{URL}/{body['id']}"
    wanted = week_sessions(plan, north)
    assert wanted and {a["session_id"] for a in body["appointments"]} == wanted
    assert body["placed"] == len(wanted) and body["unplaced"] == []
    assert body["proven_optimal"] is True and body["objective"] >= body["greedy_objective"] > 0
    assert {a["status"] for a in body["appointments"]} == {"proposed"}
    assert not Appointment.objects.filter(session__plan=plan).exists()  # nothing booked by asking
    assert AuditEvent.objects.filter(action="schedule.proposal").count() == 1

    accepted = post(world.api("frontdesk.north"), f"{URL}/{body['id']}/accept", {})
    assert accepted.status_code == 200, accepted.content
    done = accepted.json()
    assert done["status"] == "accepted" and {a["status"] for a in done["appointments"]} == {"booked"}
    booked = Appointment.objects.filter(session__plan=plan, status__in=HOLDING)
    assert {str(a.session_id) for a in booked} == wanted
    assert {str(a.pk) for a in booked} == {a["appointment_id"] for a in done["appointments"]}
    assert AuditEvent.objects.filter(action="schedule.book").count() == len(wanted)
    event = AuditEvent.objects.get(action="schedule.proposal_accept")
    assert event.changed_fields == [f"booked:{len(wanted)}", "refused:0"]
    # Accepted already: a second acceptance is refused, naming why.
    again = post(world.api("frontdesk.north"), f"{URL}/{body['id']}/accept", {})
    assert again.status_code == 422 and "proposal" in again.json()["errors"]


def test_a_proposal_never_moves_a_booked_visit_and_asks_only_for_the_rest(
    world: World, north: ClinicLocation, plan: TreatmentPlan
) -> None:
    first = plan.sessions.order_by("number").first()
    assert first is not None
    start = dt.datetime.combine(first.date, dt.time(9), tzinfo=location_zone(north))
    desk = world.user("frontdesk.north")
    data = AppointmentIn(patient_id=plan.patient_id, kind="iv_ketamine", starts_at=start)  # type: ignore[arg-type]
    kept = actions.do_book_appointment(plan.patient, data, actor=desk, session=first)
    body = ask(world, north).json()
    assert str(first.pk) not in {a["session_id"] for a in body["appointments"]}
    kept.refresh_from_db()
    assert kept.starts_at == start and kept.status == "booked"
    later = [a for a in body["appointments"] if a["session_id"]]
    assert all(a["starts_at"] >= start.isoformat() for a in later)


def test_accepting_in_part_books_only_those_named(
    world: World, north: ClinicLocation, plan: TreatmentPlan
) -> None:
    body = ask(world, north).json()
    one = body["appointments"][0]
    response = post(
        world.api("frontdesk.north"), f"{URL}/{body['id']}/accept", {"appointment_ids": [one["id"]]}
    )
    assert response.status_code == 200
    statuses = {a["id"]: a["status"] for a in response.json()["appointments"]}
    assert statuses[one["id"]] == "booked"
    assert [s for i, s in statuses.items() if i != one["id"]] == ["proposed"] * (len(statuses) - 1)
    assert response.json()["status"] == "ready"
    assert Appointment.objects.filter(session__plan=plan).count() == 1


def test_accepting_rechecks_every_visit_with_the_calendar_as_it_is_now(
    world: World, north: ClinicLocation, plan: TreatmentPlan
) -> None:
    body = ask(world, north).json()
    first = min(body["appointments"], key=lambda a: a["starts_at"])
    # Meanwhile the patient was booked for a consultation at that very time.
    clash = dt.datetime.fromisoformat(first["starts_at"])
    book(plan.patient, clash, "consultation")
    response = post(world.api("frontdesk.north"), f"{URL}/{body['id']}/accept", {})
    assert response.status_code == 200
    refused = {a["id"]: a for a in response.json()["appointments"] if a["status"] == "refused"}
    assert set(refused) == {first["id"]}
    assert refused[first["id"]]["reason"].startswith("SCHED-PATIENT-OVERLAP")
    assert not Appointment.objects.filter(session_id=first["session_id"]).exists()
    event = AuditEvent.objects.get(action="schedule.proposal_accept")
    assert event.changed_fields[1] == "refused:1"


def test_unplaced_sessions_say_why(world: World, north: ClinicLocation, plan: TreatmentPlan) -> None:
    set_ratio(north, 1)
    from ketaclinic.scheduling.models import Shift

    Shift.objects.filter(location=north, kind="nurse").delete()  # no nurse on duty: no dosing visit fits
    body = ask(world, north).json()
    assert body["placed"] == 0 and body["appointments"] == []
    assert {u["session_id"] for u in body["unplaced"]} == week_sessions(plan, north)
    assert all(u["reason"] and u["patient_id"] == str(plan.patient_id) for u in body["unplaced"])


def test_the_time_limit_is_cut_to_the_maximum(world: World, north: ClinicLocation) -> None:
    body = ask(world, north, time_limit_seconds=3600).json()
    assert body["time_limit_seconds"] == 60.0


def test_a_proposal_still_solving_says_so(world: World, north: ClinicLocation) -> None:
    made = proposals.do_request_proposal(
        north,
        proposals.ProposalIn(week_start=local_day(north, 2)),
        actor=world.user("frontdesk.north"),
    )
    response = world.api("frontdesk.north").get(f"{URL}/{made.pk}")
    assert response.status_code == 200 and response.json()["status"] == "solving"
    accept = post(world.api("frontdesk.north"), f"{URL}/{made.pk}/accept", {})
    assert accept.status_code == 422
    page = world.client("frontdesk.north").get(f"/schedule/proposals/{made.pk}/")
    assert b"Solving" in page.content and b'http-equiv="refresh"' in page.content
    # The task runner's run: solving twice stores one answer.
    proposals.do_solve(made)
    proposals.do_solve(made)
    assert Proposal.objects.get(pk=made.pk).status == ProposalStatus.READY
    proposals.do_fail(made.pk)  # a proposal solved already is not marked failed
    assert Proposal.objects.get(pk=made.pk).status == ProposalStatus.READY


# --- Who may ask and accept --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["nurse.north", "prescriber.north", "therapist.north", "admin.north"])
def test_only_front_desk_asks(world: World, north: ClinicLocation, who: str) -> None:
    denied = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    assert ask(world, north, who).status_code == 403
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denied + 1
    assert not Proposal.objects.exists()


def test_anonymous_is_refused(world: World, north: ClinicLocation) -> None:
    anonymous = world.api(None)
    assert post(anonymous, URL, {"week_start": local_day(north, 2).isoformat()}).status_code == 401
    assert world.client(None).get("/schedule/proposals/").status_code == 302
    assert not Proposal.objects.exists()


def test_another_locations_proposal_does_not_exist(
    world: World, north: ClinicLocation, plan: TreatmentPlan
) -> None:
    body = ask(world, north).json()
    south_desk = world.api("frontdesk.south")
    assert south_desk.get(f"{URL}/{body['id']}").status_code == 404
    assert post(south_desk, f"{URL}/{body['id']}/accept", {}).status_code == 404
    assert world.client("frontdesk.south").get(f"/schedule/proposals/{body['id']}/").status_code == 404
    assert (
        post(
            south_desk, f"{URL}?location_id={north.pk}", {"week_start": local_day(north, 2).isoformat()}
        ).status_code
        == 404
    )
    assert not Appointment.objects.exists() and Proposal.objects.count() == 1
    assert plan.patient.family_name.encode() not in south_desk.get(f"{URL}/{body['id']}").content


def test_front_desk_here_and_nurse_there_may_only_ask_here(
    world: World, north: ClinicLocation, plan: TreatmentPlan
) -> None:
    south = ClinicLocation.objects.get(slug="south")
    body = ask(world, north).json()
    nurse = world.user("frontdesk.south")
    do_grant_role(nurse, north, "nurse", actor=world.user("admin.north"))
    api = world.api("frontdesk.south")
    assert (
        post(
            api, f"{URL}?location_id={south.pk}", {"week_start": local_day(south, 2).isoformat()}
        ).status_code
        == 201
    )
    assert (
        post(
            api, f"{URL}?location_id={north.pk}", {"week_start": local_day(north, 2).isoformat()}
        ).status_code
        == 403
    )
    assert post(api, f"{URL}/{body['id']}/accept", {}).status_code == 403
    assert not Appointment.objects.filter(location=north).exists()


def test_another_proposals_visit_cannot_be_accepted_under_this_one(
    world: World, north: ClinicLocation, plan: TreatmentPlan
) -> None:
    first = ask(world, north).json()
    second = ask(world, north).json()
    foreign = first["appointments"][0]["id"]
    response = post(
        world.api("frontdesk.north"), f"{URL}/{second['id']}/accept", {"appointment_ids": [foreign]}
    )
    assert response.status_code == 422 and "appointment_ids" in response.json()["errors"]
    assert not Appointment.objects.exists()


# --- Bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"week_start": "0"}, "week_start"),
        ({"week_start": "2026-02-30"}, "week_start"),
        ({}, "week_start"),
        ({"week_start": "2030-01-07", "time_limit_seconds": -1}, "time_limit_seconds"),
        ({"week_start": "2030-01-07", "time_limit_seconds": "10"}, "time_limit_seconds"),
        ({"week_start": "2030-01-07", "weeks": 2}, "weeks"),
    ],
)
def test_bad_input_names_the_field(
    world: World, north: ClinicLocation, body: dict[str, Any], field: str
) -> None:
    response = post(world.api("frontdesk.north"), URL, body)
    assert response.status_code == 422 and response["Content-Type"].startswith("application/json")
    assert field in json.dumps(response.json())
    assert not Proposal.objects.exists()


def test_a_week_that_is_over_is_refused(world: World, north: ClinicLocation) -> None:
    response = post(world.api("frontdesk.north"), URL, {"week_start": local_day(north, -8).isoformat()})
    assert response.status_code == 422 and "week_start" in response.json()["errors"]
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("body", [{"appointment_ids": []}, {"appointment_ids": ["x"]}, {"all": True}])
def test_bad_acceptance_names_the_field(
    world: World, north: ClinicLocation, plan: TreatmentPlan, body: dict[str, Any]
) -> None:
    made = ask(world, north).json()
    response = post(world.api("frontdesk.north"), f"{URL}/{made['id']}/accept", body)
    assert response.status_code == 422
    assert next(iter(body)) in json.dumps(response.json())
    assert not Appointment.objects.exists()


def test_an_unknown_proposal_is_not_found(world: World, north: ClinicLocation) -> None:
    api = world.api("frontdesk.north")
    assert api.get(f"{URL}/{uuid.uuid4()}").status_code == 404
    assert api.get(f"{URL}/not-a-uuid").status_code == 404


# --- Pages -------------------------------------------------------------------------------------------------


def test_front_desk_asks_sees_and_accepts_on_the_pages(
    world: World, north: ClinicLocation, plan: TreatmentPlan
) -> None:
    page = world.client("frontdesk.north")
    form = page.get(f"/schedule/proposals/?location={north.pk}")
    assert form.status_code == 200 and b"Ask for the proposal" in form.content
    asked = page.post(
        "/schedule/proposals/",
        {"location": north.pk, "week_start": local_day(north, 2).isoformat(), "time_limit_seconds": "2"},
    )
    assert asked.status_code == 302
    made = Proposal.objects.get()
    assert asked["Location"] == f"/schedule/proposals/{made.pk}/"
    shown = page.get(asked["Location"])
    assert shown.status_code == 200 and plan.patient.family_name.encode() in shown.content
    assert b"Accept all" in shown.content
    visits = list(ProposedVisit.objects.filter(proposal=made))
    ticked = page.post(f"/schedule/proposals/{made.pk}/accept/", {"visit": [str(visits[0].pk)]})
    assert ticked.status_code == 200 and b"Accepted" in ticked.content
    assert Appointment.objects.filter(session__plan=plan).count() == 1
    everything = page.post(f"/schedule/proposals/{made.pk}/accept/", {"all": "1"})
    assert everything.status_code == 200
    assert Appointment.objects.filter(session__plan=plan).count() == len(visits)
    listed = page.get(f"/schedule/proposals/?location={north.pk}")
    assert b"Accepted" in listed.content


def test_the_pages_refuse_bad_input_naming_the_field(
    world: World, north: ClinicLocation, plan: TreatmentPlan
) -> None:
    page = world.client("frontdesk.north")
    bad = page.post("/schedule/proposals/", {"location": north.pk, "week_start": "soon"})
    assert bad.status_code == 422 and b"Week starting" in bad.content
    slow = page.post(
        "/schedule/proposals/",
        {"location": north.pk, "week_start": local_day(north, 2).isoformat(), "time_limit_seconds": "x"},
    )
    assert slow.status_code == 422 and b"Time limit" in slow.content
    assert not Proposal.objects.exists()
    made = ask(world, north).json()
    nothing = page.post(f"/schedule/proposals/{made['id']}/accept/", {})
    assert nothing.status_code == 422 and b"tick the visits" in nothing.content.lower()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("who", ["nurse.north", "prescriber.north", "therapist.north", "admin.north"])
def test_the_pages_are_front_desks(
    world: World, north: ClinicLocation, plan: TreatmentPlan, who: str
) -> None:
    made = ask(world, north).json()
    client = world.client(who)
    assert client.get("/schedule/proposals/").status_code == 403
    assert client.get(f"/schedule/proposals/{made['id']}/").status_code == 403
    assert client.post(f"/schedule/proposals/{made['id']}/accept/", {"all": "1"}).status_code == 403
    assert not Appointment.objects.exists()
