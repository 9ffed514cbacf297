"""The flowsheet's schedule: which readings a session is due, and which one a new reading answers."""

from __future__ import annotations

import datetime as dt

from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinical.vitals import VitalPoint, outstanding_vital_points, scheduled_vital_points
from ketaclinic.clinicpolicy.queries import kept_policy, policy_for
from ketaclinic.treatment.models import TimePoint, TreatmentSession, VitalSigns


def first_dose_at(session: TreatmentSession) -> dt.datetime | None:
    """When the dose started (for esketamine, the first device)."""
    doses = list(session.doses.all())
    return doses[0].started_at if doses else None


def schedule_policy(session: TreatmentSession) -> ClinicPolicy:
    """The policy whose intervals the session's readings follow: its snapshot from check-in, or the one in
    force at its location."""
    return kept_policy(session.policy, policy_for(session.location))


def scheduled_points(
    session: TreatmentSession,
    first_dose_at: dt.datetime | None,
    now: dt.datetime | None = None,
    policy: ClinicPolicy | None = None,
) -> list[VitalPoint]:
    """(point, label, due time) of the session's scheduled readings (the clinical library's schedule under
    the session's policy; an IV infusion's readings run to its end time)."""
    doses = list(session.doses.all())
    ended = doses[0].ended_at if doses else None
    return scheduled_vital_points(
        session.plan.modality,
        first_dose_at,
        infusion_ended_at=ended,
        now=now,
        policy=policy or schedule_policy(session),
    )


def open_points(
    session: TreatmentSession,
    readings: list[VitalSigns],
    now: dt.datetime | None = None,
    policy: ClinicPolicy | None = None,
) -> list[VitalPoint]:
    """The scheduled readings no reading has answered yet, in the order they fall due."""
    points = scheduled_points(session, first_dose_at(session), now, policy)
    return outstanding_vital_points(points, [r.time_point for r in readings])


def point_for(
    session: TreatmentSession,
    when: dt.datetime,
    readings: list[VitalSigns],
    policy: ClinicPolicy | None = None,
) -> str:
    """Which scheduled reading a reading taken at `when` answers: the earliest one due and not yet taken."""
    started = first_dose_at(session)
    if started is None or when <= started:
        return TimePoint.PRE_DOSE
    for point, _, due_at in open_points(session, readings, when, policy):
        if point != TimePoint.PRE_DOSE and due_at is not None and when >= due_at:
            return point
    return TimePoint.ANY_TIME
