"""The audit review page for clinic admins: filter, sort, page, and export to CSV (ONC (d)(3)).

Filters are POSTed by the form (an MRN never reaches a URL); the address may carry only the page number.
Every field and value is checked (inputs.AuditFilterIn): anything else is refused with its name (422).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from ketaclinic.accounts.access import location_ids
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit_review import queries
from ketaclinic.audit_review.inputs import AuditFilterIn
from ketaclinic.errors import errors_by_field
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

PAGE_SIZE = 50
DIRECTIONS = (("desc", "Newest / Z first"), ("asc", "Oldest / A first"))
# Django's own field on every form: checked by the CSRF middleware, not a filter.
CSRF_FIELD = "csrfmiddlewaretoken"
# What the address may carry: only the page (the filters are POSTed).
IN_ADDRESS = frozenset({"page"})
NOT_CARRIED = frozenset({"page", "export"})
LABELS = {
    "patient_mrn": "Patient MRN",
    "username": "User",
    "action": "Action",
    "date_from": "From",
    "date_to": "To",
    "sort": "Sort by",
    "direction": "Order",
    "page": "Page",
    "export": "Export",
}
UNKNOWN = "Not a filter of the audit trail."
# An unknown field's name is shown back to the admin: at most this many characters of it.
SHOWN_NAME = 40
CSV_COLUMNS = (
    "seq",
    "time_utc",
    "user",
    "action",
    "outcome",
    "object",
    "patient_mrn",
    "location",
    "fields",
    "via",
    "request_id",
    "source_ip",
)
# A spreadsheet runs a cell that begins with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _shown(name: str) -> str:
    return name if len(name) <= SHOWN_NAME else name[:SHOWN_NAME] + "…"


def _single_values(sent: QueryDict, errors: dict[str, str]) -> dict[str, str]:
    """The fields sent, one value each; a field sent more than once is refused."""
    values = {}
    for name, given in sent.lists():
        if len(given) > 1:
            errors[_shown(name)] = "Send this filter once."
        values[name] = given[-1]
    return values


def parse_filter(request: HttpRequest) -> tuple[AuditFilterIn, dict[str, str], dict[str, str]]:
    """The filter the request asks for, the errors of every field or value that is not known, and what
    was typed in the form's fields (shown again beside their errors)."""
    errors: dict[str, str] = {}
    for name in request.GET:
        if name not in IN_ADDRESS:
            errors[_shown(name)] = "Not a filter the address may carry; use the form."
    data = {k: v for k, v in _single_values(request.GET, errors).items() if k in IN_ADDRESS}
    if request.method == "POST":
        data.update(_single_values(request.POST, errors))
    data.pop(CSRF_FIELD, None)
    typed = {name: value for name, value in data.items() if name in LABELS}
    try:
        flt = AuditFilterIn.model_validate(data)
    except ValidationError as exc:
        found = errors_by_field(exc.errors())
        found = {name: message if name in LABELS else UNKNOWN for name, message in found.items()}
        errors.update(form_errors({_shown(name): message for name, message in found.items()}))
        return AuditFilterIn(), errors, typed
    return flt, errors, typed


def _query(flt: AuditFilterIn) -> queries.AuditFilter:
    return queries.AuditFilter(
        patient_mrn=flt.patient_mrn,
        username=flt.username,
        action=flt.action,
        date_from=flt.date_from,
        date_to=flt.date_to,
        sort=flt.sort,
        descending=flt.direction == "desc",
    )


def neutralised(value: object) -> object:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(events: Iterable[AuditEvent]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for e in events:
        row: list[Any] = [
            e.seq,
            e.occurred_at.isoformat(),
            e.actor.username if e.actor else "",
            e.action,
            e.outcome,
            f"{e.object_type} {e.object_id}".strip(),
            e.patient.mrn if e.patient else "",
            e.location.name if e.location else "",
            " ".join(e.changed_fields),
            e.via,
            e.request_id,
            e.source_ip or "",
        ]
        writer.writerow([neutralised(cell) for cell in row])
    return response


@requires(Perm.AUDIT_READ)
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    flt, errors, typed = parse_filter(request)
    scope = location_ids(request.user, Perm.AUDIT_READ)
    events = queries.apply(queries.reviewable(scope), _query(flt), timezone.get_current_timezone())
    # The filters in use (their names, as every audit row names fields), carried by the pager too.
    used = {
        k: v for k, v in flt.model_dump(mode="json", exclude_defaults=True).items() if k not in NOT_CARRIED
    }
    sent = sorted(used)
    if errors:
        # Nothing is shown for a refused filter: a list that ignored part of it would mislead.
        events = AuditEvent.objects.none()
    elif flt.export == "csv":
        record(Action.AUDIT_EXPORT, actor=request.user, origin=web_origin(request), changed_fields=sent)
        return _csv(events.iterator(chunk_size=2000))
    else:
        record(Action.AUDIT_READ, actor=request.user, origin=web_origin(request), changed_fields=sent)
    page = Paginator(events, PAGE_SIZE).get_page(flt.page)
    context = {
        "page": page,
        "filter": flt,
        "errors": errors,
        "labels": LABELS,
        "values": typed if errors else {},
        "actions": Action.choices,
        "sorts": [(sort, sort.capitalize()) for sort in queries.SORTS],
        "directions": DIRECTIONS,
        # The filters travel with the Previous and Next buttons (POSTed: an MRN never reaches a URL).
        "carried": list(used.items()),
    }
    return render(request, "audit/review.html", context, status=422 if errors else 200)
