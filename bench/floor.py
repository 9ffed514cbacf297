"""The floor board with 20 chairs in session, served as `make run` serves it: p95 over N requests.

Seeds the demo clinic and 20 sessions in progress at north (one per chair, every phase from checked in to
ready for discharge) on a throwaway data folder, starts the server with the Makefile's `make run` command
line, logs in through the real form as nurse.north and times, one request at a time, N requests each of:
the board page, its 10-second refresh (the HTMX fragment), the board's API, and two baselines on the same
server just before them: a bare Django JSON view and a bare three-query ORM read (bench/views.py).
Prints a table (p50, p95, max in ms); the target is a board p95 under 50 ms.

Env: BENCH_FLOOR_REQUESTS (default 300) per row; BENCH_PORT as bench/run.py.
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402 - the path above first

REQUESTS = int(os.environ.get("BENCH_FLOOR_REQUESTS", "300"))
CHAIRS = 20
IN_SESSION = ("checked_in", "pre_dose", "dosing", "monitoring", "alert", "ready")


def prepare() -> tuple[str, str]:
    """Migrate, collect static files, load the demo and chart 20 sessions; (a patient id, an API token)."""
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(run.ENV)
    run.create_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.utils import timezone

    from ketaclinic.accounts.actions import do_create_api_token
    from ketaclinic.accounts.models import User
    from ketaclinic.demo import data as demo
    from ketaclinic.floor.tests.chart import chart_session, make_chairs
    from ketaclinic.patients.models import Patient

    demo.load(timezone.localdate())
    nurse = User.objects.get(username=run.PERSONA)
    patients = list(Patient.objects.filter(location__slug="north").order_by("mrn")[:CHAIRS])
    chairs = make_chairs(patients[0].location, CHAIRS)
    now = timezone.now()
    for i, chair in enumerate(chairs):
        chart_session(patients[i], actor=nurse, now=now, stage=IN_SESSION[i % len(IN_SESSION)], chair=chair)
    token = do_create_api_token(nurse, name="bench floor")[1]
    from django.db import connections

    connections.close_all()
    return str(patients[0].pk), token


def server_command() -> list[str]:
    """The `make run` command line (as bench/run.py reads it), with this interpreter's venv."""
    rule = "bench-print-serve: ; @echo $(SERVE)"
    args = ["make", "-s", "--no-print-directory", f"PORT={run.PORT}", f"VENV={sys.prefix}"]
    out = subprocess.run(
        [*args, "--eval", rule, "bench-print-serve"], cwd=ROOT, capture_output=True, text=True
    )
    return shlex.split(out.stdout.strip())


def timings(url: str, headers: dict[str, str]) -> list[float]:
    """Milliseconds of each of REQUESTS sequential GETs (after 10 to warm up); any non-200 fails the run."""
    out = []
    for i in range(REQUESTS + 10):
        request = urllib.request.Request(url, headers=headers)
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")
        if i >= 10:
            out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    patient, token = prepare()
    command = server_command()
    server = subprocess.Popen(command, cwd=ROOT, env=run.ENV, start_new_session=True)
    try:
        run.wait_until_up(server)
        cookie, _ = run.login()
        web = {"Cookie": cookie}
        board = f"{run.BASE}/floor/?location=north"
        api = {"Authorization": f"Bearer {token}"}
        rows = [
            ("baseline: bare JSON view", f"{run.BASE}/bench/json/", {}),
            ("baseline: bare 3-query ORM read", f"{run.BASE}/bench/chart/{patient}/", {}),
            ("floor board page (20 in session)", board, web),
            (
                "floor board refresh (fragment)",
                f"{run.BASE}/floor/?location=north",
                {**web, "HX-Request": "true"},
            ),
            (
                "GET /api/v1/floor",
                f"{run.BASE}/api/v1/floor?location=north",
                api,
            ),
        ]
        lines = [
            f"| path ({REQUESTS} sequential requests) | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|",
        ]
        for name, url, headers in rows:
            values = timings(url, headers)
            lines.append(
                f"| {name} | {run.ms(statistics.median(values))} | {run.ms(p95(values))} "
                f"| {run.ms(max(values))} |"
            )
    finally:
        run.stop(server)
        run.discard()
    served = f"{CHAIRS} chairs in session on {run.database_name()}, server `{' '.join(command)}`"
    print(f"\n`bench/floor.py`: {served}\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
