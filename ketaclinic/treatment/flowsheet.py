"""The flowsheet's schedule: which readings a session is due, and which one a new reading answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ketaclinic.clinical.vitals import ESKETAMINE_MIN_OBSERVATION_MINUTES, POST_DOSE_BP_CHECK_MINUTES
from ketaclinic.treatment.models import PlanModality, TimePoint, TreatmentSession, VitalSigns


def first_dose_at(session: TreatmentSession) -> dt.datetime | None:
    """When the dose started (for esketamine, the first device)."""
    doses = list(session.doses.all())
    return doses[0].started_at if doses else None


def scheduled_points(
    session: TreatmentSession, first_dose_at: dt.datetime | None
) -> list[tuple[str, str, Any]]:
    """(point, label, due time) of the session's scheduled readings. Esketamine: before dosing, 40 minutes
    after dosing, before discharge (at the 2-hour minimum) [S5], [S6]. Racemic ketamine: before dosing; the
    clinic policy sets no in-session interval, so later readings are taken as the clinician judges."""
    points: list[tuple[str, str, Any]] = [(TimePoint.PRE_DOSE, "Before dosing", None)]
    if session.plan.modality == PlanModality.ESKETAMINE_NASAL and first_dose_at is not None:
        points.append(
            (
                TimePoint.POST_DOSE,
                f"{POST_DOSE_BP_CHECK_MINUTES} minutes after dosing",
                first_dose_at + dt.timedelta(minutes=POST_DOSE_BP_CHECK_MINUTES),
            )
        )
        points.append(
            (
                TimePoint.PRE_DISCHARGE,
                "Before discharge",
                first_dose_at + dt.timedelta(minutes=ESKETAMINE_MIN_OBSERVATION_MINUTES),
            )
        )
    return points


def point_for(session: TreatmentSession, when: dt.datetime, readings: list[VitalSigns]) -> str:
    """Which scheduled reading a reading taken at `when` answers: the earliest one due and not yet taken."""
    started = first_dose_at(session)
    if started is None or when <= started:
        return TimePoint.PRE_DOSE
    taken = {r.time_point for r in readings}
    for point, _, due_at in scheduled_points(session, started):
        if point != TimePoint.PRE_DOSE and point not in taken and due_at is not None and when >= due_at:
            return point
    return TimePoint.ANY_TIME
