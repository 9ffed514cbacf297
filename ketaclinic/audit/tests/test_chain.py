"""The audit trail is append-only at the database and any edit that gets around that is detected."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from ketaclinic.audit.actions import record, verify_chain
from ketaclinic.audit.models import Action, AuditEvent


def _bypass_triggers(sql: str, params: list) -> None:
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


def test_every_write_in_the_demo_is_chained_and_verifies(world):
    report = verify_chain()
    assert report.ok and report.checked == AuditEvent.objects.count() > 20
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_auditevent SET action = 'x' WHERE seq = 1", "DELETE FROM audit_auditevent WHERE seq = 1"],
)
def test_update_and_delete_are_refused_by_the_database(world, sql):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.filter(seq=1).exists()


def test_an_edited_event_is_found(world):
    target = AuditEvent.objects.order_by("seq")[5]
    _bypass_triggers(
        "UPDATE audit_auditevent SET changed_fields = %s WHERE seq = %s", ['["nothing"]', target.seq]
    )
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == target.seq and "altered" in report.problem
    with pytest.raises(CommandError, match=f"#{target.seq}"):
        call_command("verify_audit")


def test_a_removed_event_is_found(world):
    _bypass_triggers("DELETE FROM audit_auditevent WHERE seq = %s", [3])
    report = verify_chain()
    assert not report.ok and report.first_bad_seq == 3


def test_removing_the_newest_events_is_found(world):
    last = AuditEvent.objects.order_by("-seq").first().seq
    _bypass_triggers("DELETE FROM audit_auditevent WHERE seq = %s", [last])
    assert not verify_chain().ok


def test_a_failing_audit_write_rolls_back_the_change(world, monkeypatch):
    """LG-07: the record and its audit row commit together or not at all."""
    from ketaclinic.patients import actions, inputs

    patient = world.patient("north")

    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(actions, "record", broken)
    with pytest.raises(DatabaseError):
        actions.do_add_history_entry(
            patient, inputs.ConditionIn(code="heart_failure"), actor=patient.created_by
        )
    assert not patient.conditions.filter(code="heart_failure").exists()


def test_events_hold_field_names_not_values(world):
    event = record(
        Action.PATIENT_UPDATE, actor=world.user("nurse.north"), changed_fields=["phone", "address"]
    )
    assert event.changed_fields == ["address", "phone"]
    assert event.hash and event.prev_hash != event.hash
