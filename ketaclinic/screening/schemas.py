"""What the screening API answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ketaclinic.patients.schemas import Dec, Out
from ketaclinic.screening.models import Acknowledgement, RemsEnrolment, Screening


class FindingOut(Out):
    rule_id: str
    level: str
    message: str
    sources: list[str]


class TrdOut(Out):
    adequate_failures: int
    is_trd: bool
    mgh_score: Dec
    maudsley_score: int | None
    maudsley_band: str | None


class ScreeningOut(Out):
    id: int
    modality: str
    decision: str
    findings: list[FindingOut]
    trd: TrdOut
    ruleset_version: str
    stale: bool
    created_at: dt.datetime
    acknowledged: list[str]


class AcknowledgementOut(Out):
    id: int
    screening_id: int
    rule_id: str
    reason: str
    created_at: dt.datetime


class RemsEnrolmentOut(Out):
    id: int
    enrolled_on: dt.date
    rems_patient_id: str
    created_at: dt.datetime


def screening_out(s: Screening, *, stale: bool, acknowledged: frozenset[str]) -> dict[str, Any]:
    trd = dict(s.trd)
    return ScreeningOut.model_validate(
        {
            "id": s.pk,
            "modality": s.modality,
            "decision": s.decision,
            "findings": s.findings,
            "trd": {**trd, "mgh_score": Decimal(str(trd.get("mgh_score", "0")))},
            "ruleset_version": s.ruleset_version,
            "stale": stale,
            "created_at": s.created_at,
            "acknowledged": sorted(acknowledged),
        }
    ).model_dump(mode="json")


def acknowledgement_out(a: Acknowledgement) -> dict[str, Any]:
    return AcknowledgementOut.model_validate(
        {
            "id": a.pk,
            "screening_id": a.screening_id,
            "rule_id": a.rule_id,
            "reason": a.reason,
            "created_at": a.created_at,
        }
    ).model_dump(mode="json")


def enrolment_out(e: RemsEnrolment) -> dict[str, Any]:
    return RemsEnrolmentOut.model_validate(
        {
            "id": e.pk,
            "enrolled_on": e.enrolled_on,
            "rems_patient_id": e.rems_patient_id,
            "created_at": e.created_at,
        }
    ).model_dump(mode="json")
