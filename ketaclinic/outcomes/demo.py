"""Past courses for the outcome report: a few hundred synthetic patients per network whose courses ended
in the last year, with their sessions and PHQ-9 (and, for esketamine, MADRS) scores, bulk-inserted so that
the demo loads in seconds. This is history as a clinic would have it after a year, not a workflow: rows
are written directly, not through the actions (the other demo modules exercise those).

Trajectories are made up to look like a community clinic's: about half respond by the end of induction,
some lose the response over the following months, some start maintenance (and are censored there), and
some stop coming at every step (the funnel). Suicide items are always 0, so no safety task is implied.
`generate` is pure and also seeds bench/outcomes.py at 100,000 patients.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from ketaclinic.accounts import actions as accounts
from ketaclinic.accounts.models import ClinicLocation, ClinicNetwork, User
from ketaclinic.accounts.permissions import Role
from ketaclinic.assessments.actions import codes_of
from ketaclinic.assessments.models import Assessment, Source
from ketaclinic.clinical import scales
from ketaclinic.patients import search
from ketaclinic.patients.actions import MRN_PREFIX
from ketaclinic.patients.models import MrnSequence, Patient, PatientNameToken
from ketaclinic.rems.models import RemsSubmission
from ketaclinic.treatment.models import (
    PlanModality,
    PlanStatus,
    SessionPhase,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
)

PATIENTS_PER_LOCATION = 180
DIRECTOR = "director"
GIVEN = (
    "Ada",
    "Ben",
    "Cora",
    "Dev",
    "Eli",
    "Faye",
    "Gus",
    "Hana",
    "Ivo",
    "Jade",
    "Kai",
    "Lia",
    "Milo",
    "Nia",
)
FAMILY = ("Archer", "Bishop", "Carver", "Dalton", "Ellis", "Foster", "Garner", "Hayes", "Irwin", "Jensen")
# modality, protocol, share, induction days after the start (session days), dose
COURSES: tuple[tuple[str, str, float, tuple[int, ...], dict[str, Decimal]], ...] = (
    ("iv_ketamine", "iv_thrice_weekly_12d", 0.35, (0, 2, 4, 7, 9, 11), {"dose_mg_per_kg": Decimal("0.50")}),
    ("iv_ketamine", "iv_twice_weekly_3w", 0.25, (0, 3, 7, 10, 14, 17), {"dose_mg_per_kg": Decimal("0.50")}),
    ("iv_ketamine", "iv_induction_taper", 0.10, (0, 2, 4, 7, 9, 14), {"dose_mg_per_kg": Decimal("0.75")}),
    ("esketamine_nasal", "esketamine_trd", 0.30, (0, 3, 7, 10, 14, 17, 21, 24), {"dose_mg": Decimal(56)}),
)


@dataclass
class Course:
    """One synthetic course: days are relative to the plan's start."""

    modality: str
    protocol: str
    dose: dict[str, Decimal]
    start: dt.date
    induction: list[int]
    maintenance: list[int]
    scores: list[tuple[int, int]] = field(default_factory=list)  # (day, PHQ-9 total)


def _course_kind(rng: random.Random) -> tuple[str, str, tuple[int, ...], dict[str, Decimal]]:
    pick, acc = rng.random(), 0.0
    for modality, protocol, share, days, dose in COURSES:
        acc += share
        if pick <= acc:
            return modality, protocol, days, dose
    modality, protocol, _, days, dose = COURSES[-1]
    return modality, protocol, days, dose


def _clip(value: float) -> int:
    return max(0, min(27, round(value)))


