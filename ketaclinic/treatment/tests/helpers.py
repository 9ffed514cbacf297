"""Building plans and sessions through the actions, at a fixed clock, for the treatment tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.consent.queries import consent_is_current, current_document
from ketaclinic.ledger import demo as ledger_demo
from ketaclinic.ledger.actions import do_record_event
from ketaclinic.ledger.inputs import EventIn
from ketaclinic.ledger.models import Lot, Product
from ketaclinic.patients import actions as patient_actions
from ketaclinic.patients import inputs as patient_inputs
from ketaclinic.patients.models import Patient
from ketaclinic.screening.queries import rems_enrolment
from ketaclinic.screening.tests import helpers as gates
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


LOT_ESKETAMINE, LOT_KETAMINE = "ESK-1", "KV-2"


def stock(location: Any, actor: User) -> None:
    """The location's products, and a lot of esketamine devices and of ketamine vials to dose from."""
    if not Product.objects.filter(location=location).exists():
        ledger_demo.products(location, actor)
    for product, lot in (("esketamine-28", LOT_ESKETAMINE), ("ketamine-50", LOT_KETAMINE)):
        if Lot.objects.filter(location=location, lot_number=lot).exists():
            continue
        values: dict[str, Any] = {
            "product": product,
            "kind": "receive",
            "quantity": Decimal(20),
            "lot_number": lot,
            "expires_on": timezone.now().date() + dt.timedelta(days=365),
            **ledger_demo.SUPPLIER,
        }
        data = EventIn(**values)
        do_record_event(location, data, actor=actor)


def clear(patient: Patient, modality: str) -> None:
    """What a plan's approval asks for: a screening with every acknowledgement made, REMS enrolment for
    esketamine, and consent to the location's current document (published here when there is none)."""
    screening = gates.screen(patient, modality)
    gates.acknowledge_all(screening)
    if modality == "esketamine_nasal" and rems_enrolment(patient) is None:
        gates.enrol(patient)
    document = current_document(patient.location_id, modality) or gates.document(
        patient.location.slug, modality
    )
    if not consent_is_current(patient, modality):
        gates.sign(patient, document)


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
    stock(patient.location, prescriber)
    data = inputs.PlanIn(modality=PlanModality(modality), start_date=today, clinic_days=days, **values)
    plan = actions.do_create_plan(patient, data, actor=prescriber)
    if approve:
        clear(patient, modality)
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
