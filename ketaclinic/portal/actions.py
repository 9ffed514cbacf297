"""Writes of the patient portal: invitations, setting a password, signing in and out.

Each do_* runs in one transaction and writes one audit row. Rows a patient causes name their portal account
(audit.AuditEvent.patient_account); rows staff cause name the staff user.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.errors import Forbidden, InvalidInput, NotFound, VersionConflict
from ketaclinic.patients.models import Patient
from ketaclinic.portal.inputs import InviteIn, PasswordIn, PreparationIn, email_key
from ketaclinic.portal.models import PatientAccount, PortalInvitation, PreparationText


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def do_invite_patient(
    patient: Patient, data: InviteIn, *, actor: Any, origin: Origin = SYSTEM
) -> tuple[PortalInvitation, str]:
    """Create (or re-address) the patient's portal account and a new single-use invitation.

    Returns the invitation and its secret; only the secret's hash is stored. An earlier open invitation of
    the account is revoked, so only the newest link works.
    """
    if not can(actor, Perm.PORTAL_INVITE, patient.location_id):
        raise Forbidden
    if patient.entered_in_error_at is not None:
        raise NotFound
    now = timezone.now()
    key = email_key(data.email)
    taken = PatientAccount.objects.filter(email_key=key).exclude(patient=patient).exists()
    if taken:
        raise InvalidInput({"email": "another patient's portal account uses this e-mail address"})
    account = PatientAccount.objects.select_for_update().filter(patient=patient).first()
    changed = ["invitation"]
    if account is None:
        account = PatientAccount.objects.create(
            patient=patient, email=data.email, email_key=key, created_at=now, created_by=actor
        )
        changed.append("account")
    elif account.email_key != key:
        account.email, account.email_key = data.email, key
        account.version += 1
        account.save(update_fields=["email", "email_key", "version"])
        changed.append("email")
    PortalInvitation.objects.filter(account=account, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    secret = secrets.token_urlsafe(32)
    invitation = PortalInvitation.objects.create(
        account=account,
        token_hash=token_hash(secret),
        expires_at=now + timedelta(hours=settings.KETACLINIC_PORTAL_INVITATION_HOURS),
        created_at=now,
        created_by=actor,
    )
    record(
        Action.PORTAL_INVITE,
        actor=actor,
        origin=origin,
        obj=invitation,
        patient=patient,
        changed_fields=changed,
    )
    return invitation, secret


def open_invitation(secret: str) -> PortalInvitation:
    """The invitation a link's secret names, if it can still be used; NotFound otherwise (never says why)."""
    if not secret or len(secret) > 100:
        raise NotFound
    invitation = (
        PortalInvitation.objects.select_related("account")
        .filter(token_hash=token_hash(secret), used_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is None or invitation.expires_at <= timezone.now() or not invitation.account.is_active:
        raise NotFound
    return invitation


@transaction.atomic
def do_accept_invitation(secret: str, data: PasswordIn, *, origin: Origin = SYSTEM) -> PatientAccount:
    """Set the account's password from an invitation and use the invitation up (once, even if sent twice)."""
    found = open_invitation(secret)
    invitation = PortalInvitation.objects.select_for_update().get(pk=found.pk)
    if invitation.used_at is not None or invitation.revoked_at is not None:
        raise NotFound
    account = PatientAccount.objects.select_for_update().get(pk=invitation.account_id)
    if data.password != data.password_again:
        raise InvalidInput({"password_again": "the two passwords differ"})
    try:
        validate_password(data.password)
    except DjangoValidationError as exc:
        raise InvalidInput({"password": " ".join(exc.messages)}) from exc
    now = timezone.now()
    invitation.used_at = now
    invitation.save(update_fields=["used_at"])
    account.password = make_password(data.password)
    account.activated_at = account.activated_at or now
    account.version += 1
    account.save(update_fields=["password", "activated_at", "version"])
    record(
        Action.PORTAL_ACTIVATE,
        actor=account,
        origin=origin,
        obj=invitation,
        patient=account.patient,
        changed_fields=["password"],
    )
    return account


@transaction.atomic
def do_portal_sign_in(account: PatientAccount, *, origin: Origin = SYSTEM) -> PatientAccount:
    """A patient signed in with the right password: stamp it and audit it."""
    account.last_login_at = timezone.now()
    account.save(update_fields=["last_login_at"])
    record(Action.PORTAL_LOGIN, actor=account, origin=origin, patient=account.patient)
    return account


@transaction.atomic
def do_set_preparation_text(
    location: ClinicLocation, data: PreparationIn, *, actor: Any, origin: Origin = SYSTEM
) -> PreparationText:
    """Set the location's preparation instructions for a modality; a stale version is refused."""
    if not can(actor, Perm.CLINIC_MANAGE, location.pk):
        raise Forbidden
    now = timezone.now()
    current = (
        PreparationText.objects.select_for_update().filter(location=location, modality=data.modality).first()
    )
    if (current.version if current else 0) != data.version:
        raise VersionConflict(current.version if current else 0)
    if current is None:
        current = PreparationText.objects.create(
            location=location, modality=data.modality, text=data.text, updated_at=now, updated_by=actor
        )
    else:
        current.text, current.updated_at, current.updated_by = data.text, now, actor
        current.version += 1
        current.save(update_fields=["text", "updated_at", "updated_by", "version"])
    record(
        Action.PORTAL_PREPARATION,
        actor=actor,
        origin=origin,
        obj=current,
        location_id=location.pk,
        changed_fields=["text"],
    )
    return current
