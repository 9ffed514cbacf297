"""Patient portal accounts and their invitations. Tables and constraints only; writes go through actions.py.

A patient account is its own kind of account, apart from the staff users (accounts.User): it is never a
Django auth user, so no staff page, API route or admin screen can be reached with it, and a staff sign-in
never opens the portal (portal/auth.py). It belongs to exactly one patient, signs in with an e-mail address
and a password (stored as Django's password hash), and is audited in the trail's own column
(audit.AuditEvent.patient_account).

An invitation is a single-use, expiring link: only the SHA-256 of its secret is stored, and the link holds
nothing but the secret (no patient id, no name).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

EMAIL_MAX = 254


class PatientAccount(models.Model):
    # Marks the actor of an audit row as a patient account (audit.actions.record).
    is_patient_account = True

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="portal_account"
    )
    # The sign-in name: stored as typed (trimmed), compared case-folded through email_key.
    email = models.EmailField(max_length=EMAIL_MAX)
    email_key = models.CharField(max_length=EMAIL_MAX, unique=True)
    # Django's password hash; empty until the patient sets a password from an invitation.
    password = models.CharField(max_length=128, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"patient portal account {self.pk}"


class PortalInvitation(models.Model):
    account = models.ForeignKey(PatientAccount, on_delete=models.PROTECT, related_name="invitations")
    # sha256 of the link's secret; the secret itself is only in the link shown or sent.
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # A newer invitation of the same account replaces this one.
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(revoked_at__isnull=True),
                name="portal_invitation_one_end",
            ),
        ]

    def __str__(self) -> str:
        return f"portal invitation {self.pk}"


PREPARATION_TEXT_MAX = 2000


class PreparationText(models.Model):
    """A location's own preparation instructions for a modality the reference gives no verified preparation
    facts for (IV and IM ketamine): shown to the patient before each such session. Clinic policy, kept by the
    location's clinic admins; not PHI."""

    location = models.ForeignKey("accounts.ClinicLocation", on_delete=models.PROTECT, related_name="+")
    modality = models.CharField(max_length=20)
    text = models.TextField(max_length=PREPARATION_TEXT_MAX)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "modality"], name="portal_preparation_one_per_modality"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="portal_preparation_text_given"),
        ]

    def __str__(self) -> str:
        return f"preparation text for {self.modality} at {self.location_id}"
