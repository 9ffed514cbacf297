"""Template context every page needs: the navigation the user's roles allow."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "nav": {
            "patients": can(user, Perm.PATIENT_READ),
            "register": can(user, Perm.PATIENT_WRITE),
            "audit": can(user, Perm.AUDIT_READ),
            "admin": can(user, Perm.STAFF_MANAGE),
        }
    }
