"""What a user may do where: their grants, loaded once per request and cached on the user object."""

from __future__ import annotations

from typing import Any

from django.db import connection

from ketaclinic.accounts.models import Membership
from ketaclinic.accounts.permissions import Perm, permissions_of

_CACHE = "_ketaclinic_grants"


def grants(user: Any) -> dict[int, frozenset[Perm]]:
    """location id -> the permissions the user holds there (empty for anonymous or disabled users)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    cached = getattr(user, _CACHE, None)
    if cached is None:
        cached = {}
        # On every request: a plain cursor, not a QuerySet (docs/performance.md).
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT location_id, role FROM {Membership._meta.db_table} WHERE user_id = %s",  # noqa: S608 - table name from the model
                [user.pk],
            )
            for location_id, role in cursor.fetchall():
                cached[location_id] = cached.get(location_id, frozenset()) | permissions_of(role)
        setattr(user, _CACHE, cached)
    return cached


def forget_grants(user: Any) -> None:
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def location_ids(user: Any, perm: Perm) -> frozenset[int]:
    return frozenset(loc for loc, perms in grants(user).items() if perm in perms)


def can(user: Any, perm: Perm, location_id: int | None = None) -> bool:
    held = grants(user)
    if location_id is None:
        return any(perm in perms for perms in held.values())
    return perm in held.get(location_id, frozenset())
