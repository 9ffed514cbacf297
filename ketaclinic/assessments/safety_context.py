"""Template context for every page: the top bar's worklist link, for the roles that hold its permission (no
query: the user's grants are already loaded by the page's role gate)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm


@cache
def _link() -> str:
    return reverse("safety:worklist")


def worklist_nav(request: HttpRequest) -> dict[str, Any]:
    user = request.__dict__.get("user")
    user = getattr(user, "_wrapped", user)  # SimpleLazyObject: the user if loaded, else a sentinel
    if not getattr(user, "is_authenticated", False) or not can(user, Perm.WORKLIST_READ):
        return {"worklist_nav": ""}
    return {"worklist_nav": _link()}
