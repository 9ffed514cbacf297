"""In-process CPU of the read rows of `make bench`: the chart page, the patient search page and the API
read (with the 5- and 500-entry patients), one thread, Django's test client, `time.process_time`.

Run from the repository: `python bench/reads_profile.py [N]` (N requests a row, default 200). It seeds
bench/seed.py's database (10,000 patients, or BENCH_PATIENTS) once into BENCH_PROFILE_DIR (default
/tmp/ketaclinic-reads-profile; delete it to seed again) and reuses it. The read events go where the server
sends them: to the audit writer, stood in for here by encoding each event and not committing it (the
writer's commit is not this process's CPU when served either). BENCH_PROFILE=<row words> prints the top
of a cProfile of that row, sorted by cumulative and by own time; BENCH_QUERIES=1 prints each row's SQL
with its time; BENCH_ONLY=<words, comma-separated> runs only the rows whose name holds one of them.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("BENCH_PROFILE_DIR", "/tmp/ketaclinic-reads-profile"))
os.environ.pop("DATABASE_URL", None)
os.environ.update(
    {
        "KETACLINIC_DEMO": "1",
        "KETACLINIC_DATA_DIR": str(DATA),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "KETACLINIC_LOG_LEVEL": "WARNING",
    }
)


def seeded() -> dict[str, Any]:
    from django.core.management import call_command

    marker = DATA / "seeded.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    DATA.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from bench.seed import seed

    s = seed(int(os.environ.get("BENCH_PATIENTS", "10000")))
    found = {"token": s.token, "readable": s.readable, "flat": s.flat}
    marker.write_text(json.dumps(found))
    return found


def statement_times(connection: Any, call: Any) -> dict[str, float]:
    """Each statement of a request with its time in the database (microseconds), best of 20 requests."""
    spent: dict[str, float] = {}

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = (time.perf_counter() - started) * 1e6
            spent[sql] = min(spent.get(sql, took), took)

    with connection.execute_wrapper(timed):
        for _ in range(20):
            call(0)
    return spent


def main() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    s = seeded()
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200

    from bench.inprocess import audit_events_encoded_only

    audit_events_encoded_only()
    web = Client()
    page = web.get("/login/")
    assert page.status_code == 200
    done = web.post("/login/", {"username": "nurse.north", "password": "ketaclinic-demo"})
    assert done.status_code == 302, done.status_code
    api = Client(headers={"Authorization": f"Bearer {s['token']}"})
    searches = ("naka", "okafor", "bel", "ava", "jonah", "zeller")
    readable = s["readable"]
    rows: dict[str, Any] = {
        "chart page": lambda i: web.get(f"/patients/{readable[i % len(readable)]}/"),
        "patient search (web)": lambda i: web.post("/patients/", {"q": searches[i % len(searches)]}),
        "patient API read": lambda i: api.get(f"/api/v1/patients/{readable[i % len(readable)]}"),
    }
    for history, pk in s["flat"].items():
        rows[f"chart page, {history}"] = lambda i, pk=pk: web.get(f"/patients/{pk}/")
        rows[f"patient API read, {history}"] = lambda i, pk=pk: api.get(f"/api/v1/patients/{pk}")
    profile = os.environ.get("BENCH_PROFILE", "")
    only = [w.strip() for w in os.environ.get("BENCH_ONLY", "").split(",") if w.strip()]
    for name, call in rows.items():
        if only and not any(w in name for w in only):
            continue
        for i in range(20):  # warm: imports, templates, caches
            response = call(i)
            assert response.status_code == 200, (name, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            call(0)
        captured = list(queries.captured_queries)  # the next request's request_started empties the log
        if os.environ.get("BENCH_QUERIES"):
            for sql, took in statement_times(connection, call).items():
                print(f"    {took:6.0f} us  {sql[:150]}")
        best = []
        for _ in range(3):
            started = time.process_time()
            for i in range(n):
                call(i)
            best.append((time.process_time() - started) / n * 1000)
        print(f"{name:40} {min(best):6.2f} ms CPU  ({len(captured)} queries)", flush=True)
        if profile and profile == name:
            prof = cProfile.Profile()
            prof.enable()
            for i in range(n):
                call(i)
            prof.disable()
            stats = pstats.Stats(prof)
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(40)


if __name__ == "__main__":
    main()
