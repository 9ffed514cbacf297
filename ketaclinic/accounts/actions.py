"""Every write to clinics, staff, roles and API tokens. Each is one transaction with one audit row."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketaclinic.accounts import mfa
from ketaclinic.accounts.access import forget_grants
from ketaclinic.accounts.models import ApiToken, ClinicLocation, ClinicNetwork, Membership, User
from ketaclinic.accounts.permissions import Role
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.errors import InvalidInput

TOKEN_PREFIX = "kc_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def do_create_network(name: str, slug: str, *, actor: Any = None, origin: Origin = SYSTEM) -> ClinicNetwork:
    network = ClinicNetwork.objects.create(name=name, slug=slug)
    record(Action.LOCATION_CREATE, actor=actor, origin=origin, obj=network)
    return network


@transaction.atomic
def do_create_location(
    network: ClinicNetwork, name: str, slug: str, *, actor: Any = None, origin: Origin = SYSTEM
) -> ClinicLocation:
    location = ClinicLocation.objects.create(network=network, name=name, slug=slug)
    record(Action.LOCATION_CREATE, actor=actor, origin=origin, obj=location, location_id=location.pk)
    return location


@transaction.atomic
def do_create_staff(
    network: ClinicNetwork,
    username: str,
    password: str,
    *,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    actor: Any = None,
    origin: Origin = SYSTEM,
    password_hash: str | None = None,
) -> User:
    """Create a staff account. `password_hash` lets the demo loader reuse one slow hash for every persona."""
    if User.objects.filter(username__iexact=username).exists():
        raise InvalidInput({"username": "this username is taken (usernames are never reused)"})
    user = User(username=username, first_name=first_name, last_name=last_name, email=email, network=network)
    if password_hash:
        user.password = password_hash
    else:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise InvalidInput({"password": " ".join(exc.messages)}) from exc
        user.set_password(password)
    user.save()
    record(Action.STAFF_CREATE, actor=actor, origin=origin, obj=user, changed_fields=["username", "network"])
    return user


def _sync_staff_flag(user: User) -> None:
    """Only clinic admins reach the Django admin site."""
    is_admin = Membership.objects.filter(user=user, role=Role.CLINIC_ADMIN).exists()
    if user.is_staff != is_admin:
        User.objects.filter(pk=user.pk).update(is_staff=is_admin)
        user.is_staff = is_admin


@transaction.atomic
def do_grant_role(
    user: User, location: ClinicLocation, role: str, *, actor: Any = None, origin: Origin = SYSTEM
) -> Membership:
    if role not in Role.values:
        raise InvalidInput({"role": f"'{role}' is not a role"})
    if user.network_id != location.network_id:
        raise InvalidInput({"location": "the location belongs to another clinic network"})
    membership, created = Membership.objects.get_or_create(user=user, location=location, role=role)
    if created:
        _sync_staff_flag(user)
        forget_grants(user)
        record(
            Action.ROLE_GRANT,
            actor=actor,
            origin=origin,
            obj=membership,
            location_id=location.pk,
            changed_fields=["role"],
        )
    return membership


@transaction.atomic
def do_revoke_role(membership: Membership, *, actor: Any = None, origin: Origin = SYSTEM) -> None:
    user, location_id = membership.user, membership.location_id
    record(
        Action.ROLE_REVOKE,
        actor=actor,
        origin=origin,
        obj=membership,
        location_id=location_id,
        changed_fields=["role"],
    )
    membership.delete()
    _sync_staff_flag(user)
    forget_grants(user)


@transaction.atomic
def do_disable_staff(user: User, *, actor: Any = None, origin: Origin = SYSTEM) -> None:
    """Disable an account for good: sessions end at the next request, tokens are revoked."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record(Action.STAFF_DISABLE, actor=actor, origin=origin, obj=user, changed_fields=["is_active"])


@transaction.atomic
def do_create_api_token(user: User, *, actor: Any = None, origin: Origin = SYSTEM) -> tuple[ApiToken, str]:
    """A new bearer token; the secret is returned once and only its digest is kept."""
    if not user.is_active:
        raise InvalidInput({"username": "the account is disabled"})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, prefix=secret[: len(TOKEN_PREFIX) + 6], digest=token_digest(secret)
    )
    record(Action.TOKEN_CREATE, actor=actor, origin=origin, obj=token)
    return token, secret


@transaction.atomic
def do_revoke_api_token(token: ApiToken, *, actor: Any = None, origin: Origin = SYSTEM) -> None:
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    record(Action.TOKEN_REVOKE, actor=actor, origin=origin, obj=token)


# Second factors (accounts/mfa.py) ----------------------------------------------------------------------


