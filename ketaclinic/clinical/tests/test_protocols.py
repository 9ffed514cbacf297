"""Schedules: the label and trial patterns on the clinic's days, for any start date and clinic week."""

import dataclasses
import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinical.protocols import PROTOCOLS, Phase, PlannedSession, ProtocolId, plan

MONDAY = date(2026, 11, 23)


def days(sessions: Sequence[PlannedSession]) -> list[int]:
    return [(s.date - sessions[0].date).days for s in sessions]


def per_week(sessions: Sequence[PlannedSession]) -> Counter[int]:
    return Counter(s.week for s in sessions)


def test_esketamine_label_schedule_on_weekdays() -> None:
    sessions = plan("esketamine_trd", MONDAY)
    assert days(sessions) == [0, 3, 7, 10, 14, 17, 21, 24, 28, 35, 42, 49]
    assert [s.number for s in sessions] == list(range(1, 13))
    assert [s.phase for s in sessions] == [Phase.INDUCTION] * 8 + [Phase.MAINTENANCE] * 4
    assert per_week(sessions) == {1: 2, 2: 2, 3: 2, 4: 2, 5: 1, 6: 1, 7: 1, 8: 1}


def test_esketamine_maintenance_every_two_weeks_by_default() -> None:
    sessions = plan("esketamine_trd", MONDAY, maintenance_sessions=3)
    assert days(sessions)[12:] == [63, 77, 91]
    assert [s.week for s in sessions[12:]] == [10, 12, 14]
    weekly = dataclasses.replace(DEFAULT_POLICY, esketamine_maintenance_interval_weeks=1)
    assert days(plan("esketamine_trd", MONDAY, maintenance_sessions=3, policy=weekly))[12:] == [56, 63, 70]


def test_iv_induction_taper() -> None:
    sessions = plan("iv_induction_taper", MONDAY, maintenance_sessions=2)
    assert days(sessions) == [0, 2, 4, 7, 10, 14, 28, 42]
    assert per_week(sessions[:6]) == {1: 3, 2: 2, 3: 1}
    assert [s.phase for s in sessions[6:]] == [Phase.MAINTENANCE] * 2
    four_weekly = dataclasses.replace(DEFAULT_POLICY, iv_maintenance_interval_weeks=4)
    assert days(plan("iv_induction_taper", MONDAY, maintenance_sessions=1, policy=four_weekly))[-1] == 42


def test_elekt_d_twice_weekly_for_three_weeks() -> None:
    sessions = plan("iv_twice_weekly_3w", MONDAY)
    assert days(sessions) == [0, 3, 7, 10, 14, 17]


def test_murrough_six_infusions_over_twelve_days() -> None:
    sessions = plan("iv_thrice_weekly_12d", MONDAY)
    assert days(sessions) == [0, 2, 4, 7, 9, 11]
    wednesday = plan("iv_thrice_weekly_12d", MONDAY + timedelta(days=2))
    assert len(wednesday) == 6 and days(wednesday)[-1] <= 11


def test_start_must_be_a_clinic_day() -> None:
    with pytest.raises(ValueError, match="clinic day"):
        plan("esketamine_trd", MONDAY + timedelta(days=5))  # Saturday
    assert plan("esketamine_trd", MONDAY + timedelta(days=5), clinic_days={5, 1})[0].date.weekday() == 5


def test_tuesday_thursday_clinic() -> None:
    sessions = plan("esketamine_trd", MONDAY + timedelta(days=3), clinic_days={1, 3})
    assert {s.date.weekday() for s in sessions} == {1, 3}
    assert per_week(sessions)[1] == 2


@pytest.mark.parametrize(
    ("protocol", "clinic_days"),
    [("esketamine_trd", {0}), ("esketamine_trd", {0, 1}), ("iv_thrice_weekly_12d", {0, 2})],
)
def test_impossible_clinic_weeks_are_refused(protocol: str, clinic_days: set[int]) -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        plan(protocol, MONDAY, clinic_days=clinic_days)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"protocol_id": "ect"}, "unknown protocol"),
        ({"clinic_days": set()}, "clinic_days"),
        ({"clinic_days": {7}}, "clinic_days"),
        ({"clinic_days": {True}}, "clinic_days"),
        ({"maintenance_sessions": -1}, "maintenance_sessions"),
        ({"maintenance_sessions": True}, "maintenance_sessions"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, Any], fragment: str) -> None:
    args: dict[str, Any] = {"protocol_id": "esketamine_trd", "start": MONDAY}
    args |= kwargs
    with pytest.raises(ValueError, match=fragment):
        plan(**args)


