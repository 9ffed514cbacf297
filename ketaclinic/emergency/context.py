"""Template context for every page: the break-glass banner and the emergency links of the top bar."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.emergency.access import grants_used


@cache
def _links() -> dict[str, str]:
    return {"request": reverse("emergency:request"), "review": reverse("emergency:review")}


def emergency(request: HttpRequest) -> dict[str, Any]:
    """The grants this page's reads went through (web/base.html shows a banner for each); no query.

    Only a user the request has already loaded is looked at (a lazy request.user is left alone), so a page
    that never touched the user, an error page, costs nothing here.
    """
    user = request.__dict__.get("user")
    user = getattr(user, "_wrapped", user)  # SimpleLazyObject: the user if loaded, else a sentinel
    if not getattr(user, "is_authenticated", False):
        return {"emergency_access": [], "emergency_nav": {}}
    return {
        "emergency_access": grants_used(user),
        "emergency_nav": {
            "links": _links(),
            "request": can(user, Perm.EMERGENCY_ACCESS),
            "review": can(user, Perm.AUDIT_READ),
        },
    }
