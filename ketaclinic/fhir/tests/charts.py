"""A fully charted patient for the FHIR tests: an esketamine plan, a dosed and signed session with vitals, a
MOAA/S rating and an adverse event, and a PHQ-9 answered in the clinic for that session."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import User
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import Source
from ketaclinic.patients import actions as patient_actions
from ketaclinic.patients import inputs as patient_inputs
from ketaclinic.patients.models import Patient
from ketaclinic.treatment import actions, inputs
from ketaclinic.treatment.models import AdverseEventCode, ObservationInstrument, TreatmentSession
from ketaclinic.treatment.tests.helpers import Clock, plan_today, ready_to_dose, vitals

PHQ9_ANSWERS = [2, 2, 1, 2, 1, 1, 1, 0, 0]


def chart(patient: Patient, clock: Clock) -> TreatmentSession:
    slug = patient.location.slug
    prescriber = User.objects.get(username=f"prescriber.{slug}")
    nurse = User.objects.get(username=f"nurse.{slug}")
    allergy = patient_inputs.AllergyIn.model_validate(
        {"substance": "Latex", "category": "environment", "reaction": "Hives", "severity": "mild"}
    )
    patient_actions.do_add_history_entry(patient, allergy, actor=nurse)
    plan = plan_today(patient, prescriber)
    session = ready_to_dose(plan, nurse, clock)
    clock.advance(minutes=2)
    body: dict[str, Any] = {"instrument": "phq9", "answers": PHQ9_ANSWERS, "taken_at": clock.now.isoformat()}
    do_record_assessment(
        patient, AssessmentIn.model_validate(body), actor=nurse, source=Source.CLINIC, session=session
    )
    clock.advance(minutes=1)
    dose_in = inputs.AdministerIn(amount_mg=Decimal(56), lot_number="ESK-1", started_at=clock.now)
    dose = actions.do_record_dose(session, dose_in, actor=nurse)
    clock.advance(minutes=5)
    actions.do_use_device(dose, 2, inputs.DeviceUseIn(), actor=nurse)
    clock.advance(minutes=40)
    actions.do_record_vitals(session, vitals(clock.now, systolic=138, diastolic=84), actor=nurse)
    actions.do_record_observation(
        session,
        inputs.ObservationIn(instrument=ObservationInstrument.MOAAS, answers=[5], taken_at=clock.now),
        actor=nurse,
    )
    event = inputs.AdverseEventIn.model_validate(
        {
            "code": AdverseEventCode.NAUSEA,
            "severity": "mild",
            "onset_at": clock.now,
            "action_taken": "Reassurance",
            "outcome": "resolved",
        }
    )
    actions.do_record_adverse_event(session, event, actor=nurse)
    clock.advance(minutes=80)
    actions.do_record_vitals(session, vitals(clock.now), actor=nurse)
    clock.advance(minutes=1)
    actions.do_discharge(
        session, inputs.DischargeIn(ready_to_leave_minutes=60, escort_name="A. Friend"), actor=nurse
    )
    actions.do_sign(session, actor=nurse)
    return session
