"""Read models for pages and API: the patient list and the chart, each a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from ketaclinic import fastload
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

LIST_COLUMNS = (
    "id",
    "mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "location__name",
    "location__slug",
)
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
MRN_PATTERN = re.compile(r"^[A-Za-z]*\d[A-Za-z0-9-]*$")


def _as_date(text: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    return None


def search(patients: QuerySet[Patient], query: str) -> QuerySet[Patient]:
    """Search by name (any order, prefix of each word), exact date of birth, or MRN prefix."""
    query = query.strip()
    if not query:
        return patients
    born = _as_date(query)
    if born is not None:
        return patients.filter(date_of_birth=born)
    condition = Q()
    for word in query.casefold().replace(",", " ").split()[:4]:
        condition &= Q(search_name__startswith=word) | Q(search_name__contains=" " + word)
    if MRN_PATTERN.match(query):
        condition |= Q(mrn__istartswith=query)
    return patients.filter(condition)


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

    @property
    def adequate_failed_trials(self) -> int:
        return sum(
            1
            for t in self.trials
            if t.status == EntryStatus.ACTIVE
            and t.adequate_dose
            and t.current_episode
            and t.outcome in {"none", "partial"}
        )


def entries(model: Any, patient: Patient) -> list[Any]:
    """A patient's entries of one kind (not those entered in error), in the order entered."""
    return fastload.fetch(
        model,
        "patient_id = %s AND status <> %s",
        [fastload.param(model, "patient", patient.pk), EntryStatus.ENTERED_IN_ERROR],
        order_by="status, created_at",
    )


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


def chart(patient: Patient) -> Chart:
    weight, height = _latest(patient)
    return Chart(
        patient=patient,
        weight=weight,
        height=height,
        conditions=entries(Condition, patient),
        medications=entries(Medication, patient),
        allergies=entries(Allergy, patient),
        substance_uses=entries(SubstanceUse, patient),
        trials=entries(AntidepressantTrial, patient),
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
