"""In-process CPU of a questionnaire submission: bench/assessments.py's PHQ-9 to
`POST /api/v1/patients/{id}/assessments` with a bearer token, one thread, Django's test client,
`time.process_time`.

Run from the repository: `python bench/submit_profile.py [N]` (N submissions a round, default 300; the best
of BENCH_ROUNDS rounds, default 5). It loads the demo clinic and bench/assessments.py's five-year patient once
into BENCH_PROFILE_DIR (default /tmp/ketaclinic-submit-profile; delete it to load again), copies it to a
throwaway folder for each run (so two checkouts compare on the same data) and prints, a submission:

- the CPU of the whole request, and its CPU and wall time under SQLite's write lock (from BEGIN IMMEDIATE to
  COMMIT: the part served one at a time across the server's processes, which bounds req/s under load);
- its statements, and how many of them from BEGIN to COMMIT.

BENCH_PROFILE=1 prints a cProfile (CPU time) sorted by cumulative and by own time; BENCH_QUERIES=1 prints
each statement. Events outside a transaction go where the server sends them (the audit writer), stood in
for by encoding them, as bench/reads_profile.py does.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEEDED = Path(os.environ.get("BENCH_PROFILE_DIR", "/tmp/ketaclinic-submit-profile"))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))

from bench import run  # noqa: E402 - the path above first


def seeded() -> dict[str, Any]:
    """The demo and the five-year patient, loaded into SEEDED once and copied to this run's throwaway
    folder (run.DATA_DIR, where django is set up)."""
    marker = SEEDED / "seeded.json"
    if marker.exists():
        shutil.rmtree(run.DATA_DIR, ignore_errors=True)
        shutil.copytree(SEEDED, run.DATA_DIR)
        return dict(json.loads(marker.read_text()))
    from bench import assessments

    _, writable, token = assessments.prepare()  # into run.DATA_DIR; closes its connections
    shutil.rmtree(SEEDED, ignore_errors=True)
    shutil.copytree(run.DATA_DIR, SEEDED)
    found = {"writable": writable, "token": token}
    marker.write_text(json.dumps(found))
    return found


class LockClock:
    """CPU and wall time with the write lock held (ketaclinic/db/sqlite3: taken at BEGIN, let go at
    COMMIT or ROLLBACK), summed over the requests since the last reset."""

    def __init__(self) -> None:
        from ketaclinic.db.sqlite3.base import DatabaseWrapper

        self.cpu = self.wall = 0.0
        self._since: tuple[float, float] | None = None
        take, let_go = DatabaseWrapper._take_writer_lock, DatabaseWrapper._let_writer_lock_go
        clock = self

        def taken(wrapper: Any) -> None:
            take(wrapper)
            clock._since = (time.process_time(), time.perf_counter())

        def let(wrapper: Any) -> None:
            let_go(wrapper)
            if clock._since is not None:
                clock.cpu += time.process_time() - clock._since[0]
                clock.wall += time.perf_counter() - clock._since[1]
                clock._since = None

        DatabaseWrapper._take_writer_lock = taken  # type: ignore[method-assign, assignment]
        DatabaseWrapper._let_writer_lock_go = let  # type: ignore[method-assign, assignment]

    def reset(self) -> None:
        self.cpu = self.wall = 0.0


def measure(call: Callable[[int], object], lock: LockClock) -> tuple[float, float, float]:
    """The best of ROUNDS rounds of N calls: CPU ms a call, and its CPU and wall ms under the write lock."""
    best: list[tuple[float, float, float]] = []
    for _ in range(ROUNDS):
        lock.reset()
        started = time.process_time()
        for i in range(N):
            call(i)
        spent = time.process_time() - started
        best.append((spent / N * 1000, lock.cpu / N * 1000, lock.wall / N * 1000))
    return min(best)


def print_profile(call: Callable[[int], object], *callees: str) -> None:
    """A cProfile (CPU time) of N calls: the top by cumulative and by own time, and the callees named."""
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for i in range(N):
        call(i)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)
    for name in callees:
        stats.print_callees(name)


def main() -> None:
    s = seeded()
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(run.ENV)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.assessments import PHQ9_BODIES
    from bench.inprocess import audit_events_encoded_only

    audit_events_encoded_only()
    lock = LockClock()
    api = Client(headers={"Authorization": f"Bearer {s['token']}"})
    ids = s["writable"]

    def submit(i: int) -> None:
        body = PHQ9_BODIES[i % len(PHQ9_BODIES)]
        r = api.post(
            f"/api/v1/patients/{ids[i % len(ids)]}/assessments", body, content_type="application/json"
        )
        assert r.status_code == 201, (r.status_code, r.content[:300])

    try:
        for i in range(30):  # warm: imports, caches, the kept policy
            submit(i)
        with CaptureQueriesContext(connection) as queries:
            submit(0)
        statements = [q["sql"] for q in queries.captured_queries]
        begin = next(i for i, sql in enumerate(statements) if sql.startswith("BEGIN"))
        if os.environ.get("BENCH_QUERIES"):
            for sql in statements:
                print(f"    {sql[:150]}")
        cpu, locked_cpu, locked_wall = measure(submit, lock)
        print(
            f"submission: {cpu:.2f} ms CPU; under the write lock {locked_cpu:.2f} ms CPU, "
            f"{locked_wall:.2f} ms wall; {len(statements)} statements, "
            f"{len(statements) - begin} from BEGIN to COMMIT (both counted)",
            flush=True,
        )
        if os.environ.get("BENCH_PROFILE"):
            print_profile(submit)
    finally:
        shutil.rmtree(run.DATA_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
