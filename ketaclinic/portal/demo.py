"""Demo portal account: one patient of the first location, invited by its front desk and with a password set,
through the actions. The patient chosen has an upcoming esketamine session (so the portal shows its
preparation) and, where the demo has any, scored questionnaires. The small test networks have no plans,
so they get no portal account."""

from __future__ import annotations

from django.db.models import Count, Q

from ketaclinic.accounts.models import ClinicNetwork, User
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.patients.models import Patient
from ketaclinic.portal.actions import do_accept_invitation, do_invite_patient
from ketaclinic.portal.inputs import InviteIn, PasswordIn
from ketaclinic.portal.models import PatientAccount
from ketaclinic.treatment.models import PlanModality, SessionStatus

EMAIL = "patient@demo.ketaclinic.test"
# Demo only (a known password, as the staff personas have): long enough for the password rules.
PASSWORD = "ketaclinic-demo-patient"


def load(network: ClinicNetwork) -> PatientAccount | None:
    location = network.locations.order_by("slug").first()
    if location is None:
        return None
    upcoming = Q(
        treatment_sessions__date__gte=local_today(location),
        treatment_sessions__status=SessionStatus.SCHEDULED,
        treatment_sessions__plan__modality=PlanModality.ESKETAMINE_NASAL,
    )
    patient = (
        Patient.objects.filter(upcoming, location=location, entered_in_error_at__isnull=True)
        .annotate(scores=Count("assessments", distinct=True))
        .order_by("-scores", "mrn")
        .first()
    )
    if patient is None:
        return None
    desk = User.objects.get(username=f"frontdesk.{location.slug}")
    _, secret = do_invite_patient(patient, InviteIn(email=EMAIL), actor=desk)
    return do_accept_invitation(secret, PasswordIn(password=PASSWORD, password_again=PASSWORD))


def login() -> str:
    """The line `load_demo` prints beside the staff logins ('' when the demo has no portal patient)."""
    if not PatientAccount.objects.filter(email_key=EMAIL).exists():
        return ""
    return f"Patient portal demo login at /portal/: {EMAIL} (password '{PASSWORD}')"
