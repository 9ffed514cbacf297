"""What the assessments API answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from ketaclinic.assessments.episode import Episode
from ketaclinic.assessments.models import Assessment
from ketaclinic.patients.schemas import Out


class CodesOut(Out):
    panel: str | None = Field(description="LOINC code of the panel (QuestionnaireResponse), if any")
    total: str | None = Field(description="LOINC code of the total score (Observation), if any")
    items: list[str | None] = Field(description="LOINC code of each item, in item order")


class AssessmentOut(Out):
    id: int
    instrument: str
    total: int | None
    band: str | None
    flags: list[str]
    codes: CodesOut
    taken_at: dt.datetime


class AssessmentDetailOut(AssessmentOut):
    """One response with its item-level answers, who entered it and how it came in."""

    item_scores: list[int]
    extra_answers: dict[str, Any]
    source: str
    request_id: int | None
    created_at: dt.datetime


class EpisodeOut(Out):
    instrument: str
    baseline_total: int | None
    latest_total: int | None
    change_percent: float | None = Field(
        description="Change from baseline to latest, in percent (negative: fewer)"
    )
    status: str = Field(
        description="no_scores, baseline_only, no_response, response, remission, relapse or loss_of_response"
    )
    time_to_response_days: int | None = Field(
        description="Days from the current plan's first dose (or the baseline) to the first response"
    )
    baseline_taken_at: dt.datetime | None
    latest_taken_at: dt.datetime | None


def assessment_out(a: Assessment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "instrument": a.instrument,
        "total": a.total,
        "band": a.band or None,
        "flags": list(a.flags),
        "codes": {
            "panel": a.codes.get("panel"),
            "total": a.codes.get("total"),
            "items": list(a.codes.get("items", [])),
        },
        "taken_at": a.taken_at,
    }


def assessment_detail_out(a: Assessment) -> dict[str, Any]:
    return {
        **assessment_out(a),
        "item_scores": list(a.item_scores),
        "extra_answers": dict(a.extra_answers),
        "source": a.source,
        "request_id": a.request_id,
        "created_at": a.created_at,
    }


def episode_out(e: Episode) -> dict[str, Any]:
    return {
        "instrument": e.instrument,
        "baseline_total": e.baseline.total if e.baseline else None,
        "latest_total": e.latest.total if e.latest else None,
        "change_percent": e.change_percent,
        "status": e.status,
        "time_to_response_days": e.time_to_response_days,
        "baseline_taken_at": e.baseline.taken_at if e.baseline else None,
        "latest_taken_at": e.latest.taken_at if e.latest else None,
    }


class AssessmentRequestOut(Out):
    """A request for a response. `url` is the patient's self-report link (null for a clinician's
    instrument): its secret is in this answer and the message sent, never stored, so a replay of the same
    Idempotency-Key answers `url` null."""

    id: int
    instrument: str
    status: str
    url: str | None
    expires_at: dt.datetime | None
