"""Patients with a chosen history, screened, acknowledged, enrolled and consented through the actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.consent import actions as consent_actions
from ketaclinic.consent.inputs import ConsentIn, DocumentIn
from ketaclinic.consent.models import Consent, ConsentDocument
from ketaclinic.patients.actions import do_add_history_entry, do_register_patient
from ketaclinic.patients.inputs import ConditionIn, PatientCreate
from ketaclinic.patients.models import Patient
from ketaclinic.screening import actions
from ketaclinic.screening.inputs import AcknowledgementIn, RemsEnrolmentIn, ScreeningIn
from ketaclinic.screening.models import Screening

# A 1x1 transparent PNG, as a canvas's toDataURL() gives it.
SIGNATURE = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
TRIAL = {
    "drug": "escitalopram",
    "max_daily_dose_mg": "20",
    "weeks_at_dose": "8",
    "adequate_dose": True,
    "outcome": "none",
    "current_episode": True,
}
TRIAL_2 = {**TRIAL, "drug": "sertraline", "max_daily_dose_mg": "200"}


def user(name: str) -> User:
    return User.objects.get(username=name)


def patient(
    location: str = "north",
    *,
    conditions: tuple[str, ...] = ("major_depressive_disorder",),
    given: str = "Zoë",
    family: str = "O'Brien-Hale",
    age: int = 40,
    **extra: Any,
) -> Patient:
    born = timezone.localdate() - dt.timedelta(days=age * 365 + 30)
    data = PatientCreate.model_validate(
        {
            "location": location,
            "given_name": given,
            "family_name": family,
            "date_of_birth": born,
            "sex": "male",
            "conditions": [{"code": c} for c in conditions],
            "antidepressant_trials": [TRIAL, TRIAL_2],
            "measurement": {"systolic_mmhg": 120, "diastolic_mmhg": 78, "heart_rate_bpm": 70},
            "confirm_duplicate": True,
            **extra,
        }
    )
    return do_register_patient(data, actor=user(f"frontdesk.{location}"))


def add_condition(p: Patient, code: str) -> None:
    do_add_history_entry(p, ConditionIn(code=code), actor=user(f"frontdesk.{p.location.slug}"))


def screen(p: Patient, modality: str) -> Screening:
    return actions.do_run_screening(
        p, ScreeningIn(modality=modality), actor=user(f"prescriber.{p.location.slug}")
    )


def acknowledge_all(s: Screening) -> None:
    for f in s.findings:
        if f["level"] == "acknowledge":
            actions.do_acknowledge(
                s,
                AcknowledgementIn(rule_id=f["rule_id"], reason="Discussed with the patient."),
                actor=user(f"prescriber.{s.patient.location.slug}"),
            )


def enrol(p: Patient) -> None:
    actions.do_record_rems_enrolment(
        p,
        RemsEnrolmentIn(enrolled_on=timezone.localdate(), rems_patient_id="SPR-0001"),
        actor=user(f"prescriber.{p.location.slug}"),
    )


def document(location: str, modality: str, title: str = "Consent") -> ConsentDocument:
    return consent_actions.do_publish_document(
        ClinicLocation.objects.get(slug=location),
        DocumentIn(modality=modality, title=title, body="What the treatment is, its risks, and after."),
        actor=user(f"admin.{location}"),
    )


def sign(p: Patient, doc: ConsentDocument, signature: str | None = None) -> Consent:
    return consent_actions.do_sign_consent(
        p,
        ConsentIn(document_id=doc.pk, signed_name=f"{p.given_name} {p.family_name}", signature_png=signature),
        actor=user(f"nurse.{p.location.slug}"),
    )
