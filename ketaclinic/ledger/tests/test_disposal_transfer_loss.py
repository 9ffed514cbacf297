"""Breakage, disposal, transfers between locations, theft and loss (DEA Form 106), the retention guard and
who sees the patient of a dose (security-checks section 3; CS-06, CS-08, CS-09)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django.utils import timezone

from conftest import World
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import PHI_PERMISSIONS, ROLE_PERMISSIONS, Perm, Role
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.errors import Forbidden, InvalidInput, Refused
from ketaclinic.ledger import calendar, demo
from ketaclinic.ledger.actions import (
    do_administer,
    do_record_event,
    do_record_loss_step,
    do_report_loss,
    do_witness_waste,
    loss_status,
)
from ketaclinic.ledger.inputs import EventIn, LossIn, LossStepIn
from ketaclinic.ledger.models import LedgerEvent, LossReport, LossStep, Lot, Product, WasteWitness
from ketaclinic.ledger.tests.helpers import LOT_ESKETAMINE, LOT_KETAMINE, stocked

DISTRIBUTOR = {
    "distributor_name": "Returns Northwest",
    "distributor_address": "40 Dock Street, Tacoma, WA 98402",
    "distributor_dea_number": "RC1234563",
}


@pytest.fixture
def north(world: World) -> ClinicLocation:
    location = ClinicLocation.objects.get(slug="north")
    stocked(location, world.user("nurse.north"))
    demo.products(ClinicLocation.objects.get(slug="south"), world.user("nurse.south"))
    return location


def post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def _event(location: ClinicLocation, actor: Any, **values: Any) -> LedgerEvent:
    return do_record_event(location, EventIn.model_validate(values), actor=actor)


def _lot(location: str, number: str) -> Lot:
    return Lot.objects.get(location__slug=location, lot_number=number)


# --- CS-06: breakage ---------------------------------------------------------------------------------------


def test_a_breakage_takes_stock_off_and_needs_a_second_signature(world: World, north: ClinicLocation) -> None:
    """CS-06: non-recoverable breakage is documented with two signatures: the recorder's and a different
    clinician's, who re-authenticates (their own token here); both are kept on the event."""
    nurse, prescriber = world.user("nurse.north"), world.user("prescriber.north")
    response = post(
        world.api("nurse.north"),
        "/api/v1/ledger/events",
        {
            "product": "esketamine-28",
            "kind": "breakage",
            "quantity": "1",
            "lot_number": LOT_ESKETAMINE,
            "reason": "Device dropped on the tiled floor and cracked; contents lost",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["delta"], body["balance_after"]) == (
        "breakage",
        "pending",
        "-1",
        "5",
    )
    own = post(world.api("nurse.north"), f"/api/v1/ledger/events/{body['id']}/witness", {})
    assert own.status_code == 403
    witnessed = post(world.api("prescriber.north"), f"/api/v1/ledger/events/{body['id']}/witness", {})
    assert witnessed.status_code == 200
    assert (
        witnessed.json()["status"],
        witnessed.json()["witnessed_by"],
        witnessed.json()["recorded_by"],
    ) == (
        "witnessed",
        prescriber.pk,
        nurse.pk,
    )


def test_a_breakage_without_its_circumstances_is_refused_by_name(world: World, north: ClinicLocation) -> None:
    before = LedgerEvent.objects.count()
    body = {"product": "esketamine-28", "kind": "breakage", "quantity": "1", "lot_number": LOT_ESKETAMINE}
    response = post(world.api("nurse.north"), "/api/v1/ledger/events", body)
    assert response.status_code == 422 and "reason" in response.json()["errors"]
    assert LedgerEvent.objects.count() == before


def test_the_database_refuses_a_breakage_without_circumstances(world: World, north: ClinicLocation) -> None:
    lot = _lot("north", LOT_ESKETAMINE)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEvent.objects.create(
            location=north,
            product=lot.product,
            lot=lot,
            kind="breakage",
            occurred_at=timezone.now(),
            recorded_by=world.user("nurse.north"),
            delta=Decimal(-1),
            balance_after=Decimal(5),
            amount_mg=Decimal(28),
            volume_ml=Decimal("0.2"),
        )


# --- CS-06: disposal (recoverable stock destroyed or returned) ---------------------------------------------


def test_recoverable_stock_is_disposed_of_as_its_own_event_and_witnessed(
    world: World, north: ClinicLocation
) -> None:
    """CS-06: recoverable damaged stock is a `dispose` event (destroyed, or returned to a reverse distributor
    with its name, address and DEA number), witnessed by a second clinician."""
    nurse, prescriber = world.user("nurse.north"), world.user("prescriber.north")
    returned = _event(
        north,
        nurse,
        product="ketamine-50",
        kind="dispose",
        quantity=Decimal(500),
        lot_number=LOT_KETAMINE,
        manner="reverse_distributor",
        reason="Vial with a cracked cap, sealed",
        **DISTRIBUTOR,
    )
    destroyed = _event(
        north,
        nurse,
        product="esketamine-28",
        kind="dispose",
        quantity=Decimal(1),
        lot_number=LOT_ESKETAMINE,
        manner="destroyed",
    )
    assert (returned.delta, returned.balance_after, returned.distributor_dea_number) == (
        Decimal(-500),
        Decimal(500),
        "RC1234563",
    )
    assert destroyed.manner == "destroyed" and destroyed.distributor_name == ""
    with pytest.raises(Forbidden):
        do_witness_waste(returned, actor=nurse)
    do_witness_waste(returned, actor=prescriber)
    with pytest.raises(Refused):
        do_witness_waste(returned, actor=prescriber)
    assert WasteWitness.objects.get(event=returned).witnessed_by == prescriber


@pytest.mark.parametrize("field", ["distributor_name", "distributor_address", "distributor_dea_number"])
def test_a_return_without_the_distributor_is_refused_by_name(
    world: World, north: ClinicLocation, field: str
) -> None:
    body = {
        "product": "ketamine-50",
        "kind": "dispose",
        "quantity": "100",
        "lot_number": LOT_KETAMINE,
        "manner": "reverse_distributor",
        **{k: v for k, v in DISTRIBUTOR.items() if k != field},
    }
    before = LedgerEvent.objects.count()
    response = post(world.api("nurse.north"), "/api/v1/ledger/events", body)
    assert response.status_code == 422 and field in response.json()["errors"]
    assert LedgerEvent.objects.count() == before


def test_a_disposal_needs_its_manner(world: World, north: ClinicLocation) -> None:
    body = {"product": "ketamine-50", "kind": "dispose", "quantity": "100", "lot_number": LOT_KETAMINE}
    response = post(world.api("nurse.north"), "/api/v1/ledger/events", body)
    assert response.status_code == 422 and "manner" in response.json()["errors"]


def test_a_count_or_adjustment_is_never_witnessed(world: World, north: ClinicLocation) -> None:
    count = _event(
        north,
        world.user("nurse.north"),
        product="esketamine-28",
        kind="count",
        quantity=Decimal(6),
        lot_number=LOT_ESKETAMINE,
    )
    with pytest.raises(Refused):
        do_witness_waste(count, actor=world.user("prescriber.north"))


# --- CS-06: transfer between locations ---------------------------------------------------------------------


def test_a_transfer_moves_both_books_together_and_the_receiving_side_sees_it(
    world: World, north: ClinicLocation
) -> None:
    response = post(
        world.api("nurse.north"),
        "/api/v1/ledger/events",
        {
            "product": "esketamine-28",
            "kind": "transfer_out",
            "quantity": "4",
            "lot_number": LOT_ESKETAMINE,
            "to_location": "south",
        },
    )
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["kind"], out["delta"], out["balance_after"], out["counterpart_location"]) == (
        "transfer_out",
        "-4",
        "2",
        "south",
    )
    south_lot = _lot("south", LOT_ESKETAMINE)
    assert south_lot.balance == 4 and south_lot.expires_on == _lot("north", LOT_ESKETAMINE).expires_on
    assert out["transferred_as"] is not None
    # South's nurse sees the receipt in south's ledger; north's event stays out of south's reach.
    south = world.api("nurse.south")
    listed = south.get("/api/v1/ledger/events?kind=transfer_in").json()["items"]
    assert [(e["id"], e["transfer_of"], e["delta"], e["counterpart_location"]) for e in listed] == [
        (out["transferred_as"], out["id"], "4", "north")
    ]
    assert south.get(f"/api/v1/ledger/events/{out['id']}").status_code == 404
    balances = {
        (b["location"], b["product"]): b["balance"] for b in south.get("/api/v1/ledger/balances").json()
    }
    assert balances[("south", "esketamine-28")] == "4"
    # Each side balances: every lot's balance is the sum of its events.
    for lot in Lot.objects.filter(lot_number=LOT_ESKETAMINE):
        assert lot.balance == sum(e.delta for e in lot.events.all())
    assert AuditEvent.objects.filter(action=Action.LEDGER_TRANSFER).count() == 1


