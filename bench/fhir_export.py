"""FHIR bulk export throughput and memory: `Group/<location>/$export`'s worker (ketaclinic/fhir/exporter.py)
over a bulk-seeded clinic, timed end to end (reading, mapping, orjson, writing the NDJSON files and the audit
event per patient), with the process's resident memory sampled while it runs.

Seeds the demo clinic on a throwaway data folder, adds BENCH_FHIR_PATIENTS patients with intake histories
(bench/seed.py's bulk patients) and gives BENCH_FHIR_TREATED of them BENCH_FHIR_SESSIONS weekly esketamine
sessions each: three sets of vitals, a dose with its lot, a MOAA/S rating and a PHQ-9 (bulk-inserted: this
is load, not the demo). Then it exports the whole network twice, first half the patients (north only) and
then all of them, so that memory can be compared between a small and a large export: flat memory means the
peak does not grow with the export.

Target: at least 50,000 resources per second, memory flat.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PATIENTS = int(os.environ.get("BENCH_FHIR_PATIENTS", "10000"))
TREATED = int(os.environ.get("BENCH_FHIR_TREATED", "2000"))
SESSIONS = int(os.environ.get("BENCH_FHIR_SESSIONS", "10"))
DATA_DIR = Path(tempfile.mkdtemp(prefix="ketaclinic-bench-fhir-"))


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _rss_mb()
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss_mb())
            time.sleep(0.02)


def prepare() -> None:
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(
        {
            "KETACLINIC_DATA_DIR": str(DATA_DIR),
            "DJANGO_SETTINGS_MODULE": "ketaclinic.settings",
            "KETACLINIC_DEMO": "1",
            "KETACLINIC_LOG_LEVEL": "WARNING",
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def seed() -> None:
    from django.db import transaction
    from django.utils import timezone

    from bench import seed as bench_seed
    from ketaclinic.accounts.models import User
    from ketaclinic.assessments.actions import codes_of
    from ketaclinic.assessments.models import Assessment, Source
    from ketaclinic.clinical import scales
    from ketaclinic.demo import data as demo
    from ketaclinic.patients.models import Patient
    from ketaclinic.treatment.models import (
        Dose,
        Observation,
        PlanStatus,
        TreatmentPlan,
        TreatmentSession,
        VitalSigns,
    )

    today = timezone.localdate()
    demo.load(today, patients_per_location=4)
    with transaction.atomic():
        bench_seed._bulk_patients(PATIENTS - Patient.objects.count(), today)
    now = timezone.now()
    nurses = {u.username.split(".")[1]: u for u in User.objects.filter(username__startswith="nurse.")}
    treated = list(
        Patient.objects.order_by("mrn").values_list("id", "location_id", "location__slug")[:TREATED]
    )
    for start in range(0, len(treated), 200):
        with transaction.atomic():
            plans, sessions, vitals, doses, ratings, scores = [], [], [], [], [], []
            for pid, location_id, slug in treated[start : start + 200]:
                nurse = nurses[slug]
                begin = now - dt.timedelta(weeks=SESSIONS)
                stamp = {"created_at": begin, "created_by": nurse, "updated_at": begin, "updated_by": nurse}
                plan = TreatmentPlan(
                    patient_id=pid,
                    location_id=location_id,
                    modality="esketamine_nasal",
                    protocol="esketamine_trd",
                    dose_mg=Decimal(56),
                    start_date=begin.date(),
                    clinic_days=[begin.weekday()],
                    status=PlanStatus.ACTIVE,
                    approved_at=begin,
                    approved_by=nurse,
                    **stamp,
                )
                plans.append(plan)
                for week in range(SESSIONS):
                    at = begin + dt.timedelta(weeks=week)
                    session = TreatmentSession(
                        plan=plan,
                        patient_id=pid,
                        location_id=location_id,
                        number=week + 1,
                        date=at.date(),
                        phase="induction",
                        status="signed",
                        checked_in_at=at,
                        checked_in_by=nurse,
                        signed_at=at,
                        signed_by=nurse,
                        **stamp,
                    )
                    sessions.append(session)
                    for minutes in (0, 40, 120):
                        vitals.append(
                            VitalSigns(
                                session=session,
                                taken_at=at + dt.timedelta(minutes=minutes),
                                systolic_mmhg=128,
                                diastolic_mmhg=80,
                                heart_rate_bpm=72,
                                spo2_percent=98,
                                **stamp,
                            )
                        )
                    doses.append(
                        Dose(
                            session=session,
                            amount_mg=Decimal(56),
                            lot_number="ESK-1",
                            started_at=at + dt.timedelta(minutes=5),
                            ended_at=at + dt.timedelta(minutes=15),
                            **stamp,
                        )
                    )
                    ratings.append(
                        Observation(
                            session=session,
                            instrument="moaas",
                            answers=[5],
                            total=5,
                            taken_at=at + dt.timedelta(minutes=40),
                            **stamp,
                        )
                    )
                    answers = [(week + i) % 4 for i in range(8)] + [0]
                    result = scales.score("phq9", answers)
                    scores.append(
                        Assessment(
                            patient_id=pid,
                            location_id=location_id,
                            instrument="phq9",
                            item_scores=list(result.item_scores),
                            total=result.total,
                            band=result.band or "",
                            codes=codes_of(result),
                            taken_at=at,
                            source=Source.CLINIC,
                            session=session,
                            created_at=at,
                            created_by=nurse,
                        )
                    )
            for model, rows in (
                (TreatmentPlan, plans),
                (TreatmentSession, sessions),
                (VitalSigns, vitals),
                (Dose, doses),
                (Observation, ratings),
                (Assessment, scores),
            ):
                model.objects.bulk_create(rows, batch_size=500)  # type: ignore[arg-type]


def export(slugs: list[str]) -> tuple[int, float, float, int]:
    from ketaclinic.accounts.models import ClinicLocation, User
    from ketaclinic.fhir import exporter
    from ketaclinic.fhir.actions import do_request_export
    from ketaclinic.fhir.resources import TYPES

    locations = list(ClinicLocation.objects.filter(slug__in=slugs))
    job = do_request_export(
        actor=User.objects.get(username="prescriber.north"),
        location_ids=[loc.pk for loc in locations],
        group=locations[0] if len(locations) == 1 else None,
        types=list(TYPES),
        since=None,
        request_url="bench",
    )
    sampler = Sampler()
    base = _rss_mb()
    sampler.start()
    started = time.perf_counter()
    done = exporter.run(job.pk)
    seconds = time.perf_counter() - started
    sampler.running = False
    sampler.join()
    size = sum((exporter.job_dir(job.pk) / e["name"]).stat().st_size for e in done.output)
    return done.resources_written, seconds, sampler.peak - base, size


def main() -> int:
    prepare()
    started = time.monotonic()
    seed()
    print(
        f"seeded {PATIENTS:,} patients ({TREATED:,} with {SESSIONS} sessions) in "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    rows = []
    for label, slugs in (("north only", ["north"]), ("whole network", ["north", "south"])):
        count, seconds, memory, size = export(slugs)
        rows.append((label, count, seconds, count / seconds, memory, size))
    print("\n| export | resources | seconds | resources/s | peak memory growth | NDJSON |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, count, seconds, rate, memory, size in rows:
        print(
            f"| {label} | {count:,} | {seconds:.1f} | {rate:,.0f} | {memory:.1f} MB | {size / 2**20:.0f} MB |"
        )
    ok = all(rate >= 50_000 for *_, rate, _m, _s in [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows])
    print(f"\ntarget 50,000 resources/s: {'met' if ok else 'NOT met'}; {os.cpu_count()} cores, SQLite")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
