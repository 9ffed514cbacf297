"""Login and logout. Every way to sign in (this page and the admin site's login) goes through login_view.

Signing in has two parts: password_ok decides whether the password is right, within the limits of
accounts/throttle.py, and audits every attempt; login_view then starts the session. A second factor,
when one is required, is a step between the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts import mfa, throttle
from ketaclinic.accounts.access import can
from ketaclinic.accounts.middleware import LAST_SEEN
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.models import Action, Outcome, Via
from ketaclinic.audit.repeats import flush_due, record_repeated

BAD_LOGIN = "Username or password is incorrect."
LOCKED = "Too many failed attempts. The account is locked for a while; try again later."
THROTTLED = "Too many failed attempts from this network. Try again later."


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a sign-in attempt was turned away: the status and message shown, and when to come back."""

    status: int
    message: str
    retry_after: int = 0


def password_ok(request: HttpRequest, username: str, password: str, origin: Origin) -> User | Refusal:
    """The user whose password this is, or why not. Every attempt is counted and audited.

    An address over its rate is refused before anything else (the same answer for every username). Then
    the attempt is counted against the username, known or not, before the password is checked, so that
    concurrent attempts cannot check more passwords than the limit. Known and unknown usernames, locked
    or not, get the same answers and cost one password hash each (throttle.spend_a_password_check).
    """
    from_address = throttle.take_signin(origin)
    if not from_address.allowed:
        record_repeated(Action.LOGIN_THROTTLED, origin=origin, outcome=Outcome.DENIED)
        return Refusal(429, THROTTLED, from_address.retry_after)
    known = User.objects.filter(username=username).first()
    for_account = throttle.take_password_check(username)
    if not for_account.allowed:
        throttle.spend_a_password_check(password)
        record(Action.LOGIN_LOCKED, actor=known, origin=origin, outcome=Outcome.DENIED)
        return Refusal(429, LOCKED, for_account.retry_after)
    user = authenticate(request, username=username, password=password)
    if user is None:
        record(Action.LOGIN_FAILED, actor=known, origin=origin, outcome=Outcome.FAILURE)
        return Refusal(401, BAD_LOGIN)
    # A right password is not a failure: its attempt is given back. The account's count starts afresh only
    # once the user is signed in (_start_session, or after the second step), so wrong codes after a right
    # password keep counting toward the same lockout.
    throttle.give_back(throttle.account_key(username))
    return user


def home_for(user: User | AnonymousUser) -> str:
    if can(user, Perm.PATIENT_READ):
        return reverse("patients:list")
    if can(user, Perm.AUDIT_READ):
        return reverse("audit:review")
    return reverse("web:no_access")


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    context = {
        "next": next_url,
        "timed_out": request.session.pop("timed_out", False),
        "error": "",
        "username": "",
    }
    if request.method == "GET":
        if request.user.is_authenticated:
            return redirect(home_for(request.user))
        return render(request, "web/login.html", context)
    username = request.POST.get("username", "").strip()
    password = request.POST.get("password", "")
    origin = origin_of(request, Via.WEB)
    checked = password_ok(request, username, password, origin)
    if isinstance(checked, Refusal):
        return _refused(request, context, checked, username)
    if (second_step := mfa.start(request, checked, next_url)) is not None:
        return second_step  # the code or enrolment page; not signed in until it is done
    return _start_session(request, checked, origin, next_url)


def _refused(request: HttpRequest, context: dict[str, Any], refusal: Refusal, username: str) -> HttpResponse:
    context.update(error=refusal.message, username=username if refusal.status == 401 else "")
    response = render(request, "web/login.html", context, status=refusal.status)
    if refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response


def _start_session(request: HttpRequest, user: User, origin: Origin, next_url: str) -> HttpResponse:
    login(request, user)
    request.session[LAST_SEEN] = timezone.now().timestamp()
    record(Action.LOGIN, actor=user, origin=origin)
    throttle.signed_in(user.username, origin)
    flush_due()  # failures whose window has passed reach the trail even when the flood has stopped
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return HttpResponseRedirect(next_url)
    return redirect(home_for(user))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record(Action.LOGOUT, actor=request.user, origin=origin_of(request, Via.WEB))
    logout(request)
    return redirect("web:login")
