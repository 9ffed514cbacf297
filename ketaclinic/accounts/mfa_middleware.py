"""No page is reachable half signed in: a session must be through its second step (accounts/mfa.py).

Runs after authentication and the idle timeout. A session that passed the sign-in steps carries a mark
for its user and costs nothing here. Any other signed-in session is checked once: with an authenticator it
is held on the code page, with a role that requires one and none enrolled on the enrolment page, and
otherwise marked as passed. The JSON API authenticates each call by its bearer token, not by the session,
so its routes are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from ketaclinic.accounts import mfa

Handler = Callable[[HttpRequest], HttpResponse]
API_PREFIX = "/api/v1/"
# Pages a session may reach before its second step: the step itself, and signing in or out.
OPEN_PAGES = frozenset({"mfa:verify", "mfa:enrol", "web:login", "web:logout"})


class MfaMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or mfa.passed(request, user):
            return None
        match = request.resolver_match
        if (match is not None and match.view_name in OPEN_PAGES) or request.path_info.startswith(API_PREFIX):
            return None
        step = mfa.next_step(user)
        if step is mfa.Step.NONE:
            mfa.mark_passed(request, user, second_factor=False)
            return None
        target = reverse("mfa:verify" if step is mfa.Step.VERIFY else "mfa:enrol")
        if request.headers.get("HX-Request"):
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return HttpResponseRedirect(target)
