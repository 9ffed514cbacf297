"""Bulk Data export: kick-off, polling, manifest, NDJSON files, cancellation, and who may do it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import pytest
from django.test import Client
from django.test.utils import override_settings

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.fhir import exporter
from ketaclinic.fhir.models import ExportJob, ExportStatus
from ketaclinic.fhir.tests.validate import validate
from ketaclinic.patients.models import Patient

if TYPE_CHECKING:
    from conftest import World

pytestmark = pytest.mark.django_db

BASE = "/fhir/R4"
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


def _path(url: str) -> str:
    return url.replace("http://testserver", "")


def _kick_off(client: Client, url: str) -> str:
    response = client.get(url, headers=ASYNC)
    assert response.status_code == 202, response.content
    return _path(response["Content-Location"])


def _lines(client: Client, url: str) -> list[dict[str, Any]]:
    response = client.get(_path(url))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return [orjson.loads(line) for line in body.splitlines()]


def test_group_export_writes_a_manifest_and_ndjson_per_type(charted: Patient, world: World) -> None:
    client = world.api("prescriber.north")
    status_url = _kick_off(
        client, f"{BASE}/Group/north/$export?_type=Patient,Observation,QuestionnaireResponse"
    )
    response = client.get(status_url)  # the task runner runs at once in the tests
    assert response.status_code == 200
    manifest = response.json()
    assert set(manifest) >= {"transactionTime", "request", "requiresAccessToken", "output", "error"}
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith(
        "/fhir/R4/Group/north/$export?_type=Patient,Observation,QuestionnaireResponse"
    )
    assert {o["type"] for o in manifest["output"]} == {"Patient", "Observation", "QuestionnaireResponse"}
    north = Patient.objects.filter(location__slug="north").count()
    for output in manifest["output"]:
        lines = _lines(client, output["url"])
        assert {line["resourceType"] for line in lines} == {output["type"]}
        for line in lines:
            validate(line)
        if output["type"] == "Patient":
            assert len(lines) == north
    # One audit event per patient exported.
    job = ExportJob.objects.get()
    assert (
        AuditEvent.objects.filter(
            action=Action.FHIR_EXPORT, object_id=str(job.pk), patient_id__isnull=False
        ).count()
        == north
    )


def test_post_kick_off_with_parameters_and_since(world: World) -> None:
    client = world.api("prescriber.north")
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "Patient"},
            {"name": "_since", "valueInstant": "2100-01-01T00:00:00Z"},
        ],
    }
    response = client.post(
        f"{BASE}/Patient/$export", body, content_type="application/fhir+json", headers=ASYNC
    )
    assert response.status_code == 202
    manifest = client.get(_path(response["Content-Location"])).json()
    assert manifest["output"] == []  # nothing changed since 2100


def test_polling_in_progress_then_429_then_the_manifest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ketaclinic.fhir.api.start_export", lambda job: None)
    client = world.api("prescriber.north")
    status_url = _kick_off(client, f"{BASE}/Patient/$export?_type=Patient")
    first = client.get(status_url)
    assert first.status_code == 202
    assert first["X-Progress"] and first["Retry-After"]
    again = client.get(status_url)
    assert again.status_code == 429
    assert again["Retry-After"]
    job = ExportJob.objects.get()
    exporter.run(job.pk)
    done = client.get(status_url)
    assert done.status_code == 200
    assert done.json()["output"][0]["type"] == "Patient"


def test_delete_cancels_and_removes_the_files(charted: Patient, world: World) -> None:
    client = world.api("prescriber.north")
    status_url = _kick_off(client, f"{BASE}/Group/north/$export?_type=Patient")
    manifest = client.get(status_url).json()
    job = ExportJob.objects.get()
    assert exporter.job_dir(job.pk).exists()
    assert client.delete(status_url).status_code == 202
    job.refresh_from_db()
    assert job.status == ExportStatus.CANCELLED
    assert not exporter.job_dir(job.pk).exists()
    assert client.get(status_url).status_code == 404
    assert client.get(_path(manifest["output"][0]["url"])).status_code == 404
    assert AuditEvent.objects.filter(action=Action.FHIR_EXPORT_CANCEL).count() == 1


def test_a_running_job_cancelled_stops_and_writes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ketaclinic.fhir.api.start_export", lambda job: None)
    client = world.api("prescriber.north")
    status_url = _kick_off(client, f"{BASE}/Patient/$export")
    assert client.delete(status_url).status_code == 202
    job = exporter.run(ExportJob.objects.get().pk)
    assert job.status == ExportStatus.CANCELLED
    assert not AuditEvent.objects.filter(action=Action.FHIR_EXPORT).exists()


@override_settings(KETACLINIC_FHIR_EXPORT_FILE_MAX_BYTES=1500)
def test_files_are_split_at_the_size_cap(charted: Patient, world: World) -> None:
    client = world.api("prescriber.north")
    manifest = client.get(_kick_off(client, f"{BASE}/Group/north/$export?_type=Observation")).json()
    files = [o for o in manifest["output"] if o["type"] == "Observation"]
    assert len(files) > 1
    total = 0
    for output in files:
        raw = b"".join(client.get(_path(output["url"])).streaming_content)  # type: ignore[attr-defined]
        assert len(raw) <= 1500 or output["count"] == 1
        total += len(raw.splitlines())
    assert total == sum(o["count"] for o in files)


def test_kick_off_needs_respond_async_and_known_types(world: World) -> None:
    client = world.api("prescriber.north")
    assert client.get(f"{BASE}/Patient/$export").status_code == 400
    response = client.get(f"{BASE}/Patient/$export?_type=Patient,Spaceship", headers=ASYNC)
    assert response.status_code == 400
    assert "_type" in response.json()["issue"][0]["diagnostics"]
    response = client.get(f"{BASE}/Patient/$export?_since=yesterday", headers=ASYNC)
    assert response.status_code == 400
    assert "_since" in response.json()["issue"][0]["diagnostics"]
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize("persona", ["nurse.north", "therapist.north", "frontdesk.north", "admin.north"])
def test_roles_without_export_are_refused(world: World, persona: str) -> None:
    client = world.api(persona)
    assert client.get(f"{BASE}/Patient/$export", headers=ASYNC).status_code == 403
    assert client.get(f"{BASE}/Group/north/$export", headers=ASYNC).status_code == 403
    assert not ExportJob.objects.exists()


def test_another_locations_group_is_not_found(world: World) -> None:
    client = world.api("prescriber.north")
    assert client.get(f"{BASE}/Group/south/$export", headers=ASYNC).status_code == 404
    assert client.get(f"{BASE}/Group/nowhere/$export", headers=ASYNC).status_code == 404
    assert not ExportJob.objects.exists()


def test_patient_export_covers_only_the_requesters_locations(world: World) -> None:
    client = world.api("prescriber.south")
    manifest = client.get(_kick_off(client, f"{BASE}/Patient/$export?_type=Patient")).json()
    [output] = manifest["output"]
    ids = {line["id"] for line in _lines(client, output["url"])}
    assert ids == {
        str(p) for p in Patient.objects.filter(location__slug="south").values_list("id", flat=True)
    }


def test_anonymous_and_another_users_status_and_files(charted: Patient, world: World) -> None:
    owner = world.api("prescriber.north")
    status_url = _kick_off(owner, f"{BASE}/Group/north/$export?_type=Patient")
    file_url = _path(owner.get(status_url).json()["output"][0]["url"])
    for client in (world.api(None), world.api("prescriber.south"), world.api("nurse.north")):
        for url in (status_url, file_url):
            assert client.get(url).status_code in {401, 404}
        assert client.delete(status_url).status_code in {401, 404}
    assert world.api(None).get(status_url).status_code == 401
    assert world.api("nurse.north").get(file_url).status_code == 404
    assert owner.get(file_url).status_code == 200


def test_export_page_shows_progress_and_starts_a_group_export(charted: Patient, world: World) -> None:
    client = world.client("prescriber.north")
    response = client.post("/fhir/exports/", {"location": "north", "type": ["Patient"]})
    assert response.status_code == 302
    page = client.get("/fhir/exports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Patient-1.ndjson" in html
    assert "Complete" in html
    job = ExportJob.objects.get()
    assert job.group is not None and job.group.slug == "north"
    # A location the user may not export is refused by name, and nothing starts.
    response = client.post("/fhir/exports/", {"location": "south"})
    assert response.status_code == 422
    assert ExportJob.objects.count() == 1


@pytest.mark.parametrize("persona", ["nurse.north", "frontdesk.north", "therapist.north", "admin.north"])
def test_export_page_is_refused_to_roles_without_export(world: World, persona: str) -> None:
    assert world.client(persona).get("/fhir/exports/").status_code == 403


def test_export_page_needs_a_login(world: World) -> None:
    response = Client().get("/fhir/exports/")
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_cancel_from_the_page_is_the_requesters_only(charted: Patient, world: World) -> None:
    world.client("prescriber.north").post("/fhir/exports/", {"location": "north", "type": ["Patient"]})
    job = ExportJob.objects.get()
    assert world.client("prescriber.south").post(f"/fhir/exports/{job.pk}/cancel/").status_code == 404
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE
    assert world.client("prescriber.north").post(f"/fhir/exports/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.status == ExportStatus.CANCELLED
