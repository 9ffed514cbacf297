"""MedicationAdministration (base R4; US Core profiles none): each dose given in a session, with its lot
(on the contained Medication's batch, where R4 keeps a lot number)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import F

from ketaclinic.fhir import codes
from ketaclinic.fhir.resources.common import (
    PatientIds,
    Resource,
    Row,
    instant,
    num,
    patient_ref,
    prune,
    ref,
    rows,
    since_filter,
)
from ketaclinic.fhir.resources.medication_request import (
    MODALITY_DRUG,
    MODALITY_ROUTE,
    PLAN_PREFIX,
    drug_concept,
)
from ketaclinic.treatment.models import Dose

TYPE = "MedicationAdministration"
PREFIX = "dose-"


def to_fhir(row: Row) -> Resource:
    modality = row["modality"]
    medication = {
        "resourceType": "Medication",
        "id": "drug",
        "code": drug_concept(MODALITY_DRUG[modality]),
        "batch": {"lotNumber": row["lot_number"]},
    }
    effective: dict[str, Any]
    if row["ended_at"] is not None:
        effective = {
            "effectivePeriod": {"start": instant(row["started_at"]), "end": instant(row["ended_at"])}
        }
    else:
        effective = {"effectiveDateTime": instant(row["started_at"])}
    dosage = prune(
        {
            "route": {"text": MODALITY_ROUTE[modality]},
            "dose": {"value": num(row["amount_mg"]), **codes.MG},
            "rateQuantity": {
                "value": num(row["pump_rate_ml_per_hour"]),
                "unit": "mL/h",
                "system": codes.UCUM,
                "code": "mL/h",
            }
            if row["pump_rate_ml_per_hour"] is not None
            else None,
        }
    )
    return {
        "resourceType": TYPE,
        "id": f"{PREFIX}{row['id']}",
        "meta": {"lastUpdated": instant(row["updated_at"])},
        "contained": [medication],
        "status": "completed" if row["ended_at"] is not None else "in-progress",
        "medicationReference": {"reference": "#drug"},
        "subject": patient_ref(row),
        "context": ref("Encounter", row["session_id"]),
        **effective,
        "request": ref("MedicationRequest", f"{PLAN_PREFIX}{row['plan_id']}"),
        "dosage": dosage,
    }


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    query = Dose.objects.filter(session__patient_id__in=patient_ids, **since_filter(since))
    values = query.order_by("session__patient_id", "started_at", "id").values(
        "id",
        "session_id",
        "amount_mg",
        "lot_number",
        "started_at",
        "ended_at",
        "pump_rate_ml_per_hour",
        "updated_at",
        patient_id=F("session__patient_id"),
        plan_id=F("session__plan_id"),
        modality=F("session__plan__modality"),
    )
    for row in rows(values):
        yield to_fhir(row)
