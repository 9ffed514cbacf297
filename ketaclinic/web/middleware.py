"""Request ids for the audit trail and logs, the security headers every response carries, and JSON for
every error under /api/."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ketaclinic.web.errors import api_error, is_api

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
# Swagger UI (vendored by django-ninja) sets inline styles and an inline init; it holds no PHI.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

Handler = Callable[[HttpRequest], HttpResponse]


class RequestContextMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = str(uuid.uuid4())  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class SecurityHeadersMiddleware:
    """The first middleware, so that it sees every answer: also those Django gives before the others run
    (a refused Host header is answered from inside CommonMiddleware; the ones after it never see it)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/static/"):
            return response
        response.setdefault(
            "Content-Security-Policy", DOCS_CSP if request.path.startswith("/api/docs") else CSP
        )
        # Pages and API answers may hold PHI: nothing may be kept in a browser or proxy cache (d)(7).
        response["Cache-Control"] = "no-store"
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        # XFrameOptionsMiddleware sets the same; an answer given before it ran still gets it.
        response.setdefault("X-Frame-Options", "DENY")
        response.setdefault("X-Content-Type-Options", "nosniff")
        return response


class ApiErrorsMiddleware:
    """Every error under /api/ in the API's JSON shape, also those no endpoint gave.

    The error handlers (web/errors.py) already answer 400, 403, 404, 413 and 500 in JSON there; what else
    reaches a client as HTML or text (ninja's plain "Method not allowed", a CSRF refusal) is replaced by the
    same shape with the same status, keeping the headers a client needs (Allow, WWW-Authenticate).
    """

    KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not is_api(request)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        answer = api_error(response.status_code)
        for name in self.KEPT_HEADERS:
            if name in response:
                answer[name] = response[name]
        return answer
