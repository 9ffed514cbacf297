"""Patient (US Core Patient): demographics, MRN and external identifier, emergency contact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ketaclinic.fhir import codes
from ketaclinic.fhir.resources.common import PatientIds, Resource, Row, day, meta, prune, rows
from ketaclinic.patients.models import Patient

TYPE = "Patient"
FIELDS = (
    "id",
    "mrn",
    "external_mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "entered_in_error_at",
    "updated_at",
)


def to_fhir(row: Row) -> Resource:
    identifiers = [{"use": "usual", "system": codes.MRN_SYSTEM, "value": row["mrn"]}]
    if row["external_mrn"]:
        identifiers.append(
            {"use": "secondary", "system": codes.EXTERNAL_MRN_SYSTEM, "value": row["external_mrn"]}
        )
    telecom = []
    if row["phone"]:
        telecom.append({"system": "phone", "value": row["phone"]})
    if row["email"]:
        telecom.append({"system": "email", "value": row["email"]})
    contact: dict[str, Any] | None = None
    if row["emergency_contact_name"]:
        contact = {"name": {"text": row["emergency_contact_name"]}}
        if row["emergency_contact_relationship"]:
            contact["relationship"] = [{"text": row["emergency_contact_relationship"]}]
        if row["emergency_contact_phone"]:
            contact["telecom"] = [{"system": "phone", "value": row["emergency_contact_phone"]}]
    return prune(
        {
            "resourceType": TYPE,
            "id": str(row["id"]),
            "meta": meta(codes.PROFILE[TYPE], row["updated_at"]),
            "identifier": identifiers,
            "active": row["entered_in_error_at"] is None,
            "name": [{"use": "official", "family": row["family_name"], "given": [row["given_name"]]}],
            "telecom": telecom,
            "gender": row["sex"],
            "birthDate": day(row["date_of_birth"]),
            "address": [{"text": row["address"]}] if row["address"] else None,
            "contact": [contact] if contact else None,
        }
    )


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    query = Patient.objects.filter(id__in=patient_ids)
    if since is not None:
        query = query.filter(updated_at__gte=since)
    for row in rows(query.order_by("mrn").values(*FIELDS)):
        yield to_fhir(row)
