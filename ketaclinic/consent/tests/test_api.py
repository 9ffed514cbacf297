"""The consent API: the current documents, and a signed consent witnessed by the signed-in staff member."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from conftest import World
from ketaclinic.consent.inputs import PNG_MAGIC, SIGNATURE_MAX_BYTES
from ketaclinic.consent.models import Consent
from ketaclinic.screening.tests import helpers as h


def _sign(world: World, who: str, patient: Any, body: dict[str, Any]) -> Any:
    return world.api(who).post(
        f"/api/v1/patients/{patient.pk}/consents", json.dumps(body), content_type="application/json"
    )


def test_current_documents_by_modality(world: World) -> None:
    h.document("north", "iv_ketamine", "IV earlier")
    latest = h.document("north", "iv_ketamine", "IV latest")
    esk = h.document("north", "esketamine_nasal", "Spravato")
    south = h.document("south", "iv_ketamine", "South IV")
    client = world.api("nurse.north")
    body = client.get("/api/v1/consent-documents?modality=iv_ketamine").json()
    assert [(d["id"], d["modality"], d["version"], d["title"]) for d in body] == [
        (latest.pk, "iv_ketamine", latest.version, "IV latest")
    ]
    every = client.get("/api/v1/consent-documents").json()
    assert {latest.pk, esk.pk} <= {d["id"] for d in every} and south.pk not in {d["id"] for d in every}
    assert len(every) == len({d["modality"] for d in every})  # one current document per modality
    assert client.get("/api/v1/consent-documents?modality=nope").status_code == 422
    # The admin, who keeps them, reads them too (no PHI in them).
    assert world.api("admin.north").get("/api/v1/consent-documents").status_code == 200


def test_signing_answers_the_contract(world: World) -> None:
    p = h.patient()
    doc = h.document("north", "iv_ketamine")
    r = _sign(
        world,
        "nurse.north",
        p,
        {"document_id": doc.pk, "signed_name": "  zoe  o'brien hale ", "signature_png": h.SIGNATURE},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert {"id", "document_id", "version", "signed_at", "witnessed_by"} <= body.keys()
    assert body["document_id"] == doc.pk and body["version"] == doc.version
    assert body["witnessed_by"] == "nurse.north"
    assert "+" in body["signed_at"] or body["signed_at"].endswith("Z")
    stored = Consent.objects.get(pk=body["id"])
    assert bytes(stored.signature_png or b"").startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    "typed", ["Zoë O'Brien-Hale", "ZOE O BRIEN HALE", "Zoë Maria O'Brien-Hale", "zoë   o'brien-hale"]
)
def test_the_typed_name_matches_ignoring_case_accents_and_spacing(world: World, typed: str) -> None:
    p = h.patient()
    doc = h.document("north", "iv_ketamine")
    assert (
        _sign(world, "prescriber.north", p, {"document_id": doc.pk, "signed_name": typed}).status_code == 201
    )


def _png(size: int) -> str:
    raw = PNG_MAGIC + b"\0" * (size - len(PNG_MAGIC))
    return "data:image/png;base64," + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"signed_name": "Someone Else"}, "signed_name"),
        ({"signed_name": "Zoë"}, "signed_name"),
        ({"signed_name": ""}, "signed_name"),
        ({"signature_png": "data:image/jpeg;base64,/9j/4AAQ"}, "signature_png"),
        ({"signature_png": "data:image/png;base64,not base64!"}, "signature_png"),
        (
            {"signature_png": "data:image/png;base64," + base64.b64encode(b"GIF89a....").decode()},
            "signature_png",
        ),
        ({"signature_png": _png(SIGNATURE_MAX_BYTES + 1)}, "signature_png"),
        ({"document_id": 999999}, "document_id"),
        ({"document_id": "1"}, "document_id"),
        ({"witnessed_by": "prescriber.north"}, "witnessed_by"),
    ],
)
def test_bad_consent_input_names_the_field(world: World, change: dict[str, Any], field: str) -> None:
    p = h.patient()
    doc = h.document("north", "iv_ketamine")
    body = {"document_id": doc.pk, "signed_name": "Zoë O'Brien-Hale", **change}
    r = _sign(world, "nurse.north", p, body)
    assert r.status_code == 422 and field in r.json()["errors"], r.content
    assert not Consent.objects.filter(patient=p).exists()


def test_a_signature_at_the_size_limit_is_taken(world: World) -> None:
    p = h.patient()
    doc = h.document("north", "iv_ketamine")
    body = {
        "document_id": doc.pk,
        "signed_name": "Zoë O'Brien-Hale",
        "signature_png": _png(SIGNATURE_MAX_BYTES),
    }
    assert _sign(world, "nurse.north", p, body).status_code == 201


def test_only_the_current_version_of_the_patients_location_is_signed(world: World) -> None:
    p = h.patient()
    old = h.document("north", "iv_ketamine")
    h.document("north", "iv_ketamine")
    south = h.document("south", "iv_ketamine")
    for doc in (old, south):
        r = _sign(world, "nurse.north", p, {"document_id": doc.pk, "signed_name": "Zoë O'Brien-Hale"})
        assert r.status_code == 422 and "document_id" in r.json()["errors"]
    assert not Consent.objects.filter(patient=p).exists()


@pytest.mark.parametrize("who", ["therapist.north", "frontdesk.north", "admin.north"])
def test_only_clinicians_witness(world: World, who: str) -> None:
    p = h.patient()
    doc = h.document("north", "iv_ketamine")
    assert _sign(world, who, p, {"document_id": doc.pk, "signed_name": "Zoë O'Brien-Hale"}).status_code == 403
    assert not Consent.objects.filter(patient=p).exists()


def test_a_retried_signature_with_the_same_key_is_one_consent(world: World) -> None:
    p = h.patient()
    doc = h.document("north", "iv_ketamine")
    client = world.api("nurse.north")
    body = json.dumps({"document_id": doc.pk, "signed_name": "Zoë O'Brien-Hale"})
    url = f"/api/v1/patients/{p.pk}/consents"
    first = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "c1"})
    again = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "c1"})
    assert first.status_code == again.status_code == 201 and first.content == again.content
    assert Consent.objects.filter(patient=p).count() == 1
