"""A session's floor status from plain values: phase, next vitals due, discharge time."""

from __future__ import annotations

import dataclasses
import datetime as dt

from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinical.vitals import BPReading
from ketaclinic.floor.status import Phase, SessionFacts, session_status

T0 = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)
ESK = "esketamine_nasal"
IV = "iv_ketamine"


def _dosed(minutes_ago: int, **more: object) -> SessionFacts:
    started = T0 - dt.timedelta(minutes=minutes_ago)
    base = SessionFacts(
        modality=ESK,
        status="checked_in",
        checked_in_at=started - dt.timedelta(minutes=20),
        predose_charted=True,
        dose_started_at=started,
        dosing_done=True,
        taken_points=frozenset({"pre_dose"}),
        bp_readings=(BPReading(started - dt.timedelta(minutes=10), 128, 80),),
    )
    return dataclasses.replace(base, **more)  # type: ignore[arg-type]


def test_waiting_and_before_the_dose() -> None:
    assert session_status(SessionFacts(ESK, "scheduled"), DEFAULT_POLICY, T0).phase is Phase.SCHEDULED
    checked = SessionFacts(ESK, "checked_in", checked_in_at=T0)
    status = session_status(checked, DEFAULT_POLICY, T0)
    assert status.phase is Phase.CHECKED_IN
    assert status.next_vital is not None and status.next_vital.point == "pre_dose"
    assert status.next_vital.due_at is None and not status.next_vital.overdue
    assert status.discharge_allowed_at is None
    charted = dataclasses.replace(checked, predose_charted=True)
    assert session_status(charted, DEFAULT_POLICY, T0).phase is Phase.PRE_DOSE


def test_dosing_until_every_device_is_used() -> None:
    status = session_status(_dosed(3, dosing_done=False, next_device_due_at=T0), DEFAULT_POLICY, T0)
    assert status.phase is Phase.DOSING
    assert status.next_device_due_at == T0


def test_the_40_minute_reading_is_due_then_overdue() -> None:
    on_time = session_status(_dosed(39), DEFAULT_POLICY, T0)
    assert on_time.phase is Phase.MONITORING
    assert on_time.next_vital is not None and on_time.next_vital.point == "post_dose"
    assert on_time.next_vital.due_at == T0 + dt.timedelta(minutes=1)
    assert not on_time.next_vital.overdue
    late = session_status(_dosed(41), DEFAULT_POLICY, T0)
    assert late.next_vital is not None and late.next_vital.overdue


def test_discharge_is_allowed_120_minutes_after_the_first_device() -> None:
    status = session_status(_dosed(50), DEFAULT_POLICY, T0)
    assert status.discharge_allowed_at == T0 + dt.timedelta(minutes=70)


def _recovered(minutes_ago: int, **more: object) -> SessionFacts:
    started = T0 - dt.timedelta(minutes=minutes_ago)
    readings = (
        BPReading(started - dt.timedelta(minutes=10), 128, 80),
        BPReading(started + dt.timedelta(minutes=40), 138, 88),
        BPReading(T0 - dt.timedelta(minutes=1), 130, 82),
    )
    values: dict[str, object] = {
        "taken_points": frozenset({"pre_dose", "post_dose", "pre_discharge"}),
        "bp_readings": readings,
        "latest_moaas": 5,
    }
    return _dosed(minutes_ago, **{**values, **more})


def test_ready_for_discharge_only_when_the_clinical_library_says_so() -> None:
    assert session_status(_recovered(121), DEFAULT_POLICY, T0).phase is Phase.READY
    assert session_status(_recovered(119), DEFAULT_POLICY, T0).phase is Phase.MONITORING  # time
    assert session_status(_recovered(121, latest_moaas=4), DEFAULT_POLICY, T0).phase is Phase.MONITORING
    assert session_status(_recovered(121, open_alerts=1), DEFAULT_POLICY, T0).phase is Phase.MONITORING
    no_ride = _recovered(121, escort_arranged=False)
    assert session_status(no_ride, DEFAULT_POLICY, T0).phase is Phase.MONITORING


def test_racemic_ketamine_follows_the_policys_minimum() -> None:
    iv = _recovered(30, modality=IV, taken_points=frozenset({"pre_dose"}))
    status = session_status(iv, DEFAULT_POLICY, T0)
    minimum = DEFAULT_POLICY.ketamine_min_observation_minutes or 0
    assert status.discharge_allowed_at == iv.dose_started_at + dt.timedelta(minutes=minimum)  # type: ignore[operator]
    # The infusion ended 20 minutes in: the next reading is the policy's first after it (every 15 minutes).
    assert status.next_vital is not None and status.next_vital.point == "during_infusion"
    assert iv.dose_started_at is not None
    ended = dataclasses.replace(iv, dose_ended_at=iv.dose_started_at + dt.timedelta(minutes=20))
    due = session_status(ended, DEFAULT_POLICY, T0).next_vital
    assert due is not None and due.label == "10 minutes into the infusion" and due.overdue
    answered = dataclasses.replace(ended, taken_points=("pre_dose", "during_infusion"))
    due = session_status(answered, DEFAULT_POLICY, T0).next_vital
    assert due is not None and due.label == "15 minutes after the infusion"
    assert due.due_at == T0 + dt.timedelta(minutes=5)
    longer = dataclasses.replace(DEFAULT_POLICY, ketamine_min_observation_minutes=60)
    assert session_status(iv, longer, T0).phase is Phase.MONITORING
    assert session_status(iv, longer, T0).discharge_allowed_at == T0 + dt.timedelta(minutes=30)


def test_discharged_and_deferred_sessions_show_nothing_due() -> None:
    for status_value, shown in (("discharged", Phase.DISCHARGED), ("signed", Phase.DISCHARGED)):
        status = session_status(_recovered(150, status=status_value), DEFAULT_POLICY, T0)
        assert status.phase is shown
        assert status.next_vital is None and status.discharge_allowed_at is None
    deferred = SessionFacts(ESK, "deferred", checked_in_at=T0)
    assert session_status(deferred, DEFAULT_POLICY, T0).phase is Phase.DEFERRED
