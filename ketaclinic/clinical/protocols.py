"""Treatment schedules: the dates of a course of sessions on the clinic's working days (reference 1.2, 2.1).

A protocol is a run of week blocks, each holding a number of sessions with a minimum gap between them,
then optional maintenance sessions at the policy interval. `plan` places every session on a clinic day, never
two on one day, twice-weekly sessions at least 2 days apart, as close as possible to the ideal weekday
pattern (the start weekday, plus 3 days for the second session of a week). It searches every placement, so
it fails only when the clinic days cannot hold the schedule at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import combinations, pairwise

from ketaclinic.clinical.common import ESKETAMINE, Area, Level, Modality, Rule
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy

TWICE_WEEKLY_MIN_GAP_DAYS = 2
"""KetaClinic schedules twice-weekly sessions at least 2 days apart, so no two fall on consecutive days."""
_DAYS_PER_WEEK = 7


class ProtocolId(StrEnum):
    ESKETAMINE_TRD = "esketamine_trd"
    IV_INDUCTION_TAPER = "iv_induction_taper"
    IV_TWICE_WEEKLY_3W = "iv_twice_weekly_3w"
    IV_THRICE_WEEKLY_12D = "iv_thrice_weekly_12d"


class Phase(StrEnum):
    INDUCTION = "induction"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True, slots=True)
class PlannedSession:
    number: int
    date: date
    phase: Phase
    week: int


@dataclass(frozen=True, slots=True)
class _Block:
    """Sessions within days [first_day, first_day + length) of the course, ideally at the `ideal` offsets."""

    first_day: int
    length: int
    ideal: tuple[int, ...]
    min_gap: int
    phase: Phase

    @property
    def count(self) -> int:
        return len(self.ideal)


@dataclass(frozen=True, slots=True)
class ProtocolSpec:
    id: ProtocolId
    name: str
    modality: Modality
    rule: Rule
    blocks: tuple[_Block, ...]
    maintenance_interval_weeks: Callable[[ClinicPolicy], int]


def _weeks(
    first_week: int, last_week: int, ideal: tuple[int, ...], gap: int, phase: Phase
) -> tuple[_Block, ...]:
    return tuple(
        _Block((week - 1) * _DAYS_PER_WEEK, _DAYS_PER_WEEK, ideal, gap, phase)
        for week in range(first_week, last_week + 1)
    )


_TWICE = (0, 3)
_THRICE = (0, 2, 4)
_ONCE = (0,)
_TW = TWICE_WEEKLY_MIN_GAP_DAYS
_IV = Modality.IV_KETAMINE


def _rule(rule_id: str, modality: Modality, text: str, sources: tuple[str, ...], *policy: str) -> Rule:
    return Rule(rule_id, Area.PROTOCOLS, Level.SCHEDULE, frozenset({modality}), text, sources, tuple(policy))


RULE_ESK_TRD = _rule(
    "PROTO-ESK-TRD",
    Modality.ESKETAMINE_NASAL,
    "Esketamine for TRD: twice weekly in weeks 1-4 (induction), once weekly in weeks 5-8, then every 2 weeks "
    "or weekly from week 9 (the least frequent schedule that keeps remission or response; clinic policy "
    "chooses). Check for benefit at the end of induction.",
    ("S2", "S4", "S4b"),
    "esketamine_maintenance_interval_weeks",
)
RULE_IV_TAPER = _rule(
    "PROTO-IV-INDUCTION-TAPER",
    _IV,
    "IV ketamine induction of 6 infusions over about 3 weeks (3 in week 1, 2 in week 2, 1 in week 3), then "
    "maintenance at the clinic-policy interval. There is no evidence-based maintenance standard.",
    ("K3", "K9"),
    "iv_maintenance_interval_weeks",
)
RULE_IV_ELEKTD = _rule(
    "PROTO-IV-ELEKT-D",
    _IV,
    "ELEKT-D: IV ketamine 0.5 mg/kg over 40 minutes twice weekly for 3 weeks (6 infusions).",
    ("K7", "K3"),
    "iv_maintenance_interval_weeks",
)
RULE_IV_MURROUGH = _rule(
    "PROTO-IV-MURROUGH",
    _IV,
    "Murrough 2013: up to 6 IV ketamine infusions, 3 times a week over 12 days.",
    ("K6", "K3"),
    "iv_maintenance_interval_weeks",
)
RULE_SPACING = Rule(
    "PROTO-SESSION-SPACING",
    Area.PROTOCOLS,
    Level.SCHEDULE,
    ESKETAMINE | {_IV},
    "Every session falls on a clinic day, never two on one day, and twice-weekly sessions at least 2 days "
    "apart (KetaClinic's reading of 'twice weekly').",
    ("S2", "K7"),
)

PROTOCOLS: dict[ProtocolId, ProtocolSpec] = {
    ProtocolId.ESKETAMINE_TRD: ProtocolSpec(
        ProtocolId.ESKETAMINE_TRD,
        "Esketamine TRD (label schedule)",
        Modality.ESKETAMINE_NASAL,
        RULE_ESK_TRD,
        _weeks(1, 4, _TWICE, _TW, Phase.INDUCTION) + _weeks(5, 8, _ONCE, 1, Phase.MAINTENANCE),
        lambda policy: policy.esketamine_maintenance_interval_weeks,
    ),
    ProtocolId.IV_INDUCTION_TAPER: ProtocolSpec(
        ProtocolId.IV_INDUCTION_TAPER,
        "IV ketamine induction taper (3-2-1)",
        _IV,
        RULE_IV_TAPER,
        (
            _Block(0, _DAYS_PER_WEEK, _THRICE, 1, Phase.INDUCTION),
            _Block(7, _DAYS_PER_WEEK, _TWICE, _TW, Phase.INDUCTION),
            _Block(14, _DAYS_PER_WEEK, _ONCE, 1, Phase.INDUCTION),
        ),
        lambda policy: policy.iv_maintenance_interval_weeks,
    ),
    ProtocolId.IV_TWICE_WEEKLY_3W: ProtocolSpec(
        ProtocolId.IV_TWICE_WEEKLY_3W,
        "IV ketamine twice weekly for 3 weeks (ELEKT-D)",
        _IV,
        RULE_IV_ELEKTD,
        _weeks(1, 3, _TWICE, _TW, Phase.INDUCTION),
        lambda policy: policy.iv_maintenance_interval_weeks,
    ),
    ProtocolId.IV_THRICE_WEEKLY_12D: ProtocolSpec(
        ProtocolId.IV_THRICE_WEEKLY_12D,
        "IV ketamine 3 times weekly over 12 days (Murrough)",
        _IV,
        RULE_IV_MURROUGH,
        # Days 0-6, then days 7-11, so all 6 infusions fall within 12 days of the first.
        (_Block(0, 7, _THRICE, 1, Phase.INDUCTION), _Block(7, 5, _THRICE, 1, Phase.INDUCTION)),
        lambda policy: policy.iv_maintenance_interval_weeks,
    ),
}

RULES: tuple[Rule, ...] = (RULE_ESK_TRD, RULE_IV_TAPER, RULE_IV_ELEKTD, RULE_IV_MURROUGH, RULE_SPACING)

WEEKDAYS = frozenset({0, 1, 2, 3, 4})


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
    spec = _protocol(protocol_id)
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
        PlannedSession(n, start + timedelta(days=offset), phase, offset // _DAYS_PER_WEEK + 1)
        for n, (offset, phase) in enumerate(offsets, 1)
    ]


def _protocol(protocol_id: str) -> ProtocolSpec:
    try:
        return PROTOCOLS[ProtocolId(protocol_id)]
    except ValueError:
        known = ", ".join(p.value for p in ProtocolId)
        raise ValueError(f"unknown protocol {protocol_id!r}; expected one of: {known}") from None


def _clinic_days(clinic_days: Iterable[int]) -> frozenset[int]:
    days = frozenset(clinic_days)
    if not days or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise ValueError(
            f"clinic_days must be a non-empty set of weekday numbers 0-6, got {sorted(days, key=str)}"
        )
    return days


def _maintenance(spec: ProtocolSpec, count: int, policy: ClinicPolicy) -> tuple[_Block, ...]:
    interval = spec.maintenance_interval_weeks(policy) * _DAYS_PER_WEEK
    last = spec.blocks[-1].first_day
    return tuple(
        _Block(last + k * interval, _DAYS_PER_WEEK, _ONCE, 1, Phase.MAINTENANCE) for k in range(1, count + 1)
    )


# --- Placement ---------------------------------------------------------------------------------------------

_Choice = tuple[int, ...]


def _place(
    blocks: tuple[_Block, ...], open_on: Callable[[int], bool], protocol: str
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


def _possible_last_days(blocks: tuple[_Block, ...], i: int) -> range:
    # -1 stands for "no session yet"; otherwise the previous session lay in the previous block's window.
    if i == 0:
        return range(-1, 0)
    before = blocks[i - 1]
    return range(before.first_day, before.first_day + before.length)


def _choices(
    block: _Block, open_on: Callable[[int], bool], last: int, gap_before: int, *, first: bool
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


def _cost(block: _Block, choice: _Choice) -> int:
    return sum(abs(day - (block.first_day + ideal)) for day, ideal in zip(choice, block.ideal, strict=True))


def _unwind(
    blocks: tuple[_Block, ...], best: list[dict[int, tuple[int, _Choice]]]
) -> list[tuple[int, Phase]]:
    placed: list[tuple[int, Phase]] = []
    last = -1
    for block, table in zip(blocks, best, strict=True):
        _, choice = table[last]
        placed.extend((day, block.phase) for day in choice)
        last = choice[-1]
    return placed
