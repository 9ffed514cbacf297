"""MedicationRequest (US Core MedicationRequest): every medication of the chart, as US Core asks.

- current and past medications the patient reports: `intent=plan`, `reportedBoolean`, requester the patient;
- antidepressant trials (the treatment-resistance history): reported `intent=plan` too, `status=completed`,
  with the trial's dose, weeks, adequacy and outcome in KetaClinic's antidepressant-trial extension;
- the clinic's own ketamine or esketamine treatment plans: `intent=order`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ketaclinic.clinical.vocab import DRUGS
from ketaclinic.fhir import codes
from ketaclinic.fhir.resources.common import (
    PatientIds,
    Resource,
    Row,
    day,
    instant,
    meta,
    num,
    patient_ref,
    prune,
    rows,
    since_filter,
)
from ketaclinic.patients.models import AntidepressantTrial, EntryStatus, Medication
from ketaclinic.treatment.models import PlanStatus, TreatmentPlan

TYPE = "MedicationRequest"
MED_PREFIX = "med-"
TRIAL_PREFIX = "trial-"
PLAN_PREFIX = "plan-"
_STATUS = {
    EntryStatus.ACTIVE: "active",
    EntryStatus.RESOLVED: "stopped",
    EntryStatus.ENTERED_IN_ERROR: "entered-in-error",
}
_PLAN_STATUS = {
    PlanStatus.DRAFT: "draft",
    PlanStatus.ACTIVE: "active",
    PlanStatus.PAUSED: "on-hold",
    PlanStatus.ENDED: "completed",
}
# The drug each in-clinic modality gives, in the clinic's drug vocabulary.
MODALITY_DRUG = {"esketamine_nasal": "esketamine", "iv_ketamine": "ketamine", "im_ketamine": "ketamine"}
MODALITY_ROUTE = {"esketamine_nasal": "Nasal", "iv_ketamine": "Intravenous", "im_ketamine": "Intramuscular"}


def drug_concept(drug: str, other_name: str = "") -> dict[str, Any]:
    known = DRUGS.get(drug)
    display = other_name or (known.display if known else drug)
    return codes.local(codes.DRUGS, drug, display)


def _reported(row: Row, prefix: str, status: str) -> Resource:
    return {
        "resourceType": TYPE,
        "id": f"{prefix}{row['id']}",
        "meta": meta(codes.PROFILE[TYPE], row["updated_at"]),
        "status": status,
        "intent": "plan",
        "category": [{"coding": [{"system": codes.MEDREQUEST_CATEGORY, "code": "community"}]}],
        "reportedBoolean": True,
        "medicationCodeableConcept": drug_concept(row["drug"], row["other_name"]),
        "subject": patient_ref(row),
        "authoredOn": instant(row["created_at"]),
        # Self-reported history: the patient is its source (US Core's guidance for reported medications).
        "requester": patient_ref(row),
    }


def medication(row: Row) -> Resource:
    out = _reported(row, MED_PREFIX, _STATUS[row["status"]])
    dosage: dict[str, Any] = {}
    if row["dose"]:
        dosage["text"] = row["dose"]
    if row["started_on"] or row["stopped_on"]:
        bounds = prune({"start": day(row["started_on"]), "end": day(row["stopped_on"])})
        dosage["timing"] = {"repeat": {"boundsPeriod": bounds}}
    if dosage:
        out["dosageInstruction"] = [dosage]
    return out


def trial(row: Row) -> Resource:
    in_error = row["status"] == EntryStatus.ENTERED_IN_ERROR
    out = _reported(row, TRIAL_PREFIX, "entered-in-error" if in_error else "completed")
    parts: list[dict[str, Any]] = [
        {"url": "maxDailyDoseMg", "valueDecimal": num(row["max_daily_dose_mg"])},
        {"url": "weeksAtDose", "valueDecimal": num(row["weeks_at_dose"])},
        {"url": "adequateDose", "valueBoolean": row["adequate_dose"]},
        {"url": "doseOptimised", "valueBoolean": row["dose_optimised"]},
        {"url": "augmented", "valueBoolean": row["augmented"]},
        {"url": "outcome", "valueCode": row["outcome"]},
        {"url": "currentEpisode", "valueBoolean": row["current_episode"]},
    ]
    if row["augmentation_agent"]:
        parts.append({"url": "augmentationAgent", "valueString": row["augmentation_agent"]})
    if row["started_year"]:
        parts.append({"url": "startedYear", "valueInteger": row["started_year"]})
    out["extension"] = [{"url": codes.TRIAL_OUTCOME_EXT, "extension": parts}]
    mg = num(row["max_daily_dose_mg"])
    out["dosageInstruction"] = [{"text": f"up to {mg} mg daily for {num(row['weeks_at_dose'])} weeks"}]
    return out


def plan(row: Row) -> Resource:
    if row["dose_mg"] is not None:
        dose = f"{num(row['dose_mg'])} mg"
    else:
        dose = f"{num(row['dose_mg_per_kg'])} mg/kg"
    minutes = f" over {row['infusion_minutes']} minutes" if row["infusion_minutes"] else ""
    return prune(
        {
            "resourceType": TYPE,
            "id": f"{PLAN_PREFIX}{row['id']}",
            "meta": meta(codes.PROFILE[TYPE], row["updated_at"]),
            "status": _PLAN_STATUS[row["status"]],
            "intent": "order",
            "category": [{"coding": [{"system": codes.MEDREQUEST_CATEGORY, "code": "outpatient"}]}],
            "reportedBoolean": False,
            "medicationCodeableConcept": drug_concept(MODALITY_DRUG[row["modality"]]),
            "subject": patient_ref(row),
            "authoredOn": instant(row["approved_at"] or row["created_at"]),
            "requester": {"display": "Prescribing clinician"},
            "dosageInstruction": [
                {
                    "text": f"{dose}{minutes}, {row['protocol']} protocol from {day(row['start_date'])}",
                    "route": {"text": MODALITY_ROUTE[row["modality"]]},
                }
            ],
        }
    )


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    where = {"patient_id__in": patient_ids, **since_filter(since)}
    med_fields = (
        "id",
        "patient_id",
        "drug",
        "other_name",
        "dose",
        "started_on",
        "stopped_on",
        "status",
        "created_at",
        "updated_at",
    )
    for row in rows(Medication.objects.filter(**where).order_by("patient_id", "id").values(*med_fields)):
        yield medication(row)
    trial_fields = (
        "id",
        "patient_id",
        "drug",
        "other_name",
        "max_daily_dose_mg",
        "weeks_at_dose",
        "adequate_dose",
        "dose_optimised",
        "augmented",
        "augmentation_agent",
        "outcome",
        "current_episode",
        "started_year",
        "status",
        "created_at",
        "updated_at",
    )
    query = AntidepressantTrial.objects.filter(**where).order_by("patient_id", "id")
    for row in rows(query.values(*trial_fields)):
        yield trial(row)
    plan_fields = (
        "id",
        "patient_id",
        "modality",
        "protocol",
        "dose_mg",
        "dose_mg_per_kg",
        "infusion_minutes",
        "start_date",
        "status",
        "approved_at",
        "created_at",
        "updated_at",
    )
    for row in rows(
        TreatmentPlan.objects.filter(**where).order_by("patient_id", "created_at").values(*plan_fields)
    ):
        yield plan(row)
