"""The registry of resource types: each type's mapping module, in dependency order, and where a resource id
leads (the patient it belongs to). The read API, search, bulk export and tests all derive from it."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ketaclinic.assessments.models import Assessment
from ketaclinic.consent.models import Consent
from ketaclinic.fhir.resources import (
    administration,
    adverse_event,
    allergy,
    condition,
    consent,
    encounter,
    medication_request,
    observation,
    patient,
    provenance,
    questionnaire,
)
from ketaclinic.fhir.resources.common import PatientIds, Resource
from ketaclinic.patients import models as patients
from ketaclinic.therapy.models import TherapySession
from ketaclinic.treatment import models as treatment

Mapper = Callable[[PatientIds, dt.datetime | None], Iterator[Resource]]


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str
    resources: Mapper
    # (id pattern, model, path from the model to its patient's id); the pattern's group 1 is the row's key.
    owners: tuple[tuple[re.Pattern[str], Any, str], ...]


_UUID = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_INT = r"(\d{1,18})"


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(f"^{pattern}$")


TYPES: dict[str, ResourceType] = {
    t.name: t
    for t in (
        ResourceType("Patient", patient.resources, ((_p(_UUID), patients.Patient, "id"),)),
        ResourceType(
            "Condition", condition.resources, ((_p(f"cond-{_INT}"), patients.Condition, "patient_id"),)
        ),
        ResourceType(
            "AllergyIntolerance",
            allergy.resources,
            ((_p(f"allergy-{_INT}"), patients.Allergy, "patient_id"),),
        ),
        ResourceType(
            "MedicationRequest",
            medication_request.resources,
            (
                (_p(f"med-{_INT}"), patients.Medication, "patient_id"),
                (_p(f"trial-{_INT}"), patients.AntidepressantTrial, "patient_id"),
                (_p(f"plan-{_UUID}"), treatment.TreatmentPlan, "patient_id"),
            ),
        ),
        ResourceType(
            "Encounter",
            encounter.resources,
            (
                (_p(_UUID), treatment.TreatmentSession, "patient_id"),
                (_p(_UUID), TherapySession, "patient_id"),
            ),
        ),
        ResourceType(
            "QuestionnaireResponse",
            questionnaire.resources,
            ((_p(f"qr-{_INT}"), Assessment, "patient_id"),),
        ),
        ResourceType(
            "Observation",
            observation.resources,
            (
                (_p(f"vs-{_INT}-(?:bp|hr|spo2)"), treatment.VitalSigns, "session__patient_id"),
                (_p(f"bm-{_INT}-(?:bp|hr|wt|ht)"), patients.BodyMeasurement, "patient_id"),
                (_p(f"qr-{_INT}-(?:total|panel|item\\d+)"), Assessment, "patient_id"),
                (_p(f"rating-{_INT}"), treatment.Observation, "session__patient_id"),
            ),
        ),
        ResourceType(
            "MedicationAdministration",
            administration.resources,
            ((_p(f"dose-{_INT}"), treatment.Dose, "session__patient_id"),),
        ),
        ResourceType(
            "AdverseEvent",
            adverse_event.resources,
            ((_p(f"ae-{_INT}"), treatment.AdverseEvent, "session__patient_id"),),
        ),
        ResourceType("Consent", consent.resources, ((_p(f"consent-{_INT}"), Consent, "patient_id"),)),
        ResourceType("Provenance", provenance.resources, ((_p(f"prov-{_UUID}"), patients.Patient, "id"),)),
    )
}


def owner_of(resource_type: str, resource_id: str) -> uuid.UUID | None:
    """The id of the patient a resource belongs to, or None when there is no such resource."""
    for pattern, model, path in TYPES[resource_type].owners:
        match = pattern.match(resource_id)
        if match is None:
            continue
        found = model.objects.filter(pk=match.group(1)).values_list(path, flat=True).first()
        if found is not None:
            return found  # type: ignore[no-any-return]
    return None


def all_resources(
    patient_ids: PatientIds, types: list[str] | None = None, since: dt.datetime | None = None
) -> Iterator[Resource]:
    for name, kind in TYPES.items():
        if types is None or name in types:
            yield from kind.resources(patient_ids, since)
