"""On SQLite a keyed request's transaction begins at its first write, and its key is claimed right then
(hook._once): the request's reads (access, validation) run before, outside the one write
lock. What a client relies on stays as it was: a repeat gets the first answer, whether its own operation got
as far as a write or was refused before one, and nothing it did stays; a refusal keeps no key; a failure
keeps nothing.

The tests commit for real (transaction=True): inside a test's own transaction every atomic block is a
savepoint, and nothing begins late. On PostgreSQL the same tests check the claim-first path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseBase
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from ketaclinic.api.app import api
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.tests.test_writer import chain as chain
from ketaclinic.idempotency import hook
from ketaclinic.idempotency.keys import HEADER, REPLAYED_HEADER
from ketaclinic.idempotency.models import IdempotencyKey
from ketaclinic.treatment.models import VitalSigns
from ketaclinic.treatment.tests.helpers import Clock, checked_in, midday, plan_today, vitals

if TYPE_CHECKING:
    from conftest import World

# `chain` first: the world is loaded for real after it, and it lets the append-only tables be flushed after.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chain")]
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the late BEGIN is SQLite's")
# An operation's write, as the tests' operations make it: an audit event appended in its transaction.
WRITTEN = Action.PATIENT_SEARCH
PROBE = "deferred-begin-probe"


def _send(world: World, key: str, call: Callable[[], HttpResponseBase]) -> HttpResponse:
    """A keyed POST by nurse.north through the hook, its operation `call`."""
    nurse = world.user("nurse.north")
    request = RequestFactory().post(
        "/api/v1/probe",
        data=b"{}",
        content_type="application/json",
        headers={"Authorization": "Bearer probe", HEADER: key},
    )
    answer = hook.answer(request, api, call, lambda _request, _token: nurse)
    assert isinstance(answer, HttpResponse)
    return answer


def _writes(world: World) -> Callable[[], HttpResponseBase]:
    def call() -> HttpResponseBase:
        with transaction.atomic():
            record(WRITTEN, actor=world.user("nurse.north"), changed_fields=[PROBE])
        return HttpResponse(b'{"first": true}', status=201, content_type="application/json")

    return call


def _written() -> int:
    """The operations' writes (the world's own events are of other kinds)."""
    return AuditEvent.objects.filter(action=WRITTEN, changed_fields=[PROBE]).count()


def test_a_repeat_refused_before_any_write_replays_the_first_answer(world: World) -> None:
    """The first request's change can make its repeat's operation refuse (a duplicate, a closed session)
    before it writes anything: the repeat still answers with the first answer, not with that refusal."""
    first = _send(world, "k-1", _writes(world))
    ran: list[str] = []

    def refused() -> HttpResponseBase:
        ran.append("ran")
        return HttpResponse(b'{"detail": "refused"}', status=409, content_type="application/json")

    again = _send(world, "k-1", refused)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content == b'{"first": true}'
    assert again[REPLAYED_HEADER] == "true"
    # On SQLite the repeat's operation ran up to its refusal (reads need no lock); on PostgreSQL the claim
    # came first and it did not run.
    assert ran == (["ran"] if connection.vendor == "sqlite" else [])
    assert _written() == 1
    assert IdempotencyKey.objects.count() == 1


def test_a_repeat_unwinds_through_an_operations_own_error_handling(world: World) -> None:
    """Found at the repeat's first write, the taken key unwinds the operation past its `except Exception`:
    its handler does not run, and what it wrote does not stay."""
    first = _send(world, "k-2", _writes(world))
    handled: list[str] = []

    def careful() -> HttpResponseBase:
        try:
            with transaction.atomic():
                record(WRITTEN, actor=world.user("nurse.north"), changed_fields=[PROBE])
        except Exception:
            handled.append("handled")
            return HttpResponse(status=500)
        return HttpResponse(b'{"second": true}', status=201, content_type="application/json")

    again = _send(world, "k-2", careful)
    assert again.status_code == 201 and again.content == first.content
    assert handled == []
    assert _written() == 1


def test_a_refusal_keeps_no_key_and_a_failure_keeps_nothing(world: World) -> None:
    reads: list[bool] = []

    def refused() -> HttpResponseBase:
        reads.append(AuditEvent.objects.exists())
        return HttpResponse(b"{}", status=422, content_type="application/json")

    assert _send(world, "k-3", refused).status_code == 422
    assert not IdempotencyKey.objects.filter(key="k-3").exists()

    def fails() -> HttpResponseBase:
        with transaction.atomic():
            record(WRITTEN, actor=world.user("nurse.north"), changed_fields=[PROBE])
        return HttpResponse(status=500)

    assert _send(world, "k-3", fails).status_code == 500
    assert not IdempotencyKey.objects.filter(key="k-3").exists()
    assert _written() == 0
    assert _send(world, "k-3", _writes(world)).status_code == 201  # the retry runs, once
    assert _written() == 1


@sqlite_only
def test_a_keyed_reading_reads_before_the_lock_and_claims_its_key_first_under_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reading's access reads come before BEGIN; the claim is the transaction's first statement, so a
    retry in flight still finds it; and the retry records nothing more."""
    clock = Clock(monkeypatch, midday(world.patient("north")))
    plan = plan_today(world.patient("north"), world.user("prescriber.north"))
    session = checked_in(plan, world.user("nurse.north"))
    nurse = world.api("nurse.north")
    reading = vitals(clock.now).model_dump_json()

    def post() -> Any:
        return nurse.post(
            f"/api/v1/sessions/{session.pk}/vitals",
            reading,
            content_type="application/json",
            headers={HEADER: "vitals-late"},
        )

    with CaptureQueriesContext(connection) as queries:
        one = post()
    assert one.status_code == 201, one.content
    statements = [q["sql"] for q in queries.captured_queries]
    begin = next(i for i, sql in enumerate(statements) if sql.startswith("BEGIN"))
    assert statements[begin + 1].startswith('INSERT INTO "idempotency_idempotencykey"')
    before = " ".join(statements[:begin])
    assert "accounts_membership" in before and "treatment_treatmentsession" in before
    two = post()
    assert two.status_code == 201 and two[REPLAYED_HEADER] == "true"
    assert two.json()["id"] == one.json()["id"]
    assert VitalSigns.objects.filter(session=session).count() == 1
