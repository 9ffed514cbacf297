"""AdverseEvent (base R4, trial use): an adverse event charted in a session, its severity and outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import F

from ketaclinic.fhir import codes
from ketaclinic.fhir.resources.common import (
    PatientIds,
    Resource,
    Row,
    instant,
    patient_ref,
    ref,
    rows,
    since_filter,
)
from ketaclinic.treatment.models import AdverseEvent, AdverseEventCode

TYPE = "AdverseEvent"
PREFIX = "ae-"
_NAMES = dict(AdverseEventCode.choices)
_OUTCOME = {"resolved": "resolved", "resolving": "recovering", "ongoing": "ongoing", "transferred": "ongoing"}


def to_fhir(row: Row) -> Resource:
    name = row["description"] if row["code"] == AdverseEventCode.OTHER and row["description"] else None
    event = codes.local(codes.ADVERSE_EVENTS, row["code"], str(_NAMES.get(row["code"]) or row["code"]))
    if name:
        event["text"] = name
    return {
        "resourceType": TYPE,
        "id": f"{PREFIX}{row['id']}",
        "meta": {"lastUpdated": instant(row["updated_at"])},
        "actuality": "actual",
        "event": event,
        "subject": patient_ref(row),
        "encounter": ref("Encounter", row["session_id"]),
        "date": instant(row["onset_at"]),
        "recordedDate": instant(row["created_at"]),
        "severity": {"coding": [{"system": codes.ADVERSE_EVENT_SEVERITY, "code": row["severity"]}]},
        "outcome": {"coding": [{"system": codes.ADVERSE_EVENT_OUTCOME, "code": _OUTCOME[row["outcome"]]}]},
    }


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    query = AdverseEvent.objects.filter(session__patient_id__in=patient_ids, **since_filter(since))
    values = query.order_by("session__patient_id", "onset_at", "id").values(
        "id",
        "session_id",
        "code",
        "description",
        "severity",
        "onset_at",
        "outcome",
        "created_at",
        "updated_at",
        patient_id=F("session__patient_id"),
    )
    for row in rows(values):
        yield to_fhir(row)
