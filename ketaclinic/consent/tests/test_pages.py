"""The consent pages: documents kept and published by a clinic admin, and the tablet signing page."""

from __future__ import annotations

import html

from conftest import World
from ketaclinic.consent.models import Consent, ConsentDocument
from ketaclinic.screening.tests import helpers as h


def _text(response: object) -> str:
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]


def test_an_admin_publishes_a_new_version_and_keeps_the_old(world: World) -> None:
    client = world.client("admin.north")
    r = client.post(
        "/consent/documents/new/",
        {"location": "north", "modality": "iv_ketamine", "title": "IV consent", "body": "First text."},
    )
    assert r.status_code == 302
    first = ConsentDocument.objects.get()
    again = client.get(f"/consent/documents/new/?from={first.pk}")
    assert "First text." in _text(again)
    client.post(
        "/consent/documents/new/",
        {"location": "north", "modality": "iv_ketamine", "title": "IV consent", "body": "Second text."},
    )
    assert list(ConsentDocument.objects.order_by("version").values_list("version", "body")) == [
        (1, "First text."),
        (2, "Second text."),
    ]
    listing = _text(client.get("/consent/documents/"))
    assert "Current" in listing and "Earlier" in listing
    assert "First text." in _text(client.get(f"/consent/documents/{first.pk}/"))


def test_publishing_refuses_bad_input_and_another_locations_documents(world: World) -> None:
    client = world.client("admin.north")
    r = client.post(
        "/consent/documents/new/", {"location": "south", "modality": "iv_ketamine", "title": "T", "body": "B"}
    )
    assert r.status_code == 422 and "Location" in _text(r)
    r = client.post(
        "/consent/documents/new/", {"location": "north", "modality": "iv", "title": "", "body": ""}
    )
    assert r.status_code == 422
    assert not ConsentDocument.objects.exists()
    south = h.document("south", "iv_ketamine")
    assert client.get(f"/consent/documents/{south.pk}/").status_code == 404


def test_the_patient_signs_and_the_nurse_witnesses(world: World) -> None:
    p = h.patient()
    doc = h.document("north", "iv_ketamine")
    client = world.client("nurse.north")
    status = _text(client.get(f"/consent/patients/{p.pk}/"))
    assert "Not signed" in status and f"/consent/patients/{p.pk}/sign/{doc.pk}/" in status
    page = _text(client.get(f"/consent/patients/{p.pk}/sign/{doc.pk}/"))
    assert "What the treatment is" in page and "signature-pad" in page
    url = f"/consent/patients/{p.pk}/sign/{doc.pk}/"
    no_witness = client.post(url, {"signed_name": "Zoë O'Brien-Hale", "signature_png": h.SIGNATURE})
    assert no_witness.status_code == 422 and "witnessed" in _text(no_witness)
    wrong = client.post(url, {"signed_name": "Somebody Else", "witness_confirmed": "on"})
    assert wrong.status_code == 422 and "full name" in _text(wrong)
    assert not Consent.objects.exists()
    ok = client.post(
        url, {"signed_name": "zoe o'brien-hale", "signature_png": h.SIGNATURE, "witness_confirmed": "on"}
    )
    assert ok.status_code == 302
    consent = Consent.objects.get()
    assert consent.witnessed_by.username == "nurse.north" and consent.signature_png
    assert "Current" in _text(client.get(f"/consent/patients/{p.pk}/"))
