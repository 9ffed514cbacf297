"""Staff pages for patients: list and search, intake, chart, demographics edit, and chart entries.

Searches are POSTed so that names and dates of birth never appear in a URL or an access log.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinical.vocab import ANTIDEPRESSANTS, CONDITIONS, DRUGS, ConditionCategory
from ketaclinic.errors import InvalidInput, NotFound, PossibleDuplicate, VersionConflict
from ketaclinic.patients import actions, forms, inputs, queries
from ketaclinic.patients.access import get_entry_for, get_patient_for
from ketaclinic.patients.models import (
    AllergyCategory,
    EntryStatus,
    PregnancyStatus,
    Severity,
    Sex,
    Substance,
    TrialOutcome,
    UseStatus,
)
from ketaclinic.patients.search import load
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

PAGE_SIZE = 25
ROW_SECTIONS = (
    ("medications", "Current medications", "Interaction-relevant classes are derived from the drug"),
    ("allergies", "Allergies", ""),
    ("substance_use", "Substance use", "Alcohol, drugs and non-medical use"),
    ("trials", "Antidepressant trials", "Every earlier trial: drug, dose, weeks and outcome"),
)
FORM_SECTIONS = frozenset({*queries.SECTION_MODELS, "measurements"})


@cache
def _choices() -> dict[str, Any]:
    """Choice lists for the forms: built once per process (they come from code, not the database)."""
    by_category: dict[str, list[Any]] = {}
    for condition in CONDITIONS.values():
        by_category.setdefault(ConditionCategory(condition.category).value, []).append(condition)
    return {
        "sexes": Sex.choices,
        "pregnancy_statuses": PregnancyStatus.choices,
        "condition_groups": [(k.replace("_", " ").capitalize(), v) for k, v in by_category.items()],
        "drugs": [
            (d.code, d.display) for d in sorted(DRUGS.values(), key=lambda d: (d.code == "other", d.display))
        ],
        "antidepressants": [
            (d.code, d.display) for d in sorted(ANTIDEPRESSANTS.values(), key=lambda d: d.display)
        ]
        + [("other", DRUGS["other"].display)],
        "yes_no": [("yes", "Yes"), ("no", "No")],
        "allergy_categories": AllergyCategory.choices,
        "severities": Severity.choices,
        "substances": Substance.choices,
        "use_statuses": UseStatus.choices,
        "outcomes": TrialOutcome.choices,
        "statuses": EntryStatus.choices,
    }


@requires(Perm.PATIENT_READ)
@require_http_methods(["GET", "POST"])
def patient_list(request: HttpRequest) -> HttpResponse:
    query = request.POST.get("q", "")[:100] if request.method == "POST" else ""
    page_number = (request.POST if request.method == "POST" else request.GET).get("page", "1")
    locations = location_ids(request.user, Perm.PATIENT_READ)
    page = Paginator(queries.search(locations, query), PAGE_SIZE).get_page(page_number)  # type: ignore[arg-type]
    record(
        Action.PATIENT_SEARCH if query else Action.PATIENT_LIST,
        actor=request.user,
        origin=web_origin(request),
        changed_fields=["query"] if query else [],
    )
    context = {
        "page": page,
        "query": query,
        # A column that would repeat one value on every row is left out.
        "show_location": len(locations) > 1,
        # Safety-flag chips per patient id: {"<uuid>": [(css class, text), ...]}.
        "flags": _list_flags(page.object_list),
        "chart_url": _chart_url_pattern(),
        "today": inputs.today(),
    }
    template = "patients/_results.html" if request.headers.get("HX-Request") else "patients/list.html"
    return render(request, template, context)


def _list_flags(patients: Any) -> dict[str, list[tuple[str, str]]]:
    """The safety-flag chips shown beside each listed patient's name (none yet)."""
    return {}


# The intake and edit forms' labels: the same words on the fields and in the error summary.
LABELS = {
    "location": "Clinic location",
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "external_mrn": "External MRN",
    "phone": "Phone",
    "email": "E-mail",
    "address": "Address",
    "emergency_contact_name": "Emergency contact",
    "emergency_contact_phone": "Their phone",
    "emergency_contact_relationship": "Relationship",
    "weight_kg": "Weight (kg)",
    "height_cm": "Height (cm)",
    "measured_on": "Measured on",
    "pregnancy_status": "Pregnancy status",
    "breastfeeding": "Breastfeeding",
    "conditions": "Conditions",
    "reason": "Reason",
    "confirm_duplicate": "Register anyway",
    "version": "Form",
    "entered_in_error": "Registration",
}
ROW_LABELS = {
    "drug": "Drug",
    "other_name": "Name if other",
    "dose": "Dose as taken",
    "started_on": "Started",
    "substance": "Substance",
    "category": "Kind",
    "reaction": "Reaction",
    "severity": "Severity",
    "ketamine_related": "To ketamine",
    "use_status": "Use",
    "use_disorder": "Use disorder",
    "last_used_on": "Last used",
    "note": "Note",
    "max_daily_dose_mg": "Max daily dose (mg)",
    "weeks_at_dose": "Weeks at that dose",
    "adequate_dose": "Adequate dose?",
    "dose_optimised": "Dose was optimised",
    "augmented": "Augmented",
    "augmentation_agent": "Augmented with",
    "outcome": "Outcome",
    "current_episode": "In the current episode?",
    "started_year": "Year started",
}
ROW_TITLES = {
    "medications": "Medication",
    "allergies": "Allergy",
    "substance_use": "Substance use",
    "trials": "Trial",
}


