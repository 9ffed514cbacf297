"""Observation: vital signs (FHIR vital-signs and US Core profiles, LOINC codes, UCUM units), questionnaire
totals and items (US Core Observation Screening Assessment, derived from their QuestionnaireResponse), and the
session's MOAA/S and CADSS ratings (local codes: no LOINC code is confirmed for either).

Ids say what each Observation is of, so a read finds it again: `vs-<row>-bp|hr|spo2` (a session's vitals),
`bm-<row>-bp|hr|wt|ht` (an intake measurement), `qr-<row>-total|panel|item<n>` (from a questionnaire),
`rating-<row>` (MOAA/S or CADSS).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import F

from ketaclinic.fhir import codes
from ketaclinic.fhir.resources import questionnaire
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
    ref,
    rows,
    since_filter,
)
from ketaclinic.patients.models import BodyMeasurement
from ketaclinic.treatment.models import Observation, VitalSigns

TYPE = "Observation"
_VITAL = [codes.VITAL_SIGNS_CATEGORY.concept()]
_SURVEY = [codes.SURVEY_CATEGORY.concept(), codes.COGNITIVE_STATUS.concept()]
_EXAM = [codes.EXAM_CATEGORY.concept()]


def _quantity(value: Any, unit: dict[str, str]) -> dict[str, Any]:
    return {"value": num(value), **unit}


def _vital(
    rid: str, profile: str, code: dict[str, Any], row: Row, when: dict[str, str], **value: Any
) -> Resource:
    return {
        "resourceType": TYPE,
        "id": rid,
        "meta": meta(profile, row["updated_at"]),
        "status": "final",
        "category": _VITAL,
        "code": code,
        "subject": patient_ref(row),
        **({"encounter": ref("Encounter", row["session_id"])} if row.get("session_id") else {}),
        **when,
        **value,
    }


def blood_pressure(rid: str, row: Row, when: dict[str, str]) -> Resource:
    components = [
        {"code": codes.SYSTOLIC.concept(), "valueQuantity": _quantity(row["systolic_mmhg"], codes.MMHG)},
        {"code": codes.DIASTOLIC.concept(), "valueQuantity": _quantity(row["diastolic_mmhg"], codes.MMHG)},
    ]
    return _vital(
        rid, codes.PROFILE["blood-pressure"], codes.BLOOD_PRESSURE.concept(), row, when, component=components
    )


def heart_rate(rid: str, row: Row, when: dict[str, str]) -> Resource:
    quantity = _quantity(row["heart_rate_bpm"], codes.PER_MIN)
    return _vital(
        rid, codes.PROFILE["heart-rate"], codes.HEART_RATE.concept(), row, when, valueQuantity=quantity
    )


_SPO2_CODE = {"coding": [codes.SPO2.coding(), codes.SPO2_ARTERIAL.coding()], "text": "Oxygen saturation"}


def session_vitals(row: Row) -> Iterator[Resource]:
    when = {"effectiveDateTime": instant(row["taken_at"]) or ""}
    yield blood_pressure(f"vs-{row['id']}-bp", row, when)
    yield heart_rate(f"vs-{row['id']}-hr", row, when)
    spo2 = _quantity(row["spo2_percent"], codes.PERCENT)
    yield _vital(
        f"vs-{row['id']}-spo2", codes.PROFILE["pulse-oximetry"], _SPO2_CODE, row, when, valueQuantity=spo2
    )


def measurement(row: Row) -> Iterator[Resource]:
    when = {"effectiveDateTime": day(row["measured_on"]) or ""}
    if row["systolic_mmhg"] is not None:
        yield blood_pressure(f"bm-{row['id']}-bp", row, when)
    if row["heart_rate_bpm"] is not None:
        yield heart_rate(f"bm-{row['id']}-hr", row, when)
    if row["weight_kg"] is not None:
        weight = _quantity(row["weight_kg"], codes.KG)
        yield _vital(
            f"bm-{row['id']}-wt",
            codes.PROFILE["body-weight"],
            codes.BODY_WEIGHT.concept(),
            row,
            when,
            valueQuantity=weight,
        )
    if row["height_cm"] is not None:
        height = _quantity(row["height_cm"], codes.CM)
        yield _vital(
            f"bm-{row['id']}-ht",
            codes.PROFILE["body-height"],
            codes.BODY_HEIGHT.concept(),
            row,
            when,
            valueQuantity=height,
        )


def _survey(rid: str, row: Row, code: dict[str, Any], **value: Any) -> Resource:
    qr_id = f"{questionnaire.PREFIX}{row['id']}"
    return prune(
        {
            "resourceType": TYPE,
            "id": rid,
            "meta": meta(codes.PROFILE["screening"], row["created_at"]),
            "status": "final",
            "category": _SURVEY,
            "code": code,
            "subject": patient_ref(row),
            "encounter": ref("Encounter", row["session_id"]) if row["session_id"] else None,
            "effectiveDateTime": instant(row["taken_at"]),
            "performer": [patient_ref(row)] if row["source"] != "clinic" else None,
            **value,
            "derivedFrom": [ref("QuestionnaireResponse", qr_id)],
        }
    )


def from_assessment(row: Row) -> Iterator[Resource]:
    """The Observations of one questionnaire: each item, the total, and the panel holding them."""
    instrument = row["instrument"]
    base = f"{questionnaire.PREFIX}{row['id']}"
    members = []
    for index, score in enumerate(row["item_scores"] or []):
        rid = f"{base}-item{index + 1}"
        members.append(ref(TYPE, rid))
        value = questionnaire.item_answer(instrument, score)
        key = "valueCodeableConcept" if "valueCoding" in value else "valueInteger"
        answer = (
            {"coding": [value["valueCoding"]]} if key == "valueCodeableConcept" else value["valueInteger"]
        )
        yield _survey(rid, row, codes.item_code(instrument, index).concept(), **{key: answer})
    if row["total"] is not None:
        members.append(ref(TYPE, f"{base}-total"))
        yield _survey(f"{base}-total", row, codes.total_code(instrument).concept(), valueInteger=row["total"])
    panel = codes.panel_code(instrument)
    if panel is not None and members:
        yield _survey(f"{base}-panel", row, panel.concept(), hasMember=members)


def rating(row: Row) -> Resource:
    instrument = row["instrument"]
    return {
        "resourceType": TYPE,
        "id": f"rating-{row['id']}",
        "meta": meta(None, row["updated_at"]),
        "status": "final",
        "category": _EXAM if instrument == "moaas" else [codes.SURVEY_CATEGORY.concept()],
        "code": codes.total_code(instrument).concept(),
        "subject": patient_ref(row),
        "encounter": ref("Encounter", row["session_id"]),
        "effectiveDateTime": instant(row["taken_at"]),
        "valueInteger": row["total"],
    }


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    fields = (
        "id",
        "measured_on",
        "weight_kg",
        "height_cm",
        "systolic_mmhg",
        "diastolic_mmhg",
        "heart_rate_bpm",
        "patient_id",
        "updated_at",
    )
    query = BodyMeasurement.objects.filter(patient_id__in=patient_ids, **since_filter(since))
    for row in rows(query.order_by("patient_id", "measured_on", "id").values(*fields)):
        yield from measurement(row)
    where = {"session__patient_id__in": patient_ids, **since_filter(since)}
    vitals = VitalSigns.objects.filter(**where).order_by("session__patient_id", "taken_at", "id")
    values = vitals.values(
        "id",
        "session_id",
        "taken_at",
        "systolic_mmhg",
        "diastolic_mmhg",
        "heart_rate_bpm",
        "spo2_percent",
        "updated_at",
        patient_id=F("session__patient_id"),
    )
    for row in rows(values):
        yield from session_vitals(row)
    ratings = Observation.objects.filter(**where).order_by("session__patient_id", "taken_at", "id")
    rating_values = ratings.values(
        "id",
        "session_id",
        "instrument",
        "total",
        "taken_at",
        "updated_at",
        patient_id=F("session__patient_id"),
    )
    for row in rows(rating_values):
        yield rating(row)
    for row in questionnaire.assessments(patient_ids, since):
        yield from from_assessment(row)
