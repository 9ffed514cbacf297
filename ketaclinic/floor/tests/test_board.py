"""The floor board page and API: today's sessions per chair, each phase as the chart says, a flat number of
queries, and who may see it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.floor import queries
from ketaclinic.floor.tests.chart import STAGES, chart_session, make_chairs
from ketaclinic.patients.models import Patient

if TYPE_CHECKING:
    from conftest import World

PHASE_OF_STAGE = {
    "scheduled": "scheduled",
    "checked_in": "checked_in",
    "pre_dose": "pre_dose",
    "dosing": "dosing",
    "monitoring": "monitoring",
    "alert": "monitoring",
    "ready": "ready_for_discharge",
    "discharged": "discharged",
}


def _patients(location: str, count: int) -> list[Patient]:
    return list(Patient.objects.filter(location__slug=location).order_by("mrn")[:count])


def _floor(world: World, stages: tuple[str, ...] = STAGES, location: str = "north") -> dict[str, Any]:
    """One session per stage, each in its own chair, plus one free chair."""
    nurse = world.user(f"nurse.{location}")
    patient = world.patient(location)
    chairs = make_chairs(patient.location, len(stages) + 1)
    now = timezone.now()
    sessions = {
        stage: chart_session(patient, actor=nurse, now=now, stage=stage, chair=chairs[i])
        for i, stage in enumerate(stages)
    }
    return {"sessions": sessions, "chairs": chairs, "patient": patient}


def _api_sessions(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["session_id"]: s for row in body["rows"] for s in row["sessions"]}


def test_the_api_shows_each_session_in_its_phase_and_every_chair(world: World) -> None:
    made = _floor(world)
    response = world.api("nurse.north").get("/api/v1/floor?location=north")
    assert response.status_code == 200, response.content
    body = response.json()
    shown = _api_sessions(body)
    for stage, session in made["sessions"].items():
        assert shown[str(session.pk)]["phase"] == PHASE_OF_STAGE[stage], stage
    names = {row["chair"]["name"] for row in body["rows"]}
    assert names >= {c.name for c in made["chairs"]}
    free = made["chairs"][-1].name
    assert [row["sessions"] for row in body["rows"] if row["chair"]["name"] == free] == [[]]
    alert = shown[str(made["sessions"]["alert"].pk)]
    assert alert["open_alerts"] == 1
    monitoring = shown[str(made["sessions"]["monitoring"].pk)]
    assert monitoring["next_vital"]["point"] == "pre_discharge"
    assert monitoring["next_vital"]["overdue"] is False
    assert monitoring["discharge_allowed_at"] is not None
    pre = shown[str(made["sessions"]["pre_dose"].pk)]
    assert pre["next_vital"] is None  # the pre-dose reading is charted; nothing scheduled before the dose
    checked = shown[str(made["sessions"]["checked_in"].pk)]
    assert checked["next_vital"]["point"] == "pre_dose"
    assert checked["next_vital"]["due_at"] is None


def test_a_missed_reading_is_overdue(world: World) -> None:
    nurse = world.user("nurse.north")
    patient = world.patient("north")
    # 60 minutes after dosing the 40-minute reading is late; the alert stage charted it, monitoring too, so
    # chart the dose only and drop the post-dose reading.
    session = chart_session(patient, actor=nurse, now=timezone.now(), stage="monitoring")
    session.vitals.filter(time_point="post_dose").delete()
    later = timezone.now() + dt.timedelta(minutes=1)
    board = queries.board(patient.location, later)
    tile = next(t for r in board.rows for t in r.tiles if t.session.id == session.pk)
    assert tile.status.next_vital is not None
    assert tile.status.next_vital.point == "post_dose"
    assert tile.status.next_vital.overdue


def test_the_page_shows_the_board_and_writes_one_list_event(world: World) -> None:
    made = _floor(world)
    before = AuditEvent.objects.filter(action=Action.PATIENT_LIST).count()
    response = world.client("nurse.north").get("/floor/")
    assert response.status_code == 200
    html = response.content.decode()
    assert made["patient"].family_name in html
    for chair in made["chairs"]:
        assert chair.name in html
    for label in ("Checked in", "Pre-dose", "Dosing", "Monitoring", "Ready for discharge", "Discharged"):
        assert label in html
    assert "1 open alert" in html
    assert 'hx-trigger="every 10s"' in html
    assert "<script>" not in html  # no inline script (CSP)
    events = AuditEvent.objects.filter(action=Action.PATIENT_LIST).order_by("-seq")
    assert events.count() == before + 1
    assert events[0].location_id == made["patient"].location_id
    assert not AuditEvent.objects.filter(action=Action.PATIENT_READ, seq__gt=events[0].seq).exists()


def test_the_poll_answers_the_fragment_only(world: World) -> None:
    _floor(world, ("monitoring",))
    response = world.client("nurse.north").get("/floor/?location=north", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="floor-board"')
    assert "<html" not in html


def test_a_quiet_day_shows_every_chair_free(world: World) -> None:
    from ketaclinic.clinicpolicy.models import Chair

    response = world.client("nurse.south").get("/floor/")
    assert response.status_code == 200
    html = response.content.decode()
    chairs = Chair.objects.filter(location__slug="south", active=True).count()
    assert chairs > 0
    assert html.count('<p class="empty">Free</p>') == chairs
    assert "0 sessions" in html


def test_another_locations_sessions_are_not_on_the_board(world: World) -> None:
    made = _floor(world, ("monitoring",), location="south")
    body = world.api("nurse.north").get("/api/v1/floor").json()
    assert body["location"] == "north"
    assert str(made["sessions"]["monitoring"].pk) not in _api_sessions(body)


@pytest.mark.parametrize("slug", ["nowhere", "x" * 60])
def test_a_location_that_is_not_the_users_is_not_found_and_audited(world: World, slug: str) -> None:
    denied = AuditEvent.objects.filter(action=Action.ACCESS_DENIED).count()
    assert world.api("nurse.north").get(f"/api/v1/floor?location={slug}").status_code == 404
    assert world.client("nurse.north").get(f"/floor/?location={slug}").status_code == 404
    assert AuditEvent.objects.filter(action=Action.ACCESS_DENIED).count() == denied + 2


@pytest.mark.parametrize("slug", ["x" * 61, "north%00", "n%C3%B6rth", "a%20b"])
def test_the_api_refuses_what_cannot_be_a_location_slug_naming_the_field(world: World, slug: str) -> None:
    for path in (f"/api/v1/floor?location={slug}", f"/api/v1/rems/queue?location={slug}"):
        response = world.api("nurse.north").get(path)
        assert response.status_code == 422, path
        assert "location" in response.json()["errors"], path


def _board_queries(world: World) -> int:
    client = world.api("nurse.north")
    client.get("/api/v1/floor?location=north")  # warm: token, grants
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/floor?location=north").status_code == 200
    return len(ctx.captured_queries)


def test_the_boards_query_count_is_flat_in_the_number_of_sessions(world: World) -> None:
    nurse = world.user("nurse.north")
    location = world.patient("north").location
    chairs = make_chairs(location, 20)
    patients = _patients("north", 4)
    now = timezone.now()
    for i, stage in enumerate(STAGES):
        chart_session(patients[i % 4], actor=nurse, now=now, stage=stage, chair=chairs[i])
    few = _board_queries(world)
    for i in range(len(STAGES), 20):
        chart_session(patients[i % 4], actor=nurse, now=now, stage=STAGES[i % len(STAGES)], chair=chairs[i])
    many = _board_queries(world)
    assert few == many
    with CaptureQueriesContext(connection) as ctx:
        board = queries.board(location)
    assert board.sessions == 20
    assert len(ctx.captured_queries) == queries.BOARD_QUERIES


def test_the_board_and_the_session_agree_on_every_phase(world: World) -> None:
    """One rule (treatment.queries.stage_of) and one set of facts: the board reads them as plain rows, the
    session page and API from model instances. Every stage, plus the cases where the two used to differ
    (no ride home arranged; an IV infusion still running), must come out the same both ways."""
    from ketaclinic.treatment import queries as treatment
    from ketaclinic.treatment.models import PlanModality, PreDoseCheck

    nurse = world.user("nurse.north")
    patients = _patients("north", 4)
    now = timezone.now()
    sessions = [
        chart_session(patients[i % 4], actor=nurse, now=now, stage=stage) for i, stage in enumerate(STAGES)
    ]
    no_ride = chart_session(patients[0], actor=nurse, now=now, stage="ready")
    PreDoseCheck.objects.filter(session=no_ride).update(ride_home_arranged=False)
    sessions.append(no_ride)
    for stage in ("dosing", "monitoring", "ready"):
        sessions.append(
            chart_session(patients[1], actor=nurse, now=now, stage=stage, modality=PlanModality.IV_KETAMINE)
        )
    later = now + dt.timedelta(seconds=1)
    shown = {t.session.id: t for r in queries.board(patients[0].location, later).rows for t in r.tiles}
    api = world.api("nurse.north")
    phases = set()
    for session in sessions:
        tile = shown[session.pk]
        full = treatment.load(session.pk)
        assert tile.session.facts == treatment.facts_of(full), session.pk
        assert tile.status.phase.value == treatment.stage(full, later), session.pk
        body = api.get(f"/api/v1/sessions/{session.pk}").json()
        assert body["stage"] == tile.status.phase.value, session.pk
        phases.add(tile.status.phase.value)
    assert shown[no_ride.pk].status.phase.value == "monitoring"  # no escort yet: not ready to leave
    assert treatment.stage(treatment.load(no_ride.pk), later) == "monitoring"
    assert {"checked_in", "pre_dose", "dosing", "monitoring", "ready_for_discharge", "discharged"} <= phases
