"""Portal accounts and questionnaire requests for the portal's tests, made through the actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.test import Client
from django.utils import timezone

from ketaclinic.assessments.models import AssessmentRequest, RequestReason
from ketaclinic.patients.models import Patient
from ketaclinic.portal.actions import do_accept_invitation, do_invite_patient
from ketaclinic.portal.inputs import InviteIn, PasswordIn
from ketaclinic.portal.models import PatientAccount

if TYPE_CHECKING:
    from conftest import World

PASSWORD = "correct horse battery staple"


def email_of(patient: Patient) -> str:
    return f"patient-{patient.mrn.lower()}@example.org"


def account_for(world: World, patient: Patient, password: str = PASSWORD) -> PatientAccount:
    """An invited patient who has set their password."""
    nurse = world.user(f"nurse.{patient.location.slug}")
    _, secret = do_invite_patient(patient, InviteIn(email=email_of(patient)), actor=nurse)
    return do_accept_invitation(secret, PasswordIn(password=password, password_again=password))


def signed_in(account: PatientAccount, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post("/portal/sign-in/", {"email": account.email, "password": password})
    assert response.status_code == 302, response.content[:300]
    return client


def request_for(patient: Patient, instrument: str = "phq9", **extra: Any) -> AssessmentRequest:
    now = timezone.now()
    values: dict[str, Any] = {
        "patient": patient,
        "location_id": patient.location_id,
        "instrument": instrument,
        "reason": RequestReason.ONE_OFF,
        "due_at": now,
        "created_at": now,
    }
    values.update(extra)
    return AssessmentRequest.objects.create(**values)
