"""QuestionnaireResponse (US Core QuestionnaireResponse): each stored questionnaire or rating, the source of
truth its Observations (observation.py) are derived from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ketaclinic.assessments.models import Assessment
from ketaclinic.fhir import codes
from ketaclinic.fhir.resources.common import (
    PatientIds,
    Resource,
    Row,
    instant,
    meta,
    patient_ref,
    prune,
    ref,
    rows,
    since_filter,
)

TYPE = "QuestionnaireResponse"
PREFIX = "qr-"
FIELDS = (
    "id",
    "patient_id",
    "instrument",
    "item_scores",
    "extra_answers",
    "total",
    "taken_at",
    "source",
    "session_id",
    "created_at",
)


def assessments(patient_ids: PatientIds, since: dt.datetime | None) -> Iterator[Row]:
    query = Assessment.objects.filter(patient_id__in=patient_ids, **since_filter(since, "created_at"))
    return rows(query.order_by("patient_id", "taken_at", "id").values(*FIELDS))


def item_answer(instrument: str, score: int) -> dict[str, Any]:
    if instrument in codes.FREQUENCY_INSTRUMENTS and score in codes.FREQUENCY_ANSWERS:
        return {"valueCoding": codes.FREQUENCY_ANSWERS[score].coding()}
    return {"valueInteger": score}


def _extra(key: str, value: object) -> dict[str, Any] | None:
    if isinstance(value, bool):
        answer: dict[str, Any] = {"valueBoolean": value}
    elif isinstance(value, int):
        answer = {"valueInteger": value}
    elif isinstance(value, str) and value:
        answer = {"valueString": value}
    else:
        return None
    return {"linkId": key, "answer": [answer]}


def to_fhir(row: Row) -> Resource:
    instrument = row["instrument"]
    items: list[dict[str, Any]] = []
    for index, score in enumerate(row["item_scores"] or []):
        code = codes.item_code(instrument, index)
        items.append(
            {"linkId": str(index + 1), "text": code.display, "answer": [item_answer(instrument, score)]}
        )
    for key, value in sorted((row["extra_answers"] or {}).items()):
        extra = _extra(key, value)
        if extra:
            items.append(extra)
    self_reported = row["source"] != "clinic"
    return prune(
        {
            "resourceType": TYPE,
            "id": f"{PREFIX}{row['id']}",
            "meta": meta(codes.PROFILE[TYPE], row["created_at"]),
            "questionnaire": codes.questionnaire_url(instrument),
            "status": "completed",
            "subject": patient_ref(row),
            "encounter": ref("Encounter", row["session_id"]) if row["session_id"] else None,
            "authored": instant(row["taken_at"]),
            "author": patient_ref(row) if self_reported else None,
            "source": patient_ref(row) if self_reported else None,
            "item": items,
        }
    )


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    for row in assessments(patient_ids, since):
        yield to_fhir(row)
