"""The ledger as a state machine: any sequence of receive, administer, waste, witness, count and adjust
keeps every lot's balance equal to the sum of its events, never below zero; a refused event changes nothing.

Each example works in a location of its own, so examples do not see each other's rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from conftest import World
from ketaclinic.accounts.actions import do_create_location, do_grant_role
from ketaclinic.accounts.models import ClinicNetwork
from ketaclinic.audit.models import AuditEvent
from ketaclinic.errors import Forbidden, InvalidInput, Refused
from ketaclinic.ledger import demo
from ketaclinic.ledger.actions import do_administer, do_record_event, do_witness_waste
from ketaclinic.ledger.inputs import EventIn
from ketaclinic.ledger.models import EventKind, LedgerEvent, Lot, WasteWitness

_serial = itertools.count()
LOTS = {"K": "ketamine-50", "E": "esketamine-28"}


class Ledger(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        world = self.world
        self.nurse, self.prescriber = world.user("nurse.north"), world.user("prescriber.north")
        network = ClinicNetwork.objects.get(slug="demo")
        self.location = do_create_location(network, "Machine", f"machine-{next(_serial)}", time_zone="UTC")
        for user in (self.nurse, self.prescriber):
            do_grant_role(user, self.location, "nurse")
        demo.products(self.location, self.nurse)
        self.expected: dict[str, Decimal] = {}  # lot number -> the balance the model expects
        self.wastes: list[LedgerEvent] = []

    def _lot(self, key: str) -> str:
        return f"{key}-{self.location.slug}"

    def _refused_changes_nothing(self, attempt: Any) -> None:
        before = (LedgerEvent.objects.count(), AuditEvent.objects.count(), WasteWitness.objects.count())
        balances = dict(Lot.objects.filter(location=self.location).values_list("lot_number", "balance"))
        with pytest.raises((Refused, InvalidInput, Forbidden)):
            attempt()
        assert (
            LedgerEvent.objects.count(),
            AuditEvent.objects.count(),
            WasteWitness.objects.count(),
        ) == before
        assert (
            dict(Lot.objects.filter(location=self.location).values_list("lot_number", "balance")) == balances
        )

    def _event(self, key: str, kind: str, quantity: Decimal, **extra: Any) -> Any:
        data = EventIn(product=LOTS[key], kind=kind, quantity=quantity, lot_number=self._lot(key), **extra)  # type: ignore[arg-type]
        return lambda: do_record_event(self.location, data, actor=self.nurse)

    @rule(key=st.sampled_from(sorted(LOTS)), containers=st.integers(1, 3))
    def receive(self, key: str, containers: int) -> None:
        do_record_event(
            self.location,
            EventIn.model_validate(
                {
                    "product": LOTS[key],
                    "kind": "receive",
                    "quantity": Decimal(containers),
                    "lot_number": self._lot(key),
                    "expires_on": dt.date(2099, 1, 1),
                    **demo.SUPPLIER,
                }
            ),
            actor=self.nurse,
        )
        per_container = Decimal(500) if key == "K" else Decimal(1)
        self.expected[key] = self.expected.get(key, Decimal(0)) + containers * per_container

    @rule(key=st.sampled_from(sorted(LOTS)), units=st.integers(1, 4))
    def administer(self, key: str, units: int) -> None:
        amount_mg = Decimal(units * 28) if key == "E" else Decimal(units * 125)
        taken = Decimal(units) if key == "E" else amount_mg

        def give() -> Any:
            return do_administer(
                location=self.location,
                lot_number=self._lot(key),
                amount_mg=amount_mg,
                session_ref="machine",
                actor=self.nurse,
            )

        if key in self.expected and self.expected[key] >= taken:
            give()
            self.expected[key] -= taken
        else:
            self._refused_changes_nothing(give)

    @rule(key=st.sampled_from(sorted(LOTS)), units=st.integers(1, 3))
    def waste(self, key: str, units: int) -> None:
        quantity = Decimal(units) if key == "E" else Decimal(units * 100)
        attempt = self._event(key, "waste", quantity, reason="waste")
        if key in self.expected and self.expected[key] >= quantity:
            self.wastes.append(attempt())
            self.expected[key] -= quantity
        else:
            self._refused_changes_nothing(attempt)

    @rule(data=st.data())
    def witness(self, data: st.DataObject) -> None:
        if not self.wastes:
            return
        waste = data.draw(st.sampled_from(self.wastes))
        self._refused_changes_nothing(lambda: do_witness_waste(waste, actor=self.nurse))  # the recorder
        if WasteWitness.objects.filter(event=waste).exists():
            self._refused_changes_nothing(lambda: do_witness_waste(waste, actor=self.prescriber))
        else:
            do_witness_waste(waste, actor=self.prescriber)

    @rule(key=st.sampled_from(sorted(LOTS)), off=st.integers(-2, 2))
    def count(self, key: str, off: int) -> None:
        if key not in self.expected:
            return
        counted = max(self.expected[key] + off, Decimal(0))
        event = self._event(key, "count", counted)()
        assert event.book_balance == self.expected[key]
        assert event.discrepancy == counted - self.expected[key]

    @rule(key=st.sampled_from(sorted(LOTS)), change=st.integers(-3, 3).filter(bool))
    def adjust(self, key: str, change: int) -> None:
        attempt = self._event(key, "adjust", Decimal(change), reason="adjusted")
        if key in self.expected and self.expected[key] + change >= 0:
            attempt()
            self.expected[key] += change
        else:
            self._refused_changes_nothing(attempt)

    @invariant()
    def balances_are_the_sum_of_events_and_never_negative(self) -> None:
        for lot in Lot.objects.filter(location=self.location):
            total = LedgerEvent.objects.filter(lot=lot).aggregate(total=Sum("delta"))["total"]
            assert lot.balance == total >= 0
            key = lot.lot_number.split("-")[0]
            assert lot.balance == self.expected[key]
            last = LedgerEvent.objects.filter(lot=lot).order_by("-id").first()
            assert last is not None and last.balance_after == lot.balance
        assert not LedgerEvent.objects.filter(location=self.location, balance_after__lt=0).exists()
        assert all(e.kind == EventKind.WASTE for e in self.wastes)


def test_the_ledger_keeps_its_invariants(world: World) -> None:
    Ledger.world = world
    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
