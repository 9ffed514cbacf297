"""Break-glass pages: request emergency access to another location's patient, end it, and review it.

No patient identifier reaches a URL: the lookup is POSTed and grants are named by their number.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import BaseModel, ValidationError

from ketaclinic.accounts.access import location_ids
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.emergency import actions, queries
from ketaclinic.emergency.access import get_grant_for_review, get_own_grant
from ketaclinic.emergency.inputs import EmergencyAccessIn, ReviewIn
from ketaclinic.errors import InvalidInput, field_errors
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

PAGE_SIZE = 20
LABELS = {
    "mrn": "MRN",
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "reason": "Reason",
    "confirm": "Confirmation",
}
CHECKBOXES = frozenset({"confirm"})
M = TypeVar("M", bound=BaseModel)


def _parse(model: type[M], form: QueryDict) -> M:
    """A form's fields (blank dates as none, checkboxes as booleans) through the input model."""
    data: dict[str, Any] = {}
    for name in model.model_fields:
        if name in CHECKBOXES:
            data[name] = name in form
        elif name in form:
            value = form.get(name, "")
            data[name] = None if name == "date_of_birth" and not value.strip() else value
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


def _request_page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    grants = list(queries.open_grants_of(request.user))
    if grants:  # the page names these patients
        record(
            Action.PATIENT_LIST,
            actor=request.user,
            origin=web_origin(request),
            changed_fields=["emergency_access"],
        )
    context = {
        "grants": grants,
        "minutes": settings.KETACLINIC_BREAK_GLASS_MINUTES,
        "shortest": settings.KETACLINIC_BREAK_GLASS_REASON_MIN_CHARS,
        "errors": {},
        "values": {},
        "labels": LABELS,
        **extra,
    }
    return render(request, "emergency/request.html", context, status=status)


@requires(Perm.EMERGENCY_ACCESS)
@require_http_methods(["GET", "POST"])
def request_access(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _request_page(request)
    try:
        data = _parse(EmergencyAccessIn, request.POST)
        grant = actions.do_open_emergency_access(data, actor=request.user, origin=web_origin(request))
    except InvalidInput as exc:
        return _request_page(request, 422, errors=form_errors(exc.errors), values=request.POST)
    return redirect(reverse("patients:chart", args=[grant.patient_id]))


@requires(Perm.EMERGENCY_ACCESS)
@require_POST
def end_access(request: HttpRequest, pk: int) -> HttpResponse:
    origin = web_origin(request)
    grant = get_own_grant(request.user, pk, origin=origin)
    actions.do_end_emergency_access(grant, actor=request.user, origin=origin)
    return redirect(reverse("emergency:request"))


def _review_page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    scope = location_ids(request.user, Perm.AUDIT_READ)
    page = Paginator(queries.to_review(scope), PAGE_SIZE).get_page(request.GET.get("page", "1"))
    grants = list(page.object_list)
    record(
        Action.AUDIT_READ, actor=request.user, origin=web_origin(request), changed_fields=["emergency_access"]
    )
    context = {
        "page": page,
        "grants": grants,
        "reads": queries.reads_under(grants),
        "now": timezone.now(),
        "errors": {},
        "values": {},
        **extra,
    }
    return render(request, "emergency/review.html", context, status=status)


@requires(Perm.AUDIT_READ)
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    return _review_page(request)


@requires(Perm.AUDIT_READ)
@require_POST
def mark_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    origin = web_origin(request)
    grant = get_grant_for_review(request.user, pk, origin=origin)
    try:
        data = _parse(ReviewIn, request.POST)
    except InvalidInput as exc:
        errors = {f"note-{pk}": message for message in exc.errors.values()}
        return _review_page(request, 422, errors=errors, values={f"note-{pk}": request.POST.get("note", "")})
    actions.do_review_emergency_access(grant, data, actor=request.user, origin=origin)
    return redirect(reverse("emergency:review") + f"#grant-{pk}")