def _labels(errors: dict[str, str]) -> dict[str, str]:
    """LABELS, plus "Trial 2: Weeks at that dose" for each refused field of an intake row."""
    labels = dict(LABELS)
    for name in errors:
        section, _, rest = name.partition("-")
        index, _, field = rest.partition("-")
        if section in ROW_TITLES and index.isdigit():
            labels[name] = f"{ROW_TITLES[section]} {int(index) + 1}: {ROW_LABELS.get(field, field)}"
    return labels


def _intake_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    locations = ClinicLocation.objects.filter(pk__in=location_ids(request.user, Perm.PATIENT_WRITE))
    return {
        "location_choices": [(loc.slug, loc.name) for loc in locations],
        "values": {"location": locations[0].slug} if len(locations) == 1 else {},
        "errors": {},
        "labels": LABELS,
        "duplicates": [],
        "chosen_conditions": [],
        "rows": {"medications": [0], "allergies": [0], "substance_use": [0], "trials": [0, 1]},
        "row_sections": ROW_SECTIONS,
        "today": inputs.today().isoformat(),
        **_choices(),
        **extra,
    }


@requires(Perm.PATIENT_WRITE)
@require_http_methods(["GET", "POST"])
def patient_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "patients/intake.html", _intake_context(request))
    rows = {
        s: sorted({int(k.split("-")[1]) for k in request.POST if k.startswith(s + "-")} or {0})
        for s in forms.ROW_FIELDS
    }
    typed = {"values": request.POST, "rows": rows, "chosen_conditions": request.POST.getlist("conditions")}
    try:
        data = forms.parse_intake(request.POST)
        patient = actions.do_register_patient(data, actor=request.user, origin=web_origin(request))
    except InvalidInput as exc:
        errors = form_errors(exc.errors)
        context = _intake_context(request, errors=errors, labels=_labels(errors), **typed)
        return render(request, "patients/intake.html", context, status=422)
    except PossibleDuplicate as exc:
        # Only patients the user can read are matched, so listing them shows nothing new.
        duplicates = load(exc.patient_ids, queries.LIST_COLUMNS)
        context = _intake_context(request, duplicates=duplicates, **typed)
        return render(request, "patients/intake.html", context, status=409)
    url = reverse("patients:chart", args=[patient.pk])
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


@requires(Perm.PATIENT_WRITE)
@require_GET
def intake_row(request: HttpRequest, section: str, index: int) -> HttpResponse:
    if section not in forms.ROW_FIELDS or not 0 <= index < forms.MAX_ROWS:
        raise NotFound
    context = {"i": index, "values": {}, "errors": {}, **_choices()}
    return render(request, f"patients/rows/{section}.html", context)


