"""A KAP course built through the actions at a pinned clock, for the integration, preparation and timeline
tests: a therapist on the care team, a signed preparation, an esketamine session charted from check-in to
signature (dose, readings, MOAA/S and CADSS, an adverse event)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.patients.models import Patient
from ketaclinic.therapy import actions, inputs
from ketaclinic.therapy.models import TherapySession
from ketaclinic.therapy.tests.helpers import note, staff
from ketaclinic.treatment import actions as treatment
from ketaclinic.treatment import inputs as treatment_inputs
from ketaclinic.treatment.models import AlertAnswer, ObservationInstrument, TreatmentPlan, TreatmentSession
from ketaclinic.treatment.tests.helpers import Clock, plan_today, ready_to_dose, vitals

CADSS_ITEMS = 23


def kap_clock(monkeypatch: pytest.MonkeyPatch, patient: Patient) -> Clock:
    """A clock after the patient's registration (therapy sessions may not come before it) with a morning
    ahead at the patient's location, so that no session day crosses midnight."""
    zone = location_zone(patient.location)
    start = (patient.created_at + dt.timedelta(hours=2)).astimezone(zone)
    if not 7 <= start.hour < 14:
        day = start.date() + dt.timedelta(days=1 if start.hour >= 14 else 0)
        start = dt.datetime.combine(day, dt.time(9), tzinfo=zone)
    return Clock(monkeypatch, start.astimezone(dt.UTC))


def with_therapist(patient: Patient) -> None:
    team = inputs.CareTeamIn.model_validate(
        {"members": [{"user": staff(patient, "therapist").username, "role": "therapist"}]}
    )
    actions.do_set_care_team(patient, team, actor=staff(patient, "therapist"))


def therapy_at(
    patient: Patient, kind: str, at: dt.datetime, *, dose: TreatmentSession | None = None
) -> TherapySession:
    values = {"kind": kind, "starts_at": at, "duration_minutes": 50}
    if dose is not None:
        values["dose_session_id"] = dose.pk
    data = inputs.TherapySessionIn.model_validate(values)
    return actions.do_schedule_session(patient, data, actor=staff(patient, "therapist"))


def prepared(patient: Patient, clock: Clock) -> TherapySession:
    """A preparation session an hour ago with its note signed."""
    session = therapy_at(patient, "preparation", clock.now - dt.timedelta(hours=1))
    note(session, template="preparation", sign=True, intentions="Feel lighter")
    return session


def plan(patient: Patient) -> TreatmentPlan:
    return plan_today(patient, staff(patient, "prescriber"))


def dose_through_signature(plan: TreatmentPlan, clock: Clock) -> TreatmentSession:
    """The plan's next session charted as the floor does, from check-in to signature."""
    nurse = staff(plan.patient, "nurse")
    session = ready_to_dose(plan, nurse, clock)
    clock.advance(minutes=1)
    given = treatment_inputs.AdministerIn(amount_mg=Decimal(56), lot_number="ESK-1", started_at=clock.now)
    dose = treatment.do_record_dose(session, given, actor=nurse)
    clock.advance(minutes=5)
    treatment.do_use_device(dose, 2, treatment_inputs.DeviceUseIn(), actor=nurse)
    clock.advance(minutes=35)
    treatment.do_record_vitals(session, vitals(clock.now, systolic=148, diastolic=92), actor=nurse)
    answers: Any
    for instrument, answers in (
        (ObservationInstrument.MOAAS, [4]),
        (ObservationInstrument.CADSS, [1] * 6 + [0] * (CADSS_ITEMS - 6)),
    ):
        observed = treatment_inputs.ObservationIn(instrument=instrument, answers=answers, taken_at=clock.now)
        treatment.do_record_observation(session, observed, actor=nurse)
    event = treatment_inputs.AdverseEventIn.model_validate(
        {
            "code": "nausea",
            "severity": "mild",
            "onset_at": clock.now.isoformat(),
            "action_taken": "Rested",
            "outcome": "resolved",
        }
    )
    treatment.do_record_adverse_event(session, event, actor=nurse)
    for alert in session.alerts.filter(answer=""):
        answer = treatment_inputs.AlertAnswerIn(answer=AlertAnswer.RESPONDED, note="Reassessed")
        treatment.do_answer_alert(alert, answer, actor=nurse)
    clock.advance(minutes=80)
    treatment.do_record_vitals(session, vitals(clock.now, systolic=126, diastolic=80), actor=nurse)
    settled = treatment_inputs.ObservationIn(
        instrument=ObservationInstrument.MOAAS, answers=[5], taken_at=clock.now
    )
    treatment.do_record_observation(session, settled, actor=nurse)
    clock.advance(minutes=1)
    leave = treatment_inputs.DischargeIn(ready_to_leave_minutes=60, escort_name="A. Friend")
    treatment.do_discharge(session, leave, actor=nurse)
    return treatment.do_sign(session, actor=nurse)
