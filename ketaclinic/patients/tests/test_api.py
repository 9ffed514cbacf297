"""The JSON API: what an integrator can do with a token, and what it refuses (always with the field)."""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.test import Client

from ketaclinic.accounts.actions import do_disable_staff, do_revoke_api_token
from ketaclinic.accounts.models import ApiToken
from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import Patient

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World

NEW = {
    "location": "north",
    "given_name": "Omar",
    "family_name": "Vance",
    "date_of_birth": "1979-11-30",
    "sex": "male",
    "measurement": {"weight_kg": "82.4"},
    "conditions": [{"code": "major_depressive_disorder"}],
    "medications": [{"drug": "methylphenidate", "dose": "20 mg"}],
    "antidepressant_trials": [
        {
            "drug": "escitalopram",
            "max_daily_dose_mg": "20",
            "weeks_at_dose": "8",
            "adequate_dose": True,
            "outcome": "none",
            "current_episode": True,
        },
        {
            "drug": "venlafaxine",
            "max_daily_dose_mg": "225",
            "weeks_at_dose": "12",
            "adequate_dose": True,
            "outcome": "partial",
            "current_episode": True,
        },
    ],
}


def post(client: Client, url: str, body: object, **headers: str) -> TestResponse:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def patch(client: Client, url: str, body: object, **headers: str) -> TestResponse:
    return client.patch(url, json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def api(world: World) -> Client:
    return world.api("prescriber.north")


def test_register_read_and_update_a_patient(api: Client) -> None:
    created = post(api, "/api/v1/patients", NEW)
    assert created.status_code == 201 and created["ETag"] == '"1"'
    body = created.json()
    assert created["Location"] == f"/api/v1/patients/{body['id']}"
    assert re.fullmatch(r"KC-\d{6}", body["mrn"]) and body["external_mrn"] == ""
    assert body["adequate_failed_trials_current_episode"] == 2
    assert body["medications"][0]["interaction_classes"] == ["Psychostimulant"]
    assert body["latest_measurements"]["weight_kg"] == "82.4"
    assert "weight" not in body and "height" not in body
    read = api.get(f"/api/v1/patients/{body['id']}")
    assert read.status_code == 200 and read["ETag"] == '"1"'
    # The registration's answer carries the chart too: it is a read, as the read is.
    assert AuditEvent.objects.filter(action="patient.read", patient_id=body["id"], via="api").count() == 2
    updated = patch(
        api, f"/api/v1/patients/{body['id']}", {"phone": "555-0111"}, **{"If-Match": read["ETag"]}
    )
    assert updated.status_code == 200 and updated["ETag"] == '"2"' and updated.json()["phone"] == "555-0111"


def test_update_needs_a_current_etag(world: World, api: Client) -> None:
    patient = world.patient("north")
    url = f"/api/v1/patients/{patient.pk}"
    assert patch(api, url, {"phone": "1"}).status_code == 428
    assert patch(api, url, {"phone": "2"}, **{"If-Match": '"1"'}).status_code == 200
    stale = patch(api, url, {"phone": "3"}, **{"If-Match": '"1"'})
    assert stale.status_code == 412
    assert patch(api, url, {"phone": "4"}, **{"If-Match": "garbage"}).status_code == 412
    patient.refresh_from_db()
    assert patient.phone == "2"


def test_a_stale_update_is_refused_without_telling_the_current_record(world: World, api: Client) -> None:
    """The 412 says only that the record changed: not its version (the reader's ETag is all they have of
    that) and none of its values; the reader reads again, and that read is audited."""
    patient = world.patient("north")
    url = f"/api/v1/patients/{patient.pk}"
    stale_etag = api.get(url)["ETag"]
    other = world.api("nurse.north")
    for phone in ("555-0201", "555-0202"):  # someone else saves twice: the record is two versions on
        assert patch(other, url, {"phone": phone}, **{"If-Match": other.get(url)["ETag"]}).status_code == 200
    stale = patch(api, url, {"phone": "555-0999"}, **{"If-Match": stale_etag})
    assert stale.status_code == 412
    body = stale.json()
    assert set(body) == {"detail"} and not re.search(r"\d", body["detail"])
    assert b"555-0202" not in stale.content and not stale.has_header("ETag")
    patient.refresh_from_db()
    assert patient.phone == "555-0202" and patient.version == int(stale_etag.strip('"')) + 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"measurement": {"weight_kg": "12"}}, "measurement.weight_kg"),
        ({"mrn": "KC-000001"}, "mrn"),  # assigned by KetaClinic, never sent
        ({"sex": "x"}, "sex"),
        ({"conditions": [{"code": "werewolf"}]}, "conditions.0.code"),
        ({"antidepressant_trials": [{"drug": "escitalopram"}]}, "antidepressant_trials.0.max_daily_dose_mg"),
        ({"version": 7}, "version"),
        ({"network": 2}, "network"),
        ({"given_name": None}, "given_name"),
    ],
)
def test_bad_bodies_get_422_naming_the_field_and_save_nothing(
    api: Client, change: dict[str, Any], field: str
) -> None:
    before = Patient.objects.count()
    response = post(api, "/api/v1/patients", {**NEW, **change})
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert Patient.objects.count() == before