def test_a_transfer_beyond_the_balance_moves_neither_book(world: World, north: ClinicLocation) -> None:
    before = (LedgerEvent.objects.count(), Lot.objects.filter(location__slug="south").count())
    body = {
        "product": "esketamine-28",
        "kind": "transfer_out",
        "quantity": "7",
        "lot_number": LOT_ESKETAMINE,
        "to_location": "south",
    }
    response = post(world.api("nurse.north"), "/api/v1/ledger/events", body)
    assert response.status_code == 409
    assert (LedgerEvent.objects.count(), Lot.objects.filter(location__slug="south").count()) == before
    assert _lot("north", LOT_ESKETAMINE).balance == 6


@pytest.mark.parametrize("destination", ["north", "nowhere", ""])
def test_a_transfer_names_another_location_of_the_network(
    world: World, north: ClinicLocation, destination: str
) -> None:
    body = {
        "product": "esketamine-28",
        "kind": "transfer_out",
        "quantity": "1",
        "lot_number": LOT_ESKETAMINE,
        "to_location": destination,
    }
    response = post(world.api("nurse.north"), "/api/v1/ledger/events", body)
    assert response.status_code == 422 and "to_location" in response.json()["errors"]


def test_a_transfer_to_a_location_that_does_not_stock_the_product_is_refused(
    world: World, north: ClinicLocation
) -> None:
    Product.objects.filter(location__slug="south", code="esketamine-28").update(active=False)
    with pytest.raises(InvalidInput) as refused:
        _event(
            north,
            world.user("nurse.north"),
            product="esketamine-28",
            kind="transfer_out",
            quantity=Decimal(1),
            lot_number=LOT_ESKETAMINE,
            to_location="south",
        )
    assert "to_location" in refused.value.errors


