"""The plan's assessment schedule (schedule.py): pure, from the sessions and the clinic policy."""

from __future__ import annotations

import dataclasses
import datetime as dt

from ketaclinic.assessments.schedule import PlannedSession, plan_schedule
from ketaclinic.clinical.policy import DEFAULT_POLICY

MONDAY = dt.date(2026, 3, 2)


def _sessions() -> list[PlannedSession]:
    """Esketamine-like: twice weekly for 4 weeks (Mon, Thu), then 2 maintenance sessions 2 weeks apart."""
    out = []
    n = 0
    for week in range(4):
        for offset in (0, 3):
            n += 1
            out.append(PlannedSession(n, n, MONDAY + dt.timedelta(weeks=week, days=offset), "induction"))
    for k in range(4):
        n += 1
        out.append(PlannedSession(n, n, MONDAY + dt.timedelta(weeks=4 + 2 * k), "maintenance"))
    return out


def _by(wanted: list, reason: str) -> list[tuple[object, str]]:  # type: ignore[type-arg]
    return [(w.session, w.instrument) for w in wanted if w.reason == reason]


def test_defaults_baseline_pre_dose_weekly_maintenance_and_end_of_induction() -> None:
    wanted = plan_schedule(_sessions(), DEFAULT_POLICY)
    assert _by(wanted, "baseline") == [(1, "gad7"), (1, "madrs"), (1, "phq9")]
    assert _by(wanted, "pre_dose") == [(n, "phq9") for n in range(2, 13)]
    # GAD-7 weekly in induction (weeks 2-4: the first week's is the baseline), every 2 weeks in maintenance.
    assert _by(wanted, "weekly_induction") == [(3, "gad7"), (5, "gad7"), (7, "gad7")]
    assert _by(wanted, "maintenance") == [(9, "gad7"), (10, "gad7"), (11, "gad7"), (12, "gad7")]
    assert _by(wanted, "end_of_induction") == [(8, "madrs")]


def test_the_clinic_chooses_qids_no_pre_dose_phq9_and_no_madrs() -> None:
    policy = dataclasses.replace(
        DEFAULT_POLICY,
        assessment_qids_sr16=True,
        assessment_pre_dose_phq9=False,
        assessment_madrs=False,
        assessment_maintenance_interval_days=28,
    )
    wanted = plan_schedule(_sessions(), policy)
    assert _by(wanted, "baseline") == [(1, "gad7"), (1, "phq9"), (1, "qids_sr16")]
    assert _by(wanted, "pre_dose") == []
    weekly = _by(wanted, "weekly_induction")
    assert (3, "phq9") in weekly and (3, "qids_sr16") in weekly
    assert [s for s, _ in _by(wanted, "maintenance")] == [9, 9, 9, 11, 11, 11]
    assert _by(wanted, "end_of_induction") == []


def test_every_wanted_request_is_tied_to_a_session_and_unique() -> None:
    wanted = plan_schedule(_sessions(), DEFAULT_POLICY)
    keys = [(w.session, w.reason, w.instrument) for w in wanted]
    assert all(w.session is not None for w in wanted)
    assert len(keys) == len(set(keys))
    assert plan_schedule([], DEFAULT_POLICY) == []
