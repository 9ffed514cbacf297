"""AllergyIntolerance (US Core AllergyIntolerance): the substance as the clinic wrote it, its reaction
and severity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ketaclinic.fhir import codes
from ketaclinic.fhir.resources.common import (
    PatientIds,
    Resource,
    Row,
    instant,
    meta,
    patient_ref,
    prune,
    rows,
    since_filter,
)
from ketaclinic.patients.models import Allergy, EntryStatus, Severity

TYPE = "AllergyIntolerance"
PREFIX = "allergy-"
KETAMINE_RELATED = f"{codes.BASE}/StructureDefinition/ketamine-related"
# FHIR's categories; the clinic's "other" has none.
CATEGORIES = frozenset({"medication", "food", "environment"})
CLINICAL = {EntryStatus.ACTIVE: "active", EntryStatus.RESOLVED: "resolved"}


def to_fhir(row: Row) -> Resource:
    in_error = row["status"] == EntryStatus.ENTERED_IN_ERROR
    reaction = None
    if row["reaction"]:
        reaction = {"manifestation": [{"text": row["reaction"]}]}
        if row["severity"] != Severity.UNKNOWN:
            reaction["severity"] = row["severity"]
    return prune(
        {
            "resourceType": TYPE,
            "id": f"{PREFIX}{row['id']}",
            "meta": meta(codes.PROFILE[TYPE], row["updated_at"]),
            "extension": [{"url": KETAMINE_RELATED, "valueBoolean": True}]
            if row["ketamine_related"]
            else None,
            "clinicalStatus": None
            if in_error
            else {"coding": [{"system": codes.ALLERGY_CLINICAL, "code": CLINICAL[row["status"]]}]},
            "verificationStatus": {
                "coding": [
                    {
                        "system": codes.ALLERGY_VERIFICATION,
                        "code": "entered-in-error" if in_error else "confirmed",
                    }
                ]
            },
            "category": [row["category"]] if row["category"] in CATEGORIES else None,
            "code": {"text": row["substance"]},
            "patient": patient_ref(row),
            "recordedDate": instant(row["created_at"]),
            "reaction": [reaction] if reaction else None,
        }
    )


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    query = Allergy.objects.filter(patient_id__in=patient_ids, **since_filter(since))
    fields = (
        "id",
        "patient_id",
        "substance",
        "category",
        "reaction",
        "severity",
        "ketamine_related",
        "status",
        "created_at",
        "updated_at",
    )
    for row in rows(query.order_by("patient_id", "id").values(*fields)):
        yield to_fhir(row)
