"""Limits on sign-in attempts and API authentication failures, counted without races.

Three counters, each a row of AttemptCounter per key:

- an account: password checks for one submitted username, KETACLINIC_LOGIN_FAILURE_LIMIT per
  KETACLINIC_LOGIN_LOCKOUT_SECONDS. Usernames are normalised (NFKC, case-folded) and counted whether or
  not they exist, so a lockout says nothing about which usernames are real. The key is a keyed hash of
  the username: an unknown "username" is often a password typed in the wrong box.
- an address signing in: KETACLINIC_SIGNIN_RATE_PER_IP attempts that did not succeed per
  KETACLINIC_AUTH_RATE_WINDOW_SECONDS, across all usernames (password spraying).
- an address using the API: KETACLINIC_API_AUTH_FAILURES_PER_IP refused tokens per window.

Addresses are the audit trail's (audit.context.origin_of), counted as audit.repeats counts them.

A sign-in attempt is taken before its password is checked: one UPDATE adds it only while the count is
under the limit, and the database applies concurrent UPDATEs of a row one after another (SQLite has one
writer; PostgreSQL re-checks the WHERE on the row it waited for), so however many attempts arrive at
once, at most `limit` passwords are checked. A successful sign-in clears its account and gives back its
address's attempt.

A window starts with its first attempt and ends `window` seconds later; the attempt that reaches the
limit moves the end to a full window after it, so a lockout always lasts a whole window.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db.models import Case, DateTimeField, F, Q, Value, When
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ketaclinic.accounts.models import AttemptCounter
from ketaclinic.audit.context import Origin
from ketaclinic.audit.repeats import counted_address

NEVER_OPENED = datetime(2000, 1, 1, tzinfo=UTC)
# Counters whose window ended this long ago are deleted (an expired counter counts as zero anyway).
PRUNE_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends, when not allowed


ALLOWED = Decision(True)


def take(key: str, limit: int, window_seconds: int) -> Decision:
    """Count one attempt for `key` if it is under `limit` in its window; refuse it otherwise."""
    now = timezone.now()
    renewed = Value(now + timedelta(seconds=window_seconds), output_field=DateTimeField())
    expired = Q(expires_at__lte=now)
    while True:
        # A new counter starts out expired, so whichever attempt reaches it first opens its window. (One
        # made to expire "now" would be expired to attempts that come later and not to those that read
        # the clock earlier and were kept waiting: the later ones would reset what the others counted.)
        AttemptCounter.objects.bulk_create(
            [AttemptCounter(key=key, attempts=0, expires_at=NEVER_OPENED)], ignore_conflicts=True
        )
        taken = AttemptCounter.objects.filter(expired | Q(attempts__lt=limit), key=key).update(
            attempts=Case(When(expired, then=Value(1)), default=F("attempts") + 1),
            expires_at=Case(
                When(expired, then=renewed),
                When(attempts__gte=limit - 1, then=renewed),  # this attempt reaches the limit
                default=F("expires_at"),
            ),
        )
        if taken:
            return ALLOWED
        ends = AttemptCounter.objects.filter(key=key).values_list("expires_at", flat=True).first()
        if ends is not None:
            return Decision(False, max(1, math.ceil((ends - now).total_seconds())))
        # The counter was pruned between the insert and the update (it had long expired): count again.


def give_back(key: str) -> None:
    AttemptCounter.objects.filter(key=key, attempts__gt=0).update(attempts=F("attempts") - 1)


def reset(key: str) -> None:
    AttemptCounter.objects.filter(key=key).update(attempts=0)


def prune() -> None:
    AttemptCounter.objects.filter(expires_at__lt=timezone.now() - PRUNE_AFTER).delete()


def account_key(username: str) -> str:
    normalised = unicodedata.normalize("NFKC", username).casefold()
    digest = salted_hmac("ketaclinic.accounts.throttle", normalised, algorithm="sha256").hexdigest()
    return "account:" + digest


def signin_key(origin: Origin) -> str:
    return "signin:" + counted_address(origin.source_ip)


def api_key(origin: Origin) -> str:
    return "api:" + counted_address(origin.source_ip)


# --- what the sign-in view and the API's authentication call ------------------------------------------


def take_signin(origin: Origin) -> Decision:
    """An attempt to sign in from the origin's address, within its rate."""
    return take(
        signin_key(origin),
        settings.KETACLINIC_SIGNIN_RATE_PER_IP,
        settings.KETACLINIC_AUTH_RATE_WINDOW_SECONDS,
    )


def take_password_check(username: str) -> Decision:
    """A password check for a username, known or not, within the account's limit."""
    return take(
        account_key(username),
        settings.KETACLINIC_LOGIN_FAILURE_LIMIT,
        settings.KETACLINIC_LOGIN_LOCKOUT_SECONDS,
    )


def spend_a_password_check(password: str) -> None:
    """Cost what checking a password costs (one hash with the default hasher), for refused attempts.

    A locked account answers no sooner than an open one, so timing does not tell them apart (Django's
    authenticate() does the same for a username that does not exist).
    """
    make_password(password)


def signed_in(username: str, origin: Origin) -> None:
    """A successful sign-in: its account starts afresh and its address gets its attempt back."""
    reset(account_key(username))
    give_back(signin_key(origin))
    prune()


def count_api_failure(origin: Origin) -> Decision:
    """A request refused for its token: counted for its address; refused with 429 over the limit."""
    return take(
        api_key(origin),
        settings.KETACLINIC_API_AUTH_FAILURES_PER_IP,
        settings.KETACLINIC_AUTH_RATE_WINDOW_SECONDS,
    )
