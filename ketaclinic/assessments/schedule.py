"""The assessment schedule of a treatment plan: which questionnaires are asked for, before which session.

Pure: the plan's sessions (number, date, phase) and the clinic policy in, the wanted requests out. The
reference gives no measurement schedule; the defaults are the clinic policy fields `assessment_*`
(clinical/policy.py), shown on /clinic/:

- baseline, before the first dose: PHQ-9 and GAD-7 (and QIDS-SR16 when the clinic uses it) from the
  patient, and a MADRS from the clinician;
- before each dose: a PHQ-9 (`assessment_pre_dose_phq9`);
- the tracking questionnaires (GAD-7, QIDS-SR16 when chosen, and the PHQ-9 when it is not asked before each
  dose) weekly during induction and every two weeks in maintenance (`assessment_induction_interval_days`,
  `assessment_maintenance_interval_days`), each at the first session of its interval;
- a clinician's MADRS at the end of induction, its last session (`assessment_madrs`).

Every wanted request is tied to a session, so the database's unique constraint (plan, session, reason,
instrument) makes building the schedule again a no-op. A request is due at the start of its session's day
at the location; the self-report link goes out `self_report_lead_hours` before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinical.scales import Instrument

# Who answers: the patient through a link, or a clinician in the clinic (no link is sent).
SELF_REPORT = frozenset({Instrument.PHQ9, Instrument.GAD7, Instrument.QIDS_SR16})
INDUCTION, MAINTENANCE = "induction", "maintenance"


@dataclass(frozen=True, slots=True)
class PlannedSession:
    key: Any  # the session's id
    number: int
    date: dt.date
    phase: str


@dataclass(frozen=True, slots=True)
class Wanted:
    session: Any
    reason: str
    instrument: str
    date: dt.date

    @property
    def self_report(self) -> bool:
        return self.instrument in SELF_REPORT


def tracking_instruments(policy: ClinicPolicy) -> tuple[Instrument, ...]:
    wanted = [Instrument.GAD7]
    if policy.assessment_qids_sr16:
        wanted.append(Instrument.QIDS_SR16)
    if not policy.assessment_pre_dose_phq9:
        wanted.insert(0, Instrument.PHQ9)
    return tuple(wanted)


def _first_of_each_interval(sessions: list[PlannedSession], days: int) -> list[PlannedSession]:
    picked: list[PlannedSession] = []
    if not sessions:
        return picked
    anchor = sessions[0].date
    seen: set[int] = set()
    for s in sessions:
        window = (s.date - anchor).days // days
        if window not in seen:
            seen.add(window)
            picked.append(s)
    return picked


def plan_schedule(sessions: list[PlannedSession], policy: ClinicPolicy) -> list[Wanted]:
    """The requests a plan with these sessions (not cancelled) wants, in session order."""
    ordered = sorted(sessions, key=lambda s: (s.date, s.number))
    if not ordered:
        return []
    first = ordered[0]
    wanted: list[Wanted] = []

    def add(session: PlannedSession, reason: str, instrument: Instrument) -> None:
        wanted.append(Wanted(session.key, reason, instrument.value, session.date))

    baseline = [Instrument.PHQ9, Instrument.GAD7]
    if policy.assessment_qids_sr16:
        baseline.append(Instrument.QIDS_SR16)
    if policy.assessment_madrs:
        baseline.append(Instrument.MADRS)
    for instrument in baseline:
        add(first, "baseline", instrument)
    if policy.assessment_pre_dose_phq9:
        for s in ordered[1:]:  # the first dose's PHQ-9 is the baseline one
            add(s, "pre_dose", Instrument.PHQ9)
    tracking = tracking_instruments(policy)
    induction = [s for s in ordered if s.phase == INDUCTION]
    maintenance = [s for s in ordered if s.phase == MAINTENANCE]
    for s in _first_of_each_interval(induction, policy.assessment_induction_interval_days):
        if s is not first:
            for instrument in tracking:
                add(s, "weekly_induction", instrument)
    for s in _first_of_each_interval(maintenance, policy.assessment_maintenance_interval_days):
        for instrument in tracking:
            add(s, "maintenance", instrument)
    if policy.assessment_madrs and len(induction) > 1:
        add(induction[-1], "end_of_induction", Instrument.MADRS)
    return sorted(wanted, key=lambda w: (w.date, w.reason != "baseline", w.reason, w.instrument))
