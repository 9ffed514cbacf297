"""What the floor board's API answers."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from ketaclinic.patients.schemas import Out


class VitalDueOut(Out):
    point: str = Field(description="pre_dose, post_dose or pre_discharge")
    label: str
    due_at: dt.datetime | None = Field(description="None: due now, before dosing")
    overdue: bool


class FloorSessionOut(Out):
    session_id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str = Field(description="Family name, given name")
    modality: str
    phase: str = Field(
        description="scheduled, checked_in, pre_dose, dosing, monitoring, ready_for_discharge, discharged or "
        "deferred"
    )
    phase_label: str
    monitored_by: str = Field(description="Who is monitoring; empty when no one is assigned")
    checked_in_at: dt.datetime | None
    next_vital: VitalDueOut | None
    next_device_due_at: dt.datetime | None = Field(description="Esketamine: when the next device is due")
    open_alerts: int
    discharge_allowed_at: dt.datetime | None = Field(
        description="When the minimum observation time allows discharge (other criteria still apply)"
    )
    discharged_at: dt.datetime | None


class FloorChairOut(Out):
    id: int
    name: str
    kind: str = Field(description="chair or room")


class FloorRowOut(Out):
    chair: FloorChairOut | None = Field(description="None: the sessions not yet given a chair")
    sessions: list[FloorSessionOut]


class FloorOut(Out):
    location: str
    day: dt.date
    now: dt.datetime
    rows: list[FloorRowOut]
