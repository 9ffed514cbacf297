"""The patient list and chart cost a fixed number of queries, however long a patient's history grows."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ketaclinic.patients import actions, inputs
from ketaclinic.patients.models import Patient, TrialOutcome

if TYPE_CHECKING:
    from conftest import World


def _grow_history(patient: Patient, count: int) -> None:
    author = patient.created_by
    for i in range(count):
        actions.do_add_history_entry(
            patient,
            inputs.TrialIn(
                drug="sertraline",
                max_daily_dose_mg=Decimal(50 + i),
                weeks_at_dose=Decimal(8),
                adequate_dose=True,
                outcome=TrialOutcome.NONE,
                current_episode=True,
            ),
            actor=author,
        )
        actions.do_add_history_entry(
            patient, inputs.MedicationIn(drug="lorazepam", dose=f"{i} mg"), actor=author
        )
        actions.do_record_measurement(patient, inputs.MeasurementIn(weight_kg=Decimal(70)), actor=author)


def _queries(client: Client, method: str, url: str, **kwargs: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Session, user, grants, patient, location; the audit row (bump, insert, set head); the chart (latest
# measurements and one query per section); the stamp of the location's policy in force (the picture judges
# under it); the open safety alerts of the chart's banner (assessments/safety.py, the page only); the home
# program in force of the hold banner (homecare/views.py, the page only). The failed-trial count comes from
# the picture: no query.
CHART_PAGE_QUERIES = 17
API_READ_QUERIES = 14
# The list: session, user, grants, count, page, the audit row; then the page's safety flags.
from ketaclinic.patients.picture import FLAGS_QUERIES  # noqa: E402

LIST_PAGE_QUERIES = 8 + FLAGS_QUERIES
# A search counts its matches in the token index, then reads the page (ids, patients, locations and the
# stored list facts its safety chips are computed from) in one query, however many patients match.
SEARCH_PAGE_QUERIES = 8


@pytest.mark.parametrize("history", [0, 40])
def test_chart_page_query_count_is_pinned_and_flat(world: World, history: int) -> None:
    patient = world.patient("north")
    _grow_history(patient, history)
    client = world.client("nurse.north")
    client.get(f"/patients/{patient.pk}/")  # first request sets the session's last-seen time
    assert _queries(client, "get", f"/patients/{patient.pk}/") == CHART_PAGE_QUERIES


@pytest.mark.parametrize("history", [0, 40])
def test_api_read_query_count_is_pinned_and_flat(world: World, history: int) -> None:
    patient = world.patient("north")
    _grow_history(patient, history)
    api = world.api("nurse.north")
    assert _queries(api, "get", f"/api/v1/patients/{patient.pk}") == API_READ_QUERIES


def test_patient_list_query_count_does_not_grow_with_patients(world: World) -> None:
    client = world.client("frontdesk.north")
    client.get("/patients/")
    first = _queries(client, "get", "/patients/")
    first_search = _queries(client, "post", "/patients/", data={"q": "patients"})  # no match yet
    for i in range(30):
        client.post(
            "/patients/new/",
            {
                "location": "north",
                "given_name": "Many",
                "family_name": f"Patients{i}",
                "date_of_birth": "1990-01-01",
                "sex": "male",
            },
        )
    assert _queries(client, "get", "/patients/") == first == LIST_PAGE_QUERIES
    assert _queries(client, "post", "/patients/", data={"q": "patients"}) == SEARCH_PAGE_QUERIES
    assert _queries(client, "post", "/patients/", data={"q": "many pat"}) == SEARCH_PAGE_QUERIES
    assert first_search <= SEARCH_PAGE_QUERIES


def test_api_list_query_count(world: World) -> None:
    api = world.api("nurse.north")
    body = json.dumps({"q": "a"})
    assert _queries(api, "post", "/api/v1/patients/search", data=body, content_type="application/json") <= 12


def test_a_long_history_is_capped_on_the_chart_and_paged_in_the_api(world: World) -> None:
    from ketaclinic.patients.queries import SECTION_LIMIT

    patient = world.patient("north")
    _grow_history(patient, SECTION_LIMIT + 5)
    client = world.client("nurse.north")
    chart = client.get(f"/patients/{patient.pk}/").context["chart"]
    total = chart.sections["antidepressant_trials"].total
    assert len(chart.entries("antidepressant_trials")) == SECTION_LIMIT and total > SECTION_LIMIT
    assert chart.adequate_failed_trials >= SECTION_LIMIT + 5  # counted over every trial, not the shown ones
    assert f"Showing {SECTION_LIMIT} of {total}".encode() in client.get(f"/patients/{patient.pk}/").content
    full = client.get(f"/patients/{patient.pk}/?all=antidepressant_trials").context["chart"]
    assert len(full.entries("antidepressant_trials")) == total
    api = world.api("nurse.north")
    body = api.get(f"/api/v1/patients/{patient.pk}").json()
    assert len(body["antidepressant_trials"]) == SECTION_LIMIT
    assert body["history_totals"]["antidepressant_trials"] == total
    first = api.get(f"/api/v1/patients/{patient.pk}/antidepressant_trials?limit=40").json()
    rest = api.get(f"/api/v1/patients/{patient.pk}/antidepressant_trials?limit=40&offset=40").json()
    assert first["count"] == rest["count"] == total
    assert len(first["items"]) == 40 and len(first["items"]) + len(rest["items"]) == total
    assert not {t["id"] for t in first["items"]} & {t["id"] for t in rest["items"]}
    assert api.get(f"/api/v1/patients/{patient.pk}/antidepressant_trials?limit=0").status_code == 422
