"""Recording a refused access: one place that pages, the API and the patient getters all call.

It lives in the audit app, below accounts, web and patients, so that each of them can record a denial
without importing another (docs/architecture.md, "Layers").
"""

from __future__ import annotations

from typing import Any

from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin
from ketaclinic.audit.models import Action, Outcome


def deny(user: Any, origin: Origin, what: str = "") -> None:
    """Record a function-level denial (wrong role for a page or endpoint); `what` names the permission."""
    record(
        Action.ACCESS_DENIED,
        actor=user,
        origin=origin,
        outcome=Outcome.DENIED,
        changed_fields=[what] if what else [],
    )


def deny_patient(user: Any, origin: Origin, patient: Any) -> None:
    """Record an object-level denial: the user may not read or change this patient."""
    record(
        Action.ACCESS_DENIED,
        actor=user,
        origin=origin,
        outcome=Outcome.DENIED,
        obj=patient,
        patient=patient,
    )


# Ids beyond a 64-bit key name no row: the audit row then names no object (its column is 64 characters).
_LARGEST_ID = 2**63 - 1


def deny_entry(user: Any, origin: Origin, patient: Any, model: Any, entry_id: int) -> None:
    """Record a refused record-level access: no entry `entry_id` of `model` belongs to this patient (the id
    is another patient's, or no one's). The row names the patient of the request and the id asked for."""
    asked = model(pk=entry_id) if abs(entry_id) <= _LARGEST_ID else None
    record(
        Action.ACCESS_DENIED,
        actor=user,
        origin=origin,
        outcome=Outcome.DENIED,
        obj=asked,
        patient=patient,
    )
