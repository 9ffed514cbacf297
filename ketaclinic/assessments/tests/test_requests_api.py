"""POST /api/v1/patients/{id}/assessment-requests: a one-off request with its self-report link; the link's
secret is only in the answer and the message, its SHA-256 only in the database."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core import mail
from django.utils import timezone

from conftest import World
from ketaclinic.assessments import links
from ketaclinic.assessments.models import AssessmentRequest, RequestReason
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.idempotency.models import IdempotencyKey
from ketaclinic.patients.models import Patient

URL = "/api/v1/patients/{}/assessment-requests"


def _post(client: Any, patient: Patient, body: dict[str, Any], **headers: str) -> Any:
    return client.post(
        URL.format(patient.pk), json.dumps(body), content_type="application/json", headers=headers
    )


def test_a_request_answers_its_link_once_and_sends_it(world: World) -> None:
    patient = world.patient("north")
    client = world.api("nurse.north")
    response = _post(
        client, patient, {"instrument": "phq9", "channel": "email"}, **{"Idempotency-Key": "k-1"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "instrument", "status", "url", "expires_at"}
    assert body["instrument"] == "phq9" and body["status"] == "pending"
    assert body["url"].startswith("http://127.0.0.1:8000/r/") and body["url"].endswith("/")
    token = body["url"].removeprefix("http://127.0.0.1:8000/r/").removesuffix("/")
    assert response["Location"] == f"/api/v1/patients/{patient.pk}/assessment-requests/{body['id']}"
    row = AssessmentRequest.objects.get(pk=body["id"])
    assert row.reason == RequestReason.ONE_OFF and row.created_by == world.user("nurse.north")
    assert row.token_hash == links.token_hash(token)
    assert row.expires_at is not None
    assert abs(row.expires_at - (timezone.now() + dt.timedelta(hours=72))) < dt.timedelta(minutes=1)
    # The secret is nowhere in the database: not the request, not the stored answer for a retry.
    assert token not in json.dumps(list(AssessmentRequest.objects.filter(pk=row.pk).values()), default=str)
    assert all(token.encode() not in bytes(k.body) for k in IdempotencyKey.objects.all())
    assert [m.to for m in mail.outbox] == [[patient.email]] and body["url"] in mail.outbox[0].body
    assert AuditEvent.objects.filter(action=Action.ASSESSMENT_REQUEST, object_id=str(row.pk)).count() == 1
    # A retry with the same key: the same request, without the secret.
    again = _post(client, patient, {"instrument": "phq9", "channel": "email"}, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json()["id"] == body["id"] and again.json()["url"] is None
    assert AssessmentRequest.objects.filter(patient=patient, reason="one_off").count() == 1
    assert len(mail.outbox) == 1
    read = client.get(f"/api/v1/patients/{patient.pk}/assessment-requests/{body['id']}")
    assert read.status_code == 200 and read.json()["url"] is None and read.json()["status"] == "pending"


def test_a_clinicians_instrument_has_no_link(world: World) -> None:
    response = _post(world.api("prescriber.north"), world.patient("north"), {"instrument": "madrs"})
    assert response.status_code == 201
    assert response.json()["url"] is None and response.json()["expires_at"] is None


def test_bad_requests_name_the_field_and_save_nothing(world: World) -> None:
    patient = world.patient("north")
    Patient.objects.filter(pk=patient.pk).update(phone="")
    client = world.api("nurse.north")
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    for body, field in (
        ({"instrument": "phq9", "channel": "sms"}, "channel"),
        ({"instrument": "madrs", "channel": "email"}, "channel"),
        ({"instrument": "phq10"}, "instrument"),
        ({"instrument": "phq9", "channel": "pigeon"}, "channel"),
        ({"instrument": "phq9", "due_at": past}, "due_at"),
        ({"instrument": "phq9", "due_at": "2026-01-01T09:00:00"}, "due_at"),
        ({}, "instrument"),
        ({"instrument": "phq9", "url": "x"}, "url"),
    ):
        response = _post(client, patient, body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["errors"], (body, response.json())
    assert not AssessmentRequest.objects.filter(patient=patient).exists()
    assert mail.outbox == []


def test_another_patients_request_is_not_found_under_a_patient_the_user_may_see(world: World) -> None:
    mine, other = world.patient("north", 0), world.patient("north", 1)
    client = world.api("nurse.north")
    made = _post(client, other, {"instrument": "gad7"}).json()
    response = client.get(f"/api/v1/patients/{mine.pk}/assessment-requests/{made['id']}")
    assert response.status_code == 404
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED, patient=mine, object_id=str(made["id"])).exists()
