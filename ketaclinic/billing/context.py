"""Template context for every page: the top bar's Prices link, and whether the user handles a location's
money or its estimates, for the links the chart, the plan and the session show (no query: the user's grants
are loaded once per request, and nothing is asked until a template asks)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.permissions import Perm


def billing(request: HttpRequest) -> dict[str, Any]:
    user = request.__dict__.get("user")
    user = getattr(user, "_wrapped", user)  # SimpleLazyObject: the user if loaded, else a sentinel
    if not getattr(user, "is_authenticated", False):
        return {"billing_nav": {}}

    def prices_location() -> int | None:
        ids = sorted(location_ids(user, Perm.BILLING_PRICES_READ))
        return ids[0] if ids else None

    def reports_location() -> int | None:
        ids = sorted(location_ids(user, Perm.BILLING_REPORTS))
        return ids[0] if ids else None

    def authorization(plan: Any) -> Any:
        from ketaclinic.billing.authorizations import standing

        return standing(plan)

    return {
        "billing_nav": {
            "reports_location": reports_location,
            "reports": lambda location_id: can(user, Perm.BILLING_REPORTS, location_id),
            "authorization": authorization,
            "prices_location": prices_location,
            "handles": lambda location_id: can(user, Perm.BILLING_HANDLE, location_id),
            "estimates": lambda location_id: can(user, Perm.BILLING_ESTIMATE, location_id),
        }
    }
