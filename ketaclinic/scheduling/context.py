"""Template context for every page: the calendar's link for the roles that read it (no query: the user's
grants are already loaded by the page's role gate). The top bar shows it to those who book (front desk);
clinicians, whose bar is full on a tablet, reach it from the treatment-floor board."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm


@cache
def _link() -> str:
    return reverse("scheduling:calendar")


def schedule_nav(request: HttpRequest) -> dict[str, Any]:
    user = request.__dict__.get("user")
    user = getattr(user, "_wrapped", user)  # SimpleLazyObject: the user if loaded, else a sentinel
    if not getattr(user, "is_authenticated", False) or not can(user, Perm.SCHEDULE_READ):
        return {"schedule_nav": {}}
    return {"schedule_nav": {"link": _link(), "in_bar": can(user, Perm.SCHEDULE_BOOK)}}
