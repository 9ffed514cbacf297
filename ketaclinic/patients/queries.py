"""Read models for pages and API: the patient list and the chart, each a fixed number of queries."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from ketaclinic import fastload
from ketaclinic.clinical import trd
from ketaclinic.clinical.vocab import DRUGS, MEDICATION_CLASS_LABELS, MedicationClass
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
from ketaclinic.patients.search import Matches, words

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


def search(location_ids: Collection[int], query: str) -> Matches | QuerySet[Patient]:
    """The patients of these locations that the query finds (patients/search.py), in list order.

    Without a query, every patient of the locations. A registration entered in error is never listed.
    """
    if not words(query):
        return list_rows(
            Patient.objects.filter(location_id__in=location_ids, entered_in_error_at__isnull=True)
        )
    return Matches(location_ids, query)


def list_rows(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    return (
        patients.select_related("location").only(*LIST_COLUMNS).order_by("family_name", "given_name", "mrn")
    )


@dataclass(frozen=True)
class Chart:
    patient: Patient
    weight: BodyMeasurement | None
    height: BodyMeasurement | None
    conditions: list[Condition]
    medications: list[Medication]
    allergies: list[Allergy]
    substance_uses: list[SubstanceUse]
    trials: list[AntidepressantTrial]

    @property
    def bmi(self) -> Decimal | None:
        if not (self.weight and self.height and self.height.height_cm):
            return None
        metres = self.height.height_cm / 100
        return (self.weight.weight_kg / (metres * metres)).quantize(Decimal("0.1"))  # type: ignore[operator]

    totals: dict[str, int]
    adequate_failed_trials: int


# A chart section shows this many entries (active first) and says how many more there are, so that a
# chart costs the same however long a history grows; the API's section endpoints page through the rest.
SECTION_LIMIT = 50
_LIVE = "patient_id = %s AND status <> %s"


def entries(model: Any, patient: Patient, limit: int | None = None, offset: int = 0) -> list[Any]:
    """A patient's entries of one kind (not entered in error): active first, then in the order entered."""
    params = [fastload.param(model, "patient", patient.pk), EntryStatus.ENTERED_IN_ERROR]
    return fastload.fetch(model, _LIVE, params, order_by="status, created_at, id", limit=limit, offset=offset)


def count(model: Any, patient: Patient) -> int:
    sql = f"SELECT COUNT(*) FROM {model._meta.db_table} WHERE {_LIVE}"  # noqa: S608 - table from the model
    with connection.cursor() as cursor:
        cursor.execute(sql, [fastload.param(model, "patient", patient.pk), EntryStatus.ENTERED_IN_ERROR])
        return int(cursor.fetchone()[0])


def _section(model: Any, patient: Patient, everything: bool) -> tuple[list[Any], int]:
    if everything:
        rows = entries(model, patient)
        return rows, len(rows)
    rows = entries(model, patient, limit=SECTION_LIMIT + 1)
    if len(rows) <= SECTION_LIMIT:
        return rows, len(rows)
    return rows[:SECTION_LIMIT], count(model, patient)


# The current episode's active trials, every one of them (the chart shows at most SECTION_LIMIT), in
# just the columns the treatment-resistance rule reads.
_EPISODE_TRIALS = (
    f"SELECT drug, adequate_dose, weeks_at_dose, outcome FROM {AntidepressantTrial._meta.db_table} "  # noqa: S608
    "WHERE patient_id = %s AND status = %s AND current_episode = %s"
)


def adequate_failures(patient: Patient) -> int:
    """Failed adequate trials in the current episode, counted by the clinical rule (clinical.trd)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _EPISODE_TRIALS,
            [fastload.param(AntidepressantTrial, "patient", patient.pk), EntryStatus.ACTIVE, True],
        )
        rows = cursor.fetchall()
    trials = (
        trd.Trial(drug=drug, adequate_dose=bool(adequate), weeks=Decimal(str(weeks)), outcome=outcome)
        for drug, adequate, weeks, outcome in rows
    )
    return sum(1 for t in trials if trd.is_adequate_failure(t))


def _latest(patient: Patient) -> tuple[BodyMeasurement | None, BodyMeasurement | None]:
    """The latest weight and height in one query over a short, indexed slice."""
    weight = height = None
    recent = fastload.fetch(
        BodyMeasurement,
        "patient_id = %s",
        [fastload.param(BodyMeasurement, "patient", patient.pk)],
        order_by="measured_on DESC, created_at DESC",
        limit=50,
    )
    for m in recent:
        weight = weight or (m if m.weight_kg is not None else None)
        height = height or (m if m.height_cm is not None else None)
        if weight and height:
            break
    return weight, height


def chart(patient: Patient, everything: frozenset[str] = frozenset()) -> Chart:
    """The chart's data; each section holds at most SECTION_LIMIT entries unless named in `everything`."""
    weight, height = _latest(patient)
    sections = {key: _section(model, patient, key in everything) for key, model in SECTION_MODELS.items()}
    return Chart(
        patient=patient,
        weight=weight,
        height=height,
        conditions=sections["conditions"][0],
        medications=sections["medications"][0],
        allergies=sections["allergies"][0],
        substance_uses=sections["substance_use"][0],
        trials=sections["trials"][0],
        totals={key: total for key, (_, total) in sections.items()},
        adequate_failed_trials=adequate_failures(patient),
    )


SECTION_MODELS: dict[str, Any] = {
    "conditions": Condition,
    "medications": Medication,
    "allergies": Allergy,
    "substance_use": SubstanceUse,
    "trials": AntidepressantTrial,
}


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
