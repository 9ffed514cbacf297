"""Where one treatment session stands on the floor: its phase, the next vital signs due, the open alerts and
when discharge is allowed. Pure functions over plain values (`SessionFacts`), given the policy in force and
`now`; nothing here reads the database or the clock. The phase is treatment.queries.stage_of, the one rule
the session page and its API answer too.

Every clinical judgement is the clinical library's: the scheduled time points and the minimum observation
time (`clinical/vitals`), and readiness for discharge (`clinical/vitals.discharge_readiness`). The board and
its API show what `session_status` answers, so the two never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinical.vitals import (
    minimum_observation_minutes,
    outstanding_vital_points,
    scheduled_vital_points,
)
from ketaclinic.treatment.queries import SessionFacts, stage_of

__all__ = ["PHASE_LABELS", "Phase", "SessionFacts", "SessionStatus", "VitalDue", "session_status"]


class Phase(StrEnum):
    """A session's phase on the floor, in the order a session moves through them."""

    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    PRE_DOSE = "pre_dose"
    DOSING = "dosing"
    MONITORING = "monitoring"
    READY = "ready_for_discharge"
    DISCHARGED = "discharged"
    DEFERRED = "deferred"
    CANCELLED = "cancelled"  # never on the board, which leaves cancelled sessions out


PHASE_LABELS: dict[Phase, str] = {
    Phase.SCHEDULED: "Scheduled",
    Phase.CHECKED_IN: "Checked in",
    Phase.PRE_DOSE: "Pre-dose",
    Phase.DOSING: "Dosing",
    Phase.MONITORING: "Monitoring",
    Phase.READY: "Ready for discharge",
    Phase.DISCHARGED: "Discharged",
    Phase.DEFERRED: "Deferred",
    Phase.CANCELLED: "Cancelled",
}

# The session statuses (treatment.models.SessionStatus values) the floor tells apart.
CHECKED_IN, DISCHARGED, SIGNED, DEFERRED = "checked_in", "discharged", "signed", "deferred"
# The vital-sign time points (treatment.models.TimePoint values).
PRE_DOSE, POST_DOSE, PRE_DISCHARGE = "pre_dose", "post_dose", "pre_discharge"


@dataclass(frozen=True, slots=True)
class VitalDue:
    """The next scheduled reading: what it is, when it is due (None: before dosing, now) and if it is late."""

    point: str
    label: str
    due_at: dt.datetime | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class SessionStatus:
    phase: Phase
    next_vital: VitalDue | None
    open_alerts: int
    discharge_allowed_at: dt.datetime | None
    next_device_due_at: dt.datetime | None

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]


def discharge_allowed_at(facts: SessionFacts, policy: ClinicPolicy) -> dt.datetime | None:
    """The earliest moment the minimum observation time allows discharge; None before the dose."""
    if facts.dose_started_at is None:
        return None
    minutes = minimum_observation_minutes(facts.modality, policy) or 0
    return facts.dose_started_at + dt.timedelta(minutes=minutes)


def next_vital(facts: SessionFacts, now: dt.datetime, policy: ClinicPolicy) -> VitalDue | None:
    """The next scheduled reading not yet charted, while the patient is checked in."""
    if facts.status != CHECKED_IN:
        return None
    points = scheduled_vital_points(
        facts.modality, facts.dose_started_at, infusion_ended_at=facts.dose_ended_at, now=now, policy=policy
    )
    for point, label, due_at in outstanding_vital_points(points, list(facts.taken_points)):
        if point == PRE_DOSE and facts.dose_started_at is not None:
            continue
        return VitalDue(point, label, due_at, due_at is not None and now > due_at)
    return None


def phase(facts: SessionFacts, policy: ClinicPolicy, now: dt.datetime) -> Phase:
    """The session's phase: treatment.queries.stage_of, the same rule the session page and its API answer."""
    return Phase(stage_of(facts, policy, now))


def session_status(facts: SessionFacts, policy: ClinicPolicy, now: dt.datetime) -> SessionStatus:
    """Everything the floor shows of one session at `now`, under `policy`."""
    active = facts.status == CHECKED_IN
    return SessionStatus(
        phase=phase(facts, policy, now),
        next_vital=next_vital(facts, now, policy),
        open_alerts=facts.open_alerts,
        discharge_allowed_at=discharge_allowed_at(facts, policy) if active else None,
        next_device_due_at=facts.next_device_due_at if active else None,
    )
