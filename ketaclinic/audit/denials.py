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
