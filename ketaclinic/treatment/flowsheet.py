"""The flowsheet's schedule: which readings a session is due, and which one a new reading answers."""

from __future__ import annotations

import datetime as dt

from ketaclinic.clinical.vitals import VitalPoint, scheduled_vital_points
from ketaclinic.treatment.models import TimePoint, TreatmentSession, VitalSigns


def first_dose_at(session: TreatmentSession) -> dt.datetime | None:
    """When the dose started (for esketamine, the first device)."""
    doses = list(session.doses.all())
    return doses[0].started_at if doses else None


def scheduled_points(session: TreatmentSession, first_dose_at: dt.datetime | None) -> list[VitalPoint]:
    """(point, label, due time) of the session's scheduled readings (the clinical library's schedule)."""
    return scheduled_vital_points(session.plan.modality, first_dose_at)


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