def test_protocols_cite_their_sources() -> None:
    assert PROTOCOLS[ProtocolId.IV_TWICE_WEEKLY_3W].rule.sources[0] == "K7"
    assert PROTOCOLS[ProtocolId.IV_THRICE_WEEKLY_12D].rule.sources[0] == "K6"
    assert PROTOCOLS[ProtocolId.ESKETAMINE_TRD].rule.policy_fields == (
        "esketamine_maintenance_interval_weeks",
    )


# --- Invariants for any start date and clinic week --------------------------------------------------------

INDUCTION_PER_WEEK = {
    ProtocolId.ESKETAMINE_TRD: {1: 2, 2: 2, 3: 2, 4: 2, 5: 1, 6: 1, 7: 1, 8: 1},
    ProtocolId.IV_INDUCTION_TAPER: {1: 3, 2: 2, 3: 1},
    ProtocolId.IV_TWICE_WEEKLY_3W: {1: 2, 2: 2, 3: 2},
    ProtocolId.IV_THRICE_WEEKLY_12D: {1: 3, 2: 3},
}
TWICE_WEEKLY_WEEKS = {
    ProtocolId.ESKETAMINE_TRD: {1, 2, 3, 4},
    ProtocolId.IV_INDUCTION_TAPER: {2},
    ProtocolId.IV_TWICE_WEEKLY_3W: {1, 2, 3},
    ProtocolId.IV_THRICE_WEEKLY_12D: set(),
}


@settings(deadline=None)
@given(
    protocol=st.sampled_from(list(ProtocolId)),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31)),
    clinic_days=st.frozensets(st.integers(0, 6), min_size=1),
    maintenance=st.integers(0, 6),
    interval=st.sampled_from([1, 2]),
)
def test_protocol_invariants(
    protocol: ProtocolId, start: date, clinic_days: frozenset[int], maintenance: int, interval: int
) -> None:
    assume(start.weekday() in clinic_days)
    policy = dataclasses.replace(
        DEFAULT_POLICY, esketamine_maintenance_interval_weeks=interval, iv_maintenance_interval_weeks=interval
    )
    try:
        sessions = plan(
            protocol, start, clinic_days=clinic_days, maintenance_sessions=maintenance, policy=policy
        )
    except ValueError as refused:
        # Only a clinic week that cannot hold the pattern is refused, and never a full working week.
        assert "cannot hold" in str(refused)
        assert not clinic_days >= {0, 1, 2, 3, 4}
        return
    dates = [s.date for s in sessions]
    assert dates[0] == start
    assert all(d.weekday() in clinic_days for d in dates)
    assert all(b > a for a, b in itertools.pairwise(dates))  # never two on one day
    assert [s.number for s in sessions] == list(range(1, len(sessions) + 1))
    assert all(s.week == (s.date - start).days // 7 + 1 for s in sessions)
    fixed = sum(INDUCTION_PER_WEEK[protocol].values())
    assert len(sessions) == fixed + maintenance
    assert dict(per_week(sessions[:fixed])) == INDUCTION_PER_WEEK[protocol]
    assert all(s.phase is Phase.MAINTENANCE for s in sessions[fixed:])
    twice = [s for s in sessions if s.week in TWICE_WEEKLY_WEEKS[protocol] and s.number <= fixed]
    for earlier, later in itertools.pairwise(sessions):
        if later in twice:
            assert (later.date - earlier.date).days >= 2
    if protocol is ProtocolId.ESKETAMINE_TRD:
        assert all(s.week <= 8 for s in sessions[:fixed])
        assert all(s.week > 8 for s in sessions[fixed:])
    if protocol is ProtocolId.IV_THRICE_WEEKLY_12D:
        assert (dates[fixed - 1] - start).days <= 11


@settings(deadline=None)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31)))
def test_a_full_working_week_always_holds_every_protocol(start: date) -> None:
    assume(start.weekday() < 5)
    for protocol in ProtocolId:
        assert plan(protocol, start)
