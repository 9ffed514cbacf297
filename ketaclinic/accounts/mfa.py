"""Second factors at sign-in (HIPAA 164.312(d)): who needs one, and how far a session has come.

A staff member's second factor is an authenticator app (a django-otp TOTPDevice, RFC 6238) with ten
single-use recovery codes beside it (one StaticDevice). Signing in is two steps. After a right password
(accounts/views.py) a user with an authenticator, or whose role requires one, is not signed in yet: the
session only remembers whose password was right (PENDING) until the code is checked or the authenticator
enrolled (mfa_views.py). Then the session is marked PASSED for that user, and MfaMiddleware decides every
later request from the session alone, without a query (docs/performance.md). A session signed in any other
way (the admin site's own form, a session older than this policy) is checked once by the middleware and
held on the code or enrolment page until it is through.

Which roles must use a second factor is the clinic's policy: KETACLINIC_MFA_REQUIRED_ROLES, clinic admins
and prescribers unless the clinic says otherwise. Anyone may enrol, and anyone enrolled is asked for a code.
"""

from __future__ import annotations

import os
import time
from base64 import b32encode
from binascii import unhexlify
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth import logout
from django.core.checks import CheckMessage, Error, register
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.crypto import salted_hmac
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from ketaclinic.accounts.access import location_ids
from ketaclinic.accounts.models import Membership, User
from ketaclinic.accounts.permissions import Perm, Role

PENDING = "mfa_pending"
PASSED = "mfa_passed"
ENROL_KEY = "mfa_enrol_key"
NOTICE = "mfa_notice"
# How long a right password waits for its code or enrolment before the user starts again.
PENDING_SECONDS = 600
RECOVERY_CODES = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
# A code from the app is six digits; a recovery code twelve letters and digits (60 random bits), of which
# the database keeps only a keyed digest (ASVS 2.6.2): a stolen copy of the table gives no code away.
TOTP_DIGITS = 6
RECOVERY_CHARS = 12


class Step(StrEnum):
    """What a user must do after their password: give a code, enrol an authenticator, or nothing."""

    VERIFY = "verify"
    ENROL = "enrol"
    NONE = "none"


def required_roles() -> frozenset[str]:
    return frozenset(settings.KETACLINIC_MFA_REQUIRED_ROLES)


def is_required(user: User) -> bool:
    """The clinic's policy asks a second factor of this user for one of the roles they hold."""
    roles = required_roles()
    return bool(roles) and Membership.objects.filter(user=user, role__in=roles).exists()


def authenticator(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def next_step(user: User) -> Step:
    if has_authenticator(user):
        return Step.VERIFY
    if is_required(user):
        return Step.ENROL
    return Step.NONE


# The session ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pending:
    """A right password waiting for its second step; the session is not signed in meanwhile."""

    user: User
    next_url: str
    backend: str


def start(request: HttpRequest, user: User, next_url: str) -> HttpResponse | None:
    """After a right password: None to sign in now, or the page of the second step.

    The second step keeps the user signed out: a session whose password was right but whose code was not
    given reaches no page but the code and enrolment pages (and the admin site sees no user at all).
    """
    step = next_step(user)
    if step is Step.NONE:
        mark_passed(request, user, second_factor=False)
        return None
    if request.user.is_authenticated:
        logout(request)  # someone else's session in this browser ends here
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "since": time.time(),
        "next": next_url,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
    }
    return redirect("mfa:verify" if step is Step.VERIFY else "mfa:enrol")


def pending(request: HttpRequest) -> Pending | None:
    data = request.session.get(PENDING)
    if not isinstance(data, dict) or time.time() - float(data.get("since", 0)) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=int(data.get("user", 0)), is_active=True).first()
    if user is None:
        return None
    return Pending(user, str(data.get("next", "")), str(data.get("backend", "")))


def forget_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING, None)
    request.session.pop(ENROL_KEY, None)


def mark_passed(request: HttpRequest, user: User, *, second_factor: bool) -> None:
    request.session[PASSED] = {"user": user.pk, "second_factor": second_factor}


def passed(request: HttpRequest, user: Any) -> bool:
    """This session went through the sign-in steps for this user (no query: read from the session)."""
    data = request.session.get(PASSED)
    return isinstance(data, dict) and data.get("user") == user.pk


def used_second_factor(request: HttpRequest) -> bool:
    data = request.session.get(PASSED)
    return isinstance(data, dict) and bool(data.get("second_factor"))


# Enrolment --------------------------------------------------------------------------------------------


