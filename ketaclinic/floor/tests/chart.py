"""Charting sessions in each phase for the floor's tests and bench.

Chairs are added through the clinic's action (`clinicpolicy.actions.do_add_chair`). Sessions stand in for
the treatment actions until they are on main: their rows are written as those actions write them, straight
to the tables; swap `chart_session`'s body for the action calls when they land.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinical.policy import policy_to_json
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.treatment.models import (
    AlertKind,
    AlertLevel,
    Discharge,
    Dose,
    DoseDevice,
    Observation,
    ObservationInstrument,
    PlanModality,
    PlanStatus,
    PreDoseCheck,
    SessionAlert,
    SessionPhase,
    SessionStatus,
    TimePoint,
    TreatmentPlan,
    TreatmentSession,
    VitalSigns,
)

STAGES = ("scheduled", "checked_in", "pre_dose", "dosing", "monitoring", "alert", "ready", "discharged")


def _stamp(actor: Any, now: dt.datetime) -> dict[str, Any]:
    return {"created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}


def make_chairs(location: ClinicLocation, count: int, *, prefix: str = "Chair") -> list[Chair]:
    return [
        Chair.objects.get_or_create(location=location, name=f"{prefix} {i:02d}")[0]
        for i in range(1, count + 1)
    ]


def chart_session(
    patient: Any,
    *,
    actor: Any,
    now: dt.datetime,
    stage: str,
    chair: Chair | None = None,
    modality: str = PlanModality.ESKETAMINE_NASAL,
) -> TreatmentSession:
    """An esketamine (or IV) session of today at the patient's location, charted up to `stage` at `now`."""
    assert stage in STAGES, stage
    location = patient.location
    day = local_date(location, now)
    stamp = _stamp(actor, now - dt.timedelta(days=7))
    esketamine = modality == PlanModality.ESKETAMINE_NASAL
    plan = TreatmentPlan.objects.create(
        patient=patient,
        location=location,
        modality=modality,
        protocol="esketamine_trd" if esketamine else "iv_induction_taper",
        dose_mg=Decimal(56) if esketamine else None,
        dose_mg_per_kg=None if esketamine else Decimal("0.5"),
        infusion_minutes=None if esketamine else 40,
        start_date=day,
        clinic_days=[0, 1, 2, 3, 4, 5, 6],
        status=PlanStatus.ACTIVE,
        approved_at=now - dt.timedelta(days=7),
        approved_by=actor,
        **stamp,
    )
    # Minutes before `now` the session's dose started, per stage.
    started_ago = {"dosing": 3, "monitoring": 50, "alert": 60, "ready": 130, "discharged": 150}.get(stage)
    checked_in = now - dt.timedelta(minutes=(started_ago or 0) + 20)
    session = TreatmentSession.objects.create(
        plan=plan,
        patient=patient,
        location=location,
        number=1,
        date=day,
        phase=SessionPhase.INDUCTION,
        status=SessionStatus.SCHEDULED,
        chair=chair,
        **stamp,
    )
    if stage == "scheduled":
        return session
    session.status = SessionStatus.DISCHARGED if stage == "discharged" else SessionStatus.CHECKED_IN
    session.checked_in_at = checked_in
    session.checked_in_by = actor
    session.policy = policy_to_json(policy_for(location))  # kept at check-in, as do_check_in keeps it
    session.monitored_by = actor
    session.save()
    if stage == "checked_in":
        return session
    row = _stamp(actor, checked_in)
    PreDoseCheck.objects.create(
        session=session,
        identity_confirmed=True,
        consent_current=True,
        fasting_confirmed=True,
        ride_home_arranged=True,
        medication_changes=False,
        **row,
    )
    VitalSigns.objects.create(
        session=session,
        taken_at=checked_in + dt.timedelta(minutes=5),
        time_point=TimePoint.PRE_DOSE,
        systolic_mmhg=128,
        diastolic_mmhg=80,
        heart_rate_bpm=72,
        spo2_percent=98,
        **row,
    )
    if stage == "pre_dose" or started_ago is None:
        return session
    started = now - dt.timedelta(minutes=started_ago)
    dose = Dose.objects.create(
        session=session,
        amount_mg=Decimal(56) if esketamine else Decimal(35),
        lot_number="LOT-FLOOR-1",
        started_at=started,
        ended_at=None if esketamine or stage == "dosing" else started + dt.timedelta(minutes=40),
        **row,
    )
    if esketamine:
        for number in (1, 2):
            due = started + dt.timedelta(minutes=5 * (number - 1))
            used = due if (number == 1 or stage != "dosing") else None
            DoseDevice.objects.create(
                dose=dose, number=number, due_at=due, used_at=used, used_by=actor if used else None, **row
            )
    if stage == "dosing":
        return session

    def vitals(minutes: int, point: str, systolic: int, diastolic: int) -> VitalSigns:
        return VitalSigns.objects.create(
            session=session,
            taken_at=started + dt.timedelta(minutes=minutes),
            time_point=point,
            systolic_mmhg=systolic,
            diastolic_mmhg=diastolic,
            heart_rate_bpm=76,
            spo2_percent=97,
            **row,
        )

    post = vitals(40, TimePoint.POST_DOSE, 150 if stage == "alert" else 138, 88)
    if stage == "alert":
        SessionAlert.objects.create(
            session=session,
            vitals=post,
            kind=AlertKind.SESSION,
            level=AlertLevel.ALERT,
            rule_id="VITALS-SESSION-BP-RISE",
            message="BP rose over the pre-dose reading.",
            raised_at=post.taken_at,
            **row,
        )
    if stage in ("ready", "discharged"):
        vitals(120, TimePoint.PRE_DISCHARGE, 130, 82)
        Observation.objects.create(
            session=session,
            instrument=ObservationInstrument.MOAAS,
            answers={"score": 5},
            total=5,
            band="Awake",
            taken_at=started + dt.timedelta(minutes=121),
            **row,
        )
    if stage == "discharged":
        Discharge.objects.create(
            session=session,
            discharged_at=started + dt.timedelta(minutes=125),
            ready_to_leave_minutes=120,
            escort_name="A. Driver",
            minutes_observed=125,
            dissociation_resolved=True,
            respiratory_depression_resolved=True,
            **row,
        )
    return session
