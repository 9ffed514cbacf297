"""Measurement-based care under load, served as `make run` serves it: questionnaire submission and the
trend chart of a patient with five years of weekly scores.

Seeds the demo clinic on a throwaway data folder, plus one north patient with five years of weekly PHQ-9
scores and a weekly dose session beside each (bulk-inserted, as bench/seed.py does: this is load, not the
demo), starts the server with the Makefile's `make run` command line and measures:

- submission: `POST /api/v1/patients/{id}/assessments` (a PHQ-9, scored, audited, with the access checks)
  at 50 clients in alternating slices with the bare insert baseline (bench/assessments_views.py: the same
  JSON parsed and one row inserted, nothing else): req/s, p99, and the ratio (target: at least half);
- the trend chart: the chart's trend panel (the HTMX fragment: SVG, episode and table) and the episode API
  for the five-year patient, one request at a time: p50, p95, max (target: p95 under 100 ms).

Env: BENCH_SECONDS, BENCH_SLICES, BENCH_PORT as bench/run.py; BENCH_TREND_REQUESTS (default 300).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import floor, run  # noqa: E402 - the path above first

if TYPE_CHECKING:  # models need django.setup() first
    from ketaclinic.accounts.models import User
    from ketaclinic.patients.models import Patient

YEARS = 5
TREND_REQUESTS = int(os.environ.get("BENCH_TREND_REQUESTS", "300"))
PHQ9_BODIES = [
    json.dumps({"instrument": "phq9", "answers": [(n + i) % 4 for i in range(8)] + [0]}) for n in range(4)
]


def _weekly_history(patient: Patient, nurse: User) -> None:
    """Five years of weekly PHQ-9 scores, each the morning of a weekly esketamine session with its dose."""
    from decimal import Decimal

    from django.utils import timezone

    from ketaclinic.assessments.actions import codes_of
    from ketaclinic.assessments.models import Assessment, Source
    from ketaclinic.clinical import scales
    from ketaclinic.treatment.models import Dose, PlanStatus, TreatmentPlan, TreatmentSession

    now = timezone.now()
    weeks = 52 * YEARS
    start = now - dt.timedelta(weeks=weeks)
    stamp = {"created_at": start, "created_by": nurse, "updated_at": start, "updated_by": nurse}
    plan = TreatmentPlan.objects.create(
        patient=patient,
        location_id=patient.location_id,
        modality="esketamine_nasal",
        protocol="esketamine_trd",
        dose_mg=Decimal(56),
        start_date=start.date(),
        clinic_days=[start.weekday()],
        status=PlanStatus.ACTIVE,
        approved_at=start,
        approved_by=nurse,
        **stamp,
    )
    rows, sessions, starts = [], [], []
    for week in range(weeks):
        at = start + dt.timedelta(weeks=week)
        result = scales.score("phq9", run.weekly_phq9_answers(week))
        rows.append(
            Assessment(
                patient=patient,
                location_id=patient.location_id,
                instrument="phq9",
                item_scores=list(result.item_scores),
                total=result.total,
                band=result.band or "",
                flags=sorted(result.flags),
                codes=codes_of(result),
                taken_at=at - dt.timedelta(minutes=30),
                source=Source.CLINIC,
                created_at=at,
                created_by=nurse,
            )
        )
        starts.append(at)
        sessions.append(
            TreatmentSession(
                plan=plan,
                patient=patient,
                location_id=patient.location_id,
                number=week + 1,
                date=at.date(),
                phase="induction" if week < 4 else "maintenance",
                status="discharged",
                checked_in_at=at - dt.timedelta(minutes=40),
                checked_in_by=nurse,
                **stamp,
            )
        )
    Assessment.objects.bulk_create(rows, batch_size=500)
    TreatmentSession.objects.bulk_create(sessions, batch_size=500)
    Dose.objects.bulk_create(
        [
            Dose(session=s, amount_mg=Decimal(56), lot_number="BENCH-1", started_at=at, **stamp)
            for s, at in zip(sessions, starts, strict=True)
        ],
        batch_size=500,
    )


def prepare() -> tuple[str, list[str], str]:
    """Migrate, collect static, load the demo and the five-year patient: (its id, patients to submit for,
    an API token of nurse.north)."""
    run.setup_demo()
    from django.db import connections

    from ketaclinic.accounts.actions import do_create_api_token
    from ketaclinic.accounts.models import User
    from ketaclinic.patients.models import Patient

    nurse = User.objects.get(username=run.PERSONA)
    north = list(Patient.objects.filter(location__slug="north").order_by("mrn").values_list("pk", flat=True))
    long_history = Patient.objects.get(pk=north[0])
    _weekly_history(long_history, nurse)
    token = do_create_api_token(nurse, name="bench assessments")[1]
    connections.close_all()
    return str(long_history.pk), [str(pk) for pk in north[1:]], token


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2
    try:
        patient, writable, token = prepare()
        command = floor.server_command()
        server = subprocess.Popen(command, cwd=ROOT, env=run.ENV, start_new_session=True)
        run.SERVER_PID = server.pid
    except Exception:
        run.discard()
        raise
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run.wait_until_up(server)
        cookie, _ = run.login()
        api_json = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        wrk = run.Wrk([])
        baseline = run.Load(
            "POST", "/bench/insert/{id}/", {"Content-Type": "application/json"}, PHQ9_BODIES, ids=writable
        )
        ours = run.Load("POST", "/api/v1/patients/{id}/assessments", api_json, PHQ9_BODIES, ids=writable)
        for load in (baseline, ours):
            wrk.measure(load, run.CLIENTS, 1)  # warm the workers
        wrk.failures = 0
        base, mine, one = wrk.paired(baseline, ours)
        trend_rows = [
            (
                "trend panel (chart fragment)",
                f"{run.BASE}/assessments/patients/{patient}/panel/",
                {"Cookie": cookie},
            ),
            (
                "GET /api/v1/patients/{id}/episode",
                f"{run.BASE}/api/v1/patients/{patient}/episode",
                {"Authorization": f"Bearer {token}"},
            ),
        ]
        floor.REQUESTS = TREND_REQUESTS
        trends = [(name, floor.timings(url, headers)) for name, url, headers in trend_rows]
    except (RuntimeError, OSError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        run.stop(server)
        run.discard()

    lines = [
        f"`bench/assessments.py`: server `{' '.join(command)}`, {os.cpu_count()} cores, "
        f"{run.CLIENTS} clients for {run.SECONDS} s in {run.SLICES} slices alternating with the baseline",
        "",
        "| path | req/s | p50 ms | p99 ms | CPU ms a request | 1-client p50 ms | errors |",
        "|---|--:|--:|--:|--:|--:|--:|",
        f"| baseline: bare insert (parse + one INSERT) | {base.rps:.0f} | {run.ms(base.p50)} "
        f"| {run.ms(base.p99)} | {base.cpu:.2f} | — | {base.errors} |",
        f"| POST /api/v1/patients/{{id}}/assessments (PHQ-9) | {mine.rps:.0f} | {run.ms(mine.p50)} "
        f"| {run.ms(mine.p99)} | {mine.cpu:.2f} | {run.ms(one.p50)} | {mine.errors + one.errors} |",
        "",
        f"Submission at {mine.rps / base.rps:.0%} of the bare insert's req/s (target: at least 50%).",
        "",
        f"Trend of a patient with {52 * YEARS} weekly PHQ-9 scores and {52 * YEARS} dose sessions, "
        f"{TREND_REQUESTS} sequential requests (target: p95 under 100 ms):",
        "",
        "| path | p50 ms | p95 ms | max ms |",
        "|---|--:|--:|--:|",
    ]
    for name, values in trends:
        p50, p95 = run.ms(statistics.median(values)), run.ms(floor.p95(values))
        lines.append(f"| {name} | {p50} | {p95} | {run.ms(max(values))} |")
    print("\n" + "\n".join(lines))
    if wrk.failures:
        print(f"FAILED: {wrk.failures} requests failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
