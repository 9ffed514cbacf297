"""Pages that belong to no domain area: the home redirect and the no-access page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.views import home_for
from ketaclinic.clinical import rules
from ketaclinic.clinical.common import Area
from ketaclinic.clinical.policy import DEFAULT_POLICY, format_value
from ketaclinic.clinical.sources import SOURCES


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect(home_for(request.user))


@login_required
def no_access(request: HttpRequest) -> HttpResponse:
    return render(request, "web/no_access.html", status=403)


@login_required
def rule_catalogue(request: HttpRequest) -> HttpResponse:
    """The clinical rules KetaClinic applies, their sources, and the clinic policy values in force."""
    if not grants(request.user):
        return render(request, "web/no_access.html", status=403)
    by_area = [(area, [r for r in rules.RULES if r.area is area]) for area in Area]
    policy = [
        {"row": row, "value": format_value(row.value), "default": format_value(row.default)}
        for row in rules.policy_table(DEFAULT_POLICY)
    ]
    context = {
        "version": rules.RULESET_VERSION,
        "areas": [(area, items) for area, items in by_area if items],
        "policy": policy,
        "sources": SOURCES,
        "count": len(rules.RULES),
    }
    return render(request, "web/rules.html", context)
