"""Rows of every treatment table for ketaclinic/tests/test_fastload.py, nulls and values both present."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.patients.models import Patient
from ketaclinic.treatment import models as m


def fill(patient: Patient, actor: User, chair: Chair) -> None:
    now = timezone.now()
    stamp = {"created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}
    location = patient.location
    plan = m.TreatmentPlan.objects.create(
        patient=patient,
        location=location,
        modality=m.PlanModality.ESKETAMINE_NASAL,
        protocol="esketamine_trd",
        dose_mg=Decimal(56),
        start_date=dt.date(2026, 1, 5),
        clinic_days=[0, 3],
        status=m.PlanStatus.ACTIVE,
        approved_at=now,
        approved_by=actor,
        policy={"spo2_alert_below": 93},
        **stamp,
    )
    m.TreatmentPlan.objects.create(
        patient=patient,
        location=location,
        modality=m.PlanModality.IV_KETAMINE,
        protocol="iv_twice_weekly_3w",
        dose_mg_per_kg=Decimal("0.5"),
        infusion_minutes=40,
        start_date=dt.date(2026, 1, 5),
        clinic_days=[0, 1, 2, 3, 4],
        **stamp,
    )
    m.PlanChange.objects.create(plan=plan, kind=m.PlanChangeKind.APPROVE, changed_at=now, changed_by=actor)
    signed = m.TreatmentSession.objects.create(
        plan=plan,
        patient=patient,
        location=location,
        number=1,
        date=dt.date(2026, 1, 5),
        phase=m.SessionPhase.INDUCTION,
        status=m.SessionStatus.SIGNED,
        chair=chair,
        checked_in_at=now,
        checked_in_by=actor,
        monitored_by=actor,
        signed_at=now,
        signed_by=actor,
        policy={"spo2_alert_below": 93},
        **stamp,
    )
    m.TreatmentSession.objects.create(
        plan=plan,
        patient=patient,
        location=location,
        number=2,
        date=dt.date(2026, 1, 8),
        phase=m.SessionPhase.INDUCTION,
        **stamp,
    )
    m.PreDoseCheck.objects.create(
        session=signed,
        identity_confirmed=True,
        consent_current=True,
        fasting_confirmed=None,
        ride_home_arranged=True,
        medication_changes=False,
        **stamp,
    )
    m.PreDoseCheck.objects.create(
        session=signed,
        identity_confirmed=True,
        consent_current=True,
        fasting_confirmed=True,
        ride_home_arranged=True,
        pregnancy_status="not_pregnant",
        medication_changes=True,
        medication_note="Started sertraline",
        interaction_findings=[{"rule_id": "X-1", "level": "caution", "message": "m"}],
        **stamp,
    )
    vitals = m.VitalSigns.objects.create(
        session=signed,
        taken_at=now,
        time_point=m.TimePoint.PRE_DOSE,
        systolic_mmhg=150,
        diastolic_mmhg=85,
        heart_rate_bpm=70,
        spo2_percent=98,
        **stamp,
    )
    dose = m.Dose.objects.create(
        session=signed, amount_mg=Decimal(56), lot_number="LOT-1", started_at=now, **stamp
    )
    iv_session = m.TreatmentSession.objects.create(
        plan=plan,
        patient=patient,
        location=location,
        number=3,
        date=dt.date(2026, 1, 12),
        phase=m.SessionPhase.INDUCTION,
        status=m.SessionStatus.CHECKED_IN,
        checked_in_at=now,
        checked_in_by=actor,
        **stamp,
    )
    m.Dose.objects.create(
        session=iv_session,
        amount_mg=Decimal("35.0"),
        lot_number="KV-2",
        started_at=now,
        ended_at=now + dt.timedelta(minutes=40),
        weight_kg=Decimal("70.0"),
        mg_per_kg=Decimal("0.50"),
        concentration_mg_per_ml=Decimal("50.00"),
        volume_ml=Decimal("0.70"),
        infusion_minutes=40,
        pump_rate_ml_per_hour=Decimal("1.1"),
        **stamp,
    )
    m.DoseDevice.objects.create(dose=dose, number=1, due_at=now, used_at=now, used_by=actor, **stamp)
    m.DoseDevice.objects.create(dose=dose, number=2, due_at=now + dt.timedelta(minutes=5), **stamp)
    observation = m.Observation.objects.create(
        session=signed,
        instrument=m.ObservationInstrument.MOAAS,
        answers={"level": 5},
        total=5,
        flags=[],
        taken_at=now,
        **stamp,
    )
    m.Observation.objects.create(
        session=signed,
        instrument=m.ObservationInstrument.CADSS,
        answers=[0] * 23,
        total=0,
        band="none",
        flags=["dissociation_alert"],
        taken_at=now,
        **stamp,
    )
    m.AdverseEvent.objects.create(
        session=signed,
        code=m.AdverseEventCode.NAUSEA,
        severity=m.AdverseEventSeverity.MILD,
        onset_at=now,
        action_taken="Ondansetron",
        outcome=m.AdverseEventOutcome.RESOLVED,
        **stamp,
    )
    m.SessionAlert.objects.create(
        session=signed,
        vitals=vitals,
        kind=m.AlertKind.PREDOSE_GATE,
        level=m.AlertLevel.ACKNOWLEDGE,
        rule_id="BP-PREDOSE-ESK-ACK",
        message="Pre-dose BP above 140/90.",
        sources=["S5"],
        raised_at=now,
        answer=m.AlertAnswer.ACKNOWLEDGED,
        answer_note="Usual for this patient",
        answered_at=now,
        answered_by=actor,
        **stamp,
    )
    m.SessionAlert.objects.create(
        session=signed,
        observation=observation,
        kind=m.AlertKind.SESSION,
        level=m.AlertLevel.ALERT,
        rule_id="VITALS-SESSION-SEDATION",
        message="MOAA/S 3.",
        raised_at=now,
        **stamp,
    )
    m.Discharge.objects.create(
        session=signed,
        discharged_at=now,
        ready_to_leave_minutes=90,
        escort_name="A. Friend",
        minutes_observed=125,
        dissociation_resolved=True,
        respiratory_depression_resolved=True,
        **stamp,
    )
    m.Amendment.objects.create(
        session=signed,
        amended_at=now,
        amended_by=actor,
        reason="Lot number misread",
        record="dose",
        record_id=str(dose.pk),
        changes={"lot_number": {"before": "LOT-I", "after": "LOT-1"}},
    )
