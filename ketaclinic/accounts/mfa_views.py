"""The second step of signing in, enrolling an authenticator, and resetting one (accounts/mfa.py).

The code and enrolment pages serve two kinds of visitor: one whose password was right a moment ago and who
is not signed in yet (mfa.pending), and one signed in some other way whom MfaMiddleware holds here until
the step is done. Either way the session is signed in, and marked as through, only at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from ketaclinic.accounts import mfa, throttle
from ketaclinic.accounts.access import can
from ketaclinic.accounts.actions import CodeResult, do_check_second_factor, do_enrol_mfa, do_reset_mfa
from ketaclinic.accounts.middleware import LAST_SEEN
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.accounts.views import home_for
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Outcome, Via
from ketaclinic.errors import InvalidInput

ENTER_CODE = "Enter the 6-digit code from your authenticator app, or one of your recovery codes."
WRONG_CODE = "That code is not right. Check the app shows KetaClinic and your username, and try the new code."
LOCKED = "Too many failed attempts. The account is locked for a while; try again later."
ENROL_WRONG = "That code does not match. Scan the QR code again, or type the key, then enter the new code."


@dataclass(frozen=True, slots=True)
class Subject:
    """Who is taking the second step, and whether their session is signed in already."""

    user: User
    next_url: str
    backend: str
    signed_in: bool


def _subject(request: HttpRequest) -> Subject | None:
    user = request.user
    if isinstance(user, User) and user.is_authenticated:
        return Subject(user, "", "", signed_in=True)
    waiting = mfa.pending(request)
    if waiting is None:
        return None
    return Subject(waiting.user, waiting.next_url, waiting.backend, signed_in=False)


def _sign_in(request: HttpRequest, subject: Subject, *, second_factor: bool) -> None:
    """Complete the sign-in: the session is the user's and is marked as through its second step."""
    if not subject.signed_in:
        origin = origin_of(request, Via.WEB)
        login(request, subject.user, backend=subject.backend)
        request.session[LAST_SEEN] = timezone.now().timestamp()
        record(Action.LOGIN, actor=subject.user, origin=origin)
        throttle.signed_in(subject.user.username, origin)
    mfa.forget_pending(request)
    mfa.mark_passed(request, subject.user, second_factor=second_factor)


def _onward(request: HttpRequest, subject: Subject) -> str:
    next_url = subject.next_url
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return next_url
    return home_for(subject.user)


def _without_authenticator(request: HttpRequest, subject: Subject) -> HttpResponse:
    """No authenticator (a reset came in between): enrol if the role requires one, else sign in."""
    if mfa.is_required(subject.user):
        return redirect("mfa:enrol")
    _sign_in(request, subject, second_factor=False)
    return HttpResponseRedirect(_onward(request, subject))


def _start_again(request: HttpRequest) -> HttpResponse:
    mfa.forget_pending(request)
    return redirect("web:login")


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    subject = _subject(request)
    if subject is None:
        return _start_again(request)
    user = subject.user
    if subject.signed_in and mfa.passed(request, user):
        return redirect(home_for(user))
    if not mfa.has_authenticator(user):
        return _without_authenticator(request, subject)
    if request.method == "GET":
        return _code_page(request, subject)
    origin = origin_of(request, Via.WEB)
    # Each code is counted against the account before it is checked, like a password (accounts/throttle.py):
    # wrong codes after a right password lead to the same lockout, and concurrent codes cannot exceed it.
    if not throttle.take_password_check(user.username).allowed:
        record(Action.LOGIN_LOCKED, actor=user, origin=origin, outcome=Outcome.DENIED)
        return _code_page(request, subject, 429, error=LOCKED)
    code = request.POST.get("code", "")
    if not mfa.normalise(code):
        return _code_page(request, subject, 422, field_error=ENTER_CODE)
    check = do_check_second_factor(user, code, origin=origin)
    if check.result is CodeResult.THROTTLED:
        wait = f"Too many wrong codes in a row. Wait {check.wait_seconds} s, then enter the newest code."
        return _code_page(request, subject, 429, error=wait)
    if not check.ok:
        return _code_page(request, subject, 401, field_error=WRONG_CODE)
    _sign_in(request, subject, second_factor=True)
    if check.result is CodeResult.RECOVERY_CODE:
        left = mfa.recovery_codes_left(user)
        request.session[mfa.NOTICE] = f"You signed in with a recovery code; {left} of them are left."
        return redirect("mfa:account")
    return HttpResponseRedirect(_onward(request, subject))


