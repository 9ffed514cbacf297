"""Demo score histories: months of PHQ-9, GAD-7 and clinician MADRS ratings for some of each location's
patients, recorded through `do_record_assessment` as the clinic would have entered them.

Each patient follows one course, so the trend charts and episodes show every outcome the clinical library
names: a remitter, a responder, a slow responder, a non-responder, and a relapse in maintenance (response,
then scores climbing back: loss of response on the PHQ-9, relapse on the MADRS). Scores are weekly for the
first eight weeks, then every two weeks (the schedule the issue names), with day-to-day noise. The suicide
items (PHQ-9 item 9, MADRS item 10) stay at 0, so the demo raises no safety alerts of its own.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import Source
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import TreatmentPlan

# The first patients of each location stay without history (the tests' patients; treatment leaves them too).
SKIP = 4
PER_LOCATION = 10
WEEKS = 30

# A course: the fraction of the baseline PHQ-9 left at a week since the first dose.
Course = Callable[[float], float]


def _remitter(week: float) -> float:
    return max(0.12, 1 - 0.3 * week) if week < 4 else 0.12


def _responder(week: float) -> float:
    return max(0.42, 1 - 0.18 * week)


def _slow_responder(week: float) -> float:
    return 1 - 0.06 * week if week < 9 else 0.4


def _non_responder(week: float) -> float:
    return max(0.78, 1 - 0.04 * week)


def _relapse(week: float) -> float:
    if week < 4:
        return max(0.2, 1 - 0.25 * week)
    if week < 14:
        return 0.2
    return min(0.95, 0.2 + 0.08 * (week - 14))


COURSES: tuple[tuple[str, Course], ...] = (
    ("remitter", _remitter),
    ("responder", _responder),
    ("non_responder", _non_responder),
    ("relapse", _relapse),
    ("slow_responder", _slow_responder),
)


def _spread(total: int, items: int, high: int, rng: random.Random, *, zero_last: bool) -> list[int]:
    """Item scores summing to `total` (capped), each 0..high; the last item 0 when asked."""
    slots = items - 1 if zero_last else items
    total = max(0, min(total, slots * high))
    scores = [0] * items
    for _ in range(total):
        open_slots = [i for i in range(slots) if scores[i] < high]
        scores[rng.choice(open_slots)] += 1
    return scores


def _moments(today: dt.date, zone: dt.tzinfo, rng: random.Random) -> list[tuple[float, dt.datetime]]:
    """(weeks since the first dose, when) of each PHQ-9: two baselines, weekly for 8 weeks, then every 2."""
    first_dose = today - dt.timedelta(weeks=WEEKS)
    weeks = [-1.0, 0.0, *range(1, 9), *range(10, WEEKS, 2)]
    out = []
    for week in weeks:
        day = first_dose + dt.timedelta(days=round(7 * week) + rng.choice((-1, 0, 0, 1)))
        if day >= today:
            continue
        at = dt.datetime.combine(day, dt.time(8, 30 + rng.randrange(0, 25)), tzinfo=zone)
        out.append((week, at))
    return out


def _record(patient: Patient, instrument: str, answers: list[int], at: dt.datetime, actor: User) -> None:
    data = AssessmentIn.model_validate({"instrument": instrument, "answers": answers, "taken_at": at})
    do_record_assessment(patient, data, actor=actor, source=Source.CLINIC)


def history(
    patient: Patient, course: Course, today: dt.date, rng: random.Random, staff: dict[str, User]
) -> None:
    zone = location_zone(patient.location)
    baseline = rng.randint(17, 24)
    madrs_baseline = rng.randint(30, 38)
    for week, at in _moments(today, zone, rng):
        left = course(max(week, 0.0))
        phq9 = round(baseline * left + rng.gauss(0, 1.2))
        _record(patient, "phq9", _spread(phq9, 9, 3, rng, zero_last=True), at, staff["nurse"])
        if int(week) % 2 == 0:
            gad7 = round(min(21, baseline * 0.8) * left + rng.gauss(0, 1.5))
            _record(patient, "gad7", _spread(gad7, 7, 3, rng, zero_last=False), at, staff["nurse"])
        # The clinician's MADRS at baseline, at the end of induction and monthly after (weekly late in a
        # relapse, so the relapse definition's consecutive ratings can be met).
        if week in (0.0, 4.0) or (week >= 8 and int(week) % 4 == 0) or (course is _relapse and week >= 20):
            madrs = round(madrs_baseline * left + rng.gauss(0, 2))
            rated = at + dt.timedelta(minutes=20)
            _record(patient, "madrs", _spread(madrs, 10, 6, rng, zero_last=True), rated, staff["prescriber"])


def load(locations: list[ClinicLocation], today: dt.date, rng: random.Random) -> None:
    """Histories for patients beyond the first few of each location who have no treatment plan."""
    for location in locations:
        treated = set(TreatmentPlan.objects.filter(location=location).values_list("patient_id", flat=True))
        patients = [
            p for p in Patient.objects.filter(location=location).order_by("mrn")[SKIP:] if p.pk not in treated
        ][:PER_LOCATION]
        staff = {
            role: User.objects.get(username=f"{role}.{location.slug}") for role in ("nurse", "prescriber")
        }
        for index, patient in enumerate(patients):
            _, course = COURSES[index % len(COURSES)]
            history(patient, course, today, rng, staff)
