"""Helpers shared by the HTML views: role gates and turning domain errors into pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Via
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.web.errors import not_found, page

View = Callable[..., HttpResponse]


def web_origin(request: HttpRequest) -> Any:
    return origin_of(request, Via.WEB)


def requires(perm: Perm) -> Callable[[View], View]:
    """Log in first; then the user must hold `perm` at some location, else 403 (and an audit row)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, perm):
                deny(request.user, web_origin(request), str(perm))
                return forbidden(request)
            try:
                return view(request, *args, **kwargs)
            except NotFound:
                return not_found(request)
            except Forbidden:
                return forbidden(request)

        return wrapped

    return decorate


def forbidden(request: HttpRequest) -> HttpResponse:
    # An error page, rendered like every other one without the user (web/errors.py).
    return page(403, "Your role does not allow this. Ask a clinic admin if you need it.")


def form_errors(errors: dict[str, str]) -> dict[str, str]:
    """Map dotted error paths to the form's input names: trials.0.drug -> trials-0-drug."""
    out: dict[str, str] = {}
    for path, message in errors.items():
        name = path.removeprefix("measurement.").replace(".", "-")
        out.setdefault(name, message[0].upper() + message[1:] if message else message)
    return out