# --- CS-08: theft and significant loss, DEA Form 106 -------------------------------------------------------


@pytest.mark.parametrize(
    ("discovered", "notice_due"),
    [
        (dt.date(2026, 11, 20), dt.date(2026, 11, 23)),  # Friday -> Monday
        (dt.date(2026, 11, 25), dt.date(2026, 11, 27)),  # the day before Thanksgiving -> Friday
        (dt.date(2026, 7, 2), dt.date(2026, 7, 6)),  # Thursday; Independence Day observed on Friday 3rd
        (dt.date(2026, 12, 31), dt.date(2027, 1, 4)),  # Thursday; New Year's Day on Friday
        (dt.date(2026, 11, 24), dt.date(2026, 11, 25)),  # Tuesday -> Wednesday
        (dt.date(2026, 11, 21), dt.date(2026, 11, 23)),  # Saturday -> Monday
    ],
)
def test_the_written_notice_is_due_one_business_day_after_discovery(
    discovered: dt.date, notice_due: dt.date
) -> None:
    assert calendar.loss_deadlines(discovered) == (notice_due, discovered + dt.timedelta(days=45))


def _loss_body(**extra: Any) -> dict[str, Any]:
    return {
        "loss_type": "theft",
        "discovered_at": "2026-11-20T08:15:00-08:00",  # a Friday at north (America/Los_Angeles)
        "description": "Locked drawer forced overnight; devices missing at opening count",
        "items": [
            {"product": "esketamine-28", "lot_number": LOT_ESKETAMINE, "quantity": "2"},
            {"product": "ketamine-50", "lot_number": LOT_KETAMINE, "quantity": "500"},
        ],
        **extra,
    }


