"""The audit trail is append-only at the database and any edit that gets around that is detected."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from io import StringIO
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit import chain
from ketaclinic.audit.actions import record, verify_chain
from ketaclinic.audit.models import Action, AuditEvent

if TYPE_CHECKING:
    from conftest import World


def _bypass_triggers(sql: str, params: list[int | str]) -> None:
    """Edit the table the way an attacker with database access would, around the triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser can switch triggers off for the session ("replica" role) without touching the table.
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(sql, params)
            cursor.execute("SET session_replication_role = origin")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")
            cursor.execute(sql, params)


def test_every_write_in_the_demo_is_chained_and_verifies(world: World) -> None:
    report = verify_chain()
    assert report.ok and report.checked == AuditEvent.objects.count() > 20
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_auditevent SET action = 'x' WHERE seq = 1", "DELETE FROM audit_auditevent WHERE seq = 1"],
)
def test_update_and_delete_are_refused_by_the_database(world: World, sql: str) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.filter(seq=1).exists()


def test_an_edited_event_is_found(world: World) -> None:
    target = AuditEvent.objects.order_by("seq")[5]
    _bypass_triggers(
        "UPDATE audit_auditevent SET changed_fields = %s WHERE seq = %s", ['["nothing"]', target.seq]
    )
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == target.seq and "altered" in report.problem
    with pytest.raises(CommandError, match=f"#{target.seq}"):
        call_command("verify_audit")


def test_a_removed_event_is_found(world: World) -> None:
    _bypass_triggers("DELETE FROM audit_auditevent WHERE seq = %s", [3])
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 3


def test_removing_the_newest_events_is_found(world: World) -> None:
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    _bypass_triggers("DELETE FROM audit_auditevent WHERE seq = %s", [last.seq])
    assert not verify_chain().ok


