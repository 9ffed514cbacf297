"""Who reads which outcome report (page, CSV and API), what is audited, and refused input."""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.accounts.actions import do_create_staff, do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Role
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.outcomes import demo, extract
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import TreatmentPlan

if TYPE_CHECKING:
    import datetime as dt

    from conftest import World

API = "/api/v1/outcomes"
PAGE = "/outcomes/"
CSV = "/outcomes/report.csv"


@pytest.fixture
def history(world: World, today: dt.date) -> World:
    """Sixty past courses at each location, and the network's director (admin at both)."""
    locations = list(ClinicLocation.objects.order_by("slug"))
    demo.load(locations, today, random.Random(5), per_location=60)
    demo.director(world.network("admin.north"), "!")
    return world


def started(location: str, modality: str = "") -> int:
    plans = TreatmentPlan.objects.filter(location__slug=location, approved_at__isnull=False)
    if modality:
        plans = plans.filter(modality=modality)
    return plans.values("patient").distinct().count()


def denials() -> int:
    return AuditEvent.objects.filter(outcome=Outcome.DENIED).count()


@pytest.mark.parametrize("who", ["admin.north", "prescriber.north"])
def test_a_locations_admin_and_prescriber_read_only_their_location(history: World, who: str) -> None:
    response = history.api(who).get(API, {"instrument": "phq9"})
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == {
        "label": "North Clinic",
        "network": False,
        "location": "north",
        "policy_note": "",
    }
    assert body["patients"] == started("north") > 0
    for key in ("with_baseline", "with_follow_up", "response_rate", "remission_rate", "funnel", "benchmarks"):
        assert key in body
    assert {"day", "survival"} <= set(body["durability"]["curve"][0])
    assert {"study", "scale", "response_rate", "remission_rate", "definition"} <= set(body["benchmarks"][0])


def test_the_network_view_is_for_whoever_reads_outcomes_at_every_location(history: World) -> None:
    body = history.api("director").get(API, {"instrument": "phq9"}).json()
    assert body["scope"]["network"] is True
    assert body["patients"] == started("north") + started("south")
    one = history.api("director").get(API, {"instrument": "phq9", "location": "south"}).json()
    assert one["scope"]["network"] is False
    assert one["patients"] == started("south")


@pytest.mark.parametrize("who", ["nurse.north", "therapist.north", "frontdesk.north"])
def test_other_roles_are_refused_and_the_refusal_audited(history: World, who: str) -> None:
    before = denials()
    for client, url, status in (
        (history.api(who), API, 403),
        (history.client(who), PAGE, 403),
        (history.client(who), CSV, 403),
    ):
        response = client.get(url, {"instrument": "phq9"})
        assert response.status_code == status, url
    assert denials() == before + 3
    assert history.api(who).get(API, {"instrument": "phq9"})["Content-Type"].startswith("application/json")


def test_anonymous_callers_are_refused(history: World) -> None:
    response = history.api(None).get(API, {"instrument": "phq9"})
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    page = history.client(None).get(PAGE)
    assert page.status_code == 302 and page["Location"].startswith("/login/")
    assert history.client(None).get(CSV).status_code == 302


@pytest.mark.parametrize("url", [API, PAGE, CSV])
def test_another_location_is_not_found_and_audited(history: World, url: str) -> None:
    client = history.api("admin.north") if url == API else history.client("admin.north")
    before = denials()
    response = client.get(url, {"instrument": "phq9", "location": "south"})
    assert response.status_code == 404
    assert denials() == before + 1
    unknown = client.get(url, {"instrument": "phq9", "location": "nowhere"})
    assert unknown.status_code == 404


def test_a_reader_here_who_is_a_nurse_there_reads_only_here(history: World) -> None:
    """Prescriber at north, nurse at south: north's report; south's is not theirs; never the network's."""
    network = history.network("admin.north")
    user = do_create_staff(network, "mixed", "", password_hash="!")
    do_grant_role(user, ClinicLocation.objects.get(slug="north"), Role.PRESCRIBER)
    do_grant_role(user, ClinicLocation.objects.get(slug="south"), Role.NURSE)
    body = history.api("mixed").get(API, {"instrument": "phq9"}).json()
    assert body["scope"]["location"] == "north" and body["scope"]["network"] is False
    assert body["patients"] == started("north")
    assert history.api("mixed").get(API, {"instrument": "phq9", "location": "south"}).status_code == 404
    page = history.client("mixed").get(PAGE, {"instrument": "phq9"})
    assert b"Whole network" not in page.content


def test_the_answer_names_no_patient_and_the_read_is_audited(history: World) -> None:
    response = history.api("admin.north").get(API, {"instrument": "phq9", "modality": "iv_ketamine"})
    text = response.content.decode()
    for patient in Patient.objects.filter(location__slug="north"):
        assert str(patient.pk) not in text and patient.pk.hex not in text
        assert patient.mrn not in text and patient.family_name not in text
    event = AuditEvent.objects.filter(action=Action.OUTCOMES_READ).latest("pk")
    assert event.actor_id == history.user("admin.north").pk
    assert "instrument=phq9" in event.changed_fields and "modality=iv_ketamine" in event.changed_fields
    assert event.patient_id is None


