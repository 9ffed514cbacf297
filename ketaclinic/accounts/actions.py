"""Every write to clinics, staff, roles and API tokens. Each is one transaction with one audit row.

`actor=None` is the server's operator (the command line, the demo loader): shell access is database
access, so no role check applies. A signed-in actor is held to the staff rules here, whatever page or
admin form calls:

- an admin changes roles only at locations they administer, and disables only accounts whose every role is
  at one of them;
- nobody grants themselves a role that reads PHI: they request it, and another admin of the location
  approves it (do_request_role, do_approve_role_request), both recorded;
- disabling an account ends its sessions and revokes its API tokens in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from importlib import import_module
from typing import Any
from zoneinfo import available_timezones

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
from ketaclinic.accounts.models import (
    TOKEN_NAME_MAX_LENGTH,
    ApiToken,
    ClinicLocation,
    ClinicNetwork,
    Membership,
    RequestStatus,
    RoleRequest,
    User,
)
from ketaclinic.accounts.permissions import Role, reads_phi
from ketaclinic.accounts.queries import administers, manages, manages_wholly
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.errors import Forbidden, InvalidInput

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
    network: ClinicNetwork,
    name: str,
    slug: str,
    *,
    time_zone: str = "UTC",
    actor: Any = None,
    origin: Origin = SYSTEM,
) -> ClinicLocation:
    if time_zone not in available_timezones():
        raise ValueError(f"time_zone: {time_zone!r} is not an IANA time zone name")
    location = ClinicLocation.objects.create(network=network, name=name, slug=slug, time_zone=time_zone)
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


def _signed_in(actor: Any) -> bool:
    return actor is not None and bool(actor.is_authenticated)


class SecondAdminNeeded(Forbidden):
    """An admin asked to grant themselves a role that reads PHI: that takes a request and a second admin."""


def check_grant(user: User, location: ClinicLocation, role: str, *, actor: Any) -> None:
    """Why `actor` may not give `user` this role here, as InvalidInput (bad choice) or Forbidden (not theirs
    to give); nothing when they may. The Django admin's form calls it to show the reason on the form."""
    if role not in Role.values:
        raise InvalidInput({"role": f"'{role}' is not a role"})
    if user.network_id != location.network_id:
        raise InvalidInput({"location": "the location belongs to another clinic network"})
    if not user.is_active:
        raise InvalidInput({"user": "the account is disabled"})
    if not _signed_in(actor):
        return
    if not administers(actor, location.pk):
        raise Forbidden("you can grant roles only at locations you administer")
    if actor.pk == user.pk and reads_phi(role):
        raise SecondAdminNeeded(
            "a role that reads patient records needs a second admin: request it, and another admin of "
            "this location approves it"
        )


@transaction.atomic
def do_grant_role(
    user: User, location: ClinicLocation, role: str, *, actor: Any = None, origin: Origin = SYSTEM
) -> Membership:
    check_grant(user, location, role, actor=actor)
    granted_by = actor if _signed_in(actor) else None
    membership, created = Membership.objects.get_or_create(
        user=user, location=location, role=role, defaults={"granted_by": granted_by}
    )
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
def do_request_role(
    location: ClinicLocation, role: str, *, actor: Any, origin: Origin = SYSTEM
) -> RoleRequest:
    """An admin asks for a role that reads PHI at a location they administer; it waits for another admin.

    Asking again while a request waits returns the waiting one.
    """
    if role not in Role.values:
        raise InvalidInput({"role": f"'{role}' is not a role"})
    if not reads_phi(role):
        raise InvalidInput({"role": "only roles that read patient records need a second admin"})
    if not _signed_in(actor) or not administers(actor, location.pk):
        raise Forbidden("you can request roles only at locations you administer")
    if Membership.objects.filter(user=actor, location=location, role=role).exists():
        raise InvalidInput({"role": "you already hold this role here"})
    waiting = RoleRequest.objects.filter(
        user=actor, location=location, role=role, status=RequestStatus.PENDING
    ).first()
    if waiting is not None:
        return waiting
    request = RoleRequest.objects.create(user=actor, location=location, role=role)
    record(
        Action.ROLE_REQUEST,
        actor=actor,
        origin=origin,
        obj=request,
        location_id=location.pk,
        changed_fields=["role"],
    )
    return request


def _pending(request: RoleRequest) -> RoleRequest:
    locked = RoleRequest.objects.select_for_update().select_related("user", "location").get(pk=request.pk)
    if locked.status != RequestStatus.PENDING:
        raise InvalidInput({"request": "this request has already been decided"})
    return locked


@transaction.atomic
def do_approve_role_request(request: RoleRequest, *, actor: Any, origin: Origin = SYSTEM) -> Membership:
    """A second admin of the location grants the requested role: the role records requester and approver."""
    request = _pending(request)
    if not _signed_in(actor) or not administers(actor, request.location_id):
        raise Forbidden("only an admin of this location can approve")
    if actor.pk == request.user_id:
        raise Forbidden("another admin of this location must approve your request")
    if not request.user.is_active:
        raise InvalidInput({"request": "the requester's account is disabled"})
    if not administers(request.user, request.location_id):
        raise InvalidInput({"request": "the requester no longer administers this location"})
    membership, created = Membership.objects.get_or_create(
        user=request.user,
        location=request.location,
        role=request.role,
        defaults={"granted_by": request.user, "approved_by": actor},
    )
    RoleRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.APPROVED, decided_by=actor, decided_at=timezone.now()
    )
    if created:
        _sync_staff_flag(request.user)
        forget_grants(request.user)
    record(
        Action.ROLE_APPROVE,
        actor=actor,
        origin=origin,
        obj=request,
        location_id=request.location_id,
        changed_fields=["role", "status"],
    )
    return membership


