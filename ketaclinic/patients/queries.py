"""Read models for pages and API: the patient list and the chart, each a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from ketaclinic import fastload
from ketaclinic.clinical.eligibility import PatientFacts
from ketaclinic.clinical.vocab import DRUGS, MEDICATION_CLASS_LABELS, MedicationClass
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.patients import picture
from ketaclinic.patients.models import (
    Allergy,
    AntidepressantTrial,
    BodyMeasurement,
    Condition,
    EntryStatus,
    Medication,
    Patient,
    SubstanceUse,
)
from ketaclinic.patients.picture import Picture
from ketaclinic.patients.search import Matches, words
from ketaclinic.patients.sections import SECTIONS

LIST_COLUMNS = (
    "id",
    "mrn",
    "external_mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "location__name",
    "location__slug",
)
# What a registration is matched on when it may be a duplicate (actions.possible_duplicates): the fields
# named by the search event of an answer that lists the matches.
DUPLICATE_FIELDS = ("date_of_birth", "family_name", "given_name")


def search(
    location_ids: Collection[int], query: str, *, with_list_facts: bool = False
) -> Matches | QuerySet[Patient]:
    """The patients of these locations that the query finds (patients/search.py), in list order; with
    `with_list_facts`, each match carries what its safety chips are computed from (`search.Listed`).

    Without a query, every patient of the locations. A registration entered in error is never listed.
    """
    if not words(query):
        return list_rows(
            Patient.objects.filter(location_id__in=location_ids, entered_in_error_at__isnull=True)
        )
    return Matches(location_ids, query, with_list_facts=with_list_facts)


def list_rows(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    return (
        patients.select_related("location").only(*LIST_COLUMNS).order_by("family_name", "given_name", "mrn")
    )


@dataclass(frozen=True)
class Shown:
    """A chart section's entries as shown (at most SECTION_LIMIT unless asked for all) and how many it has."""

    entries: list[Any]
    total: int

    @property
    def cut(self) -> bool:
        return self.total > len(self.entries)


@dataclass(frozen=True)
class Chart:
    patient: Patient
    weight: BodyMeasurement | None
    height: BodyMeasurement | None
    sections: dict[str, Shown]  # by section key (patients/sections.py), in the registry's order
    measurements: list[BodyMeasurement]  # the latest few, newest first
    picture: Picture
    today: dt.date  # the patient's location's date, which ages and the picture count from

    @property
    def bmi(self) -> Decimal | None:
        if not (self.weight and self.height and self.weight.weight_kg and self.height.height_cm):
            return None
        metres = self.height.height_cm / 100
        return (self.weight.weight_kg / (metres * metres)).quantize(Decimal("0.1"))

    @property
    def adequate_failed_trials(self) -> int:
        """Failed adequate trials in the current episode, as the clinical rule counts them (clinical.trd)."""
        return self.picture.trd.current_episode_failures

    def entries(self, key: str) -> list[Any]:
        return self.sections[key].entries


# A chart section shows this many entries (active first) and says how many more there are, so that a
# chart costs the same however long a history grows; the API's section endpoints page through the rest.
SECTION_LIMIT = 50
_LIVE = "patient_id = %s AND status <> %s"


def entries(model: Any, patient: Patient, limit: int | None = None, offset: int = 0) -> list[Any]:
    """A patient's entries of one kind (not entered in error): active first, then in the order entered."""
    return fastload.fetch(
        model,
        patient=patient.pk,
        status__ne=EntryStatus.ENTERED_IN_ERROR,
        order_by=("status", "created_at", "id"),
        limit=limit,
        offset=offset,
    )


def count(model: Any, patient: Patient) -> int:
    sql = f"SELECT COUNT(*) FROM {model._meta.db_table} WHERE {_LIVE}"  # noqa: S608 - table from the model
    with connection.cursor() as cursor:
        cursor.execute(sql, [fastload.param(model, "patient", patient.pk), EntryStatus.ENTERED_IN_ERROR])
        return int(cursor.fetchone()[0])


def measurements(patient: Patient, limit: int, offset: int = 0) -> tuple[list[BodyMeasurement], int]:
    """A page of a patient's measurements, newest first, and how many there are."""
    rows = patient.measurements.order_by("-measured_on", "-created_at", "-id")
    return list(rows[offset : offset + limit]), rows.count()


