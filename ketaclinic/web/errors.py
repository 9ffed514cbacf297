"""Error pages that say what happened and nothing about the request or the patient."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _page(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, "web/error.html", {"title": title, "message": message}, status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "Not found", "There is nothing here, or it is not yours to see.", 404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "Not allowed", "This request was refused. Reload the page and try again.", 403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, "Bad request", "The request could not be understood.", 400)


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, "Something went wrong", "Nothing you entered was saved twice. Try again.", 500)
