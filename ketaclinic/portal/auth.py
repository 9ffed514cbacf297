"""The portal's own sign-in session, kept apart from the staff session.

A patient is never `request.user`: the portal keeps its account id in the session under its own key, with a
digest of the account's password hash (a new password or a disabled account ends every session) and the
time last seen (the same idle timeout as staff). Staff pages check `request.user`, so a portal session opens
none of them; portal pages refuse a signed-in staff user, so a staff session opens no portal page. Signing
in to the portal starts a fresh session (any staff sign-in in the same browser ends).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.errors import NotFound
from ketaclinic.portal.models import PatientAccount

ACCOUNT = "portal_account"
DIGEST = "portal_digest"
LAST_SEEN = "portal_last_seen"
TIMED_OUT = "portal_timed_out"
TOUCH_EVERY_SECONDS = 60

View = Callable[..., HttpResponse]


def portal_origin(request: HttpRequest) -> Origin:
    return origin_of(request, Via.PORTAL)


def _digest(account: PatientAccount) -> str:
    return salted_hmac("ketaclinic.portal.session", account.password, algorithm="sha256").hexdigest()


def start(request: HttpRequest, account: PatientAccount) -> None:
    """Sign the account in: a new session (nothing of a previous one, staff or patient, is kept)."""
    request.session.flush()
    request.session[ACCOUNT] = account.pk
    request.session[DIGEST] = _digest(account)
    request.session[LAST_SEEN] = time.time()


def end(request: HttpRequest) -> None:
    request.session.flush()


def current(request: HttpRequest) -> PatientAccount | None:
    """The signed-in, active account of this session, or None (a stale session is ended here)."""
    account_id = request.session.get(ACCOUNT)
    if account_id is None:
        return None
    account = (
        PatientAccount.objects.select_related("patient", "patient__location").filter(pk=account_id).first()
    )
    if (
        account is None
        or not account.is_active
        or not account.password
        or not constant_time_compare(request.session.get(DIGEST, ""), _digest(account))
    ):
        end(request)
        return None
    return account


def _sign_in_first(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(f"{reverse('portal:sign_in')}?{urlencode({'next': request.get_full_path()})}")


def staff_refused(request: HttpRequest) -> HttpResponse:
    """A staff session asking for a portal page: refused and audited (staff use the staff pages)."""
    deny(request.user, origin_of(request, Via.WEB), "portal")
    return render(request, "portal/staff_refused.html", status=403)


def patient_page(view: View) -> View:
    """A portal page: only a signed-in patient account; the view gets it as its second argument.

    Anonymous: to the portal's sign-in. A staff user: 403 (audited). Idle past the timeout: signed out and
    audited. A record of another patient is NotFound (404), never shown.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return staff_refused(request)
        account = current(request)
        if account is None:
            return _sign_in_first(request)
        now = time.time()
        last_seen = request.session.get(LAST_SEEN, now)
        if now - last_seen > settings.KETACLINIC_IDLE_TIMEOUT_SECONDS:
            record(Action.PORTAL_SESSION_TIMEOUT, actor=account, origin=portal_origin(request))
            end(request)
            request.session[TIMED_OUT] = True
            return _sign_in_first(request)
        if now - last_seen >= TOUCH_EVERY_SECONDS:
            request.session[LAST_SEEN] = now
        try:
            return view(request, account, *args, **kwargs)
        except NotFound:
            return render(request, "portal/not_found.html", status=404)

    return wrapped
