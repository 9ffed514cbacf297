"""Condition (US Core Condition Problems and Health Concerns): the history's diagnoses, as problem-list
items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ketaclinic.clinical.vocab import CONDITIONS
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
from ketaclinic.patients.models import Condition, EntryStatus

TYPE = "Condition"
PREFIX = "cond-"
CLINICAL = {EntryStatus.ACTIVE: "active", EntryStatus.RESOLVED: "resolved"}


def to_fhir(row: Row) -> Resource:
    status = row["status"]
    in_error = status == EntryStatus.ENTERED_IN_ERROR
    known = CONDITIONS.get(row["code"])
    return prune(
        {
            "resourceType": TYPE,
            "id": f"{PREFIX}{row['id']}",
            "meta": meta(codes.PROFILE[TYPE], row["updated_at"]),
            # An entry in error carries no clinical status (invariant con-5).
            "clinicalStatus": None
            if in_error
            else {"coding": [{"system": codes.CONDITION_CLINICAL, "code": CLINICAL[status]}]},
            "verificationStatus": {
                "coding": [
                    {
                        "system": codes.CONDITION_VERIFICATION,
                        "code": "entered-in-error" if in_error else "confirmed",
                    }
                ]
            },
            "category": [{"coding": [{"system": codes.CONDITION_CATEGORY, "code": "problem-list-item"}]}],
            "code": codes.local(codes.CONDITIONS, row["code"], known.display if known else row["code"]),
            "subject": patient_ref(row),
            "onsetDateTime": str(row["onset_year"]) if row["onset_year"] else None,
            "recordedDate": instant(row["created_at"]),
            "note": [{"text": row["note"]}] if row["note"] else None,
        }
    )


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    query = Condition.objects.filter(patient_id__in=patient_ids, **since_filter(since))
    fields = ("id", "patient_id", "code", "status", "onset_year", "note", "created_at", "updated_at")
    for row in rows(query.order_by("patient_id", "id").values(*fields)):
        yield to_fhir(row)
