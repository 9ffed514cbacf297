"""/api/v1/ledger: the contract's paths, bodies and statuses; refusals name the field and save nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from conftest import World
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.ledger.models import LedgerEvent, Lot, WasteWitness
from ketaclinic.ledger.tests.helpers import LOT_ESKETAMINE, LOT_KETAMINE, SUPPLIER, stocked


@pytest.fixture
def north(world: World) -> ClinicLocation:
    location = ClinicLocation.objects.get(slug="north")
    stocked(location, world.user("nurse.north"))
    return location


def post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


RECEIPT = {
    "product": "esketamine-28",
    "kind": "receive",
    "quantity": "12",
    "reason": "",
    "lot_number": "ESK-NEW",
    "expires_on": "2031-01-31",
    **SUPPLIER,
}


def test_balances_list_each_product_in_its_unit(world: World, north: ClinicLocation) -> None:
    response = world.api("admin.north").get("/api/v1/ledger/balances")
    assert response.status_code == 200
    assert response.json() == [
        {"location": "north", "product": "esketamine-28", "balance": "6", "unit": "device"},
        {"location": "north", "product": "ketamine-100", "balance": "0", "unit": "mg"},
        {"location": "north", "product": "ketamine-50", "balance": "1000", "unit": "mg"},
    ]
    # South's staff see south's ledger only (empty here).
    south = world.api("nurse.south").get("/api/v1/ledger/balances").json()
    assert all(row["location"] == "south" for row in south)


def test_a_receipt_is_created_with_its_location(world: World, north: ClinicLocation) -> None:
    response = post(world.api("nurse.north"), "/api/v1/ledger/events", RECEIPT)
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/ledger/events/{body['id']}"
    assert (body["kind"], body["status"], body["delta"], body["containers"], body["amount_mg"]) == (
        "receive",
        "recorded",
        "12",
        12,
        "336",
    )
    assert body["supplier_dea_number"] == SUPPLIER["supplier_dea_number"]
    assert world.api("nurse.north").get(response["Location"]).json() == body


@pytest.mark.parametrize("field", ["supplier_name", "supplier_address", "supplier_dea_number", "expires_on"])
def test_a_receipt_without_its_supplier_details_is_refused_by_name(
    world: World, north: ClinicLocation, field: str
) -> None:
    """CS-04: a receipt names the supplier (name, address, DEA number) and the lot's expiry."""
    before = LedgerEvent.objects.count()
    body = {k: v for k, v in RECEIPT.items() if k != field}
    response = post(world.api("nurse.north"), "/api/v1/ledger/events", body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert LedgerEvent.objects.count() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"supplier_dea_number": "RC1234564"}, "supplier_dea_number"),  # wrong check digit
        ({"supplier_dea_number": "12345"}, "supplier_dea_number"),
        ({"quantity": "1.5"}, "quantity"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "NaN"}, "quantity"),
        ({"product": "morphine"}, "product"),
        ({"kind": "administer"}, "kind"),
        ({"location": "south"}, "location"),
        ({"unexpected": 1}, "unexpected"),
        ({"lot_number": ""}, "lot_number"),
        ({"reason": "\x00"}, "reason"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    world: World, north: ClinicLocation, change: dict[str, Any], field: str
) -> None:
    before = LedgerEvent.objects.count()
    response = post(world.api("nurse.north"), "/api/v1/ledger/events", {**RECEIPT, **change})
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert LedgerEvent.objects.count() == before


def test_an_event_that_would_make_a_balance_negative_is_a_409_naming_it(
    world: World, north: ClinicLocation
) -> None:
    before = LedgerEvent.objects.count()
    body = {
        "product": "ketamine-50",
        "kind": "waste",
        "quantity": "1000.5",
        "reason": "",
        "lot_number": LOT_KETAMINE,
    }
    response = post(world.api("nurse.north"), "/api/v1/ledger/events", body)
    assert response.status_code == 409
    assert "below zero" in response.json()["detail"]
    assert "1000" in response.json()["reasons"][0]
    assert LedgerEvent.objects.count() == before
    assert Lot.objects.get(lot_number=LOT_KETAMINE).balance == Decimal(1000)


def test_a_waste_is_pending_until_another_users_token_witnesses_it(
    world: World, north: ClinicLocation
) -> None:
    """CS-05: the recorder's own token is refused (403); another permitted user's confirms; both recorded."""
    body = {
        "product": "ketamine-50",
        "kind": "waste",
        "quantity": "12.5",
        "reason": "left in vial",
        "lot_number": LOT_KETAMINE,
    }
    created = post(world.api("nurse.north"), "/api/v1/ledger/events", body)
    assert created.status_code == 201
    assert created.json()["status"] == "pending"
    url = f"/api/v1/ledger/events/{created.json()['id']}/witness"
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    assert post(world.api("nurse.north"), url, {}).status_code == 403
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 1
    assert post(world.api("admin.north"), url, {}).status_code == 403  # reads the ledger, never records
    assert post(world.api("nurse.south"), url, {}).status_code == 404
    assert not WasteWitness.objects.exists()
    witnessed = post(world.api("prescriber.north"), url, {})
    assert witnessed.status_code == 200
    body = witnessed.json()
    assert body["status"] == "witnessed"
    assert (body["recorded_by"], body["witnessed_by"]) == (
        world.user("nurse.north").pk,
        world.user("prescriber.north").pk,
    )
    assert post(world.api("prescriber.north"), url, {}).status_code == 409
    # Only a waste is witnessed.
    receipt = LedgerEvent.objects.filter(kind="receive").first()
    assert receipt is not None
    assert (
        post(world.api("prescriber.north"), f"/api/v1/ledger/events/{receipt.pk}/witness", {}).status_code
        == 409
    )


