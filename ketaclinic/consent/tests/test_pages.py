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
    first = ConsentDocument.objects.filter(location__slug="north", modality="iv_ketamine").latest("version")
    assert first.body == "First text."
    again = client.get(f"/consent/documents/new/?from={first.pk}")
    assert "First text." in _text(again)
    client.post(
        "/consent/documents/new/",
        {"location": "north", "modality": "iv_ketamine", "title": "IV consent", "body": "Second text."},
    )
    versions = ConsentDocument.objects.filter(location__slug="north", modality="iv_ketamine")
    assert list(versions.order_by("version").values_list("version", "body"))[-2:] == [
        (first.version, "First text."),
        (first.version + 1, "Second text."),
    ]
    listing = _text(client.get("/consent/documents/"))
    assert "Current" in listing and "Earlier" in listing
    assert "First text." in _text(client.get(f"/consent/documents/{first.pk}/"))


def test_publishing_refuses_bad_input_and_another_locations_documents(world: World) -> None:
    client = world.client("admin.north")
    before = ConsentDocument.objects.count()
    r = client.post(
        "/consent/documents/new/", {"location": "south", "modality": "iv_ketamine", "title": "T", "body": "B"}
    )
    assert r.status_code == 422 and "Location" in _text(r)
    r = client.post(
        "/consent/documents/new/", {"location": "north", "modality": "iv", "title": "", "body": ""}
    )
    assert r.status_code == 422
    assert ConsentDocument.objects.count() == before
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
    assert not Consent.objects.filter(patient=p).exists()
    ok = client.post(
        url, {"signed_name": "zoe o'brien-hale", "signature_png": h.SIGNATURE, "witness_confirmed": "on"}
    )
    assert ok.status_code == 302
    consent = Consent.objects.get(patient=p)
    assert consent.witnessed_by.username == "nurse.north" and consent.signature_png
    assert "Current" in _text(client.get(f"/consent/patients/{p.pk}/"))


def test_clinic_admins_find_the_documents_on_their_clinic_page(world: World) -> None:
    # The Clinic link of the top bar leads there; staff who may only read the clinic page see no link.
    from ketaclinic.accounts.models import ClinicLocation

    north = ClinicLocation.objects.get(slug="north")
    link = 'href="/consent/documents/"'
    assert 'href="/clinic/"' in world.client("admin.north").get("/rules/").content.decode()
    assert link in world.client("admin.north").get(f"/clinic/{north.pk}/").content.decode()
    assert link not in world.client("nurse.north").get(f"/clinic/{north.pk}/").content.decode()
