"""The answer to a request that fails Django's CSRF check (settings.CSRF_FAILURE_VIEW): audited, plain.

A refused form post may be a forged request riding on a signed-in user's cookies, so each refusal leaves a
row in the audit trail naming the check that failed (never the request's values). The page is plain: it
is rendered without the request, so it shows nothing of the user, their navigation or a fresh token, and
works when the session is gone.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.models import Action, Outcome, Via

MESSAGE = (
    "This request was refused because it did not come from a KetaClinic page. Reload the page and try again."
)


def failed_check(reason: str) -> str:
    """Which check refused the request, from Django's reason: origin, referer, csrf_cookie or csrf_token."""
    if reason.startswith("Origin checking failed"):
        return "origin"
    if reason.startswith("Referer checking failed"):
        return "referer"
    if reason.startswith("CSRF cookie"):
        return "csrf_cookie"
    return "csrf_token"


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    api = request.path.startswith("/api/")
    record(
        Action.CSRF_FAILURE,
        actor=getattr(request, "user", None),
        origin=origin_of(request, Via.API if api else Via.WEB),
        outcome=Outcome.DENIED,
        changed_fields=[failed_check(reason)],
    )
    if api:
        return JsonResponse({"detail": MESSAGE}, status=403)
    page = render_to_string("web/refused.html", {"title": "Request refused", "message": MESSAGE})
    return HttpResponse(page, status=403)
