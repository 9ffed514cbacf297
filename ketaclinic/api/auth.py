"""Bearer-token authentication for the JSON API. Tokens are looked up by their SHA-256 digest."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from ketaclinic.accounts.actions import TOKEN_PREFIX, token_digest
from ketaclinic.accounts.models import ApiToken


def user_for_token(token: str) -> Any:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return row.user if row else None


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user
