"""The demo ledger: months of history through the actions, consistent and quick to load."""

from __future__ import annotations

import random
import time

from django.db.models import Sum
from django.utils import timezone

from conftest import World
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.ledger import demo
from ketaclinic.ledger.models import EventKind, LedgerEvent, LossReport, Lot, WasteWitness


def test_the_demo_history_is_months_of_consistent_events(world: World) -> None:
    north = ClinicLocation.objects.get(slug="north")
    started = time.perf_counter()
    demo.history(north, timezone.localdate(), random.Random(7), months=4)
    seconds = time.perf_counter() - started
    events = LedgerEvent.objects.filter(location=north)
    kinds = {kind: events.filter(kind=kind).count() for kind in EventKind.values}
    assert kinds["receive"] == 12 and kinds["administer"] >= 60 and kinds["count"] >= 6, kinds
    witnessed = kinds["waste"] + kinds["breakage"] + kinds["dispose"]
    assert witnessed == WasteWitness.objects.filter(event__location=north).count() > 0  # all witnessed
    settled = events.get(kind=EventKind.ADJUST)
    assert settled.corrects is not None and settled.corrects.discrepancy == -1
    for lot in Lot.objects.filter(location=north):
        assert lot.balance == events.filter(lot=lot).aggregate(total=Sum("delta"))["total"] >= 0
    assert events.filter(kind=EventKind.ADMINISTER, patient__isnull=False).count() == kinds["administer"]
    assert seconds < 30, seconds


def test_the_demo_history_has_a_breakage_a_return_a_transfer_and_a_theft(world: World) -> None:
    north, south = ClinicLocation.objects.get(slug="north"), ClinicLocation.objects.get(slug="south")
    today = timezone.localdate()
    demo.history(north, today, random.Random(7), months=3)
    demo.history(south, today, random.Random(8), months=3)
    for location in (north, south):
        events = LedgerEvent.objects.filter(location=location)
        broken = events.get(kind=EventKind.BREAKAGE)
        returned = events.get(kind=EventKind.DISPOSE)
        assert broken.reason and hasattr(broken, "witness") and hasattr(returned, "witness")
        assert returned.manner == "reverse_distributor" and returned.distributor_dea_number
    # South, loaded second, lends two vials to north, whose ledger shows them arriving.
    out = LedgerEvent.objects.get(location=south, kind=EventKind.TRANSFER_OUT)
    arrived = LedgerEvent.objects.get(location=north, kind=EventKind.TRANSFER_IN)
    assert arrived.transfer_of == out and arrived.delta == -out.delta == 1000
    report = LossReport.objects.get(location=south)
    assert report.steps.count() == 1 and report.events.count() == 1
    for lot in Lot.objects.all():
        assert lot.balance == LedgerEvent.objects.filter(lot=lot).aggregate(total=Sum("delta"))["total"] >= 0
