"""Automatic logoff after inactivity (HIPAA 164.312(a)(2)(iii), ONC (d)(5)), enforced on the server."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.models import Action, Via

LAST_SEEN = "last_seen"
# Writing the session on every request would cost a database write per page; a minute of slack is enough.
TOUCH_EVERY_SECONDS = 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if isinstance(user, SimpleLazyObject):
            # Loaded here on every request anyway (is_authenticated), so the page gets the user itself:
            # each later read through the lazy proxy cost about 1 us in process, some 150 reads a chart
            # (the role checks and the templates), as after login(), which sets the user itself.
            user.is_authenticated  # noqa: B018 - loads it
            user = request.user = user._wrapped
        if user is not None and user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN, now)
            if now - last_seen > settings.KETACLINIC_IDLE_TIMEOUT_SECONDS:
                record(Action.SESSION_TIMEOUT, actor=user, origin=origin_of(request, Via.WEB))
                logout(request)
                request.session["timed_out"] = True
            elif now - last_seen >= TOUCH_EVERY_SECONDS or LAST_SEEN not in request.session:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
