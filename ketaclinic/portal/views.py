"""The patient portal's pages (phone-first): sign in and out, set a password from an invitation, the home
page (upcoming sessions with their preparation, questionnaires to answer), a questionnaire, score history.

Every page that shows the patient's data writes a patient.read row naming the patient's portal account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.hashers import check_password
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from pydantic import ValidationError

from ketaclinic.accounts import throttle
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.forms import answers_from_post, question_form
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import Source
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.audit.repeats import record_repeated
from ketaclinic.errors import InvalidInput, NotFound, Refused, field_errors
from ketaclinic.portal import auth, queries
from ketaclinic.portal.actions import do_accept_invitation, do_portal_sign_in, open_invitation
from ketaclinic.portal.auth import patient_page, portal_origin
from ketaclinic.portal.inputs import PasswordIn, email_key
from ketaclinic.portal.models import PatientAccount

BAD_SIGN_IN = "E-mail address or password is incorrect."

# Cards at the top of the home page from areas above this one (the homecare app's "Today's dose"). Each
# provider registers when its app starts and returns dicts with `id`, `level` (info, warn, error), `title`,
# `text`, `link` and `link_label`, for the signed-in account only.
HomeCards = Callable[[HttpRequest, PatientAccount], list[dict[str, Any]]]
_home_cards: list[HomeCards] = []


def add_home_cards(provider: HomeCards) -> None:
    if provider not in _home_cards:
        _home_cards.append(provider)


LOCKED = "Too many failed attempts. Try again later."


def _read(request: HttpRequest, account: PatientAccount, fields: list[str], obj: Any = None) -> None:
    """The page's read event: the patient's portal account read what `fields` name of their own record."""
    record(
        Action.PATIENT_READ,
        actor=account,
        origin=portal_origin(request),
        obj=obj,
        patient=account.patient,
        changed_fields=fields,
    )


def _throttle_name(email: str) -> str:
    # Counted apart from staff usernames: a patient's failures never lock a staff account of the same name.
    return "portal:" + email_key(email)


def _check_password(request: HttpRequest, email: str, password: str, origin: Origin) -> PatientAccount | int:
    """The account whose password this is, or the status to refuse with. Every attempt is counted and
    audited, known e-mail address or not, with the staff sign-in's limits (accounts/throttle.py)."""
    from_address = throttle.take_signin(origin)
    if not from_address.allowed:
        record_repeated(Action.PORTAL_LOGIN_LOCKED, origin=origin, outcome=Outcome.DENIED)
        return 429
    name = _throttle_name(email)
    known = PatientAccount.objects.select_related("patient").filter(email_key=email_key(email)).first()
    if not throttle.take_password_check(name).allowed:
        throttle.spend_a_password_check(password)
        record(Action.PORTAL_LOGIN_LOCKED, actor=known, origin=origin, outcome=Outcome.DENIED)
        return 429
    usable = known is not None and known.is_active and bool(known.password)
    if not usable:
        throttle.spend_a_password_check(password)
    if known is None or not usable or not check_password(password, known.password):
        record(Action.PORTAL_LOGIN_FAILED, actor=known, origin=origin, outcome=Outcome.FAILURE)
        return 401
    throttle.signed_in(name, origin)
    return known


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return auth.staff_refused(request)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    context: dict[str, Any] = {
        "next": next_url,
        "error": "",
        "email": "",
        "timed_out": request.session.pop(auth.TIMED_OUT, False),
        "password_set": request.GET.get("welcome") == "1",
    }
    if request.method == "GET":
        if auth.current(request) is not None:
            return redirect("portal:home")
        return render(request, "portal/sign_in.html", context)
    email = request.POST.get("email", "").strip()[:254]
    password = request.POST.get("password", "")[:200]
    origin = portal_origin(request)
    checked = _check_password(request, email, password, origin)
    if isinstance(checked, int):
        context.update(error=LOCKED if checked == 429 else BAD_SIGN_IN, email=email if checked == 401 else "")
        return render(request, "portal/sign_in.html", context, status=checked)
    do_portal_sign_in(checked, origin=origin)
    auth.start(request, checked)
    if next_url.startswith("/portal/") and url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, request.is_secure()
    ):
        return HttpResponseRedirect(next_url)
    return redirect("portal:home")


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    account = auth.current(request)
    if account is not None:
        record(Action.PORTAL_LOGOUT, actor=account, origin=portal_origin(request))
    auth.end(request)
    return redirect("portal:sign_in")


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def welcome(request: HttpRequest, secret: str) -> HttpResponse:
    """An invitation link: the patient chooses a password. A used, expired, replaced or made-up link shows
    the same page, which says nothing about the patient."""
    if request.user.is_authenticated:
        return auth.staff_refused(request)
    try:
        open_invitation(secret)
    except NotFound:
        return render(request, "portal/invitation_invalid.html", status=404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            data = PasswordIn.model_validate(
                {
                    "password": request.POST.get("password", ""),
                    "password_again": request.POST.get("password_again", ""),
                }
            )
            do_accept_invitation(secret, data, origin=portal_origin(request))
        except ValidationError as exc:
            errors = field_errors(exc)
        except InvalidInput as exc:
            errors = exc.errors
        except NotFound:
            return render(request, "portal/invitation_invalid.html", status=404)
        else:
            auth.end(request)
            return redirect(reverse("portal:sign_in") + "?welcome=1")
    return render(
        request,
        "portal/welcome.html",
        {"errors": errors, "min_length": 12},
        status=422 if errors else 200,
    )


@never_cache
@patient_page
def home(request: HttpRequest, account: PatientAccount) -> HttpResponse:
    upcoming = queries.upcoming_sessions(account)
    pending = queries.pending_requests(account)
    cards = [card for provider in _home_cards for card in provider(request, account)]
    _read(request, account, ["treatment_sessions", "assessment_requests"])
    return render(
        request,
        "portal/home.html",
        {
            "account": account,
            "patient": account.patient,
            "upcoming": upcoming,
            "pending": pending,
            "cards": cards,
            "instrument_name": queries.instrument_name,
            "section": "home",
        },
    )


@never_cache
@patient_page
def history(request: HttpRequest, account: PatientAccount) -> HttpResponse:
    rows = queries.score_history(account)
    trend = queries.trend(account)
    _read(request, account, ["assessments"])
    return render(
        request,
        "portal/history.html",
        {
            "account": account,
            "patient": account.patient,
            "rows": rows,
            "trend": trend,
            "instrument_name": queries.instrument_name,
            "section": "history",
        },
    )


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
@patient_page
def questionnaire(request: HttpRequest, account: PatientAccount, request_id: int) -> HttpResponse:
    """One of the patient's pending questionnaires (the form the staff entry and self-report pages share);
    answered, it is scored and stored through do_record_assessment with source `portal`."""
    origin = portal_origin(request)
    asked = queries.get_request_for(account, request_id, origin=origin)
    form = question_form(asked.instrument)
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        values = {q.field: request.POST.get(q.field, "") for q in form.questions}
        answers = answers_from_post(asked.instrument, request.POST)
        try:
            data = AssessmentIn.model_validate({"instrument": asked.instrument, "answers": answers})
            result = do_record_assessment(
                account.patient, data, actor=account, origin=origin, source=Source.PORTAL, request=asked
            )
        except ValidationError as exc:
            errors = field_errors(exc)
        except InvalidInput as exc:
            errors = exc.errors
        except Refused:
            raise NotFound from None
        else:
            crisis = bool(set(result.flags) & queries.CRISIS_FLAGS)
            return render(
                request,
                "portal/thanks.html",
                {"account": account, "crisis": crisis, "name": form.name, "section": "home"},
            )
    _read(request, account, ["assessment_request"], asked)
    return render(
        request,
        "portal/questionnaire.html",
        {
            "account": account,
            "asked": asked,
            "form": form,
            "errors": errors,
            "values": values,
            "section": "home",
        },
        status=422 if errors else 200,
    )
