"""Every write to clinics, staff, roles and API tokens. Each is one transaction with one audit row."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.access import forget_grants
from ketaclinic.accounts.models import ApiToken, ClinicLocation, ClinicNetwork, Membership, User
from ketaclinic.accounts.permissions import Role
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
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
