"""The ledger's theft-and-loss routes of the access matrix (patients/tests/test_access_matrix.py), and the
state each needs: a loss report at the matrix patient's location ({loss}), recorded by a nurse who is none of
the personas, and at every location a lot the caller's own loss report can take from. Made once per test,
so that a retried request (Idempotency-Key) names the same rows and adds none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.clock import local_today, location_zone
from ketaclinic.ledger.actions import do_report_loss
from ketaclinic.ledger.inputs import LossIn
from ketaclinic.ledger.models import LossReport, Lot
from ketaclinic.ledger.tests import helpers
from ketaclinic.patients.models import Patient

READERS = {"admin", "prescriber", "nurse"}
WRITERS = {"prescriber", "nurse"}
LOT = "MATRIX-LOSS"
L = "/api/v1/ledger/losses"
P = "/ledger/losses"

# (name, method, url template, body, allowed roles, scoped to the patient's location, API?)
ROUTES: list[tuple[str, str, str, Any, set[str], bool, bool]] = [
    ("api ledger losses", "get", L, None, READERS, False, True),
    ("api ledger loss report", "post", L, "loss", WRITERS, False, True),
    ("api ledger loss", "get", f"{L}/{{loss}}", None, READERS, True, True),
    ("api ledger loss step", "post", f"{L}/{{loss}}/steps", "step", WRITERS, True, True),
    ("api ledger form 106", "get", f"{L}/{{loss}}/form-106", None, READERS, True, True),
    ("ledger losses page", "get", f"{P}/", None, READERS, False, False),
    ("ledger loss form", "get", f"{P}/new/", None, WRITERS, False, False),
    ("ledger loss report", "post", f"{P}/new/", "loss", WRITERS, False, False),
    ("ledger loss page", "get", f"{P}/{{loss}}/", None, READERS, True, False),
    ("ledger loss step", "post", f"{P}/{{loss}}/steps/", "step", WRITERS, True, False),
    ("ledger form 106", "get", f"{P}/{{loss}}/form-106.csv", None, READERS, True, False),
    ("ledger breakage form", "post", "/ledger/record/breakage/", "breakage", WRITERS, False, False),
]
NAMES = {r[0] for r in ROUTES}
SAMPLE_IDS = {"loss": 1}


def _noon(location: ClinicLocation, days_ago: int) -> dt.datetime:
    day = local_today(location) - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(12), tzinfo=location_zone(location))


def _stock(location: ClinicLocation, recorder: Any) -> None:
    helpers.ensure_products(location, recorder)
    if not Lot.objects.filter(location=location, lot_number=LOT).exists():
        helpers.receive(location, recorder, "esketamine-28", LOT, 10)


def loss_at(location: ClinicLocation) -> LossReport:
    """A theft reported at `location` three days ago by the matrix's own recorder."""
    recorder = User.objects.get(pk=helpers.matrix_recorder().pk)
    made = LossReport.objects.filter(location=location, recorded_by=recorder).order_by("pk").first()
    if made is not None:
        return made
    _stock(location, recorder)
    data = LossIn.model_validate(
        {
            "loss_type": "theft",
            "discovered_at": _noon(location, 3),
            "description": "Matrix: two devices missing",
            "items": [{"product": "esketamine-28", "lot_number": LOT, "quantity": "2"}],
        }
    )
    return do_report_loss(location, data, actor=recorder)


def _when(moment: dt.datetime, is_api: bool) -> str:
    """The API takes an offset; a page's field is the location's wall clock."""
    return moment.isoformat() if is_api else moment.strftime("%Y-%m-%dT%H:%M")


def stock_everywhere() -> None:
    for location in ClinicLocation.objects.all():
        _stock(location, helpers.matrix_recorder())


def loss_body(location: ClinicLocation, is_api: bool = True) -> dict[str, Any]:
    """A new loss report of one device of the matrix lot (which every location holds)."""
    stock_everywhere()
    body = {
        "loss_type": "significant_loss",
        "discovered_at": _when(_noon(location, 1), is_api),
        "description": "Found short at the count",
    }
    item = {"product": "esketamine-28", "lot_number": LOT, "quantity": "1"}
    return {**body, "items": [item]} if is_api else {**body, **item}


def step_body(location: ClinicLocation, is_api: bool = True) -> dict[str, Any]:
    """The written notice of the matrix's loss report, sent two days ago."""
    return {
        "step": "notice",
        "done_at": _when(_noon(location, 2), is_api),
        "reference": "Seattle Field Division",
    }


def call(route: tuple[Any, ...], patient: Patient, send: Callable[[str, Any], Any]) -> Any:
    _, _, url, body, _, _, is_api = route
    north = patient.location
    report = loss_at(north)
    stock_everywhere()
    if body == "loss":
        body = loss_body(north, is_api)
    elif body == "step":
        body = step_body(north, is_api)
    elif body == "breakage":
        body = {"product": "esketamine-28", "lot_number": LOT, "quantity": "1", "reason": "Dropped; cracked"}
    return send(url.format(loss=report.pk), body)
