"""The optimiser's benchmark: seeded synthetic weeks (synthetic.py), greedy first fit against CP-SAT with the
greedy hint, every answer re-verified by the independent checker. No database.

Weeks: `normal` (about 230 visits on 12 chairs), `overloaded` (about 290: more than the nurses can
monitor), and `replan` (the normal week re-solved after one visit is cancelled, the previous answer as the
hint). `ketaclinic schedule_benchmark` prints one JSON line per week.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from ketaclinic.scheduling import optimiser, rules, synthetic


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    sessions: int
    time_limit_seconds: float


CASES = (
    Case("normal", 230, 10.0),
    Case("overloaded", 290, 30.0),
    Case("replan", 230, 2.0),
)


def _checked(week: optimiser.Week, result: optimiser.Result, made: synthetic.SyntheticWeek) -> int:
    resources = rules.Resources({made.site.location: made.site}, made.chairs, made.enrolled)
    return len(rules.check(optimiser.visits(week, result.placements), resources))


def _line(
    case: Case, seed: int, week: optimiser.Week, result: optimiser.Result, refusals: int
) -> dict[str, Any]:
    gain = (result.objective / result.greedy_objective - 1) * 100 if result.greedy_objective else 0.0
    return {
        "week": case.name,
        "seed": seed,
        "sessions": len(week.tasks),
        "greedy_placed": result.greedy_placed,
        "cpsat_placed": result.placed,
        "greedy_objective": result.greedy_objective,
        "objective": result.objective,
        "gain_percent": round(gain, 2),
        "seconds": round(result.seconds, 2),
        "proven_optimal": result.proven_optimal,
        "solver": result.solver,
        "time_limit_seconds": case.time_limit_seconds,
        "refusals": refusals,
        "bound": result.bound,
        "most_gain_percent": (
            round((result.bound / result.greedy_objective - 1) * 100, 2)
            if result.bound is not None and result.greedy_objective
            else None
        ),
        "ortools": version("ortools"),
    }


def _replan(case: Case, seed: int) -> dict[str, Any]:
    made = synthetic.week(case.sessions, seed)
    week = optimiser.build(made.site, made.chairs, made.wants, [], made.week_start, enrolled=made.enrolled)
    first = optimiser.solve(week, time_limit_seconds=10.0, seed=seed)
    placed_ids = {week.tasks[i].want.id: p for i, p in first.placements.items()}
    ends = [w.id for w in made.wants if w.id in placed_ids and not w.id.endswith(("s1", "s4"))]
    rng = random.Random(seed)  # noqa: S311 - a seeded benchmark, not security
    gone = rng.choice(sorted(ends))
    wants = [w for w in made.wants if w.id != gone]
    again = optimiser.build(made.site, made.chairs, wants, [], made.week_start, enrolled=made.enrolled)
    hint = {i: placed_ids[t.want.id] for i, t in enumerate(again.tasks) if t.want.id in placed_ids}
    result = optimiser.solve(again, time_limit_seconds=case.time_limit_seconds, hint=hint, seed=seed)
    line = _line(case, seed, again, result, _checked(again, result, made))
    line["moved"] = sum(
        1
        for i, p in result.placements.items()
        if (old := placed_ids.get(again.tasks[i].want.id)) is None or old.start != p.start
    )
    line["cancelled"] = gone
    return line


def run(seeds: range, cases: tuple[Case, ...] = CASES) -> Iterator[dict[str, Any]]:
    for case in cases:
        for seed in seeds:
            if case.name == "replan":
                yield _replan(case, seed)
                continue
            made = synthetic.week(case.sessions, seed)
            began = time.perf_counter()
            week = optimiser.build(
                made.site, made.chairs, made.wants, [], made.week_start, enrolled=made.enrolled
            )
            result = optimiser.solve(week, time_limit_seconds=case.time_limit_seconds, seed=seed)
            line = _line(case, seed, week, result, _checked(week, result, made))
            line["build_seconds"] = round(time.perf_counter() - began - result.seconds, 2)
            yield line
