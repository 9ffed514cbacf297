"""Seed the bench database: the real demo network plus bulk-inserted patients up to 10,000 (or
BENCH_PATIENTS, e.g. 100,000 for the search rows).

The network, locations, personas (logins and roles) and the first 80 patients come from
`ketaclinic.demo.data.load`, i.e. through the actions. The remaining patients are built by the demo's own
patient generator (same archetypes, same intake histories) but written with bulk_create: registering
10,000 patients one by one through the actions would take minutes. Bulk rows skip the per-patient audit
row, which no measured path reads. They get their MRNs from the network's sequence and their search
tokens and list facts exactly as the actions give them (patients/search.py, patients/listfacts.py),
and are written in chunks so that memory stays flat at 100,000 patients.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.actions import do_create_api_token
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.clock import day_bounds, local_date
from ketaclinic.demo import data as demo
from ketaclinic.patients import listfacts, search
from ketaclinic.patients.actions import MRN_PREFIX, external_mrn_key, next_mrn
from ketaclinic.patients.models import (
    AntidepressantTrial,
    BodyMeasurement,
    Condition,
    EntryStatus,
    Medication,
    MrnSequence,
    Patient,
    PatientNameToken,
)
from ketaclinic.patients.sections import SECTIONS

PERSONA = "nurse.north"
FLAT_SMALL, FLAT_BIG = 5, 500
CHUNK = 5000
# Sessions in progress the vitals row charts (each client request goes to the next one), and the sessions
# the bare insert baseline writes to (apart, so its rows do not lengthen the charted sessions' flowsheets).
CHARTED_SESSIONS, BASELINE_SESSIONS = 100, 10
# The dose of every charted session started this long before seeding; the row's readings start a minute
# after it and each wrk run gets its own minute of taken_at values (bench/run.py).
DOSED_MINUTES_AGO = 50


@dataclass
class Charting:
    """Today's sessions in progress for the vitals row, at one location, and who charts them."""

    token: str  # bearer token of the location's nurse
    sessions: list[str]  # session ids our row posts readings to
    baseline_sessions: list[str]  # session ids the bare insert writes to
    clock: int  # epoch seconds: the first taken_at; after check-in and the dose, on the session's day


@dataclass
class Seeded:
    token: str  # bearer token of PERSONA
    readable: list[str]  # north patients with an ordinary intake history (chart and API read rows)
    writable: list[str]  # other north patients, each handed to at most one update client
    flat: dict[str, str]  # "5" / "500 trials" / "500 measurements" -> patient id
    charting: Charting


def _stamp(user: User, when: dt.datetime) -> dict[str, Any]:
    return {"created_at": when, "created_by": user, "updated_at": when, "updated_by": user}


