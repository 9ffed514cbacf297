"""The patient's timeline (issue 11, item 6) under `make run`'s server: a KAP patient with one year and one
with five years of history, measured in the same run, so "flat in history length" is a ratio.

Seeds the demo clinic on a throwaway data folder, plus two north patients with a therapist on the care team
and, every week, a PHQ-9, a signed esketamine session (dose, three readings, MOAA/S and CADSS) and an
integration session linked to it with a signed note and a psychotherapy note, and a plan change every 26
weeks (bulk-inserted, as bench/assessments.py does: this is load, not the demo). Then one request at a time:
the first page of `GET /api/v1/patients/{id}/timeline` and of the timeline page (with its trend chart), and
a page deep in the history (offset 100). Target: p95 under 100 ms, five years within 1.5x of one year.

Env: BENCH_PORT as bench/run.py; BENCH_TIMELINE_REQUESTS (default 300).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import floor, run  # noqa: E402 - the path above first

if TYPE_CHECKING:  # models need django.setup() first
    from ketaclinic.accounts.models import User
    from ketaclinic.patients.models import Patient

REQUESTS = int(os.environ.get("BENCH_TIMELINE_REQUESTS", "300"))
SHORT, LONG = 1, 5  # years of history
DEEP_OFFSET = 100


def _history(patient: Patient, years: int, nurse: User, therapist: User) -> int:
    """`years` of weekly KAP care for the patient, bulk-inserted; the number of timeline entries made."""
    from decimal import Decimal

    from django.utils import timezone

    from ketaclinic.assessments.actions import codes_of
    from ketaclinic.assessments.models import Assessment, Source
    from ketaclinic.clinical import scales
    from ketaclinic.therapy.models import CareTeamMember, TherapyNote, TherapySession
    from ketaclinic.treatment.models import (
        Dose,
        Observation,
        PlanChange,
        PlanStatus,
        TreatmentPlan,
        TreatmentSession,
        VitalSigns,
    )

    now = timezone.now()
    weeks = 52 * years
    start = now - dt.timedelta(weeks=weeks, days=1)
    stamp = {"created_at": start, "created_by": nurse, "updated_at": start, "updated_by": nurse}
    by_therapist = {**stamp, "created_by": therapist, "updated_by": therapist}
    CareTeamMember.objects.create(patient=patient, user=therapist, role="therapist", **by_therapist)
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
    scores, sessions, changes = [], [], []
    for week in range(weeks):
        at = start + dt.timedelta(weeks=week)
        result = scales.score("phq9", run.weekly_phq9_answers(week))
        scores.append(
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
        sessions.append(
            TreatmentSession(
                plan=plan,
                patient=patient,
                location_id=patient.location_id,
                number=week + 1,
                date=at.date(),
                phase="induction" if week < 4 else "maintenance",
                status="signed",
                checked_in_at=at - dt.timedelta(minutes=40),
                checked_in_by=nurse,
                signed_at=at + dt.timedelta(hours=2),
                signed_by=nurse,
                **stamp,
            )
        )
        if week % 26 == 0:
            changes.append(
                PlanChange(
                    plan=plan,
                    kind="approve" if week == 0 else "change_frequency",
                    reason="" if week == 0 else "Maintenance review",
                    changes={},
                    changed_at=at - dt.timedelta(hours=2),
                    changed_by=nurse,
                )
            )
    Assessment.objects.bulk_create(scores, batch_size=500)
    TreatmentSession.objects.bulk_create(sessions, batch_size=500)
    PlanChange.objects.bulk_create(changes, batch_size=500)
    doses, readings, observations, therapy = [], [], [], []
    for s in sessions:
        assert s.checked_in_at is not None
        at = s.checked_in_at + dt.timedelta(minutes=40)
        doses.append(Dose(session=s, amount_mg=Decimal(56), lot_number="BENCH-1", started_at=at, **stamp))
        for minutes, systolic in ((-5, 126), (40, 144), (120, 128)):
            taken = at + dt.timedelta(minutes=minutes)
            readings.append(
                VitalSigns(
                    session=s,
                    taken_at=taken,
                    systolic_mmhg=systolic,
                    diastolic_mmhg=systolic - 44,
                    heart_rate_bpm=74,
                    spo2_percent=98,
                    **stamp,
                )
            )
        for instrument, answers, total in (("moaas", [4], 4), ("cadss", [1] * 6 + [0] * 17, 6)):
            observations.append(
                Observation(
                    session=s,
                    instrument=instrument,
                    answers=answers,
                    total=total,
                    taken_at=at + dt.timedelta(minutes=41),
                    **stamp,
                )
            )
        therapy.append(
            TherapySession(
                patient=patient,
                location_id=patient.location_id,
                kind="integration",
                mode="video",
                starts_at=at + dt.timedelta(days=3),
                duration_minutes=50,
                dose_session=s,
                status="completed",
                **by_therapist,
            )
        )
    Dose.objects.bulk_create(doses, batch_size=500)
    VitalSigns.objects.bulk_create(readings, batch_size=500)
    Observation.objects.bulk_create(observations, batch_size=500)
    TherapySession.objects.bulk_create(therapy, batch_size=500)
    notes = []
    for t in therapy:
        for private in (False, True):
            notes.append(
                TherapyNote(
                    session=t,
                    patient=patient,
                    template="integration",
                    content={"experience": "Benchmark"},
                    psychotherapy_note=private,
                    status="signed",
                    signed_at=t.starts_at + dt.timedelta(hours=1),
                    signed_by=therapist,
                    **by_therapist,
                )
            )
    TherapyNote.objects.bulk_create(notes, batch_size=500)
    return len(scores) + len(sessions) + len(changes) + len(therapy)


def prepare() -> tuple[dict[int, tuple[str, int]], str]:
    """Migrate, collect static, load the demo and the two KAP patients: ({years: (id, entries)}, an API
    token of nurse.north)."""
    run.setup_demo()
    from django.db import connections

    from ketaclinic.accounts.actions import do_create_api_token
    from ketaclinic.accounts.models import User
    from ketaclinic.patients.models import Patient

    nurse = User.objects.get(username=run.PERSONA)
    therapist = User.objects.get(username="therapist.north")
    # Two north patients without a plan or therapy yet (the demo's KAP patients keep theirs).
    free = Patient.objects.filter(
        location__slug="north", treatment_plans__isnull=True, therapy_sessions__isnull=True
    ).order_by("mrn")[:2]
    patients: dict[int, tuple[str, int]] = {}
    for years, patient in zip((SHORT, LONG), free, strict=True):
        patients[years] = (str(patient.pk), _history(patient, years, nurse, therapist))
    token = do_create_api_token(nurse, name="bench timeline")[1]
    connections.close_all()
    return patients, token


def _rows(patients: dict[int, tuple[str, int]], cookie: str, token: str) -> list[tuple[str, int, str, Any]]:
    api = {"Authorization": f"Bearer {token}"}
    rows = []
    for years, (pk, _) in sorted(patients.items()):
        rows += [
            ("GET /api/v1/patients/{id}/timeline", years, f"{run.BASE}/api/v1/patients/{pk}/timeline", api),
            (
                f"GET /api/v1/patients/{{id}}/timeline?offset={DEEP_OFFSET}",
                years,
                f"{run.BASE}/api/v1/patients/{pk}/timeline?offset={DEEP_OFFSET}",
                api,
            ),
            ("timeline page (with trend chart)", years, f"{run.BASE}/therapy/patients/{pk}/timeline/", None),
        ]
    return [(name, years, url, headers or {"Cookie": cookie}) for name, years, url, headers in rows]


def main() -> int:
    try:
        patients, token = prepare()
        command = floor.server_command()
        server = subprocess.Popen(command, cwd=ROOT, env=run.ENV, start_new_session=True)
        run.SERVER_PID = server.pid
    except Exception:
        run.discard()
        raise
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    floor.REQUESTS = REQUESTS
    try:
        run.wait_until_up(server)
        cookie, _ = run.login()
        measured = [
            (name, years, floor.timings(url, h)) for name, years, url, h in _rows(patients, cookie, token)
        ]
    except (RuntimeError, OSError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        run.stop(server)
        run.discard()

    entries = {years: n for years, (_, n) in patients.items()}
    lines = [
        f"`bench/timeline.py`: server `{' '.join(command)}`, {os.cpu_count()} cores, {REQUESTS} sequential "
        f"requests each; history: {SHORT} year ({entries[SHORT]} entries) and {LONG} years "
        f"({entries[LONG]} entries) of weekly KAP care (target: p95 under 100 ms, {LONG} years within 1.5x "
        f"of {SHORT})",
        "",
        "| path | history | p50 ms | p95 ms | max ms |",
        "|---|--:|--:|--:|--:|",
    ]
    p95s: dict[tuple[str, int], float] = {}
    for name, years, values in measured:
        p95s[(name, years)] = floor.p95(values)
        lines.append(
            f"| {name} | {years} y | {run.ms(statistics.median(values))} | {run.ms(p95s[(name, years)])} "
            f"| {run.ms(max(values))} |"
        )
    lines.append("")
    for name in dict.fromkeys(n for n, _, _ in measured):
        ratio = p95s[(name, LONG)] / p95s[(name, SHORT)]
        lines.append(f"- {name}: p95 at {LONG} years is {ratio:.2f}x that at {SHORT} year")
    print("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