def _code_page(
    request: HttpRequest, subject: Subject, status: int = 200, *, error: str = "", field_error: str = ""
) -> HttpResponse:
    context = {
        "error": error,
        "errors": {"code": field_error} if field_error else {},
        "signed_in": subject.signed_in,
    }
    return render(request, "accounts/mfa_verify.html", context, status=status)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    subject = _subject(request)
    if subject is None:
        return _start_again(request)
    user = subject.user
    if mfa.has_authenticator(user):
        return redirect("mfa:account" if mfa.passed(request, user) else "mfa:verify")
    if not subject.signed_in and not mfa.is_required(user):
        return _without_authenticator(request, subject)
    key = mfa.enrolment_key(request, user)
    if request.method == "POST":
        step = mfa.confirming_step(key, request.POST.get("code", ""))
        if step is not None:
            return _enrolled(request, subject, key, step)
    uri = mfa.otpauth_uri(user, key)
    context = {
        "qr": mfa.qr_data_uri(uri),
        "secret": mfa.manual_secret(key),
        "username": user.get_username(),
        "required": mfa.is_required(user),
        "signed_in": subject.signed_in,
        "errors": {"code": ENROL_WRONG} if request.method == "POST" else {},
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "accounts/mfa_enrol.html", context, status=status)


def _enrolled(request: HttpRequest, subject: Subject, key: str, step: int) -> HttpResponse:
    origin = origin_of(request, Via.WEB)
    try:
        codes = do_enrol_mfa(subject.user, key, confirmed_step=step, actor=subject.user, origin=origin)
    except InvalidInput:  # enrolled meanwhile in another tab
        return redirect("mfa:verify")
    mfa.forget_enrolment_key(request)
    _sign_in(request, subject, second_factor=True)
    context = {"codes": [mfa.grouped(code) for code in codes], "onward": _onward(request, subject)}
    return render(request, "accounts/mfa_codes.html", context)


@never_cache
@login_required
@require_http_methods(["GET"])
def account(request: HttpRequest) -> HttpResponse:
    """Your own second factor: enrolled or not, recovery codes left, and how to get a new one."""
    user = request.user
    assert isinstance(user, User)  # login_required
    device = mfa.authenticator(user)
    context = {
        "enrolled_at": device.created_at if device is not None else None,
        "codes_left": mfa.recovery_codes_left(user),
        "codes_given": mfa.RECOVERY_CODES,
        "required": mfa.is_required(user),
        "notice": request.session.pop(mfa.NOTICE, ""),
    }
    return render(request, "accounts/mfa_account.html", context)


def _staff_admins_only(request: HttpRequest) -> HttpResponse | None:
    """Clinic admins only (as web.shortcuts.requires, which this layer may not import): None lets in."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can(request.user, Perm.STAFF_MANAGE):
        deny(request.user, origin_of(request, Via.WEB), str(Perm.STAFF_MANAGE))
        return _error(request, 403)
    return None


def _error(request: HttpRequest, status: int) -> HttpResponse:
    title, message = {
        403: ("Not allowed", "Your role does not allow this. Ask a clinic admin if you need it."),
        404: ("Not found", "There is nothing here, or it is not yours to see."),
    }[status]
    return render(request, "web/error.html", {"title": title, "message": message}, status=status)


@never_cache
@require_http_methods(["GET"])
def staff(request: HttpRequest) -> HttpResponse:
    """Where the staff at the admin's locations stand on second factors, with a reset for each."""
    if (refused := _staff_admins_only(request)) is not None:
        return refused
    context = {
        "rows": mfa.staff_overview(request.user),
        "required_roles": mfa.required_roles(),
        "notice": request.session.pop(mfa.NOTICE, ""),
    }
    return render(request, "accounts/mfa_staff.html", context)


@require_POST
def reset(request: HttpRequest, user_id: int) -> HttpResponse:
    if (refused := _staff_admins_only(request)) is not None:
        return refused
    origin = origin_of(request, Via.WEB)
    found = mfa.staff_member_for(request.user, user_id)
    if found is None:
        deny(request.user, origin, "mfa.reset")
        return _error(request, 404)
    target, location_id = found
    if target.pk == request.user.pk:
        deny(request.user, origin, "mfa.reset")  # another admin, or `ketaclinic reset_mfa`, resets yours
        return _error(request, 403)
    do_reset_mfa(target, actor=request.user, origin=origin, location_id=location_id)
    request.session[mfa.NOTICE] = (
        f"The second factor of {target.get_username()} was reset and their sessions ended. "
        "They enrol a new authenticator at their next sign-in if their role requires one."
    )
    return redirect("mfa:staff")
