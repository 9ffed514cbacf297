"""What the in-process profiles (bench/reads_profile.py, submit_profile.py, vitals_profile.py) share."""

from __future__ import annotations

from typing import Any


def audit_events_encoded_only() -> None:
    """An audit event sent outside a transaction is encoded, as a worker does before the socket, and not
    committed: when served, the audit writer's commit is another process's CPU."""
    from ketaclinic.audit import client

    def to_writer(event: Any) -> bool:
        client.encode(event)
        return True

    client.submit = to_writer