def _bulk_patients(count: int, today: dt.date) -> None:
    rng = random.Random(7)
    now = timezone.now()
    locations = {loc.slug: loc for loc in ClinicLocation.objects.all()}
    registrars = {slug: User.objects.get(username=f"frontdesk.{slug}") for slug in locations}
    network_id = next(iter(locations.values())).network_id
    sequence = MrnSequence.objects.get(network_id=network_id)
    first_number = sequence.last_value + 1
    for start in range(0, count, CHUNK):
        patients: list[Patient] = []
        rows: list[Any] = []
        for n in range(start, min(start + CHUNK, count)):
            slug = demo.LOCATIONS[n % 2][0]
            # Indexes past the demo's own keep external MRNs unique; the archetype still cycles through all.
            data = demo._patient(demo.PATIENTS_PER_LOCATION + n // 2, slug, rng, today)
            stamp = _stamp(registrars[slug], now)
            excluded = {"location", "measurement", "confirm_duplicate", *SECTIONS}
            fields = data.model_dump(exclude=excluded, exclude_none=True)
            patient = Patient(network_id=network_id, location=locations[slug], **fields, **stamp)
            patient.mrn = f"{MRN_PREFIX}{first_number + n:06d}"
            patient.external_mrn_key = external_mrn_key(patient.external_mrn)
            patient.search_name = f"{patient.family_name} {patient.given_name}".casefold()
            if patient.pregnancy_status != "not_applicable":
                patient.pregnancy_recorded_on = today
            patients.append(patient)
            rows += search.patient_tokens(patient)
            if data.measurement is not None:
                rows.append(
                    BodyMeasurement(
                        patient=patient,
                        measured_on=today,
                        weight_kg=data.measurement.weight_kg,
                        height_cm=data.measurement.height_cm,
                        **stamp,
                    )
                )
            for key, section in SECTIONS.items():
                # Every section's model has `patient`; their abstract base, which mypy sees here, does not.
                rows += [
                    section.model(patient=patient, **item.model_dump(), **stamp)  # type: ignore[misc]
                    for item in getattr(data, key)
                ]
        Patient.objects.bulk_create(patients, batch_size=500)
        for model in {type(r) for r in rows}:
            model.objects.bulk_create([r for r in rows if type(r) is model], batch_size=500)
        listfacts.fill([p.pk for p in patients])
    sequence.last_value = first_number + count - 1
    sequence.save()


def _flat_patient(extra: str, today: dt.date, nurse: User) -> str:
    """A north patient with 5 history entries, plus 495 more trials or measurements when `extra` says so."""
    location = ClinicLocation.objects.get(slug="north")
    stamp = _stamp(nurse, timezone.now())
    patient = Patient.objects.create(
        network_id=location.network_id,
        location=location,
        mrn=next_mrn(location.network_id),
        given_name="Flat",
        family_name=f"Bench {extra or 'small'}",
        search_name=f"bench {extra or 'small'} flat",
        date_of_birth=dt.date(1980, 5, 17),
        sex="female",
        **stamp,
    )
    search.refresh(patient)
    trial = {
        "drug": "sertraline",
        "max_daily_dose_mg": Decimal(200),
        "weeks_at_dose": Decimal(8),
        "adequate_dose": True,
        "outcome": "none",
        "current_episode": True,
    }
    measurement = {"weight_kg": Decimal("71.5"), "height_cm": Decimal("168.0")}
    BodyMeasurement.objects.create(patient=patient, measured_on=today, **measurement, **stamp)
    Condition.objects.create(patient=patient, code="major_depressive_disorder", **stamp)
    Medication.objects.create(patient=patient, drug="escitalopram", dose="20 mg daily", **stamp)
    AntidepressantTrial.objects.bulk_create(
        [AntidepressantTrial(patient=patient, **trial, **stamp) for _ in range(2)]
    )
    more = FLAT_BIG - FLAT_SMALL
    if extra == "trials":  # earlier episodes' trials, stopped long ago: the chart still lists them
        old = {**trial, "current_episode": False, "status": EntryStatus.RESOLVED}
        AntidepressantTrial.objects.bulk_create(
            [AntidepressantTrial(patient=patient, **old, **stamp) for _ in range(more)]
        )
    elif extra == "measurements":  # weekly weights going back almost ten years
        BodyMeasurement.objects.bulk_create(
            [
                BodyMeasurement(
                    patient=patient, measured_on=today - dt.timedelta(weeks=w), **measurement, **stamp
                )
                for w in range(1, more + 1)
            ]
        )
    listfacts.refresh(patient.pk)
    return str(patient.pk)


def _charting() -> Charting:
    """Sessions in progress today (checked in 70 minutes ago, dosed 50 minutes ago, pre-dose and 40-minute
    readings charted), at the location whose day is furthest along, so that every reading the row sends
    falls after check-in, on the session's day and before now."""
    from ketaclinic.floor.tests.chart import chart_session

    now = timezone.now()

    def into_day(location: ClinicLocation) -> dt.timedelta:
        return now - day_bounds(location, local_date(location, now))[0]

    location = max(ClinicLocation.objects.filter(slug__in=("north", "south")), key=into_day)
    if into_day(location) < dt.timedelta(minutes=DOSED_MINUTES_AGO + 25):
        raise RuntimeError("no location is far enough into its day for the vitals row; try again later")
    nurse = User.objects.get(username=f"nurse.{location.slug}")
    patients = list(
        Patient.objects.filter(location=location).order_by("-mrn")[: CHARTED_SESSIONS + BASELINE_SESSIONS]
    )
    sessions = [str(chart_session(p, actor=nurse, now=now, stage="monitoring").pk) for p in patients]
    first = now - dt.timedelta(minutes=DOSED_MINUTES_AGO - 1)
    return Charting(
        token=do_create_api_token(nurse, name="bench vitals")[1],
        sessions=sessions[:CHARTED_SESSIONS],
        baseline_sessions=sessions[CHARTED_SESSIONS:],
        clock=int(first.timestamp()) + 1,
    )


def seed(total: int = 10_000) -> Seeded:
    today = timezone.localdate()
    demo.load(today)
    assert PatientNameToken.objects.exists()  # the demo's patients were registered through the actions
    with transaction.atomic():
        _bulk_patients(total - Patient.objects.count(), today)
        nurse = User.objects.get(username=PERSONA)
        flat = {
            "5": _flat_patient("", today, nurse),
            "500 trials": _flat_patient("trials", today, nurse),
            "500 measurements": _flat_patient("measurements", today, nurse),
        }
    north = [
        str(pk)
        for pk in Patient.objects.filter(location__slug="north", external_mrn__startswith="N")
        .order_by("mrn")
        .values_list("pk", flat=True)[:600]
    ]
    return Seeded(
        token=do_create_api_token(nurse, name="bench")[1],
        readable=north[:100],
        writable=north[100:],
        flat=flat,
        charting=_charting(),
    )
