"""Treatment schedules: the dates of a course of sessions on the clinic's working days (reference 1.2, 2.1).

The protocols are data: one TOML file each in `protocol_data/`, read and validated by `protocol_files` when
this module is imported. A protocol is a run of week blocks, each holding a number of sessions with a minimum
gap between them, then optional maintenance sessions at the policy interval. `plan` places every session on
a clinic day, never two on one day, twice-weekly sessions at least 2 days apart, as close as possible to the
ideal weekday pattern (the start weekday, plus 3 days for the second session of a week). It searches every
placement, so it fails only when the clinic days cannot hold the schedule at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import combinations, pairwise

from ketaclinic.clinical.common import ESKETAMINE, Area, Level, Modality, Rule
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy
from ketaclinic.clinical.protocol_files import (
    DAYS_PER_WEEK,
    Block,
    MonitoringPoint,
    Phase,
    ProtocolFileError,
    ProtocolSpec,
    by_id,
    load_protocols,
)

__all__ = [
    "PROTOCOLS",
    "RULES",
    "WEEKDAYS",
    "MonitoringPoint",
    "Phase",
    "PlannedSession",
    "ProtocolFileError",
    "ProtocolId",
    "ProtocolSpec",
    "integration_due_within_days",
    "monitoring",
    "plan",
    "plan_for",
    "preparation_required",
    "scheduled_readings",
]

TWICE_WEEKLY_MIN_GAP_DAYS = 2
"""KetaClinic schedules twice-weekly sessions at least 2 days apart, so no two fall on consecutive days."""
WEEKDAYS = frozenset({0, 1, 2, 3, 4})


class ProtocolId(StrEnum):
    """The ids of the protocols KetaClinic ships, for code and tests that name one. A new protocol is a file
    in `protocol_data/` and needs no entry here (`PROTOCOLS` holds every file)."""

    ESKETAMINE_TRD = "esketamine_trd"
    IV_INDUCTION_TAPER = "iv_induction_taper"
    IV_TWICE_WEEKLY_3W = "iv_twice_weekly_3w"
    IV_THRICE_WEEKLY_12D = "iv_thrice_weekly_12d"


@dataclass(frozen=True, slots=True)
class PlannedSession:
    number: int
    date: date
    phase: Phase
    week: int


PROTOCOLS: dict[str, ProtocolSpec] = load_protocols()
"""Every protocol file in `protocol_data/`, read and validated once at import, in the files' `order`."""

RULE_SPACING = Rule(
    "PROTO-SESSION-SPACING",
    Area.PROTOCOLS,
    Level.SCHEDULE,
    ESKETAMINE | {Modality.IV_KETAMINE},
    "Every session falls on a clinic day, never two on one day, and twice-weekly sessions at least 2 days "
    "apart (KetaClinic's reading of 'twice weekly').",
    ("S2", "K7"),
)

RULES: tuple[Rule, ...] = (*(spec.rule for spec in PROTOCOLS.values()), RULE_SPACING)


def preparation_required(protocol_id: str, policy: ClinicPolicy = DEFAULT_POLICY) -> bool:
    """Whether the protocol requires a preparation session before the first dose."""
    return _protocol(protocol_id).requires_preparation(policy)


def integration_due_within_days(protocol_id: str, policy: ClinicPolicy = DEFAULT_POLICY) -> int:
    """Days after each dose session within which its integration session is due (7 unless the file says)."""
    return _protocol(protocol_id).integration_due_within_days(policy)


def monitoring(protocol_id: str) -> tuple[MonitoringPoint, ...]:
    """The vital-sign time points the protocol's file declares for each session."""
    return _protocol(protocol_id).monitoring


def scheduled_readings(
    spec: ProtocolSpec, *, infusion_minutes: int | None = None, policy: ClinicPolicy = DEFAULT_POLICY
) -> list[tuple[str, int | None]]:
    """(time point, minutes after the first dose) of each reading the protocol's monitoring schedules, in
    the order they fall due; None for the reading before dosing.

    Readings during an infusion run while it runs (`infusion_minutes`; none without it); a repeating run
    after the dose stops at the discharge reading, which falls no earlier than the infusion's end. For the
    shipped protocols this is the schedule `vitals.scheduled_vital_points` charts (test_protocol_files.py).
    """
    ended = infusion_minutes or 0
    discharge = next(
        (p.at_minutes.value(policy) for p in spec.monitoring if p.point == "pre_discharge" and p.at_minutes),
        None,
    )
    readings: list[tuple[str, int | None]] = []
    for point in spec.monitoring:
        every = point.every_minutes.value(policy) if point.every_minutes else None
        if point.point == "pre_dose":
            readings.append((point.point, None))
        elif point.point == "during_infusion" and every and infusion_minutes is not None:
            readings.extend((point.point, due) for due in range(every, infusion_minutes, every))
        elif point.point == "post_dose" and every and point.for_minutes:
            base = ended if point.after == "infusion_end" else 0
            span = point.for_minutes.value(policy) or 0
            dues = (base + minutes for minutes in range(every, span + 1, every))
            readings.extend((point.point, due) for due in dues if discharge is None or due < discharge)
        elif point.point == "pre_discharge" and discharge is not None:
            readings.append((point.point, max(discharge, ended)))
        elif point.at_minutes and (at := point.at_minutes.value(policy)) is not None:
            readings.append((point.point, at))
    return readings


