"""Building plans and sessions through the actions, at a fixed clock, for the treatment tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.patients import actions as patient_actions
from ketaclinic.patients import inputs as patient_inputs
from ketaclinic.patients.models import Patient
from ketaclinic.treatment import actions, inputs
from ketaclinic.treatment.models import PlanModality, TreatmentPlan, TreatmentSession


class Clock:
    """`timezone.now()` pinned to a moment and moved by hand, so a session's day never crosses midnight."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, at: dt.datetime) -> None:
        self.now = at
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta: float) -> dt.datetime:
        self.now = self.now + dt.timedelta(**delta)
        return self.now


def midday(patient: Patient, hour: int = 9) -> dt.datetime:
    """`hour` o'clock today at the patient's location (today by the real clock), in UTC."""
    zone = location_zone(patient.location)
    today = timezone.now().astimezone(zone).date()
    return dt.datetime.combine(today, dt.time(hour), tzinfo=zone).astimezone(dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def plan_today(
    patient: Patient,
    prescriber: User,
    *,
    modality: str = "esketamine_nasal",
    approve: bool = True,
    **changes: Any,
) -> TreatmentPlan:
    """A plan whose first session is today at the patient's location."""
    today = timezone.now().astimezone(location_zone(patient.location)).date()
    days = sorted({today.weekday(), (today.weekday() + 3) % 7})
    if modality == "esketamine_nasal":
        values: dict[str, Any] = {"protocol": "esketamine_trd", "dose_mg": Decimal(56)}
    else:
        values = {"protocol": "iv_twice_weekly_3w", "dose_mg_per_kg": Decimal("0.5")}
        patient_actions.do_record_measurement(
            patient, patient_inputs.MeasurementIn(weight_kg=Decimal("70.0")), actor=prescriber
        )
    values.update(changes)
    data = inputs.PlanIn(modality=PlanModality(modality), start_date=today, clinic_days=days, **values)
    plan = actions.do_create_plan(patient, data, actor=prescriber)
    if approve:
        plan = actions.do_approve_plan(plan, actor=prescriber)
    return plan


def first_session(plan: TreatmentPlan) -> TreatmentSession:
    session = plan.sessions.order_by("number").select_related("plan", "patient", "location").first()
    assert session is not None
    return session


def checked_in(plan: TreatmentPlan, nurse: User) -> TreatmentSession:
    session = first_session(plan)
    return actions.do_check_in(session, inputs.CheckInIn(), actor=nurse)


def ready_to_dose(plan: TreatmentPlan, nurse: User, clock: Clock, *, systolic: int = 128) -> TreatmentSession:
    """Checked in, pre-dose checks and a pre-dose reading that passes the gate."""
    session = checked_in(plan, nurse)
    clock.advance(minutes=5)
    actions.do_record_predose_check(
        session,
        inputs.PreDoseCheckIn(
            identity_confirmed=True, fasting_confirmed=True, ride_home_arranged=True, medication_changes=False
        ),
        actor=nurse,
    )
    actions.do_record_vitals(session, vitals(clock.now, systolic=systolic), actor=nurse)
    return session


def vitals(at: dt.datetime, *, systolic: int = 128, diastolic: int = 80, hr: int = 72, spo2: int = 98) -> Any:
    return inputs.VitalsIn(
        taken_at=at, systolic_mmhg=systolic, diastolic_mmhg=diastolic, heart_rate_bpm=hr, spo2_percent=spo2
    )
