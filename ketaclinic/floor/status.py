"""Where one treatment session stands on the floor: its phase, the next vital signs due, the open alerts and
when discharge is allowed. Pure functions over plain values (`SessionFacts`), given the policy in force and
`now`; nothing here reads the database or the clock.

Every clinical judgement is the clinical library's: the scheduled time points and the minimum observation
time (`clinical/vitals`), and readiness for discharge (`clinical/vitals.discharge_readiness`). The board and
its API show what `session_status` answers, so the two never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinical.vitals import (
    BPReading,
    discharge_readiness,
    minimum_observation_minutes,
    outstanding_vital_points,
    scheduled_vital_points,
)


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


PHASE_LABELS: dict[Phase, str] = {
    Phase.SCHEDULED: "Scheduled",
    Phase.CHECKED_IN: "Checked in",
    Phase.PRE_DOSE: "Pre-dose",
    Phase.DOSING: "Dosing",
    Phase.MONITORING: "Monitoring",
    Phase.READY: "Ready for discharge",
    Phase.DISCHARGED: "Discharged",
    Phase.DEFERRED: "Deferred",
}

# The session statuses (treatment.models.SessionStatus values) the floor tells apart.
CHECKED_IN, DISCHARGED, SIGNED, DEFERRED = "checked_in", "discharged", "signed", "deferred"
# The vital-sign time points (treatment.models.TimePoint values).
PRE_DOSE, POST_DOSE, PRE_DISCHARGE = "pre_dose", "post_dose", "pre_discharge"


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What the chart says of one session, as plain values.

    `dose_started_at` is the start of the dose (for esketamine, the first device); `dosing_done` means every
    device used (esketamine) or the infusion ended (IV, at `dose_ended_at`); `taken_points` are the time
    points of the vital signs charted, one per reading; `bp_readings` every blood pressure charted;
    `latest_moaas` the latest MOAA/S total.
    """

    modality: str
    status: str
    checked_in_at: dt.datetime | None = None
    predose_charted: bool = False
    dose_started_at: dt.datetime | None = None
    dosing_done: bool = False
    next_device_due_at: dt.datetime | None = None
    dose_ended_at: dt.datetime | None = None
    taken_points: Collection[str] = frozenset()
    bp_readings: Sequence[BPReading] = ()
    latest_moaas: int | None = None
    escort_arranged: bool = True
    open_alerts: int = 0
    discharged_at: dt.datetime | None = None


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
    if facts.status in (DISCHARGED, SIGNED):
        return Phase.DISCHARGED
    if facts.status == DEFERRED:
        return Phase.DEFERRED
    if facts.status != CHECKED_IN:
        return Phase.SCHEDULED
    if facts.dose_started_at is None:
        return Phase.PRE_DOSE if facts.predose_charted else Phase.CHECKED_IN
    if not facts.dosing_done:
        return Phase.DOSING
    if facts.open_alerts or now < facts.dose_started_at:
        return Phase.MONITORING
    check = discharge_readiness(
        facts.modality,
        first_dose_at=facts.dose_started_at,
        now=now,
        bp_readings=facts.bp_readings,
        moaas=facts.latest_moaas,
        # Judged by the monitoring clinician at discharge; the board does not presume them unresolved.
        dissociation_resolved=True,
        respiratory_depression_resolved=True,
        escort_arranged=facts.escort_arranged,
        policy=policy,
    )
    return Phase.READY if check.ready else Phase.MONITORING


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