def test_a_retried_post_with_the_same_key_records_one_event(world: World, north: ClinicLocation) -> None:
    client = world.api("nurse.north")
    before = LedgerEvent.objects.count()
    first = post(client, "/api/v1/ledger/events", RECEIPT, **{"Idempotency-Key": "ledger-retry-1"})
    again = post(client, "/api/v1/ledger/events", RECEIPT, **{"Idempotency-Key": "ledger-retry-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert LedgerEvent.objects.count() == before + 1
    assert Lot.objects.get(lot_number="ESK-NEW").balance == 12


def test_a_user_who_records_at_two_locations_names_the_location(world: World, north: ClinicLocation) -> None:
    from ketaclinic.accounts.actions import do_grant_role

    user = world.user("nurse.north")
    do_grant_role(user, ClinicLocation.objects.get(slug="south"), "nurse", actor=world.user("admin.south"))
    body = {
        "product": "esketamine-28",
        "kind": "count",
        "quantity": "6",
        "reason": "",
        "lot_number": LOT_ESKETAMINE,
    }
    response = post(world.api("nurse.north"), "/api/v1/ledger/events", body)
    assert response.status_code == 422 and "location" in response.json()["errors"]
    assert (
        post(world.api("nurse.north"), "/api/v1/ledger/events", {**body, "location": "north"}).status_code
        == 201
    )


def test_events_are_listed_newest_first_with_filters(world: World, north: ClinicLocation) -> None:
    client = world.api("admin.north")
    page = client.get("/api/v1/ledger/events?limit=10").json()
    assert page["count"] == 2 and [e["kind"] for e in page["items"]] == ["receive", "receive"]
    only = client.get(f"/api/v1/ledger/events?lot_number={LOT_ESKETAMINE}").json()
    assert [e["lot_number"] for e in only["items"]] == [LOT_ESKETAMINE]
    assert client.get("/api/v1/ledger/events?since=2020-01-01").status_code == 422
    ranged = client.get("/api/v1/ledger/events?location=north&since=2020-01-01&kind=receive").json()
    assert ranged["count"] == 2
    assert world.api("nurse.south").get("/api/v1/ledger/events").json()["count"] == 0


def test_the_ledger_has_no_update_or_delete(world: World, north: ClinicLocation) -> None:
    """CS-01: no route changes or removes an event."""
    event = LedgerEvent.objects.first()
    assert event is not None
    client = world.api("nurse.north")
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(
            f"/api/v1/ledger/events/{event.pk}", "{}", content_type="application/json"
        )
        assert response.status_code == 405, method
    assert LedgerEvent.objects.filter(pk=event.pk).exists()


def test_a_reader_at_one_location_and_writer_at_another_only_reads_here(
    world: World, north: ClinicLocation
) -> None:
    """Ledger roles are per location: an admin at north who is a nurse at south reads north's ledger,
    records only in south's, and cannot witness a north waste."""
    from ketaclinic.accounts.actions import do_grant_role

    user = world.user("admin.north")
    do_grant_role(user, ClinicLocation.objects.get(slug="south"), "nurse", actor=world.user("admin.south"))
    waste = {
        "product": "esketamine-28",
        "kind": "waste",
        "quantity": "1",
        "reason": "",
        "lot_number": LOT_ESKETAMINE,
    }
    created = post(world.api("nurse.north"), "/api/v1/ledger/events", waste).json()
    client = world.api("admin.north")
    assert client.get(f"/api/v1/ledger/events/{created['id']}").status_code == 200
    assert post(client, f"/api/v1/ledger/events/{created['id']}/witness", {}).status_code == 403
    refused = post(client, "/api/v1/ledger/events", {**waste, "location": "north"})
    assert refused.status_code == 422 and "location" in refused.json()["errors"]
    assert Lot.objects.get(lot_number=LOT_ESKETAMINE).balance == 5
    assert not WasteWitness.objects.exists()


def test_another_locations_event_id_is_not_found_and_audited(world: World, north: ClinicLocation) -> None:
    event = LedgerEvent.objects.filter(location=north).first()
    assert event is not None
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    for event_id in (event.pk, 999999, 2**63):
        assert world.api("nurse.south").get(f"/api/v1/ledger/events/{event_id}").status_code == 404
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 3
