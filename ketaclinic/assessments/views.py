"""Pages of assessments: a patient's responses, entering one from the chart (a clinician's MADRS, a PHQ-9 on
paper), one response with its item-level answers, and the chart's trend panel (loaded after the chart).
Same actions and queries as the API; every page that shows a response writes its read event."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from pydantic import ValidationError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments import actions, inputs, queries, trend
from ketaclinic.assessments.access import get_patient_assessment_for, patient_for
from ketaclinic.assessments.episode import DEFAULT_INSTRUMENT, STATUS_LABELS, OutcomeInstrument
from ketaclinic.assessments.forms import CLINIC_ENTRY, answers_from_post, question_form
from ketaclinic.assessments.models import Assessment, Source
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinical import scales
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import InvalidInput, Refused, field_errors
from ketaclinic.patients.models import Patient
from ketaclinic.web.shortcuts import requires, web_origin

LIST_LIMIT = 100
INSTRUMENT_NAMES = {i.value: spec.name for i, spec in scales.INSTRUMENTS.items()}
SOURCE_LABELS = dict(Source.choices)
FLAG_LABELS = {
    "suicidal_ideation": "Suicidal ideation",
    "suicidal_behaviour": "Suicidal behaviour",
    "high_suicide_risk": "High suicide risk",
    "probable_gad": "Probable GAD",
}


def _read(request: HttpRequest, patient: Patient, obj: Any = None, fields: list[str] | None = None) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=web_origin(request),
        obj=obj or patient,
        patient=patient,
        changed_fields=fields or [],
    )


def _can_record(request: HttpRequest, patient: Patient) -> bool:
    return can(request.user, Perm.ASSESSMENT_RECORD, patient.location_id) and not patient.entered_in_error_at


def _entry_choices() -> list[tuple[str, str]]:
    return [(i.value, INSTRUMENT_NAMES[i.value]) for i in CLINIC_ENTRY]


def _outcome_instrument(request: HttpRequest) -> OutcomeInstrument:
    try:
        return OutcomeInstrument(request.GET.get("instrument") or DEFAULT_INSTRUMENT)
    except ValueError:
        return DEFAULT_INSTRUMENT


def trend_context(patient: Patient, instrument: OutcomeInstrument) -> dict[str, Any]:
    """The trend chart, episode and table of one outcome scale (four queries whatever the history)."""
    policy = policy_for(patient.location)
    episode = queries.episode(patient, instrument.value)
    return {
        "instrument": instrument.value,
        "instrument_name": INSTRUMENT_NAMES[instrument.value],
        "instruments": [(i.value, INSTRUMENT_NAMES[i.value]) for i in OutcomeInstrument],
        "episode": episode,
        "chart": trend.chart(episode, policy),
        "status_labels": STATUS_LABELS,
    }


@requires(Perm.PATIENT_READ)
@require_GET
def patient_assessments(request: HttpRequest, pk: str) -> HttpResponse:
    """The patient's responses, newest first, with the trend of an outcome scale and the entry links."""
    patient = patient_for(request.user, pk, origin=web_origin(request))
    rows = list(queries.assessments_of(patient).select_related("created_by")[:LIST_LIMIT])
    _read(request, patient, fields=["assessments"])
    context = {
        "patient": patient,
        "rows": rows,
        "limit": LIST_LIMIT,
        "names": INSTRUMENT_NAMES,
        "sources": SOURCE_LABELS,
        "flag_labels": FLAG_LABELS,
        "can_record": _can_record(request, patient),
        "choices": _entry_choices(),
        "saved": request.GET.get("saved") == "1",
        **trend_context(patient, _outcome_instrument(request)),
    }
    return render(request, "assessments/patient.html", context)


@requires(Perm.PATIENT_READ)
@require_GET
def chart_panel(request: HttpRequest, pk: str) -> HttpResponse:
    """The chart's trend panel (loaded after the chart, so the chart's own queries stay as they are)."""
    patient = patient_for(request.user, pk, origin=web_origin(request))
    _read(request, patient, fields=["episode"])
    context = {"patient": patient, "can_record": _can_record(request, patient)}
    context |= trend_context(patient, _outcome_instrument(request))
    return render(request, "assessments/_panel.html", context)


def _taken_at(raw: str, zone: ZoneInfo) -> dt.datetime | None:
    """A `datetime-local` value is the location's wall-clock time; empty is now."""
    if not raw.strip():
        return None
    try:
        return dt.datetime.fromisoformat(raw.strip()).replace(tzinfo=zone)
    except ValueError:
        raise InvalidInput({"taken_at": "enter a date and time"}) from None