def test_a_theft_takes_the_quantities_off_and_sets_the_dea_deadlines(
    world: World, north: ClinicLocation
) -> None:
    """CS-08: a loss marked on a Friday has its written notice due on the Monday and Form 106 within 45
    days; its Form 106 export holds the NDC, the quantities and the dates."""
    client = world.api("nurse.north")
    response = post(client, "/api/v1/ledger/losses", _loss_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/ledger/losses/{body['id']}"
    assert (body["notice_due_on"], body["form_106_due_on"], body["loss_type"]) == (
        "2026-11-23",
        "2027-01-04",
        "theft",
    )
    assert body["status"] == "notice_overdue"  # today is after the Monday
    assert [(i["lot_number"], i["quantity"], i["unit"], i["amount_mg"]) for i in body["items"]] == [
        (LOT_ESKETAMINE, "2", "device", "56"),
        (LOT_KETAMINE, "500", "mg", "500"),
    ]
    assert (_lot("north", LOT_ESKETAMINE).balance, _lot("north", LOT_KETAMINE).balance) == (
        Decimal(4),
        Decimal(500),
    )
    assert client.get(response["Location"]).json() == body
    export = client.get(f"/api/v1/ledger/losses/{body['id']}/form-106")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    text = export.content.decode()
    assert "50458-028-02" in text and "2026-11-20T08:15:00-08:00" in text and "2026-11-23" in text
    assert ",2,device,56,0.4,2," in text
    assert AuditEvent.objects.filter(action=Action.LEDGER_LOSS_EXPORT).count() == 1


def test_the_notice_then_form_106_are_recorded_once_each(world: World, north: ClinicLocation) -> None:
    client = world.api("nurse.north")
    loss = post(client, "/api/v1/ledger/losses", _loss_body()).json()
    steps = f"/api/v1/ledger/losses/{loss['id']}/steps"
    early = post(
        client, steps, {"step": "form_106", "done_at": "2026-11-21T10:00:00-08:00", "reference": "X"}
    )
    assert early.status_code == 409
    notice = {"step": "notice", "done_at": "2026-11-20T11:00:00-08:00", "reference": "Seattle Field Division"}
    first = post(client, steps, notice)
    assert first.status_code == 201 and first.json()["status"] in ("form_106_due", "form_106_overdue")
    assert post(client, steps, notice).status_code == 409
    before = post(client, steps, {**notice, "step": "form_106", "done_at": "2026-11-19T11:00:00-08:00"})
    assert before.status_code == 422 and "done_at" in before.json()["errors"]
    filed = post(
        client, steps, {"step": "form_106", "done_at": "2026-11-25T09:00:00-08:00", "reference": "106-A1"}
    )
    assert filed.status_code == 201 and filed.json()["status"] == "filed"
    assert filed.json()["form_106_confirmation"] == "106-A1"
    assert LossStep.objects.count() == 2


def test_a_loss_beyond_a_lots_balance_saves_nothing(world: World, north: ClinicLocation) -> None:
    client = world.api("nurse.north")
    before = (LossReport.objects.count(), LedgerEvent.objects.count(), AuditEvent.objects.count())
    body = _loss_body(
        items=[
            {"product": "esketamine-28", "lot_number": LOT_ESKETAMINE, "quantity": "1"},
            {"product": "ketamine-50", "lot_number": LOT_KETAMINE, "quantity": "5000"},
        ]
    )
    response = post(client, "/api/v1/ledger/losses", body)
    assert response.status_code == 409
    assert (LossReport.objects.count(), LedgerEvent.objects.count(), AuditEvent.objects.count()) == before
    assert _lot("north", LOT_ESKETAMINE).balance == 6


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"discovered_at": "2099-01-01T00:00:00+00:00"}, "discovered_at"),
        ({"discovered_at": "2026-11-20T08:15:00"}, "discovered_at"),
        # A number of seconds is not a moment a clinic wrote down: 0 would be 1970-01-01.
        ({"discovered_at": 0}, "discovered_at"),
        ({"discovered_at": 1795680000}, "discovered_at"),
        ({"description": ""}, "description"),
        ({"loss_type": "misplaced"}, "loss_type"),
        ({"items": []}, "items"),
    ],
)
def test_a_bad_loss_is_refused_by_name(
    world: World, north: ClinicLocation, change: dict[str, Any], field: str
) -> None:
    response = post(world.api("nurse.north"), "/api/v1/ledger/losses", _loss_body(**change))
    assert response.status_code == 422, response.content
    assert any(key.startswith(field) for key in response.json()["errors"]), response.json()
    assert LossReport.objects.count() == 0