@requires(Perm.PATIENT_READ)
@require_GET
def patient_chart(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    patient = get_patient_for(request.user, pk, origin=origin)
    record(Action.PATIENT_READ, actor=request.user, origin=origin, obj=patient, patient=patient)
    can_write = can(request.user, Perm.PATIENT_WRITE, patient.location_id)
    return _render_chart(request, patient, can_write=can_write, everything=_everything(request))


def _current_values(patient: Any) -> dict[str, str]:
    values = {f: str(getattr(patient, f) or "") for f in forms.DEMOGRAPHICS if f != "breastfeeding"}
    values["date_of_birth"] = patient.date_of_birth.isoformat()
    if patient.breastfeeding:
        values["breastfeeding"] = "on"
    return values


@requires(Perm.PATIENT_WRITE)
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    patient = get_patient_for(request.user, pk, write=True, origin=origin)
    context: dict[str, Any] = {
        "patient": patient,
        "values": _current_values(patient),
        "errors": {},
        "labels": LABELS,
        "conflict": False,
        "reason": "",
        **_choices(),
    }
    if request.method == "GET":
        return render(request, "patients/edit.html", context)
    try:
        version = int(request.POST.get("version", ""))
        data = forms.parse_update(request.POST)
        actions.do_update_patient(patient, data, actor=request.user, origin=origin, expected_version=version)
    except ValueError:
        context.update(values=request.POST, errors={"version": "The form is out of date; reload the page."})
        return render(request, "patients/edit.html", context, status=400)
    except InvalidInput as exc:
        context.update(values=request.POST, errors=form_errors(exc.errors))
        return render(request, "patients/edit.html", context, status=422)
    except VersionConflict:
        patient.refresh_from_db()
        context.update(values=request.POST, conflict=True, patient=patient)
        return render(request, "patients/edit.html", context, status=409)
    # The chart says "Saved." when it sees ?saved=1.
    return redirect(reverse("patients:chart", args=[patient.pk]) + "?saved=1")


@requires(Perm.PATIENT_WRITE)
@require_POST
def patient_entered_in_error(request: HttpRequest, pk: str) -> HttpResponse:
    """Mark a registration entered in error (from the edit page); the chart then shows a banner."""
    origin = web_origin(request)
    patient = get_patient_for(request.user, pk, write=True, origin=origin)
    try:
        data = forms.parse_entered_in_error(request.POST)
        actions.do_mark_patient_entered_in_error(patient, data, actor=request.user, origin=origin)
    except InvalidInput as exc:
        errors = form_errors(exc.errors)
        context = {
            "patient": patient,
            "values": _current_values(patient),
            "errors": errors,
            "labels": LABELS,
            "conflict": False,
            "reason": request.POST.get("reason", ""),
            **_choices(),
        }
        return render(request, "patients/edit.html", context, status=422)
    return redirect("patients:chart", pk=patient.pk)


def _everything(request: HttpRequest) -> frozenset[str]:
    """The sections the user asked to see in full (?all=trials)."""
    wanted = request.GET.get("all", "")
    return frozenset({wanted}) if wanted in queries.SECTION_MODELS else frozenset()


def _chart_url(patient: Any) -> str:
    # Built once per page: the chart links to a dozen of its own sub-paths.
    return _chart_url_pattern().format(patient.pk)


@cache
def _chart_url_pattern() -> str:
    """The chart's URL with "{}" for the patient: reverse() costs more than the rest of the page's links."""
    placeholder = uuid.UUID(int=0)
    return reverse("patients:chart", args=[placeholder]).replace(str(placeholder), "{}")


@requires(Perm.PATIENT_WRITE)
@require_GET
def entry_form(request: HttpRequest, pk: str, section: str) -> HttpResponse:
    """One of the chart's "add" forms, fetched when its section is opened (the chart stays light)."""
    if section not in FORM_SECTIONS:
        raise NotFound
    patient = get_patient_for(request.user, pk, write=True, origin=web_origin(request))
    context = {"chart_url": _chart_url(patient), "values": {}, "errors": {}, **_choices()}
    return render(request, f"patients/forms/{section}.html", context)


def _entry_model(section: str) -> Any:
    if section not in queries.SECTION_MODELS:
        raise NotFound
    return queries.SECTION_MODELS[section]


def _render_chart(
    request: HttpRequest,
    patient: Any,
    *,
    can_write: bool = True,
    everything: frozenset[str] = frozenset(),
    errors: dict[str, str] | None = None,
    open_section: str = "",
    values: Any = None,
    status: int = 200,
) -> HttpResponse:
    """The chart page; after a refused entry, with that section's form open, its errors and what was typed."""
    context = {
        "chart": queries.chart(patient, everything),
        "chart_url": _chart_url(patient),
        "can_write": can_write,
        "errors": errors or {},
        "open": open_section
        or (request.GET.get("open", "") if request.GET.get("open") in FORM_SECTIONS else ""),
        "values": values or {},
        **_choices(),
    }
    return render(request, "patients/chart.html", context, status=status)


@requires(Perm.PATIENT_WRITE)
@require_POST
def add_entry(request: HttpRequest, pk: str, section: str) -> HttpResponse:
    origin = web_origin(request)
    _entry_model(section)
    patient = get_patient_for(request.user, pk, write=True, origin=origin)
    try:
        data = forms.parse_entry(section, request.POST)
        actions.do_add_history_entry(patient, data, actor=request.user, origin=origin)  # type: ignore[arg-type]
    except InvalidInput as exc:
        return _render_chart(
            request,
            patient,
            errors=form_errors(exc.errors),
            open_section=section,
            values=request.POST,
            status=422,
        )
    return redirect(reverse("patients:chart", args=[patient.pk]) + f"#{section}")


@requires(Perm.PATIENT_WRITE)
@require_POST
def add_measurement(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    patient = get_patient_for(request.user, pk, write=True, origin=origin)
    try:
        actions.do_record_measurement(
            patient, forms.parse_measurement(request.POST), actor=request.user, origin=origin
        )
    except InvalidInput as exc:
        return _render_chart(
            request,
            patient,
            errors=form_errors(exc.errors),
            open_section="measurements",
            values=request.POST,
            status=422,
        )
    return redirect(reverse("patients:chart", args=[patient.pk]) + "#body")


@requires(Perm.PATIENT_WRITE)
@require_POST
def change_entry_status(request: HttpRequest, pk: str, section: str, entry_id: int) -> HttpResponse:
    origin = web_origin(request)
    model = _entry_model(section)
    patient = get_patient_for(request.user, pk, write=True, origin=origin)
    entry = get_entry_for(patient, model, entry_id)
    try:
        actions.do_change_entry_status(
            entry, forms.parse_status(request.POST), actor=request.user, origin=origin
        )
    except InvalidInput as exc:
        return _render_chart(
            request, patient, errors=form_errors(exc.errors), open_section=section, status=422
        )
    return redirect(reverse("patients:chart", args=[patient.pk]) + f"#{section}")
