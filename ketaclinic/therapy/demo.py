"""Demo therapy: at each location, one patient in a ketamine-assisted psychotherapy (KAP) course over four
months, registered with a care team; a preparation session (signed) before the first IV ketamine dose (a KAP
plan's first dose waits for it), a KAP session during each of the first two doses, an integration session
two days after every dose but the latest, whose integration is overdue on the therapist's worklist, a PHQ-9
before every dose falling from severe to mild, and the therapist's psychotherapy note on the first
integration (only its author and the location's therapists see it; the timeline shows it by title only).
Every row is written through the actions with their clock set to the day it happened, as the clinic would
have."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.patients.actions import do_register_patient
from ketaclinic.patients.inputs import PatientCreate
from ketaclinic.patients.models import Patient
from ketaclinic.therapy import actions, inputs
from ketaclinic.therapy.models import TherapySession
from ketaclinic.treatment import actions as treatment_actions
from ketaclinic.treatment import demo as treatment_demo
from ketaclinic.treatment import inputs as treatment_inputs
from ketaclinic.treatment.models import PlanModality, TreatmentSession

IV = PlanModality.IV_KETAMINE
REGISTERED_DAYS_AGO = 130
FIRST_DOSE_DAYS_AGO = 118
# IV twice weekly for three weeks, then one every two weeks: the last falls about ten days before today.
MAINTENANCE_SESSIONS = 7
KAP_DOSES = 2
# PHQ-9 totals before each dose, falling from severe to mild.
PHQ9_TOTALS = (21, 19, 16, 14, 12, 11, 10, 9, 9, 8, 7, 7, 6)
PATIENTS = {"north": ("Maren", "Lindqvist"), "south": ("Tomas", "Okafor")}
TRIALS = [
    {
        "drug": "sertraline",
        "max_daily_dose_mg": "150",
        "weeks_at_dose": "8",
        "adequate_dose": True,
        "outcome": "none",
        "current_episode": True,
    },
    {
        "drug": "venlafaxine",
        "max_daily_dose_mg": "225",
        "weeks_at_dose": "10",
        "adequate_dose": True,
        "outcome": "partial",
        "current_episode": True,
    },
]
PREPARATION = {
    "intentions": "To loosen the grip of self-criticism; to feel something other than flatness",
    "concerns": "Losing control during the dose; nausea",
    "set_and_setting": "Eyeshade and a calm playlist; partner drives home; no work the next day",
}
KAP = {
    "in_session": "Stayed with a memory of the family kitchen; breathing cues when anxious",
    "observations": "Calm, tearful at times; MOAA/S 4 at the peak; no distress after 40 minutes",
    "plan": "Integration session in two days",
}
INTEGRATION = {
    "experience": "Described floating above a familiar street and seeing it as new",
    "themes": "Kindness towards a younger self; distance from the inner critic",
    "insights": "The critic's voice is old and not the only one",
    "application": "Noticing the critic in meetings and naming it",
    "homework": "Ten minutes of journalling after waking; a walk each evening",
}
PROCESS_NOTE = {
    "themes": "Countertransference: felt protective; keep watch on pace of disclosure about the father",
}


def load(locations: list[ClinicLocation], today: dt.date, rng: random.Random) -> None:
    for location in locations:
        if location.slug in PATIENTS:
            _course(location, today, rng)


def _staff(location: ClinicLocation, role: str) -> User:
    return User.objects.get(username=f"{role}.{location.slug}")


def _at(location: ClinicLocation, day: dt.date, hour: int) -> dt.datetime:
    return treatment_demo._local(location, day, hour)


def _register(location: ClinicLocation, today: dt.date) -> Patient:
    given, family = PATIENTS[location.slug]
    data: dict[str, Any] = {
        "location": location.slug,
        "given_name": given,
        "family_name": family,
        "date_of_birth": today.replace(year=today.year - 38),
        "sex": "female" if location.slug == "north" else "male",
        "pregnancy_status": "not_pregnant" if location.slug == "north" else "not_applicable",
        "phone": "555-0177",
        "conditions": [{"code": "major_depressive_disorder"}],
        "antidepressant_trials": TRIALS,
        "measurement": {
            "weight_kg": Decimal("68.0"),
            "height_cm": Decimal("171.0"),
            "systolic_mmhg": 118,
            "diastolic_mmhg": 76,
            "heart_rate_bpm": 68,
        },
        "confirm_duplicate": True,
    }
    desk = _staff(location, "frontdesk")
    return do_register_patient(PatientCreate.model_validate(data), actor=desk)


def _session(patient: Patient, kind: str, at: dt.datetime, by: User, **values: Any) -> TherapySession:
    data = inputs.TherapySessionIn.model_validate(
        {"kind": kind, "starts_at": at, "duration_minutes": 50, **values}
    )
    return actions.do_schedule_session(patient, data, actor=by)


def _signed(
    session: TherapySession, template: str, content: dict[str, str], by: User, *, private: bool = False
) -> None:
    data = inputs.NoteIn(template=template, content=content, psychotherapy_note=private)
    note, _ = actions.do_write_note(session, data, actor=by)
    actions.do_sign_note(note, actor=by)


def _dose(
    session: TreatmentSession, day: dt.date, location: ClinicLocation, rng: random.Random
) -> dt.datetime:
    start = _at(location, day, 10)
    desk, nurse = _staff(location, "frontdesk"), _staff(location, "nurse")
    session = treatment_actions.do_check_in(
        session, treatment_inputs.CheckInIn(checked_in_at=start), actor=desk
    )
    treatment_demo._chart(session, "discharged", IV, start, nurse, rng)
    return start


def _course(location: ClinicLocation, today: dt.date, rng: random.Random) -> None:
    prescriber, nurse, therapist = (_staff(location, r) for r in ("prescriber", "nurse", "therapist"))
    registered = today - dt.timedelta(days=REGISTERED_DAYS_AGO)
    with treatment_demo._clock_at(_at(location, registered, 9)):
        patient = _register(location, today)
        team = [
            {"user": prescriber.username, "role": "prescriber"},
            {"user": nurse.username, "role": "nurse"},
            {"user": therapist.username, "role": "therapist"},
        ]
        actions.do_set_care_team(patient, inputs.CareTeamIn.model_validate({"members": team}), actor=nurse)
    first = today - dt.timedelta(days=FIRST_DOSE_DAYS_AGO)
    with treatment_demo._clock_at(_at(location, first - dt.timedelta(days=3), 17)):
        if not treatment_demo._cleared(patient, IV, prescriber, nurse):
            return
        preparation = _session(
            patient, "preparation", _at(location, first - dt.timedelta(days=3), 15), therapist
        )
        _signed(preparation, "preparation", PREPARATION, therapist)
    with treatment_demo._clock_at(_at(location, first, 9)):
        treatment_demo._stock(location, prescriber)  # the lots doses are drawn from (there in the demo)
        plan = _plan(patient, prescriber)
    doses = [s for s in plan.sessions.order_by("number") if s.date < today - dt.timedelta(days=8)]
    for number, dose in enumerate(doses, start=1):
        with treatment_demo._clock_at(_at(location, dose.date, 17)):
            _phq9(patient, _at(location, dose.date, 9), PHQ9_TOTALS[(number - 1) % len(PHQ9_TOTALS)], nurse)
            start = _dose(dose, dose.date, location, rng)
            if number <= KAP_DOSES:
                kap = _session(
                    patient, "kap", start, therapist, dose_session_id=dose.pk, duration_minutes=120
                )
                _signed(kap, "kap", KAP, therapist)
        if number == len(doses):
            break  # the latest dose's integration is not yet held: overdue on the worklist
        after = dose.date + dt.timedelta(days=2)
        with treatment_demo._clock_at(_at(location, after, 17)):
            integration = _session(
                patient,
                "integration",
                _at(location, after, 14),
                therapist,
                dose_session_id=dose.pk,
                mode="video",
            )
            _signed(integration, "integration", INTEGRATION, therapist)
            if number == 1:
                _signed(integration, "integration", PROCESS_NOTE, therapist, private=True)


def _plan(patient: Patient, prescriber: User) -> Any:
    """An IV plan starting today (the actions' clock) with maintenance every two weeks, approved."""
    today = local_today(patient.location)
    days = sorted({today.weekday(), (today.weekday() + 3) % 7})
    data = treatment_inputs.PlanIn(
        modality=IV,
        protocol="iv_twice_weekly_3w",
        dose_mg_per_kg=Decimal("0.5"),
        start_date=today,
        clinic_days=days,
        maintenance_sessions=MAINTENANCE_SESSIONS,
    )
    plan = treatment_actions.do_create_plan(patient, data, actor=prescriber)
    return treatment_actions.do_approve_plan(plan, actor=prescriber)


def _phq9(patient: Patient, at: dt.datetime, total: int, nurse: User) -> None:
    """A PHQ-9 with this total (item 9, self-harm, always 0)."""
    answers = [0] * 9
    for i in range(total):
        answers[i % 8] += 1
    data = AssessmentIn.model_validate({"instrument": "phq9", "answers": answers, "taken_at": at})
    do_record_assessment(patient, data, actor=nurse)
