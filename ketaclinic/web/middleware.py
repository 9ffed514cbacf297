"""Request ids for the audit trail and logs, the security headers every response carries, and JSON for
every error under /api/."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ketaclinic.audit.actions import confirmed_before_answering
from ketaclinic.web.errors import api_error, is_api, page

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
        if request.method in ("GET", "HEAD"):
            with confirmed_before_answering():  # its read event is committed while the page is built
                response = self.get_response(request)
        else:
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


NUL = "\x00"


def field_with_nul(request: HttpRequest) -> str | None:
    """The first query parameter or form field whose name or value holds a NUL character."""
    sources = [request.GET, request.POST] if request.method == "POST" else [request.GET]
    for data in sources:
        for name, values in data.lists():
            if NUL in name or any(NUL in value for value in values):
                return name.replace(NUL, "")
    return None


class RefuseNulMiddleware:
    """A NUL character is not text: a query parameter or form field holding one is refused (422, naming
    it) before any view or the database sees it. PostgreSQL refuses NUL with an error, SQLite stores what
    no page can show. The API's JSON bodies are checked field by field by the input models
    (patients/inputs.Strict), which name nested fields too; their form data (none today) is checked here.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = field_with_nul(request)
        if field is None:
            return self.get_response(request)
        if is_api(request):
            return api_error(422, "Some fields are not valid.", {field: "must not contain NUL characters"})
        return page(422, f"“{field}” must not contain NUL characters. Nothing was saved.")