def _section(model: Any, patient: Patient, everything: bool) -> Shown:
    if everything:
        rows = entries(model, patient)
        return Shown(rows, len(rows))
    rows = entries(model, patient, limit=SECTION_LIMIT + 1)
    if len(rows) <= SECTION_LIMIT:
        return Shown(rows, len(rows))
    return Shown(rows[:SECTION_LIMIT], count(model, patient))


def episode_trials(patient: Patient) -> list[AntidepressantTrial]:
    """The current episode's active trials, every one of them (the chart shows at most SECTION_LIMIT)."""
    return fastload.fetch(
        AntidepressantTrial, patient=patient.pk, status=EntryStatus.ACTIVE, current_episode=True
    )


def _latest(
    patient: Patient,
) -> tuple[BodyMeasurement | None, BodyMeasurement | None, list[BodyMeasurement]]:
    """The latest weight and height, and the recent measurements, in one query over a short, indexed slice."""
    weight = height = None
    recent = fastload.fetch(
        BodyMeasurement, patient=patient.pk, order_by=("-measured_on", "-created_at"), limit=50
    )
    for m in recent:
        weight = weight or (m if m.weight_kg is not None else None)
        height = height or (m if m.height_cm is not None else None)
        if weight and height:
            break
    return weight, height, recent


def chart(patient: Patient, everything: frozenset[str] = frozenset()) -> Chart:
    """The chart's data; each section holds at most SECTION_LIMIT entries unless named in `everything`."""
    weight, height, recent = _latest(patient)
    shown = {key: _section(s.model, patient, key in everything) for key, s in SECTIONS.items()}
    trials = shown["antidepressant_trials"]
    # The picture judges treatment resistance (and counts failed trials) on the current episode's trials.
    # Below the cap the shown entries hold every trial; past it, one more query loads the current
    # episode's active ones: loading 500 earlier trials and screening them cost 15 ms a chart
    # (docs/performance.md).
    picture_trials = trials.entries if not trials.cut else episode_trials(patient)
    # The patient's location's day and policy in force: at 02:00 UTC it is still yesterday in Los Angeles,
    # and a location's overrides change its screening thresholds.
    today = local_today(patient.location)
    return Chart(
        patient=patient,
        weight=weight,
        height=height,
        sections=shown,
        measurements=recent,
        picture=picture.clinical_picture(
            patient,
            conditions=shown["conditions"].entries,
            medications=shown["medications"].entries,
            allergies=shown["allergies"].entries,
            trials=picture_trials,
            measurements=recent,
            substance_uses=shown["substance_use"].entries,
            today=today,
            policy=policy_for(patient.location),
        ),
        today=today,
    )


def facts(patient: Patient, today: dt.date) -> PatientFacts:
    """The screening facts of a patient's chart as it stands (picture.patient_facts on the active entries),
    for screenings that are stored and later compared with the chart. Six queries."""
    active = EntryStatus.ACTIVE
    latest_bp = fastload.fetch(
        BodyMeasurement,
        patient=patient.pk,
        systolic_mmhg__ne=None,
        order_by=("-measured_on", "-created_at", "-id"),
        limit=1,
    )
    return picture.patient_facts(
        patient,
        conditions=fastload.fetch(Condition, patient=patient.pk, status=active),
        medications=fastload.fetch(Medication, patient=patient.pk, status=active),
        allergies=fastload.fetch(Allergy, patient=patient.pk, status=active, ketamine_related=True),
        trials=fastload.fetch(AntidepressantTrial, patient=patient.pk, status=active),
        measurements=latest_bp,
        substance_uses=fastload.fetch(SubstanceUse, patient=patient.pk, status=active, use_disorder=True),
        today=today,
    )


def drug_name(drug: str, other_name: str = "") -> str:
    if drug == "other":
        return other_name or "Other"
    return DRUGS[drug].display if drug in DRUGS else drug


def interaction_classes(drug: str) -> list[str]:
    """Labels of the interaction-relevant classes of a lexicon drug (antidepressant alone is not one)."""
    if drug not in DRUGS:
        return []
    return [
        MEDICATION_CLASS_LABELS[c]
        for c in sorted(DRUGS[drug].classes)
        if c is not MedicationClass.ANTIDEPRESSANT
    ]