@transaction.atomic
def do_decline_role_request(request: RoleRequest, *, actor: Any, origin: Origin = SYSTEM) -> None:
    """Another admin of the location declines the request, or the requester withdraws it."""
    request = _pending(request)
    if not _signed_in(actor) or not administers(actor, request.location_id):
        raise Forbidden("only an admin of this location can decline")
    RoleRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.DECLINED, decided_by=actor, decided_at=timezone.now()
    )
    record(
        Action.ROLE_DECLINE,
        actor=actor,
        origin=origin,
        obj=request,
        location_id=request.location_id,
        changed_fields=["status"],
    )


@transaction.atomic
def do_revoke_role(membership: Membership, *, actor: Any = None, origin: Origin = SYSTEM) -> None:
    if _signed_in(actor) and not administers(actor, membership.location_id):
        raise Forbidden("you can revoke roles only at locations you administer")
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


@dataclass(frozen=True, slots=True)
class Disabled:
    sessions_ended: int
    tokens_revoked: int


@transaction.atomic
def do_disable_staff(user: User, *, actor: Any = None, origin: Origin = SYSTEM) -> Disabled:
    """Disable an account for good: its sessions end and its API tokens are revoked at once.

    The account is kept (never deleted) so that audit rows keep naming who did what.
    """
    if _signed_in(actor):
        if actor.pk == user.pk:
            raise Forbidden("you cannot disable your own account; ask another admin")
        if not manages_wholly(actor, user):
            raise Forbidden("the account holds roles at locations you do not administer")
    if not User.objects.select_for_update().get(pk=user.pk).is_active:
        raise InvalidInput({"user": "the account is already disabled"})
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    now = timezone.now()
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    RoleRequest.objects.filter(user=user, status=RequestStatus.PENDING).update(
        status=RequestStatus.DECLINED, decided_by=actor if _signed_in(actor) else None, decided_at=now
    )
    sessions = _end_sessions(user)
    forget_grants(user)
    record(Action.STAFF_DISABLE, actor=actor, origin=origin, obj=user, changed_fields=["is_active"])
    return Disabled(sessions_ended=sessions, tokens_revoked=tokens)


def _token_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput({"name": "name the token after what uses it, e.g. 'lab results import'"})
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise InvalidInput({"name": f"use at most {TOKEN_NAME_MAX_LENGTH} characters"})
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise InvalidInput({"name": "use letters, digits, spaces and punctuation only"})
    return name


@transaction.atomic
def do_create_api_token(
    user: User, *, name: str, actor: Any = None, origin: Origin = SYSTEM
) -> tuple[ApiToken, str]:
    """A new named bearer token that expires after the clinic's KETACLINIC_API_TOKEN_DAYS.

    The secret is returned once and only its digest is kept.
    """
    name = _token_name(name)
    if not user.is_active:
        raise InvalidInput({"username": "the account is disabled"})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(secret),
        expires_at=timezone.now() + timedelta(days=settings.KETACLINIC_API_TOKEN_DAYS),
    )
    record(Action.TOKEN_CREATE, actor=actor, origin=origin, obj=token, changed_fields=["name", "expires_at"])
    return token, secret


def _check_token_owner(user: User, actor: Any) -> None:
    if _signed_in(actor) and actor.pk != user.pk and not manages(actor, user):
        raise Forbidden("you can revoke tokens only of staff at locations you administer")


@transaction.atomic
def do_revoke_api_token(token: ApiToken, *, actor: Any = None, origin: Origin = SYSTEM) -> None:
    _check_token_owner(token.user, actor)
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not revoked:
        raise InvalidInput({"token": "the token is already revoked"})
    record(Action.TOKEN_REVOKE, actor=actor, origin=origin, obj=token, changed_fields=["revoked_at"])


@transaction.atomic
def do_revoke_api_tokens(user: User, *, actor: Any = None, origin: Origin = SYSTEM) -> int:
    """Revoke every token of an account at once (a lost laptop, a leaked script); returns how many."""
    _check_token_owner(user, actor)
    count = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record(Action.TOKEN_REVOKE_ALL, actor=actor, origin=origin, obj=user, changed_fields=["revoked_at"])
    return count


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


def _end_sessions(user: User) -> int:
    """Delete the user's sessions, signed in or waiting for their code: a reset or a disable takes effect
    at once. Returns how many ended.

    A session row is keyed by a random key, with the user's id inside its signed data, so each live row
    is decoded: 5,000 live sessions took 0.75 s on SQLite (the shared 2-core machine, under load), and a
    clinic has about one live session per member of staff signed in within SESSION_COOKIE_AGE.
    """
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
    return Session.objects.filter(session_key__in=ended).delete()[0]
