"""Bearer-token authentication for the JSON API. Tokens are looked up by their SHA-256 digest.

A request the token does not authenticate (none, malformed, unknown, revoked, a disabled user's) is
counted for its address and audited as a repeated failure (audit/repeats.py); over the address's limit
it is answered 429 with Retry-After instead of 401 (accounts/throttle.py). A valid token is never held
up by the failures of others at its address, and costs nothing more than its one lookup.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import Throttled
from ninja.security import HttpBearer

from ketaclinic import fastload
from ketaclinic.accounts import throttle
from ketaclinic.accounts.actions import TOKEN_PREFIX, token_digest
from ketaclinic.accounts.models import ApiToken, User
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.models import Action, Outcome, Via
from ketaclinic.audit.repeats import record_repeated


def user_for_token(token: str) -> Any:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    # Every API call does this: one query through .raw(), a fifth of a QuerySet's cost and as fast as two
    # fastload reads (ketaclinic/fastload.py has the figures). Table names from the models, values as
    # parameters.
    now = fastload.param(ApiToken, "expires_at", timezone.now())
    found = list(User.objects.raw(_BY_TOKEN, [True, token_digest(token), now]))
    return found[0] if found else None


def user_for_request_token(request: HttpRequest, token: str) -> Any:
    """user_for_token, once a request: a keyed POST looks its token up before its transaction (to find
    the key's owner) and the API's authentication again inside it; the second is the first's answer."""
    held = request.__dict__.get("_bearer_user")
    if held is not None and held[0] == token:
        return held[1]
    user = user_for_token(token)
    request.__dict__["_bearer_user"] = (token, user)
    return user


# An active user's token that is neither revoked nor past its expiry (KETACLINIC_API_TOKEN_DAYS).
_BY_TOKEN = (
    f"SELECT * FROM {User._meta.db_table} WHERE is_active = %s AND id = "  # noqa: S608 - model tables
    f"(SELECT user_id FROM {ApiToken._meta.db_table} "
    "WHERE digest = %s AND revoked_at IS NULL AND expires_at > %s)"
)


def refuse(request: HttpRequest) -> None:
    """Count and audit a request the API does not authenticate; raise Throttled over the limit."""
    origin = origin_of(request, Via.API)
    decision = throttle.count_api_failure(origin)
    if not decision.allowed:
        record_repeated(Action.API_AUTH_THROTTLED, origin=origin, outcome=Outcome.DENIED)
        raise Throttled(wait=decision.retry_after)
    record_repeated(Action.API_AUTH_FAILED, origin=origin, outcome=Outcome.FAILURE)


class BearerToken(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        # HttpBearer answers None itself for a missing or non-bearer header; those are failures too.
        user = super().__call__(request)
        if user is None:
            refuse(request)
        return user

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_request_token(request, token)
        if user is not None:
            request.user = user
        return user
