"""The patient's self-report link: /r/<token>/, public, with nothing of the patient in the URL.

The token is the secret (links.py). Before anything is shown the patient gives their date of birth; a right
one sets a signed, HttpOnly cookie, scoped to /r/, tying this browser to this link for VERIFIED_SECONDS. A
wrong one is counted on the link (it locks after the policy's `self_report_dob_attempts`) and against the
address (accounts.throttle: the sign-in rate per address, then 429). A link that is forged, replaced by a
newer one, expired, answered, locked or cancelled shows one and the same page, status 404, naming nothing.
The questions come from the clinical library through the `_questions.html` macro; the answers are scored
by `do_record_assessment` (an item missing or out of range is named and nothing is saved), and the request
takes one response, so a second submit shows the thank-you page again and stores nothing. A positive
suicide item (PHQ-9 item 9, QIDS-SR16 item 12 at 1 or more: the library's `suicidal_ideation` flag) shows
the crisis resources on the thank-you page. Every event of a link is audited (opened, date of birth right
or wrong, locked, refused, answered); none is logged with its token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from ketaclinic.accounts import throttle
from ketaclinic.assessments import actions, inputs
from ketaclinic.assessments.forms import answers_from_post, question_form
from ketaclinic.assessments.models import Assessment, AssessmentRequest, RequestStatus, Source
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.models import Action, Outcome, Via
from ketaclinic.audit.repeats import counted_address, record_repeated
from ketaclinic.clinical.scales import Flag
from ketaclinic.errors import InvalidInput, Refused, field_errors

COOKIE = "ketaclinic_self_report"
COOKIE_SALT = "ketaclinic.assessments.self-report-verified"
VERIFIED_SECONDS = 30 * 60
COOKIE_PATH = "/r/"


def _headers(response: HttpResponse) -> HttpResponse:
    # The link's URL holds its secret: no page of it is sent as a referrer to another site, indexed or
    # cached. "same-origin", not "no-referrer": under no-referrer a browser sends `Origin: null` with the
    # link's own form posts, which the CSRF check refuses (tests/browser/test_measurement_care.py).
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    return response


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return _headers(render(request, f"assessments/selfreport/{template}", context, status=status))


def _mark(req: AssessmentRequest) -> str:
    return f"{req.pk}:{req.token_hash}"


def _verified(request: HttpRequest, req: AssessmentRequest) -> bool:
    value = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT, max_age=VERIFIED_SECONDS)
    return bool(value) and value == _mark(req)


def _gone(request: HttpRequest, origin: Origin, found: AssessmentRequest | None) -> HttpResponse:
    if found is None:
        record_repeated(Action.SELF_REPORT_REFUSED, origin=origin, outcome=Outcome.DENIED)
    else:
        record(
            Action.SELF_REPORT_REFUSED,
            origin=origin,
            outcome=Outcome.DENIED,
            obj=found,
            patient=found.patient,
        )
    return _page(request, "gone.html", {}, status=404)


@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    origin = origin_of(request, Via.WEB)
    found = actions.found_request(token)
    if found is not None and found.status == RequestStatus.COMPLETED and _verified(request, found):
        # A second submit, or a reload, of a link just answered: the thank-you page again, nothing stored.
        answered = Assessment.objects.filter(request=found).first()
        if answered is not None:
            return _thanks(request, answered)
    req = actions.usable_request(token, now)
    if req is None:
        return _gone(request, origin, found)
    if request.method == "GET":
        if _verified(request, req):
            return _form(request, req)
        record(Action.SELF_REPORT_OPEN, origin=origin, obj=req, patient=req.patient)
        return _page(request, "dob.html", {"errors": {}, "values": {}})
    if request.POST.get("step") == "dob" or not _verified(request, req):
        return _check_dob(request, req, origin, now)
    return _submit(request, req, origin)


def _dob(post: Any) -> dt.date | None:
    try:
        return dt.date(int(post.get("year", "")), int(post.get("month", "")), int(post.get("day", "")))
    except ValueError:
        return None


def _check_dob(
    request: HttpRequest, req: AssessmentRequest, origin: Origin, now: dt.datetime
) -> HttpResponse:
    values = {k: request.POST.get(k, "") for k in ("day", "month", "year")}
    given = _dob(request.POST)
    if given is None:
        errors = {"date_of_birth": "Enter your date of birth as day, month and year in numbers."}
        return _page(request, "dob.html", {"errors": errors, "values": values}, status=422)
    key = "self_report:" + counted_address(origin.source_ip)
    decision = throttle.take(
        key, settings.KETACLINIC_SIGNIN_RATE_PER_IP, settings.KETACLINIC_AUTH_RATE_WINDOW_SECONDS
    )
    if not decision.allowed:
        minutes = max(1, -(-decision.retry_after // 60))
        response = _page(request, "slow.html", {"minutes": minutes}, status=429)
        response["Retry-After"] = str(decision.retry_after)
        return response
    outcome = actions.do_check_self_report_dob(req, given, now=now, origin=origin)
    if outcome == actions.DobCheck.RIGHT:
        throttle.give_back(key)
        response = HttpResponseRedirect(request.path)
        response.status_code = 303  # see the questions: the browser GETs them
        response.set_signed_cookie(
            COOKIE,
            _mark(req),
            salt=COOKIE_SALT,
            max_age=VERIFIED_SECONDS,
            path=COOKIE_PATH,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Strict",
        )
        return _headers(response)
    if outcome == actions.DobCheck.WRONG:
        errors = {"date_of_birth": "That date of birth does not match our records. Check it and try again."}
        return _page(request, "dob.html", {"errors": errors, "values": values}, status=422)
    return _page(request, "gone.html", {}, status=404)  # locked now (audited by the action), or gone


def _form(
    request: HttpRequest,
    req: AssessmentRequest,
    errors: dict[str, str] | None = None,
    values: Any = None,
    status: int = 200,
) -> HttpResponse:
    form = question_form(req.instrument)
    context = {"form": form, "errors": errors or {}, "values": values or {}, "expires_at": req.expires_at}
    return _page(request, "form.html", context, status=status)


def _submit(request: HttpRequest, req: AssessmentRequest, origin: Origin) -> HttpResponse:
    answers = answers_from_post(req.instrument, request.POST)
    try:
        data = inputs.AssessmentIn.model_validate({"instrument": req.instrument, "answers": answers})
        saved = actions.do_record_assessment(
            req.patient,
            data,
            actor=None,
            origin=origin,
            source=Source.SELF_REPORT,
            request=req,
            session=req.session,
        )
    except ValidationError as exc:
        return _form(request, req, field_errors(exc), request.POST, status=422)
    except InvalidInput as exc:
        return _form(request, req, _plain(exc.errors), request.POST, status=422)
    except Refused:
        answered = Assessment.objects.filter(request=req).first()
        if answered is not None:  # answered by a submit a moment ago
            return _thanks(request, answered)
        return _page(request, "gone.html", {}, status=404)
    return _thanks(request, saved)


def _plain(errors: dict[str, str]) -> dict[str, str]:
    """The library's messages ("phq9 item 9: is missing") as a patient reads them, keyed as before."""
    out = {}
    for key, message in errors.items():
        item = key.removeprefix("answers.")
        out[key] = f"Question {item}: choose one of the answers." if item != key else message
    return out


def _thanks(request: HttpRequest, answered: Assessment) -> HttpResponse:
    crisis = Flag.SUICIDAL_IDEATION.value in answered.flags
    return _page(request, "thanks.html", {"crisis": crisis})
