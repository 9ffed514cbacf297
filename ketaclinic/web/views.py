"""Pages that belong to no domain area: the home redirect, the no-access page and the rule catalogue."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.views import home_for
from ketaclinic.clinical import rules
from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.web import catalogue


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
    areas = catalogue.areas()
    policy = catalogue.policy_rows(DEFAULT_POLICY)
    context = {
        "version": rules.RULESET_VERSION,
        "note": rules.REFERENCE_NOTE,
        "areas": areas,
        "policy": policy,
        "sources": catalogue.sources(catalogue.cited_tags(areas, policy)),
        "count": len(rules.RULES),
    }
    return render(request, "web/rules.html", context)
