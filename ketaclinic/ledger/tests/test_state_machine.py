"""The ledger as a state machine (security-checks CS-02): any sequence of receive, administer, waste,
breakage, dispose, transfer to a second location, theft or loss, witness, count and adjust keeps every lot's
balance, at both locations, equal to the sum of its events, never below zero; a refused event changes
nothing at either location; a transfer's two events always pair up.

Each example works in two locations of its own, so examples do not see each other's rows.
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
from ketaclinic.ledger.actions import do_administer, do_record_event, do_report_loss, do_witness_waste
from ketaclinic.ledger.inputs import EventIn, LossIn
from ketaclinic.ledger.models import WITNESSED_KINDS, EventKind, LedgerEvent, LossReport, Lot, WasteWitness

_serial = itertools.count()
LOTS = {"K": "ketamine-50", "E": "esketamine-28"}


class Ledger(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        world = self.world
        self.nurse, self.prescriber = world.user("nurse.north"), world.user("prescriber.north")
        network = ClinicNetwork.objects.get(slug="demo")
        serial = next(_serial)
        self.location = do_create_location(network, "Machine", f"machine-{serial}", time_zone="UTC")
        self.other = do_create_location(network, "Other", f"other-{serial}", time_zone="America/New_York")
        for user in (self.nurse, self.prescriber):
            do_grant_role(user, self.location, "nurse")
        demo.products(self.location, self.nurse)
        demo.products(self.other, self.nurse)
        self.expected: dict[str, Decimal] = {}  # lot key -> the balance the model expects here
        self.elsewhere: dict[str, Decimal] = {}  # lot key -> the balance the model expects at the other
        self.wastes: list[LedgerEvent] = []

    def _lot(self, key: str) -> str:
        return f"{key}-{self.location.slug}"

    def _counts(self) -> tuple[int, ...]:
        return (
            LedgerEvent.objects.count(),
            AuditEvent.objects.count(),
            WasteWitness.objects.count(),
            LossReport.objects.count(),
            Lot.objects.count(),
        )

    def _balances(self) -> dict[tuple[int, str], Decimal]:
        rows = Lot.objects.filter(location__in=[self.location, self.other])
        return {
            (loc, number): bal
            for loc, number, bal in rows.values_list("location_id", "lot_number", "balance")
        }

    def _refused_changes_nothing(self, attempt: Any) -> None:
        before, balances = self._counts(), self._balances()
        with pytest.raises((Refused, InvalidInput, Forbidden)):
            attempt()
        assert self._counts() == before
        assert self._balances() == balances

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

    def _taken(self, key: str, units: int) -> Decimal:
        return Decimal(units) if key == "E" else Decimal(units * 100)

    def _take(self, key: str, quantity: Decimal, attempt: Any) -> Any:
        if key in self.expected and self.expected[key] >= quantity:
            self.expected[key] -= quantity
            return attempt()
        self._refused_changes_nothing(attempt)
        return None

    @rule(key=st.sampled_from(sorted(LOTS)), units=st.integers(1, 3))
    def breakage(self, key: str, units: int) -> None:
        quantity = self._taken(key, units)
        made = self._take(
            key, quantity, self._event(key, "breakage", quantity, reason="dropped, not recoverable")
        )
        if made is not None:
            self.wastes.append(made)

    @rule(key=st.sampled_from(sorted(LOTS)), units=st.integers(1, 3), returned=st.booleans())
    def dispose(self, key: str, units: int, returned: bool) -> None:
        quantity = self._taken(key, units)
        manner: dict[str, Any] = (
            {
                "manner": "reverse_distributor",
                **{k.replace("supplier", "distributor"): v for k, v in demo.SUPPLIER.items()},
            }
            if returned
            else {"manner": "destroyed"}
        )
        made = self._take(key, quantity, self._event(key, "dispose", quantity, **manner))
        if made is not None:
            self.wastes.append(made)

    @rule(key=st.sampled_from(sorted(LOTS)), units=st.integers(1, 3))
    def transfer(self, key: str, units: int) -> None:
        quantity = self._taken(key, units)
        made = self._take(
            key, quantity, self._event(key, "transfer_out", quantity, to_location=self.other.slug)
        )
        if made is not None:
            self.elsewhere[key] = self.elsewhere.get(key, Decimal(0)) + quantity

    @rule(key=st.sampled_from(sorted(LOTS)), units=st.integers(1, 3))
    def loss(self, key: str, units: int) -> None:
        quantity = self._taken(key, units)
        data = LossIn.model_validate(
            {
                "loss_type": "theft",
                "discovered_at": dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC),
                "description": "missing",
                "items": [{"product": LOTS[key], "lot_number": self._lot(key), "quantity": quantity}],
            }
        )
        self._take(key, quantity, lambda: do_report_loss(self.location, data, actor=self.nurse))

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
        for location, expected in ((self.location, self.expected), (self.other, self.elsewhere)):
            for lot in Lot.objects.filter(location=location):
                total = LedgerEvent.objects.filter(lot=lot).aggregate(total=Sum("delta"))["total"]
                assert lot.balance == total >= 0
                key = lot.lot_number.split("-")[0]
                assert lot.balance == expected[key]
                last = LedgerEvent.objects.filter(lot=lot).order_by("-id").first()
                assert last is not None and last.balance_after == lot.balance
            assert not LedgerEvent.objects.filter(location=location, balance_after__lt=0).exists()
        assert all(e.kind in WITNESSED_KINDS for e in self.wastes)

    @invariant()
    def every_transfer_pairs_up(self) -> None:
        outs = LedgerEvent.objects.filter(location=self.location, kind=EventKind.TRANSFER_OUT)
        ins = LedgerEvent.objects.filter(location=self.other, kind=EventKind.TRANSFER_IN)
        assert sorted(outs.values_list("pk", flat=True)) == sorted(
            ins.values_list("transfer_of_id", flat=True)
        )
        for arrived in ins.select_related("transfer_of"):
            assert arrived.transfer_of is not None and arrived.delta == -arrived.transfer_of.delta


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
