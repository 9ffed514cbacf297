"""Repeated failures are one audit row per kind, address and window, and the count each row carries is
part of the tamper-evident chain (format 3); events hashed before it keep verifying."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone
from pytest_django import Settings

from ketaclinic.audit import chain, client, server
from ketaclinic.audit.actions import record, verify_chain
from ketaclinic.audit.context import Origin
from ketaclinic.audit.models import Action, AuditEvent, Outcome, RepeatTally, Via
from ketaclinic.audit.repeats import counted_address, flush_due, record_repeated
from ketaclinic.audit.tests.test_chain import _bypass_triggers

API = Origin(via=Via.API, request_id="r", source_ip="192.0.2.10")


def total(action: str = Action.API_AUTH_FAILED) -> int:
    return int(AuditEvent.objects.filter(action=action).aggregate(n=Sum("occurrences"))["n"] or 0)


def let_time_pass(seconds: int) -> None:
    RepeatTally.objects.update(reported_at=F("reported_at") - timedelta(seconds=seconds))


@pytest.mark.parametrize(
    ("given", "counted"),
    [
        ("192.0.2.10", "192.0.2.10"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
        ("2001:db8:1:2::", "2001:db8:1:2::"),
        ("::ffff:192.0.2.10", "192.0.2.10"),
        ("not an address", ""),
        (None, ""),
    ],
)
def test_clients_are_counted_by_address_and_ipv6_by_its_64(given: str | None, counted: str) -> None:
    assert counted_address(given) == counted


def test_a_flood_is_one_row_per_window_and_every_failure_is_counted_once(
    db: None, settings: Settings
) -> None:
    window = settings.KETACLINIC_AUDIT_REPEAT_WINDOW_SECONDS
    for _ in range(1000):
        record_repeated(Action.API_AUTH_FAILED, origin=API, outcome=Outcome.FAILURE)
    assert AuditEvent.objects.count() == 1 and total() == 1
    record_repeated(Action.API_AUTH_THROTTLED, origin=API, outcome=Outcome.DENIED)  # another kind
    assert AuditEvent.objects.count() == 2
    let_time_pass(window // 2)
    assert flush_due() == 0 and total() == 1
    let_time_pass(window // 2 + 1)
    assert flush_due() == 1 and total() == 1000
    assert flush_due() == 0  # nothing pending: nothing more to write
    assert verify_chain().ok


def test_the_row_is_written_with_its_tally_or_not_at_all(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from ketaclinic.audit import repeats

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(repeats, "record", broken)
    with pytest.raises(RuntimeError):
        record_repeated(Action.API_AUTH_FAILED, origin=API, outcome=Outcome.FAILURE)
    monkeypatch.undo()
    assert not RepeatTally.objects.exists()  # the count went with the row that failed
    record_repeated(Action.API_AUTH_FAILED, origin=API, outcome=Outcome.FAILURE)
    assert total() == 1


def test_quiet_tallies_are_forgotten(db: None, settings: Settings) -> None:
    record_repeated(Action.API_AUTH_FAILED, origin=API, outcome=Outcome.FAILURE)
    let_time_pass(5 * settings.KETACLINIC_AUDIT_REPEAT_WINDOW_SECONDS)
    flush_due()
    assert not RepeatTally.objects.exists()
    record_repeated(Action.API_AUTH_FAILED, origin=API, outcome=Outcome.FAILURE)
    assert AuditEvent.objects.filter(action=Action.API_AUTH_FAILED).count() == 2


def test_the_count_is_in_the_chain(db: None) -> None:
    event = record(Action.API_AUTH_FAILED, origin=API, outcome=Outcome.FAILURE, occurrences=40)
    assert chain.format_of(event) == chain.FORMAT >= 3
    _bypass_triggers("UPDATE audit_auditevent SET occurrences = %s WHERE seq = %s", [1, event.seq])
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == event.seq


def test_events_hashed_before_the_count_still_verify(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "FORMAT", 2)
    old = [record(Action.PATIENT_READ) for _ in range(2)]
    monkeypatch.undo()
    new = [record(Action.PATIENT_READ, occurrences=3) for _ in range(2)]
    assert [chain.format_of(e) for e in old + new] == [2, 2, chain.FORMAT, chain.FORMAT]
    assert verify_chain().ok


def test_the_writer_carries_the_count() -> None:
    event = AuditEvent(occurred_at=timezone.now(), action=Action.API_AUTH_FAILED, via=Via.API, occurrences=12)
    assert server.decode(client.encode(event)).occurrences == 12


def test_the_migration_kept_the_append_only_triggers(db: None) -> None:
    """0010 adds the column in place: a rebuilt table would have lost the triggers of 0002."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass "
                "AND NOT tgisinternal"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditevent'"
            )
        assert cursor.fetchone()[0] == 2
