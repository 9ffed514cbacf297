"""The ledger's actions: balances per lot, the conversions, refusals that save nothing, and the witness."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from conftest import World
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.errors import Forbidden, InvalidInput, Refused
from ketaclinic.ledger.actions import do_administer, do_witness_waste
from ketaclinic.ledger.models import EventKind, LedgerEvent, Lot, WasteWitness
from ketaclinic.ledger.tests.helpers import LOT_ESKETAMINE, LOT_KETAMINE, event, receive, stocked


@pytest.fixture
def north(world: World) -> ClinicLocation:
    location = ClinicLocation.objects.get(slug="north")
    stocked(location, world.user("nurse.north"))
    return location


def balance(lot_number: str) -> Decimal:
    return Lot.objects.get(lot_number=lot_number).balance


def test_a_receipt_adds_containers_in_the_products_unit(north: ClinicLocation) -> None:
    # 2 vials of 10 mL at 50 mg/mL = 1000 mg; 6 devices.
    assert balance(LOT_KETAMINE) == Decimal(1000)
    assert balance(LOT_ESKETAMINE) == Decimal(6)
    receipt = LedgerEvent.objects.get(lot__lot_number=LOT_KETAMINE, kind=EventKind.RECEIVE)
    assert (receipt.containers, receipt.amount_mg, receipt.volume_ml) == (2, Decimal(1000), Decimal(20))
    assert receipt.supplier_dea_number == "RC1234563"


def test_administering_esketamine_takes_whole_devices(world: World, north: ClinicLocation) -> None:
    nurse, patient = world.user("nurse.north"), world.patient("north")
    given = do_administer(
        location=north,
        lot_number=LOT_ESKETAMINE,
        amount_mg=Decimal(56),
        session_ref="s-1",
        actor=nurse,
        patient=patient,
    )
    assert (given.delta, given.balance_after, given.amount_mg, given.volume_ml) == (
        Decimal(-2),
        Decimal(4),
        Decimal(56),
        Decimal("0.4"),
    )
    assert given.patient == patient
    assert balance(LOT_ESKETAMINE) == Decimal(4)
    assert AuditEvent.objects.filter(action=Action.LEDGER_ADMINISTER, object_id=str(given.pk)).count() == 1
    with pytest.raises(InvalidInput) as bad:
        do_administer(
            location=north, lot_number=LOT_ESKETAMINE, amount_mg=Decimal(30), session_ref="s", actor=nurse
        )
    assert "amount_mg" in bad.value.errors


def test_administering_ketamine_takes_mg_and_states_ml(world: World, north: ClinicLocation) -> None:
    given = do_administer(
        location=north,
        lot_number=LOT_KETAMINE,
        amount_mg=Decimal("37.5"),
        session_ref="s-2",
        actor=world.user("nurse.north"),
    )
    assert (given.delta, given.amount_mg, given.volume_ml) == (
        Decimal("-37.5"),
        Decimal("37.5"),
        Decimal("0.75"),
    )
    assert balance(LOT_KETAMINE) == Decimal("962.5")


def test_an_unknown_lot_is_refused_by_name(world: World, north: ClinicLocation) -> None:
    before = LedgerEvent.objects.count()
    with pytest.raises(InvalidInput) as bad:
        do_administer(
            location=north,
            lot_number="NOPE",
            amount_mg=Decimal(56),
            session_ref="s",
            actor=world.user("nurse.north"),
        )
    assert set(bad.value.errors) == {"lot_number"}
    # Another location's lot is unknown here too.
    south = ClinicLocation.objects.get(slug="south")
    with pytest.raises(InvalidInput):
        do_administer(
            location=south,
            lot_number=LOT_KETAMINE,
            amount_mg=Decimal(10),
            session_ref="s",
            actor=world.user("nurse.south"),
        )
    assert LedgerEvent.objects.count() == before


def test_a_dose_beyond_the_balance_is_refused_and_saves_nothing(world: World, north: ClinicLocation) -> None:
    nurse = world.user("nurse.north")
    before = (LedgerEvent.objects.count(), AuditEvent.objects.count())
    with pytest.raises(Refused) as refused:
        do_administer(
            location=north, lot_number=LOT_ESKETAMINE, amount_mg=Decimal(28 * 7), session_ref="s", actor=nurse
        )
    assert "6" in refused.value.reasons[0]
    with pytest.raises(Refused):
        event(north, nurse, "ketamine-50", "waste", "1000.001", LOT_KETAMINE)
    with pytest.raises(Refused):
        event(north, nurse, "ketamine-50", "adjust", "-1001", LOT_KETAMINE, reason="broken vial")
    assert (LedgerEvent.objects.count(), AuditEvent.objects.count()) == before
    assert balance(LOT_ESKETAMINE) == Decimal(6)
    # The whole balance may be used: zero is allowed.
    do_administer(
        location=north, lot_number=LOT_ESKETAMINE, amount_mg=Decimal(28 * 6), session_ref="s", actor=nurse
    )
    assert balance(LOT_ESKETAMINE) == 0


def test_an_expired_lot_cannot_be_administered(world: World, north: ClinicLocation) -> None:
    nurse = world.user("nurse.north")
    receive(north, nurse, "ketamine-100", "OLD-1", 1, expires_on=dt.date(2020, 1, 31))
    with pytest.raises(Refused) as refused:
        do_administer(location=north, lot_number="OLD-1", amount_mg=Decimal(50), session_ref="s", actor=nurse)
    assert refused.value.field == "lot_number"
    assert balance("OLD-1") == Decimal(500)


def test_the_database_refuses_a_negative_balance(north: ClinicLocation) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Lot.objects.filter(lot_number=LOT_KETAMINE).update(balance=Decimal(-1))
    first = LedgerEvent.objects.first()
    assert first is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEvent.objects.create(
            location=first.location,
            product=first.product,
            lot=first.lot,
            kind=EventKind.ADJUST,
            occurred_at=first.occurred_at,
            recorded_by=first.recorded_by,
            reason="x",
            delta=Decimal(-2000),
            balance_after=Decimal(-1000),
            amount_mg=Decimal(2000),
            volume_ml=Decimal(40),
        )


def test_events_and_witnesses_are_append_only_in_the_database(world: World, north: ClinicLocation) -> None:
    nurse = world.user("nurse.north")
    waste = event(north, nurse, "ketamine-50", "waste", "12.5", LOT_KETAMINE, reason="left in vial")
    do_witness_waste(waste, actor=world.user("prescriber.north"))
    for table in ("ledger_ledgerevent", "ledger_wastewitness"):
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with (
                pytest.raises(Exception, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(statement)
    assert LedgerEvent.objects.filter(pk=waste.pk).exists()
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LedgerEvent.objects.filter(pk=waste.pk).update(reason="changed")


def test_a_waste_is_pending_until_another_permitted_user_witnesses_it(
    world: World, north: ClinicLocation
) -> None:
    nurse = world.user("nurse.north")
    waste = event(north, nurse, "ketamine-50", "waste", "12.5", LOT_KETAMINE, reason="left in vial")
    assert balance(LOT_KETAMINE) == Decimal("987.5")
    assert not WasteWitness.objects.filter(event=waste).exists()
    with pytest.raises(Forbidden):
        do_witness_waste(waste, actor=nurse)  # the recorder
    for name in ("frontdesk.north", "admin.north", "therapist.north", "nurse.south"):
        with pytest.raises(Forbidden):
            do_witness_waste(waste, actor=world.user(name))
    assert not WasteWitness.objects.exists()
    witness = do_witness_waste(waste, actor=world.user("prescriber.north"))
    assert (witness.witnessed_by, waste.recorded_by) == (world.user("prescriber.north"), nurse)
    with pytest.raises(Refused):
        do_witness_waste(waste, actor=world.user("prescriber.north"))
    assert AuditEvent.objects.filter(action=Action.LEDGER_WITNESS).count() == 1


def test_a_count_flags_a_discrepancy_and_an_adjustment_settles_it(
    world: World, north: ClinicLocation
) -> None:
    nurse = world.user("nurse.north")
    count = event(north, nurse, "esketamine-28", "count", "5", LOT_ESKETAMINE)
    assert (count.book_balance, count.counted, count.discrepancy, count.delta) == (
        Decimal(6),
        Decimal(5),
        Decimal(-1),
        Decimal(0),
    )
    assert balance(LOT_ESKETAMINE) == Decimal(6)
    fix = event(
        north,
        nurse,
        "esketamine-28",
        "adjust",
        "-1",
        LOT_ESKETAMINE,
        reason="device dropped, not found",
        corrects=count.pk,
    )
    assert fix.corrects == count and balance(LOT_ESKETAMINE) == Decimal(5)
    with pytest.raises(InvalidInput) as bad:
        event(north, nurse, "esketamine-28", "count", "4.5", LOT_ESKETAMINE)
    assert set(bad.value.errors) == {"quantity"}


def test_a_lot_belongs_to_one_product_and_keeps_its_expiry(world: World, north: ClinicLocation) -> None:
    nurse = world.user("nurse.north")
    with pytest.raises(InvalidInput) as bad:
        receive(north, nurse, "ketamine-100", LOT_KETAMINE, 1)
    assert set(bad.value.errors) == {"lot_number"}
    with pytest.raises(InvalidInput) as bad:
        receive(north, nurse, "ketamine-50", LOT_KETAMINE, 1, expires_on=dt.date(2030, 1, 1))
    assert set(bad.value.errors) == {"expires_on"}
    with pytest.raises(InvalidInput) as bad:
        event(north, nurse, "nothing", "count", "1", LOT_KETAMINE)
    assert set(bad.value.errors) == {"product"}