def enrolment_key(request: HttpRequest, user: User) -> str:
    """The secret being enrolled (hex), kept in the session until the first code confirms it."""
    data = request.session.get(ENROL_KEY)
    if isinstance(data, dict) and data.get("user") == user.pk and isinstance(data.get("key"), str):
        return str(data["key"])
    key = str(random_hex(20))
    request.session[ENROL_KEY] = {"user": user.pk, "key": key}
    return key


def forget_enrolment_key(request: HttpRequest) -> None:
    request.session.pop(ENROL_KEY, None)


def otpauth_uri(user: User, key: str) -> str:
    """The otpauth:// URI an authenticator app scans: issuer, username and secret (never patient data)."""
    return str(TOTPDevice(user=user, key=key).config_url)


def qr_data_uri(uri: str) -> str:
    """The URI as a QR code, an SVG in a data: URI made here (no third party sees the secret)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def manual_secret(key: str) -> str:
    """The secret in base32, in groups of four, for typing into an app that cannot scan."""
    text = b32encode(unhexlify(key)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def looks_like_totp(code: str) -> bool:
    return len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()


def confirming_step(key: str, code: str) -> int | None:
    """The time step at which `code` is right for `key` (one step of clock drift either way), or None."""
    code = normalise(code)
    if not looks_like_totp(code):
        return None
    totp = TOTP(unhexlify(key), step=30, t0=0, digits=TOTP_DIGITS, drift=0)
    totp.time = time.time()
    if not totp.verify(int(code), tolerance=1):
        return None
    return int(totp.t())


def recovery_codes() -> list[str]:
    """Ten new recovery codes, to be shown once; store only their recovery_digest."""
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODES:
        codes.add(b32encode(os.urandom(10)).decode().lower()[:RECOVERY_CHARS])
    return sorted(codes)


def recovery_digest(code: str) -> str:
    """What django-otp stores and matches for a recovery code, in place of the code.

    An HMAC keyed by SECRET_KEY (kept outside the database), cut to StaticToken's 16 characters: the codes
    can be neither read from nor tried offline against a copy of the table.
    """
    return salted_hmac("ketaclinic.mfa.recovery", normalise(code), algorithm="sha256").hexdigest()[:16]


def grouped(code: str) -> str:
    """abcd-efgh-ijkl: a recovery code as printed for the user (any grouping is accepted back)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


# The staff page ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StaffRow:
    user: User
    roles: list[str]  # "Prescriber, North Clinic"
    required: bool
    enrolled_at: datetime | None
    codes_left: int


def staff_overview(admin: Any) -> list[StaffRow]:
    """The active staff at the admin's locations, with where each stands on second factors (5 queries)."""
    here = location_ids(admin, Perm.STAFF_MANAGE)
    memberships = list(
        Membership.objects.filter(location_id__in=here, user__is_active=True)
        .select_related("user", "location")
        .order_by("user__username", "location__name", "role")
    )
    users = {m.user_id: m.user for m in memberships}
    roles: dict[int, list[str]] = {}
    for m in memberships:
        roles.setdefault(m.user_id, []).append(f"{Role(m.role).label}, {m.location.name}")
    in_policy = Membership.objects.filter(user_id__in=users, role__in=required_roles())
    required = set(in_policy.values_list("user_id", flat=True))

    enrolled = dict(
        TOTPDevice.objects.filter(user_id__in=users, confirmed=True).values_list("user_id", "created_at")
    )
    codes = dict(
        StaticToken.objects.filter(device__user_id__in=users, device__confirmed=True)
        .values("device__user_id")
        .annotate(n=Count("id"))
        .values_list("device__user_id", "n")
    )
    return [
        StaffRow(user, roles[pk], pk in required, enrolled.get(pk), codes.get(pk, 0))
        for pk, user in users.items()
    ]


def staff_member_for(admin: Any, user_id: int) -> tuple[User, int] | None:
    """A staff member at one of the admin's locations, and that location's id; None for anyone else."""
    membership = (
        Membership.objects.filter(user_id=user_id, location_id__in=location_ids(admin, Perm.STAFF_MANAGE))
        .select_related("user")
        .order_by("location_id")
        .first()
    )
    return None if membership is None else (membership.user, membership.location_id)


# Configuration ----------------------------------------------------------------------------------------


@register("security")
def check_required_roles(**kwargs: Any) -> list[CheckMessage]:
    """Refuse to start with a role name the clinic's policy misspelt: it would silently require nothing."""
    unknown = sorted(required_roles() - set(Role.values))
    if not unknown:
        return []
    return [
        Error(
            f"KETACLINIC_MFA_REQUIRED_ROLES names unknown roles: {', '.join(unknown)}",
            hint=f"Roles are {', '.join(Role.values)}; or `none`.",
            id="ketaclinic.E101",
        )
    ]
