"""ketaclinic schedule_benchmark: the week's optimiser on seeded synthetic weeks, one JSON line per week.

No database: the weeks are generated (scheduling/synthetic.py) and every answer is re-verified by the
independent checker (`refusals` must be 0). Figures go to docs/performance.md.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandParser

from ketaclinic.scheduling import benchmark


class Command(BaseCommand):
    help = "Benchmark the week's optimiser (greedy vs CP-SAT) on seeded synthetic weeks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seeds", type=int, default=5, help="How many seeds per week (default 5)")
        parser.add_argument(
            "--week",
            action="append",
            choices=[c.name for c in benchmark.CASES],
            help="Only these weeks (repeatable; default all)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = options["week"] or [c.name for c in benchmark.CASES]
        cases = tuple(c for c in benchmark.CASES if c.name in names)
        for line in benchmark.run(range(1, options["seeds"] + 1), cases):
            self.stdout.write(orjson.dumps(line).decode())
