"""The demo ledger: months of history through the actions, consistent and quick to load."""

from __future__ import annotations

import random
import time

from django.db.models import Sum
from django.utils import timezone

from conftest import World
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.ledger import demo
from ketaclinic.ledger.models import EventKind, LedgerEvent, Lot, WasteWitness


def test_the_demo_history_is_months_of_consistent_events(world: World) -> None:
    north = ClinicLocation.objects.get(slug="north")
    started = time.perf_counter()
    demo.history(north, timezone.localdate(), random.Random(7), months=4)
    seconds = time.perf_counter() - started
    events = LedgerEvent.objects.filter(location=north)
    kinds = {kind: events.filter(kind=kind).count() for kind in EventKind.values}
    assert kinds["receive"] == 12 and kinds["administer"] >= 60 and kinds["count"] >= 6, kinds
    assert kinds["waste"] == WasteWitness.objects.filter(event__location=north).count() > 0  # all witnessed
    settled = events.get(kind=EventKind.ADJUST)
    assert settled.corrects is not None and settled.corrects.discrepancy == -1
    for lot in Lot.objects.filter(location=north):
        assert lot.balance == events.filter(lot=lot).aggregate(total=Sum("delta"))["total"] >= 0
    assert events.filter(kind=EventKind.ADMINISTER, patient__isnull=False).count() == kinds["administer"]
    assert seconds < 30, seconds
