"""The audit review page for clinic admins: filter, sort, page, and export to CSV (ONC (d)(3))."""

from __future__ import annotations

import csv
import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.access import location_ids
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.audit_review import queries
from ketaclinic.web.shortcuts import requires, web_origin

PAGE_SIZE = 50
DIRECTIONS = (("desc", "Newest / Z first"), ("asc", "Oldest / A first"))
NOT_CARRIED = frozenset({"page", "csrfmiddlewaretoken", "export"})
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


def _date(raw: str, field: str, errors: dict[str, str]) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[field] = "Enter a date as YYYY-MM-DD."
        return None


def _filter(data: dict[str, str], errors: dict[str, str]) -> queries.AuditFilter:
    sort = data.get("sort", "time")
    if sort not in queries.SORTS:
        errors["sort"] = "Choose one of the listed columns."
        sort = "time"
    action = data.get("action", "")
    if action and action not in Action.values:
        errors["action"] = "Choose one of the listed actions."
        action = ""
    flt = queries.AuditFilter(
        patient_mrn=data.get("patient_mrn", "").strip()[:20],
        username=data.get("username", "").strip()[:150],
        action=action,
        date_from=_date(data.get("date_from", ""), "date_from", errors),
        date_to=_date(data.get("date_to", ""), "date_to", errors),
        sort=sort,
        descending=data.get("direction", "desc") != "asc",
    )
    if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
        errors["date_to"] = "The end date is before the start date."
    return flt


def _csv(events: object) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for e in events:  # type: ignore[attr-defined]
        writer.writerow(
            [
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
        )
    return response


@requires(Perm.AUDIT_READ)
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    data = request.POST.dict() if request.method == "POST" else {}
    errors: dict[str, str] = {}
    flt = _filter(data, errors)
    scope = location_ids(request.user, Perm.AUDIT_READ)
    events = queries.apply(queries.reviewable(scope), flt, timezone.get_current_timezone())
    if data.get("export") == "csv" and not errors:
        record(Action.AUDIT_EXPORT, actor=request.user, origin=web_origin(request), changed_fields=list(data))
        return _csv(events.iterator(chunk_size=2000))
    page = Paginator(events, PAGE_SIZE).get_page(data.get("page", request.GET.get("page", "1")))
    record(Action.AUDIT_READ, actor=request.user, origin=web_origin(request), changed_fields=sorted(data))
    context = {
        "page": page,
        "filter": flt,
        "errors": errors,
        "values": {},
        "actions": Action.choices,
        "sorts": [(sort, sort.capitalize()) for sort in queries.SORTS],
        "directions": DIRECTIONS,
        # The filters travel with the Previous and Next buttons (POSTed: an MRN never reaches a URL).
        "carried": [(name, value) for name, value in data.items() if name not in NOT_CARRIED],
    }
    return render(request, "audit/review.html", context, status=422 if errors else 200)
