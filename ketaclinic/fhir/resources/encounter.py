"""Encounter (US Core Encounter): treatment sessions (a dosing day) and therapy sessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ketaclinic.fhir import codes
from ketaclinic.fhir.resources.common import (
    PatientIds,
    Resource,
    Row,
    day,
    instant,
    meta,
    moment,
    patient_ref,
    prune,
    ref,
    rows,
    since_filter,
)
from ketaclinic.therapy.models import TherapyKind, TherapySession
from ketaclinic.treatment.models import TreatmentSession

TYPE = "Encounter"
_SESSION_STATUS = {
    "scheduled": "planned",
    "checked_in": "in-progress",
    "deferred": "cancelled",
    "discharged": "finished",
    "signed": "finished",
    "cancelled": "cancelled",
}
_THERAPY_STATUS = {"scheduled": "planned", "completed": "finished"}
_KIND_NAMES = dict(TherapyKind.choices)


def treatment(row: Row) -> Resource:
    start = instant(row["checked_in_at"]) or day(row["date"])
    return prune(
        {
            "resourceType": TYPE,
            "id": str(row["id"]),
            "meta": meta(codes.PROFILE[TYPE], row["updated_at"]),
            "status": _SESSION_STATUS[row["status"]],
            "class": codes.AMBULATORY.coding(),
            "type": [
                {
                    "coding": [codes.TREATMENT_SESSION.coding()],
                    "text": f"Treatment session {row['number']} ({row['phase']})",
                }
            ],
            "subject": patient_ref(row),
            "basedOn": [ref("MedicationRequest", f"plan-{row['plan_id']}")],
            "period": prune({"start": start, "end": instant(row["signed_at"])}),
        }
    )


def therapy(row: Row) -> Resource:
    end = moment(row["starts_at"]) + dt.timedelta(minutes=row["duration_minutes"])
    kind = row["kind"]
    return {
        "resourceType": TYPE,
        "id": str(row["id"]),
        "meta": meta(codes.PROFILE[TYPE], row["updated_at"]),
        "status": _THERAPY_STATUS.get(row["status"], "unknown"),
        "class": (codes.VIRTUAL if row["mode"] == "video" else codes.AMBULATORY).coding(),
        "type": [codes.local(codes.THERAPY_KINDS, kind, str(_KIND_NAMES.get(kind) or kind))],
        "subject": patient_ref(row),
        "period": {"start": instant(row["starts_at"]), "end": instant(end)},
    }


def resources(patient_ids: PatientIds, since: dt.datetime | None = None) -> Iterator[Resource]:
    where = {"patient_id__in": patient_ids, **since_filter(since)}
    fields = (
        "id",
        "patient_id",
        "plan_id",
        "number",
        "date",
        "phase",
        "status",
        "checked_in_at",
        "signed_at",
        "updated_at",
    )
    for row in rows(
        TreatmentSession.objects.filter(**where).order_by("patient_id", "date", "number").values(*fields)
    ):
        yield treatment(row)
    therapy_fields = (
        "id",
        "patient_id",
        "kind",
        "mode",
        "starts_at",
        "duration_minutes",
        "status",
        "updated_at",
    )
    for row in rows(
        TherapySession.objects.filter(**where).order_by("patient_id", "starts_at").values(*therapy_fields)
    ):
        yield therapy(row)