def _render_new(
    request: HttpRequest,
    patient: Patient,
    instrument: str,
    *,
    errors: dict[str, str] | None = None,
    values: Any = None,
    status: int = 200,
) -> HttpResponse:
    _read(request, patient)
    errors = {k: _sentence(k, m) for k, m in (errors or {}).items()}
    form = question_form(instrument)
    labels = {"taken_at": "Taken at", "answers": "Answers", "session": "Session", "request": "Request"}
    labels |= {q.error_key: f"Item {q.number}" for q in form.questions}
    context = {
        "patient": patient,
        "form": form,
        "instrument": instrument,
        "name": INSTRUMENT_NAMES[instrument],
        "errors": errors,
        "values": values or {},
        "field_labels": labels,
    }
    return render(request, "assessments/new.html", context, status=status)


def _sentence(field: str, message: str) -> str:
    """A message as the form shows it beside its item: the library's "madrs item 7: is missing" is
    "Is missing" beside item 7 (the summary names the item)."""
    if field.startswith("answers.") and ": " in message:
        message = message.split(": ", 1)[1]
    return message[0].upper() + message[1:] if message else message


def _unanswered(instrument: str, post: Any) -> dict[str, str]:
    """Every item left unanswered on the form, each named (the C-SSRS screener's follow-ups are asked only
    after a yes, so the library judges which of its answers are missing)."""
    if instrument == scales.Instrument.CSSRS_SCREEN:
        return {}
    return {
        q.error_key: "choose an answer" for q in question_form(instrument).questions if not post.get(q.field)
    }


@requires(Perm.ASSESSMENT_RECORD)
@require_http_methods(["GET", "POST"])
def new_assessment(request: HttpRequest, pk: str, instrument: str) -> HttpResponse:
    """Enter a completed questionnaire or rating from the chart, scored when saved."""
    origin = web_origin(request)
    patient = patient_for(request.user, pk, Perm.ASSESSMENT_RECORD, origin=origin)
    if instrument not in dict(_entry_choices()):
        raise Http404
    if request.method == "GET":
        return _render_new(request, patient, instrument)
    unanswered = _unanswered(instrument, request.POST)
    if unanswered:
        return _render_new(request, patient, instrument, errors=unanswered, values=request.POST, status=422)
    try:
        taken_at = _taken_at(request.POST.get("taken_at", ""), location_zone(patient.location))
        data = inputs.AssessmentIn.model_validate(
            {
                "instrument": instrument,
                "answers": answers_from_post(instrument, request.POST),
                "taken_at": taken_at,
            }
        )
        saved = actions.do_record_assessment(
            patient, data, actor=request.user, origin=origin, source=Source.CLINIC
        )
    except ValidationError as exc:
        return _render_new(
            request, patient, instrument, errors=field_errors(exc), values=request.POST, status=422
        )
    except InvalidInput as exc:
        return _render_new(request, patient, instrument, errors=exc.errors, values=request.POST, status=422)
    except Refused as exc:
        return _render_new(
            request, patient, instrument, errors={"answers": exc.detail}, values=request.POST, status=409
        )
    return redirect(f"/assessments/patients/{patient.pk}/{saved.pk}/?saved=1")


def _items(a: Assessment) -> list[dict[str, Any]]:
    """Each item with its wording, the answer given and its score, and its LOINC code where there is one."""
    form = question_form(a.instrument)
    codes = list(a.codes.get("items", []))
    out = []
    for index, q in enumerate(form.questions):
        if a.instrument == scales.Instrument.CSSRS_SCREEN:
            given = a.extra_answers.get(q.key)
            answer = "Yes" if given is True else "No" if given is False else "Not asked"
            score = None
        else:
            score = a.item_scores[index] if index < len(a.item_scores) else None
            answer = dict(q.options).get(str(score), "") if score is not None else ""
        out.append(
            {
                "number": q.number,
                "text": q.text,
                "answer": answer,
                "score": score,
                "loinc": codes[index] if index < len(codes) else None,
            }
        )
    return out


@requires(Perm.PATIENT_READ)
@require_GET
def assessment_page(request: HttpRequest, pk: str, aid: int) -> HttpResponse:
    """One response: who answered, when and how, and every item's answer."""
    a = get_patient_assessment_for(request.user, pk, aid, origin=web_origin(request))
    _read(request, a.patient, a)
    context = {
        "patient": a.patient,
        "a": a,
        "name": INSTRUMENT_NAMES[a.instrument],
        "source": SOURCE_LABELS.get(a.source, a.source),
        "items": _items(a),
        "flag_labels": FLAG_LABELS,
        "saved": request.GET.get("saved") == "1",
    }
    return render(request, "assessments/assessment.html", context)