@transaction.atomic
def do_enrol_mfa(
    user: User, key: str, *, confirmed_step: int, actor: Any = None, origin: Origin = SYSTEM
) -> list[str]:
    """Keep a confirmed authenticator and give ten new recovery codes, returned once (shown once)."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one enrolment at a time per user
    if mfa.has_authenticator(user):
        raise InvalidInput({"code": "an authenticator is already enrolled; a clinic admin can reset it"})
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    # The code that confirmed the key is spent: last_t refuses it at the next sign-in.
    TOTPDevice.objects.create(
        user=user, name=mfa.AUTHENTICATOR_NAME, key=key, confirmed=True, last_t=confirmed_step
    )
    recovery = StaticDevice.objects.create(user=user, name=mfa.RECOVERY_NAME, confirmed=True)
    codes = mfa.recovery_codes()
    StaticToken.objects.bulk_create(
        StaticToken(device=recovery, token=mfa.recovery_digest(code)) for code in codes
    )
    record(
        Action.MFA_ENROL,
        actor=actor,
        origin=origin,
        obj=user,
        changed_fields=["authenticator", "recovery_codes"],
    )
    return codes


class CodeResult(StrEnum):
    AUTHENTICATOR = "authenticator"
    RECOVERY_CODE = "recovery_code"
    WRONG = "wrong"
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class CodeCheck:
    result: CodeResult
    wait_seconds: int = 0

    @property
    def ok(self) -> bool:
        return self.result in (CodeResult.AUTHENTICATOR, CodeResult.RECOVERY_CODE)


@transaction.atomic
def do_check_second_factor(user: User, code: str, *, origin: Origin = SYSTEM) -> CodeCheck:
    """Check a code from the authenticator or a recovery code (spent on use), with one audit row.

    The device row is locked first, so concurrent guesses are checked one after another against
    django-otp's throttle (each wrong code doubles the wait before the next). Wrong and throttled codes
    are audited as failures, and count toward the sign-in lockout like wrong passwords.
    """
    code = mfa.normalise(code)
    device: TOTPDevice | StaticDevice | None
    if mfa.looks_like_totp(code):
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        passed, token = CodeResult.AUTHENTICATOR, code
    else:  # recovery codes are stored, and so matched, as their digests
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        passed, token = CodeResult.RECOVERY_CODE, mfa.recovery_digest(code)
    if device is not None:
        allowed, why = device.verify_is_allowed()
        if not allowed:
            wait = (why or {}).get("locked_until")
            seconds = max(1, int((wait - timezone.now()).total_seconds() + 0.999)) if wait else 1
            record(Action.MFA_FAILED, actor=user, origin=origin, outcome=Outcome.DENIED, obj=user)
            return CodeCheck(CodeResult.THROTTLED, seconds)
        if device.verify_token(token):
            action = Action.MFA_VERIFIED if passed is CodeResult.AUTHENTICATOR else Action.MFA_RECOVERY_USED
            record(action, actor=user, origin=origin, obj=user)
            return CodeCheck(passed)
    record(Action.MFA_FAILED, actor=user, origin=origin, outcome=Outcome.FAILURE, obj=user)
    return CodeCheck(CodeResult.WRONG)


@transaction.atomic
def do_reset_mfa(
    user: User, *, actor: Any = None, origin: Origin = SYSTEM, location_id: int | None = None
) -> None:
    """Remove a staff member's authenticator and recovery codes, and end their sessions.

    They sign in again with their password; if their role requires a second factor they enrol a new
    authenticator before reaching any page.
    """
    removed = [
        *(["authenticator"] if TOTPDevice.objects.filter(user=user).delete()[0] else []),
        *(["recovery_codes"] if StaticDevice.objects.filter(user=user).delete()[0] else []),
    ]
    _end_sessions(user)
    if location_id is None:
        location_id = Membership.objects.filter(user=user).values_list("location_id", flat=True).first()
    record(
        Action.MFA_RESET,
        actor=actor,
        origin=origin,
        obj=user,
        location_id=location_id,
        changed_fields=removed,
    )


def _end_sessions(user: User) -> None:
    """Delete the user's sessions, signed in or waiting for their code: a reset takes effect at once."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    mine = str(user.pk)
    ended = []
    for key, data in Session.objects.filter(expire_date__gt=timezone.now()).values_list(
        "session_key", "session_data"
    ):
        decoded = store.decode(data)
        waiting = decoded.get(mfa.PENDING)
        if decoded.get(SESSION_KEY) == mine or (isinstance(waiting, dict) and waiting.get("user") == user.pk):
            ended.append(key)
    Session.objects.filter(session_key__in=ended).delete()
