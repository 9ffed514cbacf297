"""What the API returns about safety alerts, safety plans and the clinician worklist."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import Field

from ketaclinic.assessments.models import SafetyAlert, SafetyPlan
from ketaclinic.assessments.worklist import Item
from ketaclinic.patients.schemas import Out

WorkKind = Literal[
    "cssrs_high",
    "suicide_item",
    "worsening",
    "assessment_overdue",
    "assessment_due",
    "not_responding",
    "loss_of_response",
    "home_hold",
    "home_checkin_missing",
    "integration_due",
]
WorkPriority = Literal["urgent", "high", "medium", "low"]


class WorkItemOut(Out):
    kind: WorkKind
    patient_id: uuid.UUID
    priority: WorkPriority
    due_at: dt.datetime | None = Field(description="When it is due (empty for a patient to review)")
    detail: str = Field(description="What needs doing, without the patient's name")
    dose_session_id: uuid.UUID | None = Field(
        default=None, description="The dose session it follows (`integration_due`)"
    )


class WorklistOut(Out):
    items: list[WorkItemOut]


class SafetyAlertOut(Out):
    id: int
    kind: Literal["suicide_item", "cssrs_high", "worsening"]
    status: Literal["open", "closed"]
    assessment_id: int
    due_at: dt.datetime
    detail: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    closed_by_assessment_id: int | None
    closed_by_safety_plan_id: int | None
    closing_note: str
    closes_when: str = Field(description="What closes it")


class SafetyPlanOut(Out):
    id: int
    patient_id: uuid.UUID
    plan_text: str
    created_at: dt.datetime
    closed_alert_ids: list[int] = Field(description="The high C-SSRS alert it closed, if any")


def item_dict(item: Item) -> dict[str, Any]:
    return {
        "kind": item.kind.value,
        "patient_id": item.patient_id,
        "priority": item.priority.value,
        "due_at": item.due_at,
        "detail": item.detail,
        "dose_session_id": item.dose_session_id,
    }


def alert_dict(alert: SafetyAlert, closes_when: str) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "status": alert.status,
        "assessment_id": alert.assessment_id,
        "due_at": alert.due_at,
        "detail": alert.detail,
        "created_at": alert.created_at,
        "closed_at": alert.closed_at,
        "closed_by_assessment_id": alert.closed_by_assessment_id,
        "closed_by_safety_plan_id": alert.closed_by_safety_plan_id,
        "closing_note": alert.closing_note,
        "closes_when": closes_when,
    }


def plan_dict(plan: SafetyPlan, closed: list[int]) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "patient_id": plan.patient_id,
        "plan_text": plan.plan_text,
        "created_at": plan.created_at,
        "closed_alert_ids": closed,
    }
