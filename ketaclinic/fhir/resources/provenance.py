"""Provenance (US Core Provenance): who registered each patient record in KetaClinic, and when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ketaclinic.fhir import codes
from ketaclinic.fhir.resources.common import PatientIds, Resource, Row, instant, meta, ref, rows
from ketaclinic.patients.models import Patient

TYPE = "Provenance"
PREFIX = "prov-"


def to_fhir(row: Row) -> Resource:
    return {
        "resourceType": TYPE,
        "id": f"{PREFIX}{row['id']}",
        "meta": meta(codes.PROFILE[TYPE]),
        "target": [ref("Patient", row["id"])],
        "recorded": instant(row["created_at"]),
        "agent": [
            {
                "type": codes.PROVENANCE_AUTHOR.concept(),
                "who": {"display": "KetaClinic staff member (see the audit trail)"},
            }
        ],
    }


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    query = Patient.objects.filter(id__in=patient_ids)
    if since is not None:
        query = query.filter(created_at__gte=since)
    for row in rows(query.order_by("mrn").values("id", "created_at")):
        yield to_fhir(row)