def generate(rng: random.Random, today: dt.date, count: int) -> Iterator[Course]:
    """`count` courses started 40-400 days before `today`, with their scores (never after today)."""
    for _ in range(count):
        modality, protocol, days, dose = _course_kind(rng)
        start = today - dt.timedelta(days=rng.randint(40, 400))
        horizon = (today - start).days
        baseline = rng.randint(11, 26)
        # How far the patient gets: stops before induction ends, after it, or stays months.
        stays = rng.random()
        last_day = days[-1] if stays < 0.85 else rng.randint(2, days[-1])
        induction = [d for d in days if d <= last_day]
        responder = rng.random() < (0.58 if modality == "iv_ketamine" else 0.5)
        eoi_fraction = rng.uniform(0.1, 0.48) if responder else rng.uniform(0.55, 1.0)
        # Months of follow-up for most; some leave soon after induction.
        follow_until = min(horizon, days[-1] + (rng.randint(40, 260) if stays < 0.8 else rng.randint(1, 12)))
        lose_after = rng.expovariate(1 / 110) if responder else 0.0
        maintenance_from = days[-1] + rng.randint(28, 90) if responder and rng.random() < 0.3 else None
        course = Course(modality, protocol, dose, start, induction, [])
        if rng.random() > 0.08:  # about 8% have no baseline score
            course.scores.append((-rng.randint(0, 3), baseline))
        for d in induction[2::2]:
            course.scores.append(
                (d, _clip(baseline * (1 - (1 - eoi_fraction) * d / days[-1]) + rng.gauss(0, 1.5)))
            )
        if stays < 0.85:
            eoi_day = days[-1] + rng.randint(1, 7)
            course.scores.append((eoi_day, _clip(baseline * eoi_fraction + rng.gauss(0, 1))))
            day = eoi_day
            while True:
                day += rng.choice((14, 14, 21, 28))
                if day > follow_until:
                    break
                since = day - eoi_day
                if responder and since < lose_after:
                    total = baseline * eoi_fraction + rng.gauss(0, 1.2)
                elif responder:
                    total = baseline * rng.uniform(0.55, 0.95)
                else:
                    total = baseline * rng.uniform(0.55, 1.05)
                course.scores.append((day, _clip(total)))
            if maintenance_from is not None and maintenance_from <= follow_until:
                course.maintenance = list(range(maintenance_from, follow_until + 1, 14))
        yield course


def _answers(total: int, items: int, top: int, rng: random.Random, *, zero_last: bool) -> list[int]:
    """Item scores summing to `total` (each 0..top; the last 0 when `zero_last`)."""
    slots = items - 1 if zero_last else items
    total = min(total, slots * top)
    scores = [0] * slots
    for _ in range(total):
        candidates = [i for i in range(slots) if scores[i] < top]
        scores[rng.choice(candidates)] += 1
    return scores + ([0] if zero_last else [])


def _stamp(user: User, when: dt.datetime) -> dict[str, object]:
    return {"created_at": when, "created_by": user, "updated_at": when, "updated_by": user}


def _at(day: dt.date, hour: int = 17) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _assessment(
    patient: Patient, instrument: str, total: int, on: dt.date, nurse: User, rng: random.Random
) -> Assessment:
    if instrument == "phq9":
        answers = _answers(total, 9, 3, rng, zero_last=True)
    else:
        answers = _answers(total, 10, 6, rng, zero_last=False)
    result = scales.score(instrument, answers)
    return Assessment(
        patient=patient,
        location_id=patient.location_id,
        instrument=instrument,
        item_scores=list(result.item_scores),
        total=result.total,
        band=result.band or "",
        flags=sorted(result.flags),
        codes=codes_of(result),
        taken_at=_at(on, 16),
        source=Source.CLINIC,
        created_at=_at(on, 16),
        created_by=nurse,
    )


def director(network: ClinicNetwork, password_hash: str) -> User:
    """A clinic director who is clinic admin at every location: the one demo login with the network-wide
    outcome report."""
    user = accounts.do_create_staff(
        network,
        DIRECTOR,
        "",
        first_name="Dana",
        last_name="Director (network)",
        password_hash=password_hash,
    )
    for location in network.locations.order_by("slug"):
        accounts.do_grant_role(user, location, Role.CLINIC_ADMIN)
    return user


