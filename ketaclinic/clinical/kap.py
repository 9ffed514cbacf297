"""Ketamine-assisted psychotherapy (KAP): preparation before the first dose [KAP-PREPARATION-FIRST-DOSE]
and integration after each dose [KAP-INTEGRATION-DUE].

Pure: times, flags and the clinic policy in; findings with their reasons (words a clinician reads) out. The
reference has no preparation or integration timing: ASKP3's standards of practice [K12b] describe ketamine
given with psychotherapy, and every number here is clinic policy (`integration_due_within_days`,
`kap_preparation_required`, clinical/policy.py) or the protocol file's own (clinical/protocol_files.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ketaclinic.clinical.common import ALL_MODALITIES, Area, Level, Rule
from ketaclinic.clinical.policy import ClinicPolicy

RULE_PREPARATION = Rule(
    "KAP-PREPARATION-FIRST-DOSE",
    Area.PROTOCOLS,
    Level.DEFER,
    ALL_MODALITIES,
    "A plan that requires preparation (its protocol file says so, or it is a KAP plan, with a therapist on "
    "the care team, and the clinic's policy asks for it; on by default) has no first dose until a "
    "preparation session with a signed note is on record.",
    ("K12b",),
    ("kap_preparation_required",),
)
RULE_INTEGRATION_DUE = Rule(
    "KAP-INTEGRATION-DUE",
    Area.PROTOCOLS,
    Level.INFO,
    ALL_MODALITIES,
    "After each signed dose session of a KAP patient an integration session is due within the protocol's "
    "days (the clinic's `integration_due_within_days`, 7 by default); an integration session linked to the "
    "dose session clears it, and past the due time it is on the worklist.",
    ("K12b",),
    ("integration_due_within_days",),
)
RULES: tuple[Rule, ...] = (RULE_PREPARATION, RULE_INTEGRATION_DUE)


def preparation_required(*, protocol_requires: bool, kap_plan: bool, policy: ClinicPolicy) -> bool:
    """Whether the plan's first dose waits for a preparation session [KAP-PREPARATION-FIRST-DOSE]."""
    return protocol_requires or (kap_plan and policy.kap_preparation_required)


def preparation_blockers(*, required: bool, first_dose: bool, prepared: bool) -> list[str]:
    """The reason the dose waits, naming what is missing; empty when it need not wait."""
    if not required or not first_dose or prepared:
        return []
    return [
        "No preparation session is on record before the first dose: a therapist records a preparation "
        f"session and signs its note first ({RULE_PREPARATION.id}, clinic policy)."
    ]


@dataclass(frozen=True, slots=True)
class IntegrationDue:
    """The integration a dose session asks for: due by `due_at`; `overdue` once `now` is past it."""

    due_at: dt.datetime
    overdue: bool


def integration_due(
    dose_at: dt.datetime, *, integrated: bool, due_within_days: int, now: dt.datetime
) -> IntegrationDue | None:
    """The integration due after a dose given at `dose_at` [KAP-INTEGRATION-DUE]; None once an integration
    session is linked to the dose session."""
    if integrated:
        return None
    if due_within_days < 1:
        raise ValueError("integration_due_within_days must be at least 1")
    due_at = dose_at + dt.timedelta(days=due_within_days)
    return IntegrationDue(due_at, now > due_at)