def test_filters_narrow_the_cohort(history: World) -> None:
    api = history.api("admin.north")
    iv = api.get(API, {"instrument": "phq9", "modality": "iv_ketamine"}).json()
    assert iv["patients"] == started("north", "iv_ketamine")
    assert all(b["modality"] == "iv_ketamine" for b in iv["benchmarks"])
    esk = api.get(API, {"instrument": "madrs", "modality": "esketamine_nasal"}).json()
    assert esk["patients"] == started("north", "esketamine_nasal")
    assert {b["scale"] for b in esk["benchmarks"]} <= {"madrs"}
    empty = api.get(API, {"instrument": "phq9", "from": "2000-01-01", "to": "2000-12-31"}).json()
    assert empty["patients"] == 0 and empty["response_rate"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"instrument": "gad7"}, "instrument"),
        ({}, "instrument"),
        ({"instrument": "phq9", "modality": "oral"}, "modality"),
        ({"instrument": "phq9", "dose_band": "huge"}, "dose_band"),
        ({"instrument": "phq9", "from": "0"}, "from"),
        ({"instrument": "phq9", "from": "2026-05-01", "to": "2026-04-01"}, "to"),
        ({"instrument": "phq9", "location": "no\x00rth"}, "location"),
    ],
)
def test_bad_input_is_refused_naming_the_field(history: World, query: dict[str, str], field: str) -> None:
    reads = AuditEvent.objects.filter(action=Action.OUTCOMES_READ).count()
    response = history.api("admin.north").get(API, query)
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/json")
    assert field in response.content.decode()
    if query:
        page = history.client("admin.north").get(PAGE, query)
        # A NUL is refused before any view (422 from the middleware); every other value by the page (400).
        assert page.status_code == (422 if any("\x00" in v for v in query.values()) else 400)
        if page.status_code == 400:
            assert field.encode() in page.content
    assert AuditEvent.objects.filter(action=Action.OUTCOMES_READ).count() == reads


def test_the_page_shows_charts_tables_and_the_matching_benchmark(history: World) -> None:
    response = history.client("admin.north").get(PAGE, {"instrument": "phq9", "modality": "iv_ketamine"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") >= 3 and 'data-testid="km-curve"' in html
    assert "McInnes 2022" in html and "TRANSFORM-2" not in html
    assert "small-cell minimum" in html and "OUTCOMES_MIN_CELL" in html
    assert "Censoring:" in html and "non-responder imputation" in html.lower()
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', html)  # nothing from a CDN
    assert AuditEvent.objects.filter(action=Action.OUTCOMES_READ).exists()


def test_the_csv_is_the_report_and_its_export_is_audited(history: World) -> None:
    response = history.client("prescriber.north").get(CSV, {"instrument": "phq9"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "section,item,convention,numerator,denominator,value"
    assert any(line.startswith("funnel,Started a course,,") for line in lines)
    assert any("non_responder_imputation" in line for line in lines)
    assert AuditEvent.objects.filter(action=Action.OUTCOMES_EXPORT).count() == 1


def test_rates_below_the_small_cell_minimum_are_hidden(history: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.OUTCOMES_MIN_CELL = 1000
    body = history.api("admin.north").get(API, {"instrument": "phq9"}).json()
    assert body["min_cell"] == 1000
    assert body["response_rate"] is None and body["remission_rate"] is None
    assert body["durability"]["curve"] == [] and body["durability"]["hidden"] is True
    page = history.client("admin.north").get(PAGE, {"instrument": "phq9"})
    assert b"fewer than 1000" in page.content


def test_the_report_reads_in_a_fixed_number_of_queries(history: World, today: dt.date) -> None:
    api = history.api("admin.north")
    api.get(API, {"instrument": "phq9"})  # the token and grants are warm
    with CaptureQueriesContext(connection) as small:
        api.get(API, {"instrument": "phq9"})
    demo.load(list(ClinicLocation.objects.filter(slug="north")), today, random.Random(9), per_location=40)
    with CaptureQueriesContext(connection) as large:
        body = api.get(API, {"instrument": "phq9"}).json()
    assert body["patients"] == started("north")
    assert len(large) == len(small)
    # One query each for plans, sessions and scores (the extract re-read: OUTCOMES_CACHE_SECONDS is 0).
    for start in ("SELECT p.patient_id", "SELECT s.plan_id", "SELECT a.patient_id"):
        assert sum(q["sql"].startswith(start) for q in large) == 1, start


def test_a_held_extract_reads_only_what_is_new(history: World, today: dt.date, settings) -> None:  # type: ignore[no-untyped-def]
    """With the extract held, a report reads two counts; new scores are appended by id; a new plan re-reads
    plans and sessions; the figures are those of a fresh read."""
    settings.OUTCOMES_CACHE_SECONDS = 600
    extract.forget()
    api = history.api("admin.north")
    try:
        first = api.get(API, {"instrument": "phq9"}).json()
        with CaptureQueriesContext(connection) as held:
            again = api.get(API, {"instrument": "phq9"}).json()
        assert again == first
        assert not any(q["sql"].startswith(("SELECT p.patient_id", "SELECT a.patient_id")) for q in held)
        demo.load(list(ClinicLocation.objects.filter(slug="north")), today, random.Random(3), per_location=30)
        with CaptureQueriesContext(connection) as grown:
            cached = api.get(API, {"instrument": "phq9"}).json()
        scores = [q["sql"] for q in grown if q["sql"].startswith("SELECT a.patient_id")]
        assert len(scores) == 1 and "a.id > " in scores[0]
        settings.OUTCOMES_CACHE_SECONDS = 0
        assert cached == api.get(API, {"instrument": "phq9"}).json()
        assert cached["patients"] == started("north") > first["patients"]
    finally:
        extract.forget()


def test_the_worklist_links_prescribers_to_outcomes(history: World) -> None:
    """A clinician's top bar is full on a tablet: prescribers reach the report from the worklist."""
    link = b'href="/outcomes/"'
    assert link in history.client("prescriber.north").get("/worklist/").content
    assert link not in history.client("nurse.north").get("/worklist/").content
    assert link in history.client("admin.north").get("/audit/").content  # the clinic admin's bar