def load(
    locations: Sequence[ClinicLocation],
    today: dt.date,
    rng: random.Random,
    *,
    per_location: int = PATIENTS_PER_LOCATION,
) -> int:
    """Bulk-inserts `per_location` past courses at each location; returns the number of patients."""
    if not locations:
        return 0
    network_id = locations[0].network_id
    sequence = MrnSequence.objects.get(network_id=network_id)
    number = sequence.last_value
    now = timezone.now()
    made = 0
    for location in locations:
        nurse = User.objects.get(username=f"nurse.{location.slug}")
        prescriber = User.objects.get(username=f"prescriber.{location.slug}")
        patients: list[Patient] = []
        plans: list[TreatmentPlan] = []
        sessions: list[TreatmentSession] = []
        scores: list[Assessment] = []
        for course in generate(rng, today, per_location):
            number += 1
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            patient = Patient(
                network_id=network_id,
                location=location,
                mrn=f"{MRN_PREFIX}{number:06d}",
                given_name=given,
                family_name=family,
                date_of_birth=today - dt.timedelta(days=rng.randint(20 * 365, 70 * 365)),
                sex=rng.choice(("female", "male")),
                search_name=f"{family} {given}".casefold(),
                **_stamp(nurse, now),
            )
            patients.append(patient)
            approved = _at(course.start - dt.timedelta(days=3))
            days = course.induction + course.maintenance
            end = course.start + dt.timedelta(days=max([0, *days, *(d for d, _ in course.scores)]))
            plan = TreatmentPlan(
                patient=patient,
                location=location,
                modality=course.modality,
                protocol=course.protocol,
                infusion_minutes=40 if course.modality == PlanModality.IV_KETAMINE else None,
                start_date=course.start,
                clinic_days=sorted({(course.start + dt.timedelta(days=d)).weekday() for d in days}),
                maintenance_sessions=len(course.maintenance),
                status=PlanStatus.ENDED,
                approved_at=approved,
                approved_by=prescriber,
                ended_at=min(_at(end, 20), now),
                **course.dose,
                **_stamp(prescriber, approved),
            )
            plans.append(plan)
            for number_in_plan, d in enumerate(days, start=1):
                on = course.start + dt.timedelta(days=d)
                phase = SessionPhase.INDUCTION if d in course.induction else SessionPhase.MAINTENANCE
                sessions.append(
                    TreatmentSession(
                        plan=plan,
                        patient=patient,
                        location=location,
                        number=number_in_plan,
                        date=on,
                        phase=phase,
                        status=SessionStatus.SIGNED,
                        checked_in_at=_at(on, 15),
                        checked_in_by=nurse,
                        signed_at=_at(on, 19),
                        signed_by=prescriber,
                        **_stamp(nurse, _at(on, 15)),
                    )
                )
            for d, total in course.scores:
                on = course.start + dt.timedelta(days=d)
                scores.append(_assessment(patient, "phq9", total, on, nurse, rng))
                if course.modality == PlanModality.ESKETAMINE_NASAL:
                    madrs = max(0, min(60, round(total * 2.1 + rng.gauss(0, 2.5))))
                    scores.append(_assessment(patient, "madrs", madrs, on, prescriber, rng))
        Patient.objects.bulk_create(patients, batch_size=500)
        tokens = [t for p in patients for t in search.patient_tokens(p)]
        PatientNameToken.objects.bulk_create(tokens, batch_size=1000)
        TreatmentPlan.objects.bulk_create(plans, batch_size=500)
        TreatmentSession.objects.bulk_create(sessions, batch_size=1000)
        Assessment.objects.bulk_create(scores, batch_size=1000)
        # Each esketamine session's REMS monitoring form was submitted in its week.
        RemsSubmission.objects.bulk_create(
            [
                RemsSubmission(
                    session=s,
                    submitted_at=_at(s.date, 21),
                    confirmation_number=f"DEMO-{s.date:%y%m%d}-{i:05d}",
                    recorded_at=_at(s.date, 21),
                    recorded_by=nurse,
                )
                for i, s in enumerate(sessions)
                if s.plan.modality == PlanModality.ESKETAMINE_NASAL
            ],
            batch_size=1000,
        )
        made += len(patients)
    sequence.last_value = number
    sequence.save(update_fields=["last_value"])
    return made
