"""Esketamine sessions charted as the treatment day leaves them, for the REMS tests.

The rows are written as they stand after check-in, dose, flowsheet and discharge (the treatment area's
tables), so the form and the queue are tested against a chart whose every value is known.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import (
    AdverseEvent,
    AlertKind,
    AlertLevel,
    Discharge,
    Dose,
    DoseDevice,
    Observation,
    PlanModality,
    PlanStatus,
    SessionAlert,
    SessionStatus,
    TimePoint,
    TreatmentPlan,
    TreatmentSession,
    VitalSigns,
)


def _stamp(user: User, at: dt.datetime) -> dict[str, Any]:
    return {"created_at": at, "created_by": user, "updated_at": at, "updated_by": user}


def plan_for(
    patient: Patient, nurse: User, *, modality: str = PlanModality.ESKETAMINE_NASAL
) -> TreatmentPlan:
    now = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    esk = modality == PlanModality.ESKETAMINE_NASAL
    return TreatmentPlan.objects.create(
        patient=patient,
        location_id=patient.location_id,
        modality=modality,
        protocol="esketamine_trd" if esk else "iv_twice_weekly_3w",
        dose_mg=Decimal(56) if esk else None,
        dose_mg_per_kg=None if esk else Decimal("0.5"),
        start_date=dt.date(2026, 1, 5),
        clinic_days=[0, 1, 2, 3, 4, 5, 6],
        status=PlanStatus.ACTIVE,
        approved_at=now,
        approved_by=nurse,
        **_stamp(nurse, now),
    )


def charted_session(
    plan: TreatmentPlan,
    nurse: User,
    day: dt.date,
    *,
    number: int = 1,
    status: str = SessionStatus.DISCHARGED,
    dose_mg: str = "56",
    devices: int = 2,
    monitored_minutes: int = 125,
    readings: tuple[tuple[int, int, int, str], ...] = (
        (-10, 128, 82, TimePoint.PRE_DOSE),
        (42, 141, 88, TimePoint.POST_DOSE),
        (115, 126, 80, TimePoint.PRE_DISCHARGE),
    ),
    moaas: tuple[tuple[int, list[str]], ...] = ((4, []), (5, [])),
    cadss: tuple[tuple[int, list[str]], ...] = ((6, []),),
    events: tuple[str, ...] = (),
    alert_on: tuple[int, ...] = (),
) -> TreatmentSession:
    """A session on `day` at the plan's location: dose at 09:00 local, readings at minutes from the first
    device, discharge `monitored_minutes` after it. `alert_on`: indexes of readings that raised alerts."""
    location = plan.location
    start = dt.datetime.combine(day, dt.time(9), tzinfo=location_zone(location)).astimezone(dt.UTC)
    stamp = _stamp(nurse, start)
    signed = status == SessionStatus.SIGNED
    session = TreatmentSession.objects.create(
        plan=plan,
        patient=plan.patient,
        location=location,
        number=number,
        date=day,
        phase="induction",
        status=status,
        checked_in_at=start - dt.timedelta(minutes=30),
        checked_in_by=nurse,
        monitored_by=nurse,
        signed_at=start + dt.timedelta(hours=3) if signed else None,
        signed_by=nurse if signed else None,
        **stamp,
    )
    if status in (SessionStatus.CHECKED_IN, SessionStatus.DEFERRED) and devices == 0:
        return session
    dose = Dose.objects.create(
        session=session, amount_mg=Decimal(dose_mg), lot_number="LOT-7781", started_at=start, **stamp
    )
    for n in range(devices):
        at = start + dt.timedelta(minutes=5 * n)
        DoseDevice.objects.create(dose=dose, number=n + 1, due_at=at, used_at=at, used_by=nurse, **stamp)
    for index, (minute, sys, dia, point) in enumerate(readings):
        v = VitalSigns.objects.create(
            session=session,
            taken_at=start + dt.timedelta(minutes=minute),
            time_point=point,
            systolic_mmhg=sys,
            diastolic_mmhg=dia,
            heart_rate_bpm=72,
            spo2_percent=98,
            **stamp,
        )
        if index in alert_on:
            SessionAlert.objects.create(
                session=session,
                vitals=v,
                kind=AlertKind.PREDOSE_GATE if point == TimePoint.PRE_DOSE else AlertKind.SESSION,
                level=AlertLevel.ALERT if point != TimePoint.PRE_DOSE else AlertLevel.ACKNOWLEDGE,
                rule_id="TEST-ALERT",
                message="Reading beyond the policy",
                raised_at=v.taken_at,
                **stamp,
            )
    for instrument, scores in (("moaas", moaas), ("cadss", cadss)):
        for minute, (total, flags) in enumerate(scores):
            Observation.objects.create(
                session=session,
                instrument=instrument,
                answers={},
                total=total,
                flags=flags,
                taken_at=start + dt.timedelta(minutes=30 + minute),
                **stamp,
            )
    for code in events:
        AdverseEvent.objects.create(
            session=session,
            code=code,
            description="Tingling lips" if code == "other" else "",
            severity="mild",
            onset_at=start + dt.timedelta(minutes=20),
            action_taken="Observed",
            outcome="resolved",
            **stamp,
        )
    if status in (SessionStatus.DISCHARGED, SessionStatus.SIGNED):
        Discharge.objects.create(
            session=session,
            discharged_at=start + dt.timedelta(minutes=monitored_minutes),
            ready_to_leave_minutes=90,
            escort_name="A. Friend",
            minutes_observed=monitored_minutes,
            dissociation_resolved=True,
            respiratory_depression_resolved=True,
            **stamp,
        )
    return session
