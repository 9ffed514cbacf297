"""Pages that belong to no domain area: the home redirect and the no-access page. The rule catalogue (/rules/)
shows the policy in force at a location, so it lives with the clinic policy (clinicpolicy.views.rules)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketaclinic.accounts.views import home_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect(home_for(request.user))


@login_required
def no_access(request: HttpRequest) -> HttpResponse:
    return render(request, "web/no_access.html", status=403)
