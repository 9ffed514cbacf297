"""The outcome report at scale: 100,000 patients with 2 million PHQ-9 scores (BENCH_OUTCOME_PATIENTS,
BENCH_OUTCOME_SCORES), bulk-inserted into a throwaway SQLite database (or the PostgreSQL of
BENCH_DATABASE_URL), then measured in process, each path REPEATS times (p50, max):

- baseline: the bare extract, the report's three SQL queries fetched and nothing else;
- the extract into Polars frames (queries.extract);
- the report: the extract and the computation (queries.report), which is what the API adds its audit row
  and JSON to;
- a server process's first report, cold from the database (no extract file) and cold from the extract's
  file in the data folder (ketaclinic/outcomes/snapshot.py), which is what a process does after a start;
- GET /api/v1/outcomes?instrument=phq9 through Django's test client (token, grants, the audit row, JSON).

The courses come from ketaclinic/outcomes/demo.generate (responders, losses, dropouts, maintenance), with
extra weekly scores to reach the score count. Target: the report under 1 second.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # models need django.setup() first
    from ketaclinic.patients.models import Patient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PATIENTS = int(os.environ.get("BENCH_OUTCOME_PATIENTS", "100000"))
SCORES = int(os.environ.get("BENCH_OUTCOME_SCORES", str(20 * PATIENTS)))
REPEATS = int(os.environ.get("BENCH_OUTCOME_REPEATS", "7"))
CHUNK = 5000


def setup() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="ketaclinic-bench-outcomes-"))
    os.environ.pop("DATABASE_URL", None)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.update(
        {
            "KETACLINIC_DEMO": "1",
            "KETACLINIC_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "KETACLINIC_LOG_LEVEL": "WARNING",
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def seed() -> float:
    """The demo network (small) and PATIENTS past courses at north with SCORES PHQ-9 totals."""
    from django.db import transaction
    from django.utils import timezone

    from ketaclinic.accounts.models import ClinicLocation, User
    from ketaclinic.demo import data as demo_data
    from ketaclinic.outcomes.demo import generate
    from ketaclinic.patients.models import Patient
    from ketaclinic.treatment.models import (
        PlanStatus,
        SessionPhase,
        SessionStatus,
        TreatmentPlan,
        TreatmentSession,
    )

    started = time.monotonic()
    today = timezone.localdate()
    demo_data.load(today, patients_per_location=4)
    north = ClinicLocation.objects.get(slug="north")
    nurse = User.objects.get(username="nurse.north")
    now = timezone.now()
    stamp = {"created_at": now, "created_by": nurse, "updated_at": now, "updated_by": nurse}
    rng = random.Random(14)
    per_patient_extra = max(0, SCORES // PATIENTS)
    made_scores = 0
    courses = generate(rng, today, PATIENTS)
    for first in range(0, PATIENTS, CHUNK):
        patients, plans, sessions, scores = [], [], [], []
        for n in range(first, min(first + CHUNK, PATIENTS)):
            course = next(courses)
            patient = Patient(
                network_id=north.network_id,
                location=north,
                mrn=f"KC-B{n:07d}",
                given_name="Bench",
                family_name=f"Patient{n}",
                date_of_birth=dt.date(1980, 1, 1),
                sex="female",
                search_name=f"patient{n} bench",
                **stamp,
            )
            patients.append(patient)
            plan = TreatmentPlan(
                patient=patient,
                location=north,
                modality=course.modality,
                protocol=course.protocol,
                start_date=course.start,
                status=PlanStatus.ENDED,
                approved_at=now,
                approved_by=nurse,
                ended_at=now,
                **course.dose,
                **stamp,
            )
            plans.append(plan)
            # The two sessions the report reads: the last induction one and the first maintenance one.
            marks = [(course.induction[-1], SessionPhase.INDUCTION)] if course.induction else []
            if course.maintenance:
                marks.append((course.maintenance[0], SessionPhase.MAINTENANCE))
            for number, (day, phase) in enumerate(marks, start=1):
                sessions.append(
                    TreatmentSession(
                        plan=plan,
                        patient=patient,
                        location=north,
                        number=number,
                        date=course.start + dt.timedelta(days=day),
                        phase=phase,
                        status=SessionStatus.CHECKED_IN,
                        checked_in_at=now,
                        checked_in_by=nurse,
                        **stamp,
                    )
                )
            days = dict(course.scores)
            day = max(days, default=0)
            while len(days) < per_patient_extra:  # weekly scores on to the score count
                day += 7
                days[day] = days.get(day - 7, 10)
            for day, total in days.items():
                if made_scores >= SCORES:
                    break
                at = dt.datetime.combine(course.start + dt.timedelta(days=day), dt.time(16), tzinfo=dt.UTC)
                scores.append((patient, total, at))
                made_scores += 1
        with transaction.atomic():
            Patient.objects.bulk_create(patients, batch_size=1000)
            TreatmentPlan.objects.bulk_create(plans, batch_size=1000)
            TreatmentSession.objects.bulk_create(sessions, batch_size=1000)
            insert_scores(scores, north.pk, nurse.pk)
    print(
        f"seeded {PATIENTS:,} patients, {made_scores:,} scores in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return time.monotonic() - started


def insert_scores(scores: list[tuple[Patient, int, dt.datetime]], location_id: int, user_id: int) -> None:
    """PHQ-9 totals as plain rows: executemany on SQLite (model instances cost most of the seeding's time),
    bulk_create on PostgreSQL (its JSON columns want the ORM's adaptation)."""
    from django.db import connection

    from ketaclinic.assessments.models import Assessment, Source

    if connection.vendor != "sqlite":
        Assessment.objects.bulk_create(
            [
                Assessment(
                    patient=p,
                    location_id=location_id,
                    instrument="phq9",
                    total=t,
                    taken_at=at,
                    source=Source.CLINIC,
                    created_at=at,
                    created_by_id=user_id,
                )
                for p, t, at in scores
            ],
            batch_size=2000,
        )
        return
    rows = [
        (
            p.pk.hex,
            location_id,
            "phq9",
            "[]",
            "{}",
            t,
            "",
            "[]",
            "{}",
            f"{at:%Y-%m-%d %H:%M:%S}",
            "clinic",
            f"{at:%Y-%m-%d %H:%M:%S}",
            user_id,
        )
        for p, t, at in scores
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {Assessment._meta.db_table} (patient_id, location_id, instrument, item_scores, "
            "extra_answers, total, band, flags, codes, taken_at, source, created_at, created_by_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


def timed(fn: object, repeats: int = REPEATS) -> list[float]:
    values = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        values.append(time.perf_counter() - started)
    return values


def main() -> int:
    setup()
    seed()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from ketaclinic.accounts.actions import do_create_api_token
    from ketaclinic.accounts.models import ClinicLocation, User
    from ketaclinic.clinical.policy import DEFAULT_POLICY
    from ketaclinic.outcomes import extract, queries
    from ketaclinic.outcomes.cohort import compute

    north = ClinicLocation.objects.get(slug="north")
    cohort = queries.Cohort([north.pk])
    sql = extract._sql()

    def bare() -> None:
        """The three tables' columns read row by row and dropped: the floor of any read-per-report."""
        with connection.cursor() as cursor:
            for name, params in (("plans", []), ("sessions", []), ("scores", [0, 10**12])):
                cursor.execute(sql[name], params)
                while cursor.fetchmany(100_000):
                    pass

    def cold() -> None:
        """A process's first report with no extract file: everything read from the database."""
        settings.OUTCOMES_EXTRACT_FILE = False
        try:
            extract.forget()
            queries.report(cohort, "phq9", DEFAULT_POLICY)
        finally:
            settings.OUTCOMES_EXTRACT_FILE = True

    def cold_from_file() -> None:
        """A process's first report with the extract's file written: read, checked, caught up, computed."""
        extract.forget()
        queries.report(cohort, "phq9", DEFAULT_POLICY)

    token = do_create_api_token(User.objects.get(username="admin.north"), name="bench outcomes")[1]
    client = Client(headers={"Authorization": f"Bearer {token}"})

    def api() -> None:
        response = client.get("/api/v1/outcomes", {"instrument": "phq9"})
        assert response.status_code == 200, response.content[:300]

    settings.OUTCOMES_CACHE_SECONDS = 3600
    cold()  # imports (lifelines, the API's modules) are not what is measured
    api()
    cold_runs = max(2, REPEATS // 3)
    rows = [
        ("baseline: bare read of the three tables (fetchmany, dropped)", timed(bare, cold_runs)),
        ("cold report: the extract read, then computed", timed(cold, cold_runs)),
    ]
    assert extract.refresh_file() == "all"  # the task runner's first run: the file written
    rows += [
        ("task runner: extract file refreshed, nothing new", timed(extract.refresh_file)),
        ("cold report, extract from its file", timed(cold_from_file)),
    ]
    report = queries.report(cohort, "phq9", DEFAULT_POLICY)  # the extract is held from here on
    plans, scores = extract.cohort_frames(extract.current(), location_ids=[north.pk], instrument="phq9")
    rows += [
        (
            "held extract: the two freshness counts",
            timed(lambda: (extract._scalar(sql["score_id"]), extract._scalar(sql["plan_count"]))),
        ),
        ("compute alone (Polars + lifelines)", timed(lambda: compute(plans, scores, instrument="phq9"))),
        ("report (held extract)", timed(lambda: queries.report(cohort, "phq9", DEFAULT_POLICY))),
        ("GET /api/v1/outcomes?instrument=phq9 (held extract)", timed(api)),
    ]
    extract_scores = scores
    print(
        f"\n`bench/outcomes.py` on {connection.vendor}: {report.patients:,} patients, "
        f"{extract_scores.height:,} PHQ-9 scores, {report.durability.responders:,} responders; "
        f"{REPEATS} runs each\n"
    )
    print("| path | p50 ms | max ms |\n|---|---:|---:|")
    for name, values in rows:
        print(f"| {name} | {statistics.median(values) * 1000:.0f} | {max(values) * 1000:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
