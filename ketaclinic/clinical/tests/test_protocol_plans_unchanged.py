"""The protocols' schedules are the same as when they were defined in Python.

`fixtures/protocol_plans_before_data.json` holds `plan()` outputs generated from the Python definitions before
they moved to data files: every protocol, every start weekday, eleven clinic weeks, 0, 2 and 6 maintenance
sessions and each maintenance interval, with the refusals.
"""

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any

from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinical.protocols import PROTOCOLS, plan

FIXTURE = Path(__file__).parent / "fixtures" / "protocol_plans_before_data.json"


def _rows() -> list[list[Any]]:
    rows: list[list[Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))["rows"]
    return rows


def _outcome(protocol: str, start: date, days: list[int], maintenance: int, interval: int) -> str:
    if protocol == "esketamine_trd":
        policy = dataclasses.replace(DEFAULT_POLICY, esketamine_maintenance_interval_weeks=interval)
    else:
        policy = dataclasses.replace(DEFAULT_POLICY, iv_maintenance_interval_weeks=interval)
    try:
        sessions = plan(protocol, start, clinic_days=days, maintenance_sessions=maintenance, policy=policy)
    except ValueError as refused:
        return f"error: {refused}"
    return " ".join(f"{s.number}:{(s.date - start).days}:{s.phase.value[0]}:{s.week}" for s in sessions)


def test_every_plan_matches_the_python_definitions() -> None:
    rows = _rows()
    assert len(rows) > 1000
    assert {row[0] for row in rows} == set(PROTOCOLS)
    different = [
        (row[:5], expected, actual)
        for row in rows
        for expected in [row[5]]
        for actual in [_outcome(row[0], date.fromisoformat(row[1]), row[2], row[3], row[4])]
        if actual != expected
    ]
    assert different == []
