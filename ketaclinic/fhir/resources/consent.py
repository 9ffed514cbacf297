"""Consent (base R4): a patient's signature on one version of a location's consent document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import F

from ketaclinic.consent.models import Consent
from ketaclinic.fhir import codes
from ketaclinic.fhir.resources.common import PatientIds, Resource, Row, instant, patient_ref, rows

TYPE = "Consent"
PREFIX = "consent-"


def to_fhir(row: Row) -> Resource:
    document = f"{row['title']} (version {row['version']})"
    return {
        "resourceType": TYPE,
        "id": f"{PREFIX}{row['id']}",
        "status": "active",
        "scope": codes.CONSENT_TREATMENT.concept(),
        "category": [codes.CONSENT_DOCUMENT.concept()],
        "patient": patient_ref(row),
        "dateTime": instant(row["signed_at"]),
        "sourceAttachment": {"title": document},
        # The clinic's document is the rule the patient agreed to (a Consent needs a policy or policyRule).
        "policyRule": {"text": f"{row['modality']} treatment consent: {document}"},
    }


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    query = Consent.objects.filter(patient_id__in=patient_ids)
    if since is not None:
        query = query.filter(signed_at__gte=since)
    values = query.order_by("patient_id", "signed_at", "id").values(
        "id",
        "patient_id",
        "signed_at",
        title=F("document__title"),
        version=F("document__version"),
        modality=F("document__modality"),
    )
    for row in rows(values):
        yield to_fhir(row)