def plan(
    protocol_id: str,
    start: date,
    *,
    clinic_days: Iterable[int] = WEEKDAYS,
    maintenance_sessions: int = 0,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> list[PlannedSession]:
    """The dated sessions of a course starting on `start` (a clinic day; Python weekdays, Monday = 0).

    `maintenance_sessions` counts the sessions after the protocol's fixed blocks (after week 8 for
    esketamine).
    """
    return plan_for(
        _protocol(protocol_id),
        start,
        clinic_days=clinic_days,
        maintenance_sessions=maintenance_sessions,
        policy=policy,
    )


def plan_for(
    spec: ProtocolSpec,
    start: date,
    *,
    clinic_days: Iterable[int] = WEEKDAYS,
    maintenance_sessions: int = 0,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> list[PlannedSession]:
    """`plan` for a protocol read from any file (`protocol_files.load_protocol`)."""
    days = _clinic_days(clinic_days)
    if start.weekday() not in days:
        raise ValueError(f"the first session must fall on a clinic day; {start} is weekday {start.weekday()}")
    if (
        isinstance(maintenance_sessions, bool)
        or not isinstance(maintenance_sessions, int)
        or maintenance_sessions < 0
    ):
        raise ValueError(f"maintenance_sessions must be a whole number >= 0, got {maintenance_sessions!r}")
    blocks = spec.blocks + _maintenance(spec, maintenance_sessions, policy)
    offsets = _place(blocks, lambda offset: (start + timedelta(days=offset)).weekday() in days, spec.id)
    return [
        PlannedSession(n, start + timedelta(days=offset), phase, offset // DAYS_PER_WEEK + 1)
        for n, (offset, phase) in enumerate(offsets, 1)
    ]


def _protocol(protocol_id: str) -> ProtocolSpec:
    return by_id(PROTOCOLS, protocol_id)


def _clinic_days(clinic_days: Iterable[int]) -> frozenset[int]:
    days = frozenset(clinic_days)
    if not days or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise ValueError(
            f"clinic_days must be a non-empty set of weekday numbers 0-6, got {sorted(days, key=str)}"
        )
    return days


def _maintenance(spec: ProtocolSpec, count: int, policy: ClinicPolicy) -> tuple[Block, ...]:
    interval = spec.maintenance_interval_weeks(policy) * DAYS_PER_WEEK
    last = spec.blocks[-1].first_day
    return tuple(
        Block(last + k * interval, DAYS_PER_WEEK, (0,), 1, Phase.MAINTENANCE) for k in range(1, count + 1)
    )


# --- Placement ---------------------------------------------------------------------------------------------

_Choice = tuple[int, ...]


def _place(
    blocks: tuple[Block, ...], open_on: Callable[[int], bool], protocol: str
) -> list[tuple[int, Phase]]:
    """Place every block's sessions with the least total distance from the ideal days.

    Dynamic programming from the last block back: `best[i][last]` is the cheapest placement of blocks i..
    given the previous session on day `last`. The first session is pinned to day 0 (the start date).
    """
    best: list[dict[int, tuple[int, _Choice]]] = [{} for _ in blocks]
    following: dict[int, tuple[int, _Choice]] = {}
    for i in range(len(blocks) - 1, -1, -1):
        block = blocks[i]
        previous = _possible_last_days(blocks, i)
        gap_before = max(block.min_gap, blocks[i - 1].min_gap) if i else 0
        for last in previous:
            options = []
            for choice in _choices(block, open_on, last, gap_before, first=i == 0):
                rest = 0 if i == len(blocks) - 1 else following.get(choice[-1], (None, ()))[0]
                if rest is None:
                    continue
                options.append((_cost(block, choice) + rest, choice))
            if options:
                best[i][last] = min(options)
        following = best[i]
    if -1 not in best[0]:
        raise ValueError(f"the clinic days cannot hold the {protocol} schedule with its spacing rules")
    return _unwind(blocks, best)


def _possible_last_days(blocks: tuple[Block, ...], i: int) -> range:
    # -1 stands for "no session yet"; otherwise the previous session lay in the previous block's window.
    if i == 0:
        return range(-1, 0)
    before = blocks[i - 1]
    return range(before.first_day, before.first_day + before.length)


def _choices(
    block: Block, open_on: Callable[[int], bool], last: int, gap_before: int, *, first: bool
) -> list[_Choice]:
    days = [d for d in range(block.first_day, block.first_day + block.length) if open_on(d)]
    found = []
    for choice in combinations(days, block.count):
        if first and choice[0] != 0:
            continue
        if last >= 0 and choice[0] - last < gap_before:
            continue
        if any(b - a < block.min_gap for a, b in pairwise(choice)):
            continue
        found.append(choice)
    return found


def _cost(block: Block, choice: _Choice) -> int:
    return sum(abs(day - (block.first_day + ideal)) for day, ideal in zip(choice, block.ideal, strict=True))


def _unwind(blocks: tuple[Block, ...], best: list[dict[int, tuple[int, _Choice]]]) -> list[tuple[int, Phase]]:
    placed: list[tuple[int, Phase]] = []
    last = -1
    for block, table in zip(blocks, best, strict=True):
        _, choice = table[last]
        placed.extend((day, block.phase) for day in choice)
        last = choice[-1]
    return placed