def test_a_loss_report_is_recorded_once_for_a_retried_post(world: World, north: ClinicLocation) -> None:
    client = world.api("nurse.north")
    first = post(client, "/api/v1/ledger/losses", _loss_body(), **{"Idempotency-Key": "loss-retry-1"})
    again = post(client, "/api/v1/ledger/losses", _loss_body(), **{"Idempotency-Key": "loss-retry-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and LossReport.objects.count() == 1


def test_loss_status_follows_the_deadlines(world: World, north: ClinicLocation) -> None:
    nurse = world.user("nurse.north")
    report = do_report_loss(north, LossIn.model_validate(_loss_body()), actor=nurse)
    assert loss_status(report, dt.date(2026, 11, 23)) == "notice_due"
    assert loss_status(report, dt.date(2026, 11, 24)) == "notice_overdue"
    do_record_loss_step(
        report,
        LossStepIn.model_validate(
            {"step": "notice", "done_at": "2026-11-23T09:00:00-08:00", "reference": "FD"}
        ),
        actor=nurse,
    )
    assert loss_status(report, dt.date(2027, 1, 4)) == "form_106_due"
    assert loss_status(report, dt.date(2027, 1, 5)) == "form_106_overdue"


# --- CS-09: retention guard --------------------------------------------------------------------------------

TABLES = (
    "ledger_product",
    "ledger_lot",
    "ledger_ledgerevent",
    "ledger_wastewitness",
    "ledger_lossreport",
    "ledger_lossstep",
)


@pytest.mark.parametrize("table", TABLES)
def test_the_database_refuses_to_delete_a_controlled_substance_record(
    world: World, north: ClinicLocation, table: str
) -> None:
    """CS-09: no record of the ledger can be deleted, however old, not even by SQL past the application."""
    nurse = world.user("nurse.north")
    waste = _event(
        north, nurse, product="esketamine-28", kind="waste", quantity=Decimal(1), lot_number=LOT_ESKETAMINE
    )
    do_witness_waste(waste, actor=world.user("prescriber.north"))
    report = do_report_loss(north, LossIn.model_validate(_loss_body()), actor=nurse)
    do_record_loss_step(
        report,
        LossStepIn.model_validate(
            {"step": "notice", "done_at": "2026-11-20T09:00:00-08:00", "reference": "FD"}
        ),
        actor=nurse,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        count = cursor.fetchone()[0]
    assert count > 0
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        assert cursor.fetchone()[0] == count


@pytest.mark.parametrize("model", [Product, Lot, LedgerEvent, WasteWitness, LossReport, LossStep])
def test_the_application_refuses_to_delete_a_controlled_substance_record(
    world: World, north: ClinicLocation, model: type[Any]
) -> None:
    """CS-09: a two-year-old record, or any other, is refused by `delete()`, and no ledger table is on the
    admin site (so nobody deletes one there)."""
    nurse = world.user("nurse.north")
    old = timezone.now() - dt.timedelta(days=3 * 365)
    waste = do_record_event(
        north,
        EventIn(product="esketamine-28", kind="waste", quantity=Decimal(1), lot_number=LOT_ESKETAMINE),
        actor=nurse,
        occurred_at=old,
    )
    do_witness_waste(waste, actor=world.user("prescriber.north"), witnessed_at=old)
    report = do_report_loss(north, LossIn.model_validate(_loss_body()), actor=nurse)
    do_record_loss_step(
        report,
        LossStepIn.model_validate(
            {"step": "notice", "done_at": "2026-11-20T09:00:00-08:00", "reference": "FD"}
        ),
        actor=nurse,
    )
    row = model.objects.order_by("pk").first()
    with pytest.raises(Refused):
        row.delete()
    assert model.objects.filter(pk=row.pk).exists()
    assert not admin.site.is_registered(model)


# --- ledger.read and PHI -----------------------------------------------------------------------------------


def test_a_ledger_reader_without_chart_access_never_sees_who_was_given_a_dose(
    world: World, north: ClinicLocation
) -> None:
    """`ledger.read` is not a PHI permission: a clinic admin reads the ledger, but the patient of a dose
    (id, name, address, MRN) is withheld from anyone who may not read the location's patients."""
    assert Perm.LEDGER_READ not in PHI_PERMISSIONS
    assert Perm.LEDGER_READ in ROLE_PERMISSIONS[Role.CLINIC_ADMIN]
    patient = world.patient("north")
    event = do_administer(
        location=north,
        lot_number=LOT_ESKETAMINE,
        amount_mg=Decimal(56),
        session_ref="s-phi",
        actor=world.user("nurse.north"),
        patient=patient,
    )
    as_admin = world.api("admin.north").get(f"/api/v1/ledger/events/{event.pk}")
    as_nurse = world.api("nurse.north").get(f"/api/v1/ledger/events/{event.pk}")
    assert (as_admin.json()["patient_id"], as_admin.json()["patient_withheld"]) == (None, True)
    assert (as_nurse.json()["patient_id"], as_nurse.json()["patient_withheld"]) == (str(patient.pk), False)
    listed = world.api("admin.north").get("/api/v1/ledger/events?kind=administer").content
    assert str(patient.pk).encode() not in listed and patient.mrn.encode() not in listed
    for url in ("/ledger/", "/ledger/events/"):
        page = world.client("admin.north").get(url).content
        assert patient.mrn.encode() not in page and patient.family_name.encode() not in page
