"""Demo treatment: at each location, plans with today's sessions in every stage of the floor (checked in,
pre-dose, dosing, monitoring, ready for discharge, discharged and signed), charted through the actions at
times earlier today in the location's day. A stage whose chart would start before the location's midnight
is left out (the demo loaded just after midnight has fewer).

Then earlier esketamine sessions, charted through the actions on their own day (the actions' clock set to
that afternoon) and signed, whose Patient Monitoring Forms are not yet submitted: the REMS queue shows forms
overdue (the session more than 7 days ago, in the location's days) and due. Those patients' courses then end,
so no unattended sessions stay behind them."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinical import dosing
from ketaclinic.clinicpolicy.clock import day_bounds, local_today, location_zone
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.consent import actions as consent_actions
from ketaclinic.consent.inputs import ConsentIn, DocumentIn
from ketaclinic.consent.queries import current_document
from ketaclinic.ledger import demo as ledger_demo
from ketaclinic.ledger.actions import do_record_event
from ketaclinic.ledger.inputs import EventIn
from ketaclinic.ledger.models import Lot, Product
from ketaclinic.patients.models import Patient
from ketaclinic.screening import actions as screening_actions
from ketaclinic.screening.inputs import AcknowledgementIn, RemsEnrolmentIn, ScreeningIn
from ketaclinic.screening.queries import rems_enrolment
from ketaclinic.treatment import actions, inputs
from ketaclinic.treatment.models import AlertAnswer, ObservationInstrument, PlanModality, TreatmentSession

MOAAS = ObservationInstrument.MOAAS

# Stage, modality, and how many minutes before now its chart starts (check-in).
STAGES: tuple[tuple[str, str, int], ...] = (
    ("discharged", PlanModality.ESKETAMINE_NASAL, 200),
    ("ready", PlanModality.ESKETAMINE_NASAL, 150),
    ("monitoring", PlanModality.IV_KETAMINE, 90),
    ("dosing", PlanModality.ESKETAMINE_NASAL, 30),
    ("pre_dose", PlanModality.ESKETAMINE_NASAL, 20),
    ("checked_in", PlanModality.ESKETAMINE_NASAL, 5),
)
# Patients the demo leaves without a plan: the first four of each location, where tests start their own
# (the test network has four per location, so its demo loads no treatment and stays fast).
UNTREATED = 4
# Days before today of the earlier esketamine sessions whose monitoring forms wait: 12 and 9 are overdue
# (the form is due within 7 days), 3 is due with 4 days left.
EARLIER_SESSIONS_DAYS_AGO: tuple[int, ...] = (12, 9, 3)
LOT_ESKETAMINE, LOT_KETAMINE = "ESK-DEMO-1", "KET-DEMO-1"


def load(locations: list[ClinicLocation], rng: random.Random) -> None:
    for location in locations:
        _location(location, rng)


def _staff(location: ClinicLocation, role: str) -> User:
    return User.objects.get(username=f"{role}.{location.slug}")


def _stock(location: ClinicLocation, actor: User) -> None:
    """Products and a lot of each drug the demo doses from (the ledger's own demo may have them already)."""
    if not Product.objects.filter(location=location).exists():
        ledger_demo.products(location, actor)
    for product, lot in (("esketamine-28", LOT_ESKETAMINE), ("ketamine-50", LOT_KETAMINE)):
        if Lot.objects.filter(location=location, lot_number=lot).exists():
            continue
        values: dict[str, Any] = {
            "product": product,
            "kind": "receive",
            "quantity": Decimal(40),
            "lot_number": lot,
            "expires_on": local_today(location) + dt.timedelta(days=400),
            **ledger_demo.SUPPLIER,
        }
        do_record_event(location, EventIn(**values), actor=actor)


def _location(location: ClinicLocation, rng: random.Random) -> None:
    patients = list(Patient.objects.filter(location=location).order_by("mrn"))[UNTREATED:]
    if not patients:
        return
    prescriber, nurse, desk = (
        _staff(location, "prescriber"),
        _staff(location, "nurse"),
        _staff(location, "frontdesk"),
    )
    _stock(location, prescriber)
    chairs = list(Chair.objects.filter(location=location, active=True))
    now = timezone.now()
    midnight, _ = day_bounds(location, local_today(location))
    waiting = iter(patients)
    for stage, modality, minutes in STAGES:
        start = now - dt.timedelta(minutes=minutes)
        if start < midnight + dt.timedelta(minutes=1):
            continue
        patient = next((p for p in waiting if _cleared(p, modality, prescriber, nurse)), None)
        if patient is None:
            return
        session = _plan(patient, modality, prescriber)
        chair = chairs.pop(0).pk if chairs else None
        session = actions.do_check_in(
            session, inputs.CheckInIn(checked_in_at=start, chair_id=chair), actor=desk
        )
        if stage == "checked_in":
            continue
        _chart(session, stage, modality, start, nurse, rng)
    for days_ago in EARLIER_SESSIONS_DAYS_AGO:
        day = local_today(location) - dt.timedelta(days=days_ago)
        with _clock_at(_local(location, day, 17)):
            patient = next((p for p in waiting if _cleared(p, ESKETAMINE, prescriber, nurse)), None)
            if patient is None:
                return
            session = _plan(patient, ESKETAMINE, prescriber)
            start = _local(location, day, rng.choice([9, 10, 11]))
            session = actions.do_check_in(session, inputs.CheckInIn(checked_in_at=start), actor=desk)
            _chart(session, "discharged", ESKETAMINE, start, nurse, rng)
            reason = inputs.ReasonIn(reason="The patient continues treatment at a clinic closer to home")
            actions.do_end_plan(session.plan, reason, actor=prescriber)


ESKETAMINE = PlanModality.ESKETAMINE_NASAL


def _local(location: ClinicLocation, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=location_zone(location)).astimezone(dt.UTC)


@contextmanager
def _clock_at(moment: dt.datetime) -> Iterator[None]:
    """The actions' clock (`timezone.now`) set to `moment`, so a session of an earlier day is charted on its
    own day as the nurse would have. Only the demo loader does this, in one thread, before serving."""
    real = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = real


def _publish(location: ClinicLocation, modality: str) -> Any:
    """A consent document for the modality, where the location has none yet."""
    admin = _staff(location, "admin")
    name = dict(PlanModality.choices)[modality]
    body = (
        f"{name}: what the treatment is, how a session goes, its common and serious risks, and what to do "
        "afterwards. No driving until the next day after restful sleep."
    )
    data = DocumentIn(modality=modality, title=f"Consent to {name.lower()} treatment", body=body)
    return consent_actions.do_publish_document(location, data, actor=admin)


def _cleared(patient: Patient, modality: str, prescriber: User, nurse: User) -> bool:
    """Screen the patient, acknowledge what needs it, enrol in REMS (esketamine) and sign the current
    consent, as the clinic would before a first session; False when the screening finds a contraindication
    (that patient gets no plan)."""
    screening = screening_actions.do_run_screening(patient, ScreeningIn(modality=modality), actor=prescriber)
    if any(f["level"] == "contraindicated" for f in screening.findings):
        return False
    for finding in screening.findings:
        if finding["level"] == "acknowledge":
            ack = AcknowledgementIn(
                rule_id=finding["rule_id"], reason="Discussed with the patient; benefit outweighs"
            )
            screening_actions.do_acknowledge(screening, ack, actor=prescriber)
    if modality == PlanModality.ESKETAMINE_NASAL and rems_enrolment(patient) is None:
        enrolment = RemsEnrolmentIn(
            enrolled_on=local_today(patient.location), rems_patient_id=f"SPR-{patient.mrn[-6:]}"
        )
        screening_actions.do_record_rems_enrolment(patient, enrolment, actor=prescriber)
    document = current_document(patient.location_id, modality) or _publish(patient.location, modality)
    signed = ConsentIn(document_id=document.pk, signed_name=f"{patient.given_name} {patient.family_name}")
    consent_actions.do_sign_consent(patient, signed, actor=nurse)
    return not actions.gate_blockers(patient, modality)


def _plan(patient: Patient, modality: str, prescriber: User) -> TreatmentSession:
    today = local_today(patient.location)
    days = sorted({today.weekday(), (today.weekday() + 3) % 7})
    if modality == PlanModality.ESKETAMINE_NASAL:
        dose: dict[str, Any] = {"protocol": "esketamine_trd", "dose_mg": Decimal(56)}
    else:
        dose = {"protocol": "iv_twice_weekly_3w", "dose_mg_per_kg": Decimal("0.5")}
    data = inputs.PlanIn(
        modality=PlanModality(modality), start_date=today, clinic_days=days, maintenance_sessions=2, **dose
    )
    plan = actions.do_approve_plan(actions.do_create_plan(patient, data, actor=prescriber), actor=prescriber)
    return plan.sessions.select_related("plan", "patient", "location").get(number=1)


def _at(start: dt.datetime, minutes: float) -> dt.datetime:
    return start + dt.timedelta(minutes=minutes)


def _vitals(session: TreatmentSession, at: dt.datetime, systolic: int, diastolic: int, nurse: User) -> None:
    reading = inputs.VitalsIn(
        taken_at=at, systolic_mmhg=systolic, diastolic_mmhg=diastolic, heart_rate_bpm=74, spo2_percent=98
    )
    actions.do_record_vitals(session, reading, actor=nurse)


def _chart(
    session: TreatmentSession, stage: str, modality: str, start: dt.datetime, nurse: User, rng: random.Random
) -> None:
    check = inputs.PreDoseCheckIn(
        identity_confirmed=True, fasting_confirmed=True, ride_home_arranged=True, medication_changes=False
    )
    actions.do_record_predose_check(session, check, actor=nurse)
    base = rng.randint(118, 134)
    _vitals(session, _at(start, 5), base, base - 44, nurse)
    if stage == "pre_dose":
        return
    dosed_at = _at(start, 10 if stage != "dosing" else 27)
    if modality == PlanModality.ESKETAMINE_NASAL:
        amount, lot = Decimal(56), LOT_ESKETAMINE
    else:
        weight = actions.latest_weight_kg(session.patient)
        assert weight is not None
        amount, lot = dosing.iv_ketamine(weight, Decimal("0.5")).dose_mg, LOT_KETAMINE
    dose = actions.do_record_dose(
        session, inputs.AdministerIn(amount_mg=amount, lot_number=lot, started_at=dosed_at), actor=nurse
    )
    if stage == "dosing":
        return
    if modality == PlanModality.ESKETAMINE_NASAL:
        actions.do_use_device(dose, 2, inputs.DeviceUseIn(used_at=_at(dosed_at, 5)), actor=nurse)
    else:
        actions.do_end_dose(dose, inputs.DoseEndIn(ended_at=_at(dosed_at, 40)), actor=nurse)
    _vitals(session, _at(dosed_at, 40), base + 12, base - 36, nurse)
    moaas = inputs.ObservationIn(instrument=MOAAS, answers=[4], taken_at=_at(dosed_at, 41))
    actions.do_record_observation(session, moaas, actor=nurse)
    alert = session.alerts.filter(answer="").first()
    if alert is not None:
        answer = inputs.AlertAnswerIn(answer=AlertAnswer.RESPONDED, note="Reassessed at the chair; settling")
        actions.do_answer_alert(alert, answer, actor=nurse)
    if stage == "monitoring":
        return
    settled = _at(dosed_at, 121)
    _vitals(session, settled, base + 2, base - 42, nurse)
    calm = inputs.ObservationIn(instrument=MOAAS, answers=[5], taken_at=settled)
    actions.do_record_observation(session, calm, actor=nurse)
    if stage == "ready":
        return
    leave = inputs.DischargeIn(
        discharged_at=_at(settled, 4),
        ready_to_leave_minutes=rng.choice([60, 75, 90]),
        escort_name="Family member",
    )
    actions.do_discharge(session, leave, actor=nurse)
    actions.do_sign(session, actor=nurse)
