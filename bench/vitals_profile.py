"""In-process CPU of recording a reading: bench/run.py's vitals rows to `POST /api/v1/sessions/{id}/vitals`
with a bearer token, with and without an Idempotency-Key, one thread, Django's test client,
`time.process_time`.

Run from the repository: `python bench/vitals_profile.py [N]` (N readings a round, default 300; the best of
BENCH_ROUNDS rounds, default 5). It loads the demo clinic and bench/seed.py's charting sessions (400 of them,
so that each session's flowsheet stays short as readings are added) once into BENCH_PROFILE_DIR (default
/tmp/ketaclinic-vitals-profile-400; delete it to load again: the sessions are today's), copies it to a
throwaway folder for each run (so two checkouts compare on the same data) and prints, a reading, for each row:

- the CPU of the whole request, and its CPU and wall time under SQLite's write lock (from BEGIN IMMEDIATE to
  COMMIT: the part served one at a time across the server's processes, which bounds req/s under load);
- its statements, and how many of them from BEGIN to COMMIT (the last transaction's, both counted).

It also prints two rows to read the readings against, the same way: the bare ninja insert of bench/run.py
and the keyless reading's statements alone, run on Django's plain cursor in a bare ninja view
(bench/vitals_floor.py); and the CPU of each layer of the keyless row (the token, the access getter, the
action and its parts, the answer).

One reading in eight raises an alert (SpO2 under the alert level), as in bench/run.py. BENCH_PROFILE=1 prints
a cProfile (CPU time) of the keyless row; BENCH_QUERIES=1 prints each statement. Events outside a
transaction go where the server sends them (the audit writer), stood in for by encoding them, as
bench/submit_profile.py does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEEDED = Path(os.environ.get("BENCH_PROFILE_DIR", "/tmp/ketaclinic-vitals-profile-400"))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SESSIONS = 400

from bench import run  # noqa: E402 - the path above first
from bench.submit_profile import LockClock, measure, print_profile  # noqa: E402
from bench.vitals_floor import Layers, capture, register  # noqa: E402


def seeded() -> dict[str, Any]:
    """The demo and SESSIONS charting sessions, loaded into SEEDED once and copied to this run's throwaway
    folder (run.DATA_DIR, where django is set up)."""
    marker = SEEDED / "seeded.json"
    if marker.exists():
        shutil.rmtree(run.DATA_DIR, ignore_errors=True)
        shutil.copytree(SEEDED, run.DATA_DIR)
        return dict(json.loads(marker.read_text()))
    run.setup_demo()
    from django.db import connections
    from django.utils import timezone

    from bench import seed

    seed._bulk_patients(SESSIONS * 2, timezone.localdate())  # enough at each location for the sessions
    seed.CHARTED_SESSIONS, seed.BASELINE_SESSIONS = SESSIONS, 0
    charting = seed._charting()
    connections.close_all()
    shutil.rmtree(SEEDED, ignore_errors=True)
    shutil.copytree(run.DATA_DIR, SEEDED)
    found = {"token": charting.token, "sessions": charting.sessions, "clock": charting.clock}
    marker.write_text(json.dumps(found))
    return found


def main() -> None:
    s = seeded()
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(run.ENV)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.inprocess import audit_events_encoded_only

    audit_events_encoded_only()
    lock = LockClock()
    api = Client(headers={"Authorization": f"Bearer {s['token']}"})
    floor_texts: list[str] = []  # filled by capture() below, once a reading has run
    alone = register(floor_texts)  # before the first request reads the URLs
    ids = s["sessions"]
    first = dt.datetime.fromtimestamp(s["clock"], tz=dt.UTC)
    sent = [0]

    def post_n(keyed: bool, _i: int) -> None:
        post(keyed)

    def post_to(path: str, _i: int) -> None:
        post(False, path)

    def post(keyed: bool, path: str = "/api/v1/sessions/{id}/vitals") -> None:
        i = sent[0]
        sent[0] += 1
        systolic, diastolic, heart, spo2 = run.READINGS[i % len(run.READINGS)]
        # Over all the sessions, each reading a few seconds after the one before it on its session.
        taken = first + dt.timedelta(seconds=(i // len(ids)) * 2 % 2400)
        body = json.dumps(
            {
                "taken_at": taken.isoformat(),
                "systolic_mmhg": systolic,
                "diastolic_mmhg": diastolic,
                "heart_rate_bpm": heart,
                "spo2_percent": spo2,
            }
        )
        headers = {"Idempotency-Key": str(uuid.uuid4())} if keyed else {}
        r = api.post(
            path.format(id=ids[i % len(ids)]),
            body,
            content_type="application/json",
            headers=headers,
        )
        assert r.status_code == 201, (r.status_code, r.content[:300])

    try:
        for i in range(30):  # warm: imports, caches, the kept policy
            post(i % 2 == 0)
        while run.READINGS[sent[0] % len(run.READINGS)][3] < 93:  # a reading that raises no alert
            sent[0] += 1
        floor_texts[:] = capture(lambda: post(False))
        for name, path in (
            ("bare ninja insert", "/bench/api/sessions/{id}/vitals"),
            ("statements alone", alone),
        ):
            for _ in range(30):
                post(False, path)
            cpu, locked_cpu, locked_wall = measure(partial(post_to, path), lock)
            print(
                f"{name}: {cpu:.2f} ms CPU; under the write lock {locked_cpu:.2f} ms CPU, "
                f"{locked_wall:.2f} ms wall",
                flush=True,
            )
        for keyed in (True, False):
            name = "vitals (API)" if keyed else "vitals (API, no key)"
            with CaptureQueriesContext(connection) as queries:
                post(keyed)
            statements = [q["sql"] for q in queries.captured_queries]
            begin = max(i for i, sql in enumerate(statements) if sql.startswith("BEGIN"))
            end = next(i for i in range(begin, len(statements)) if statements[i].startswith("COMMIT"))
            if os.environ.get("BENCH_QUERIES"):
                print(name)
                for sql in statements:
                    print(f"    {sql[:150]}")
            cpu, locked_cpu, locked_wall = measure(partial(post_n, keyed), lock)
            print(
                f"{name}: {cpu:.2f} ms CPU; under the write lock {locked_cpu:.2f} ms CPU, "
                f"{locked_wall:.2f} ms wall; {len(statements)} statements, "
                f"{end - begin + 1} from BEGIN to COMMIT (both counted)",
                flush=True,
            )
        layers = Layers()
        started = time.process_time()
        for _ in range(N):
            post(False)
        print("vitals (API, no key), by layer (each within the one above it):")
        layers.print(N, (time.process_time() - started) / N * 1000)
        if os.environ.get("BENCH_PROFILE"):
            print_profile(lambda _i: post(False), "do_record_vitals")
    finally:
        shutil.rmtree(run.DATA_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
