"""Each location's certified-setting details: kept by its clinic admins, versioned, audited, per location.

The demo clinic starts with details for both locations (rems/demo.py), at version 1.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.rems.models import RemsSetting

if TYPE_CHECKING:
    from conftest import World

BODY: dict[str, Any] = {
    "location": "north",
    "version": 1,
    "setting_name": "North Clinic",
    "address": "1 Harbour Way, Portland OR",
    "certification_id": "SPR-N-0001",
    "authorised_representative": "Dr Avery Stone",
    "hcp_name": "Noah Nurse",
    "hcp_phone": "555-0101",
    "hcp_email": "noah@north.example",
}


def _post(world: World, who: str, body: dict[str, Any]) -> Any:
    return world.api(who).post(
        "/api/v1/rems/settings", data=json.dumps(body), content_type="application/json"
    )


def _north() -> RemsSetting:
    return RemsSetting.objects.get(location__slug="north")


def test_the_demo_has_details_for_both_locations(world: World) -> None:
    rows = RemsSetting.objects.order_by("location__slug")
    assert [(r.location.slug, r.version) for r in rows] == [("north", 1), ("south", 1)]
    assert all(r.certification_id.startswith("DEMO-") for r in rows)


def test_an_admin_saves_the_details_and_a_change_needs_the_version_read(world: World) -> None:
    first = _post(world, "admin.north", BODY)
    assert first.status_code == 200, first.content
    assert first.json()["version"] == 2 and first.json()["certification_id"] == "SPR-N-0001"
    assert first.json()["asks_respiratory_depression"] is True
    stale = _post(world, "admin.north", {**BODY, "setting_name": "Renamed"})  # version 1 again
    assert stale.status_code == 412
    assert _north().setting_name == "North Clinic"
    changed = _post(world, "admin.north", {**BODY, "version": 2, "setting_name": "Renamed"})
    assert changed.status_code == 200 and changed.json()["version"] == 3
    assert _north().setting_name == "Renamed"
    event = AuditEvent.objects.filter(action="rems.setting_save").order_by("-seq").first()
    assert event is not None and event.changed_fields == ["setting_name"]
    listed = world.api("admin.north").get("/api/v1/rems/settings").json()
    assert [i["location"] for i in listed["items"]] == ["north"] and listed["count"] == 1


def test_a_location_without_details_starts_at_version_zero(world: World) -> None:
    RemsSetting.objects.filter(location__slug="north").delete()
    assert _post(world, "admin.north", BODY).status_code == 412
    created = _post(world, "admin.north", {**BODY, "version": 0})
    assert created.status_code == 200 and created.json()["version"] == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("certification_id", "   "),
        ("setting_name", "x" * 121),
        ("hcp_email", "not-an-address"),
        ("asks_sedation", "yes"),
        ("version", -1),
        ("address", "a\x00b"),
        ("unknown", "x"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(world: World, field: str, value: Any) -> None:
    before = _north().version
    response = _post(world, "admin.north", {**BODY, field: value})
    assert response.status_code == 422
    assert field in json.dumps(response.json())
    assert _north().version == before


def test_another_locations_admin_finds_no_location_and_is_audited(world: World) -> None:
    before = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    assert _post(world, "admin.south", BODY).status_code == 404
    assert world.client("admin.south").get("/rems/settings/north/").status_code == 404
    assert _post(world, "admin.north", {**BODY, "location": "nowhere"}).status_code == 404
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == before + 3
    assert _north().version == 1


def test_a_nurse_may_not_keep_the_setting(world: World) -> None:
    assert _post(world, "nurse.north", BODY).status_code == 403
    assert world.client("nurse.north").get("/rems/settings/").status_code == 403
    assert _north().version == 1


def test_the_page_saves_through_the_form_and_shows_errors_inline(world: World) -> None:
    client = world.client("admin.north")
    page = client.get("/rems/settings/north/")
    assert page.status_code == 200 and b"UNVERIFIED" in page.content
    form = {k: v for k, v in BODY.items() if k != "location"}
    form.update(asks_sedation="on", asks_dissociation="on")
    bad = client.post("/rems/settings/north/", {**form, "certification_id": ""})
    assert bad.status_code == 422 and b"Certification / enrolment ID" in bad.content
    assert _north().version == 1
    saved = client.post("/rems/settings/north/", form)
    assert saved.status_code == 302
    row = _north()
    assert (row.asks_sedation, row.asks_dissociation, row.asks_respiratory_depression) == (True, True, False)
    stale = client.post("/rems/settings/north/", {**form, "setting_name": "Other"})
    assert stale.status_code == 412
    assert _north().setting_name == "North Clinic"
    listing = client.get("/rems/settings/")
    assert b"SPR-N-0001" in listing.content and b"South Clinic" not in listing.content
