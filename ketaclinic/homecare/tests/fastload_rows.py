"""Rows of every home-program table for ketaclinic/tests/test_fastload.py, nulls and values both present:
a program, a dose with its check-in, a dose whose check-in went missing, and the hold's release."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.homecare import actions
from ketaclinic.homecare.inputs import HomeProgramIn, ReleaseIn
from ketaclinic.homecare.tests.helpers import checkin, pre_dose, taken
from ketaclinic.patients.models import Patient
from ketaclinic.portal.actions import do_accept_invitation, do_invite_patient
from ketaclinic.portal.inputs import InviteIn, PasswordIn


def fill(patient: Patient) -> None:
    slug = patient.location.slug
    prescriber = User.objects.get(username=f"prescriber.{slug}")
    nurse = User.objects.get(username=f"nurse.{slug}")
    now = timezone.now()
    start = local_date(patient.location, now) - dt.timedelta(days=10)
    program = actions.do_prescribe_home_program(
        patient,
        HomeProgramIn.model_validate(
            {"route": "sublingual", "dose_mg": "100", "min_days_between_doses": 3, "start_date": str(start)}
        ),
        actor=prescriber,
    )
    _, secret = do_invite_patient(
        patient, InviteIn(email=f"fill-{patient.mrn.lower()}@example.org"), actor=nurse
    )
    password = "correct horse battery staple"
    account = do_accept_invitation(secret, PasswordIn(password=password, password_again=password))
    first = now - dt.timedelta(days=8)
    dose = taken(account, pre_dose(account, first), first)
    checkin(account, dose, first + dt.timedelta(hours=3))
    second = now - dt.timedelta(days=4)
    missed = taken(account, pre_dose(account, second), second)
    actions.do_mark_checkin_missed(missed, now=second + dt.timedelta(hours=25))
    actions.do_release_hold(program, ReleaseIn(reason="Spoke with the patient"), actor=prescriber)
