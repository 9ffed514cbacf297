"""Error answers that say what happened and nothing about the request, the user or the patient.

Under /api/ every answer is JSON in the API's one error shape (ketaclinic.errors.error_body); elsewhere a
plain page. Neither depends on who is signed in: the page is rendered without the request, so no context
processor reads `request.user` or the session. These handlers also answer requests that never got that far
(a bad Host header, a body over DATA_UPLOAD_MAX_MEMORY_SIZE, a database that is down), where reading the
user would fail a second time or query the database again.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import get_template

from ketaclinic.errors import error_body

API_PREFIX = "/api/"
# The API's words for the statuses Django or the server give before any endpoint answers.
API_DETAILS = {
    400: "The request could not be understood.",
    403: "This request was refused.",
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "The request body is too large.",
    500: "Something went wrong on the server. Try again; if it keeps happening, tell your clinic admin.",
}
PAGES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "This request was refused. Reload the page and try again."),
    404: ("Not found", "There is nothing here, or it is not yours to see."),
    413: ("Too large", "What you sent is larger than KetaClinic accepts."),
    422: ("Not accepted", "Some of what you sent could not be accepted. Nothing was saved."),
    500: ("Something went wrong", "Nothing you entered was saved twice. Try again."),
}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def api_error(
    status: int, detail: str | None = None, errors: Mapping[str, str] | None = None
) -> HttpResponse:
    """An error in the API's shape, for answers that no endpoint gave."""
    detail = detail or API_DETAILS.get(status, "The request was refused.")
    return JsonResponse(error_body(detail, errors), status=status)


def page(status: int, message: str | None = None) -> HttpResponse:
    """The error page for `status`, rendered from fixed words alone (no request, no user, no session)."""
    title, default = PAGES[status]
    html = get_template("web/error.html").render({"title": title, "message": message or default})
    return HttpResponse(html, status=status)


def _answer(request: HttpRequest, status: int) -> HttpResponse:
    return api_error(status) if is_api(request) else page(status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _answer(request, 404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _answer(request, 403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's answer to a SuspiciousOperation: a bad Host header, a malformed or oversized request."""
    return _answer(request, 413 if isinstance(exception, RequestDataTooBig) else 400)


def server_error(request: HttpRequest) -> HttpResponse:
    return _answer(request, 500)