def test_a_failing_audit_write_rolls_back_the_change(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """LG-07: the record and its audit row commit together or not at all."""
    from ketaclinic.patients import actions, inputs

    patient = world.patient("north")

    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(actions, "record", broken)
    with pytest.raises(DatabaseError):
        actions.do_add_history_entry(
            patient, inputs.ConditionIn(code="heart_failure"), actor=patient.created_by
        )
    assert not patient.conditions.filter(code="heart_failure").exists()


def test_events_hold_field_names_not_values(world: World) -> None:
    event = record(
        Action.PATIENT_UPDATE, actor=world.user("nurse.north"), changed_fields=["phone", "address"]
    )
    assert event.changed_fields == ["address", "phone"]
    assert event.hash and event.prev_hash != event.hash


# --- hash formats -----------------------------------------------------------------------------------


def _digest_before_formats(event: AuditEvent) -> str:
    """The chain's digest as it was before hash formats were numbered, kept verbatim: format 1."""
    import hashlib
    import json

    body = json.dumps(
        [
            event.seq,
            event.occurred_at.isoformat(),
            event.actor_id,
            event.action,
            event.outcome,
            event.object_type,
            event.object_id,
            str(event.patient_id) if event.patient_id else None,
            event.location_id,
            sorted(event.changed_fields),
            event.via,
            event.request_id,
            event.source_ip,
            event.prev_hash,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def test_every_hashed_field_is_covered_by_the_digest(world: World) -> None:
    event = AuditEvent.objects.filter(patient__isnull=False, actor__isnull=False).order_by("seq").first()
    assert event is not None
    before = chain.digest(event)
    for name in chain.HASHED:
        original = getattr(event, name)
        changes: dict[str, Callable[[Any], object]] = {
            "occurred_at": lambda v: v.replace(year=v.year - 1),
            "changed_fields": lambda v: [*v, "extra"],
            "patient_id": lambda v: uuid.uuid4(),
            "source_ip": lambda v: "203.0.113.9",
        }
        changed = changes.get(name, lambda v: v + 1 if isinstance(v, int) else f"{v}x")(original)
        setattr(event, name, changed)
        assert chain.digest(event) != before, name
        setattr(event, name, original)
    assert chain.digest(event) == before


def test_a_chain_hashed_before_formats_were_numbered_still_verifies(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events written by the old code (format 1), then events in the current format: one valid chain."""
    assert not AuditEvent.objects.exists()
    monkeypatch.setattr(chain, "digest", lambda event, fmt=None: _digest_before_formats(event))
    for i in range(3):
        record(Action.PATIENT_UPDATE, changed_fields=["b", "a"][: i + 1])
    monkeypatch.undo()
    assert all(chain.format_of(e) == 1 for e in AuditEvent.objects.all())
    newest = AuditEvent.objects.last()
    assert newest is not None
    assert chain.body(newest, 1) != chain.body(newest, 2)
    new = [record(Action.PATIENT_READ) for _ in range(2)]
    assert [chain.format_of(e) for e in new] == [chain.FORMAT] * 2
    report = verify_chain()
    assert report.ok and report.checked == 5
    _bypass_triggers("UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["auth.login", 2])
    report = verify_chain()  # an old-format event is still protected
    assert not report.ok and report.first_bad_seq == 2


def test_a_new_column_does_not_make_old_events_look_altered(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A format that hashes one more field: events before it verify in theirs, events after in it."""
    before = AuditEvent.objects.count()
    wider = (*chain.FORMATS[chain.FORMAT], "hash_format_probe")
    monkeypatch.setitem(chain.FORMATS, chain.FORMAT + 1, wider)
    monkeypatch.setattr(chain, "FORMAT", chain.FORMAT + 1)
    monkeypatch.setattr(AuditEvent, "hash_format_probe", "new", raising=False)
    event = record(Action.PATIENT_READ)
    assert chain.format_of(event) == chain.FORMAT
    report = verify_chain()
    assert report.ok and report.checked == before + 1


def test_an_event_cannot_fall_back_to_an_older_format_than_the_one_before_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a format-2 event, a format-1 hash is refused: an edit cannot hide behind an older format."""
    record(Action.PATIENT_READ)  # format 2 or later (the current format)
    monkeypatch.setattr(chain, "digest", lambda event, fmt=None: _digest_before_formats(event))
    late = record(Action.PATIENT_READ)  # hashed in format 1 after a format-2 event
    monkeypatch.undo()
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == late.seq


def _made_by_init(event: AuditEvent) -> AuditEvent:
    return AuditEvent(**{f.attname: getattr(event, f.attname) for f in AuditEvent._meta.concrete_fields})


def test_record_makes_the_event_model_init_would(monkeypatch: pytest.MonkeyPatch) -> None:
    """audit/actions._new_event sets the attributes instead of calling Model.__init__: the same instance."""
    made: list[AuditEvent] = []

    def submit(event: AuditEvent) -> bool:
        made.append(event)
        return True

    monkeypatch.setattr("ketaclinic.audit.client.submit", submit)
    patient_id = uuid.uuid4()
    record(Action.PATIENT_READ, changed_fields=["b", "a"], location_id=3)
    record(Action.PATIENT_SEARCH, patient=type("P", (), {"pk": patient_id, "location_id": 4})())
    for event in made:
        twin = _made_by_init(event)
        assert vars(event).keys() == vars(twin).keys()
        assert {k: v for k, v in vars(event).items() if k != "_state"} == {
            k: v for k, v in vars(twin).items() if k != "_state"
        }
        assert (event._state.adding, event._state.db) == (True, None) and event.pk is None
        assert (event.seq, event.prev_hash, event.hash) == (None, "", "")
    assert made[0].changed_fields == ["a", "b"] and made[1].patient_id == patient_id


def test_an_event_missing_a_column_is_refused() -> None:
    from ketaclinic.audit import actions

    with pytest.raises(TypeError, match="an event's columns"):
        actions._new_event(action="x")
