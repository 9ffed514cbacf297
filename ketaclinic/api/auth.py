"""Bearer-token authentication for the JSON API. Tokens are looked up by their SHA-256 digest."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from ketaclinic import fastload
from ketaclinic.accounts.actions import TOKEN_PREFIX, token_digest
from ketaclinic.accounts.models import ApiToken, User


def user_for_token(token: str) -> Any:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    # Every API call does this: one plain SELECT instead of a QuerySet (docs/performance.md).
    where = (
        f"is_active = %s AND id = (SELECT user_id FROM {ApiToken._meta.db_table} "  # noqa: S608 - model table
        "WHERE digest = %s AND revoked_at IS NULL)"
    )
    return fastload.fetch_one(User, where, [True, token_digest(token)])


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user
