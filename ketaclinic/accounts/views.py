"""Login and logout, with per-account lockout after repeated failures (every attempt is audited)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
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

from ketaclinic.accounts import mfa
from ketaclinic.accounts.access import can
from ketaclinic.accounts.middleware import LAST_SEEN
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.models import Action, AuditEvent, Outcome, Via

BAD_LOGIN = "Username or password is incorrect."
AUTH_FAILURES = (Action.LOGIN_FAILED, Action.MFA_FAILED)


def _locked_out(user: User) -> bool:
    window_start = timezone.now() - timedelta(seconds=settings.KETACLINIC_LOGIN_LOCKOUT_SECONDS)
    recent = AuditEvent.objects.filter(actor=user, occurred_at__gte=window_start)
    last_login = (
        recent.filter(action=Action.LOGIN).order_by("-seq").values_list("seq", flat=True).first() or 0
    )
    # A wrong code at the second step counts like a wrong password (accounts/mfa.py).
    failures = recent.filter(action__in=AUTH_FAILURES, seq__gt=last_login).count()
    return failures >= settings.KETACLINIC_LOGIN_FAILURE_LIMIT


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
    known = User.objects.filter(username=username).first()
    if known is not None and _locked_out(known):
        record(Action.LOGIN_LOCKED, actor=known, origin=origin, outcome=Outcome.DENIED)
        context["error"] = "Too many failed attempts. The account is locked for a while; try again later."
        return render(request, "web/login.html", context, status=429)
    user = authenticate(request, username=username, password=password)
    if user is None:
        record(Action.LOGIN_FAILED, actor=known, origin=origin, outcome=Outcome.FAILURE)
        context.update(error=BAD_LOGIN, username=username)
        return render(request, "web/login.html", context, status=401)
    if (second_step := mfa.start(request, user, next_url)) is not None:
        return second_step  # the code or enrolment page; not signed in until it is done
    login(request, user)
    request.session[LAST_SEEN] = timezone.now().timestamp()
    record(Action.LOGIN, actor=user, origin=origin)
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return HttpResponseRedirect(next_url)
    return redirect(home_for(user))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record(Action.LOGOUT, actor=request.user, origin=origin_of(request, Via.WEB))
    logout(request)
    return redirect("web:login")
