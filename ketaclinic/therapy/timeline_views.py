"""The patient's timeline page (issue 11, item 6): one page of therapy/timeline.py, its kind filters, and
for clinicians the questionnaire totals drawn as the chart's trend line above it (assessments' own chart)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments.episode import DEFAULT_INSTRUMENT, OutcomeInstrument
from ketaclinic.assessments.views import trend_context
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.patients.access import get_patient_for
from ketaclinic.therapy import timeline
from ketaclinic.web.shortcuts import requires, web_origin

PAGE_SIZE = 25
OFFSET_MAX = 2**31 - 1


def _kind(raw: str) -> timeline.TimelineKind | None:
    try:
        return timeline.TimelineKind(raw) if raw else None
    except ValueError:
        return None


def _offset(raw: str) -> int:
    return min(int(raw), OFFSET_MAX) if raw.isdigit() else 0


def _instrument(raw: str) -> OutcomeInstrument:
    try:
        return OutcomeInstrument(raw or DEFAULT_INSTRUMENT)
    except ValueError:
        return DEFAULT_INSTRUMENT


@requires(Perm.PATIENT_READ)
@require_GET
def patient_timeline(request: HttpRequest, pk: str) -> HttpResponse:
    """The patient's course, newest first, a page at a time; `?kind=` keeps one kind."""
    patient = get_patient_for(request.user, pk, origin=web_origin(request))
    kind = _kind(request.GET.get("kind", ""))
    offset = _offset(request.GET.get("offset", ""))
    page = timeline.timeline(patient, request.user, kind=kind, limit=PAGE_SIZE, offset=offset)
    fields = ["timeline"]
    context: dict[str, Any] = {
        "patient": patient,
        "page": page,
        "kind": kind.value if kind else "",
        "kind_labels": timeline.KIND_LABELS,
        "older": offset + PAGE_SIZE if offset + PAGE_SIZE < page.count else None,
        "newer": max(offset - PAGE_SIZE, 0) if offset else None,
        "clinical": timeline.TimelineKind.QUESTIONNAIRE in page.kinds,
    }
    if context["clinical"]:
        context |= trend_context(patient, _instrument(request.GET.get("instrument", "")))
        fields.append("episode")
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=web_origin(request),
        obj=patient,
        patient=patient,
        changed_fields=fields,
    )
    return render(request, "therapy/timeline.html", context)
