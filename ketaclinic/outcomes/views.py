"""The outcome report page (charts as server-rendered SVG, a table beside each) and its CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from pydantic import ValidationError

from ketaclinic.audit.models import Action
from ketaclinic.clinical.protocols import PROTOCOLS
from ketaclinic.errors import field_errors
from ketaclinic.outcomes.access import PERM, choices, network_wide
from ketaclinic.outcomes.body import bar_chart, csv_rows, curve_chart
from ketaclinic.outcomes.filters import DOSE_BANDS, INSTRUMENTS, MODALITIES, OutcomesQuery
from ketaclinic.outcomes.service import read_report
from ketaclinic.web.shortcuts import requires, web_origin

FIELDS = ("instrument", "location", "modality", "protocol", "dose_band", "from", "to")


def _query(request: HttpRequest) -> tuple[OutcomesQuery | None, dict[str, str], dict[str, str]]:
    values = {name: request.GET.get(name, "") for name in FIELDS}
    values["instrument"] = values["instrument"] or "phq9"
    data = {k: v for k, v in values.items() if v}
    try:
        return OutcomesQuery.model_validate(data), values, {}
    except ValidationError as error:
        return None, values, {k.removesuffix("_"): v for k, v in field_errors(error).items()}


def _options(request: HttpRequest) -> dict[str, Any]:
    return {
        "instruments": INSTRUMENTS,
        "place_choices": [(loc.slug, loc.name) for loc in choices(request.user)],
        "network": network_wide(request.user),
        "modalities": MODALITIES,
        "protocols": {key: spec.name for key, spec in PROTOCOLS.items()},
        "dose_bands": {key: band.label for key, band in DOSE_BANDS.items()},
    }


@requires(PERM)
@require_GET
def report_page(request: HttpRequest) -> HttpResponse:
    query, values, errors = _query(request)
    context: dict[str, Any] = {"values": values, "errors": errors, **_options(request)}
    if query is None:
        return render(request, "outcomes/report.html", context, status=400)
    body = read_report(request.user, query, origin=web_origin(request))
    context.update(
        body=body,
        curve=curve_chart(body),
        bars=bar_chart(body),
        csv_query=request.GET.urlencode(),
    )
    return render(request, "outcomes/report.html", context)


@requires(PERM)
@require_GET
def report_csv(request: HttpRequest) -> HttpResponse:
    query, _, errors = _query(request)
    if query is None:
        return HttpResponse(
            "; ".join(f"{k}: {v}" for k, v in errors.items()), status=400, content_type="text/plain"
        )
    body = read_report(request.user, query, origin=web_origin(request), action=Action.OUTCOMES_EXPORT)
    out = io.StringIO()
    csv.writer(out).writerows(csv_rows(body))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="outcomes-{query.instrument}.csv"'
    return response