def test_malformed_json_is_a_4xx(api: Client) -> None:
    response = api.post("/api/v1/patients", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_list_is_paged_and_scoped_to_the_callers_locations(world: World, api: Client) -> None:
    page = api.get("/api/v1/patients?limit=3&offset=0").json()
    assert page["count"] == 4 and len(page["items"]) == 3
    assert {item["location"] for item in page["items"]} == {"north"}
    assert api.get("/api/v1/patients?limit=1000").status_code == 422
    assert api.get("/api/v1/patients?offset=-1").status_code == 422


def test_search_by_name_mrn_and_birth_date(world: World, api: Client) -> None:
    patient = world.patient("north", 1)
    for q in (
        patient.family_name.lower(),
        patient.mrn,
        patient.date_of_birth.isoformat(),
        f"{patient.given_name} {patient.family_name}",
    ):
        found = post(api, "/api/v1/patients/search", {"q": q}).json()
        assert patient.mrn in [i["mrn"] for i in found["items"]], q
    south = world.patient("south")
    assert post(api, "/api/v1/patients/search", {"q": south.mrn}).json()["count"] == 0


def test_history_entries_and_status_changes(world: World, api: Client) -> None:
    patient = world.patient("north")
    base = f"/api/v1/patients/{patient.pk}"
    allergy = post(
        api,
        f"{base}/allergies",
        {"substance": "Ketamine", "category": "medication", "ketamine_related": True, "severity": "severe"},
    )
    assert allergy.status_code == 201 and allergy.json()["ketamine_related"] is True
    assert post(api, f"{base}/medications", {"drug": "other"}).json()["errors"] == {
        "other_name": "give the drug's name when the drug is 'other'"
    }
    med = post(api, f"{base}/medications", {"drug": "other", "other_name": "Kratom tea"}).json()
    assert med["name"] == "Kratom tea" and med["interaction_classes"] == []
    stopped = patch(api, f"{base}/medications/{med['id']}", {"status": "resolved"}).json()
    assert stopped["status"] == "resolved" and stopped["stopped_on"]
    assert patch(api, f"{base}/medications/999999", {"status": "resolved"}).status_code == 404
    trials = api.get(f"{base}/antidepressant_trials").json()
    assert trials["count"] == len(trials["items"]) and all("name" in t for t in trials["items"])
    assert post(api, f"{base}/measurements", {}).status_code == 422


def test_duplicate_active_condition_is_refused(world: World, api: Client) -> None:
    patient = world.patient("north")
    url = f"/api/v1/patients/{patient.pk}/conditions"
    assert post(api, url, {"code": "heart_failure"}).status_code == 201
    again = post(api, url, {"code": "heart_failure"})
    assert again.status_code == 422 and "already recorded" in again.json()["errors"]["code"]


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer nonsense", "Bearer kc_" + "x" * 43, "Token abc"])
def test_bad_tokens_get_401(world: World, header: str) -> None:
    client = Client(headers={"Authorization": header} if header else {})
    response = client.get("/api/v1/patients")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"


def test_revoked_tokens_and_disabled_users_lose_access(world: World) -> None:
    token = world.token("nurse.north")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/v1/patients").status_code == 200
    do_revoke_api_token(ApiToken.objects.get(user__username="nurse.north"))
    assert client.get("/api/v1/patients").status_code == 401
    token = world.token("therapist.north")
    client = Client(headers={"Authorization": f"Bearer {token}"})
    do_disable_staff(world.user("therapist.north"))
    assert client.get("/api/v1/patients").status_code == 401


def test_create_api_token_command_prints_a_working_token(world: World) -> None:
    out = StringIO()
    call_command("create_api_token", "nurse.south", "--name", "lab import", stdout=out, stderr=StringIO())
    token = out.getvalue().strip()
    assert token.startswith("kc_")
    assert token not in str(list(ApiToken.objects.values_list("digest", "prefix")))
    assert Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/patients").status_code == 200


def test_docs_need_a_session_or_a_token(world: World) -> None:
    assert Client().get("/api/docs").status_code == 302
    assert Client().get("/api/openapi.json").status_code == 401  # a program gets the API's JSON 401
    assert world.client("nurse.north").get("/api/docs").status_code == 200
    schema = world.api("nurse.north").get("/api/openapi.json")
    assert schema.status_code == 200 and "/api/v1/patients/{patient_id}" in schema.json()["paths"]


def test_failed_trial_count_follows_the_clinical_rule(world: World, api: Client) -> None:
    """A trial counts towards treatment resistance only at an adequate dose for the policy's minimum weeks
    (ketaclinic.clinical.trd, default 6), in the current episode, with no or partial response."""
    from ketaclinic.clinical.policy import DEFAULT_POLICY

    minimum = DEFAULT_POLICY.trd_min_trial_weeks
    base = {"max_daily_dose_mg": "20", "adequate_dose": True, "outcome": "none", "current_episode": True}
    trials = [
        {**base, "drug": "escitalopram", "weeks_at_dose": str(minimum)},  # counts
        {**base, "drug": "sertraline", "weeks_at_dose": str(minimum - 3)},  # too short
        {**base, "drug": "bupropion", "weeks_at_dose": "10", "outcome": "response"},  # responded
        {**base, "drug": "duloxetine", "weeks_at_dose": "10", "current_episode": False},  # earlier episode
        {**base, "drug": "mirtazapine", "weeks_at_dose": "10", "adequate_dose": False},  # dose too low
    ]
    body = post(api, "/api/v1/patients", {**NEW, "antidepressant_trials": trials}).json()
    assert body["adequate_failed_trials_current_episode"] == 1
    chart = world.client("prescriber.north").get(f"/patients/{body['id']}/").context["chart"]
    assert chart.adequate_failed_trials == 1
