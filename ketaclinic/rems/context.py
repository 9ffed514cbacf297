"""Template context for every page: the top bar's REMS link, for the roles that may use it (no query: the
user's grants are already loaded by the page's role gate)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm


@cache
def _links() -> dict[str, str]:
    return {"queue": reverse("rems:queue"), "settings": reverse("rems:settings")}


def rems(request: HttpRequest) -> dict[str, Any]:
    user = request.__dict__.get("user")
    user = getattr(user, "_wrapped", user)  # SimpleLazyObject: the user if loaded, else a sentinel
    if not getattr(user, "is_authenticated", False):
        return {"rems_nav": {}}
    return {
        "rems_nav": {
            "links": _links(),
            "queue": can(user, Perm.REMS_QUEUE_READ),
            "settings": can(user, Perm.REMS_SETTING_MANAGE),
        }
    }
