"""Staff pages for patients: list and search, intake, chart, demographics edit, and chart entries.

Searches are POSTed so that names and dates of birth never appear in a URL or an access log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from markupsafe import Markup

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.clinical.vocab import ANTIDEPRESSANTS, CONDITIONS, DRUGS, ConditionCategory
from ketaclinic.errors import InvalidInput, NotFound, PossibleDuplicate, VersionConflict
from ketaclinic.patients import actions, forms, inputs, picture, queries
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
from ketaclinic.patients.search import Listed, load
from ketaclinic.patients.sections import SECTIONS, Section
from ketaclinic.web.shortcuts import form_errors, requires, web_origin
from ketaclinic.web.templating import age, day

PAGE_SIZE = 25
ROW_SECTIONS = (
    ("medications", "Current medications", "Interaction-relevant classes are derived from the drug"),
    ("allergies", "Allergies", ""),
    ("substance_use", "Substance use", "Alcohol, drugs and non-medical use"),
    ("antidepressant_trials", "Antidepressant trials", "Every earlier trial: drug, dose, weeks and outcome"),
)
# The chart's "add" forms: one per history section, and measurements.
FORM_SECTIONS = frozenset({*SECTIONS, "measurements"})

# Banners at the top of the chart from areas above this one (the assessments app's open safety alerts, with
# the URGENT one for a high C-SSRS). Each provider registers when its app starts and returns dicts with `id`,
# `level` (error, warn), `urgent`, `title`, `text`, `due_at`, `due` (as the page shows it), `link`,
# `link_label` and `closes_when`.
ChartBanners = Callable[[HttpRequest, Any], list[dict[str, Any]]]
_chart_banners: list[ChartBanners] = []


def add_chart_banners(provider: ChartBanners) -> None:
    if provider not in _chart_banners:
        _chart_banners.append(provider)


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


@cache
def _coded_labels() -> dict[str, dict[str, str]]:
    """Display labels of coded values, for the chart's rows: made once per process."""
    return {
        "sex": dict(Sex.choices),
        "pregnancy_status": dict(PregnancyStatus.choices),
        "outcome": dict(TrialOutcome.choices),
        "category": dict(AllergyCategory.choices),
        "severity": dict(Severity.choices),
        "substance": dict(Substance.choices),
        "condition": {c.code: c.display for c in CONDITIONS.values()},
    }


def _form_context(section: str = "") -> dict[str, Any]:
    """What every chart form needs: choices, labels and today's date (a measurement's default day)."""
    return {
        **_choices(),
        "field_labels": forms.labels_for(section),
        "today": inputs.today().isoformat(),
    }


@requires(Perm.PATIENT_READ)
@require_http_methods(["GET", "POST"])
def patient_list(request: HttpRequest) -> HttpResponse:
    query = request.POST.get("q", "")[:100] if request.method == "POST" else ""
    page_number = (request.POST if request.method == "POST" else request.GET).get("page", "1")
    locations = location_ids(request.user, Perm.PATIENT_READ)
    found = queries.search(locations, query, with_list_facts=True)
    page = Paginator(found, PAGE_SIZE).get_page(page_number)  # type: ignore[arg-type]
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
        "rows": _result_rows(page.object_list, _list_flags(page.object_list), inputs.today()),
    }
    template = "patients/_results.html" if request.headers.get("HX-Request") else "patients/list.html"
    return render(request, template, context)


def _result_rows(
    patients: Any, chips: dict[str, list[tuple[str, str]]], today: Any
) -> list[tuple[str, Any, list[tuple[str, str]], str, int]]:
    """Each listed patient as patients/_results.html prints it: (chart link, patient, safety-flag chips,
    date of birth, age). Made here, not in the template: a method call, a filter or a `|string` per cell
    cost the 25 rows about 0.1 ms, 40% of drawing them (bench/reads_profile.py)."""
    pattern = _chart_url_pattern()
    return [
        (
            pattern.format(p.pk),
            p,
            chips.get(str(p.pk), []),
            day(p.date_of_birth),
            age(p.date_of_birth, today),
        )
        for p in patients
    ]


def _list_flags(patients: Any) -> dict[str, list[tuple[str, str]]]:
    """The safety-flag chips beside each listed patient's name: (badge colour, label). A search result
    carries its stored list facts (patients/listfacts.py): no query. Any other row (the list without a
    query, a patient whose facts were never stored) is read from its entries, in a fixed number of
    queries for the page (picture.FLAGS_QUERIES); none for an empty page."""
    today = timezone.localdate()
    found: dict[str, Any] = {}
    unstored = []
    for p in patients:
        if isinstance(p, Listed) and p.list_facts is not None:
            found[str(p.pk)] = picture.listed_flags(
                p.list_facts,
                date_of_birth=p.date_of_birth,
                sex=p.sex,
                pregnancy_status=p.pregnancy_status,
                breastfeeding=p.breastfeeding,
                today=today,
            )
        else:
            unstored.append(p.pk)
    if unstored:
        found.update(picture.flags_for_patients(unstored, today=today))
    return {pid: [(str(f.level), f.label) for f in flags] for pid, flags in found.items()}


# The intake and edit forms' labels (forms.FIELD_LABELS, the chart's too), with the page's own words.
LABELS = {
    **forms.FIELD_LABELS,
    "location": "Clinic location",
    "external_mrn": "External MRN",
    "emergency_contact_phone": "Their phone",
    "pregnancy_status": "Pregnancy status",
    "conditions": "Conditions",
    "confirm_duplicate": "Register anyway",
    "version": "Form",
    "entered_in_error": "Registration",
}
ROW_TITLES = {
    "medications": "Medication",
    "allergies": "Allergy",
    "substance_use": "Substance use",
    "antidepressant_trials": "Trial",
}


def _labels(errors: dict[str, str]) -> dict[str, str]:
    """LABELS, plus "Trial 2: Weeks at that dose" for each refused field of an intake row."""
    labels = dict(LABELS)
    for name in errors:
        section, _, rest = name.partition("-")
        index, _, field = rest.partition("-")
        if section in ROW_TITLES and index.isdigit():
            labels[name] = (
                f"{ROW_TITLES[section]} {int(index) + 1}: {forms.labels_for(section).get(field, field)}"
            )
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
        "rows": {key: list(range(s.intake_rows)) for key, s in SECTIONS.items() if s.intake_rows},
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
        # Only patients the user can read are matched; listing them is a search by name and date of birth,
        # audited as one.
        duplicates = load(exc.patient_ids, queries.LIST_COLUMNS)
        record(
            Action.PATIENT_SEARCH,
            actor=request.user,
            origin=web_origin(request),
            changed_fields=queries.DUPLICATE_FIELDS,
        )
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
    patient = get_patient_for(request.user, pk, origin=web_origin(request))
    # A registration entered in error stays as it was: no forms to chart on it.
    can_write = can(request.user, Perm.PATIENT_WRITE, patient.location_id) and not patient.entered_in_error_at
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
        return _render_edit(request, patient, context)
    try:
        version = int(request.POST.get("version", ""))
        data = forms.parse_update(request.POST)
        actions.do_update_patient(patient, data, actor=request.user, origin=origin, expected_version=version)
    except ValueError:
        context.update(values=request.POST, errors={"version": "The form is out of date; reload the page."})
        return _render_edit(request, patient, context, status=400)
    except InvalidInput as exc:
        context.update(values=request.POST, errors=form_errors(exc.errors))
        return _render_edit(request, patient, context, status=422)
    except VersionConflict:
        patient.refresh_from_db()
        context.update(values=request.POST, conflict=True, patient=patient)
        return _render_edit(request, patient, context, status=409)
    return _saved(patient, "demographics")


def _render_edit(
    request: HttpRequest, patient: Any, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """The demographics form, filled with the record's values: a read of the record, audited as one."""
    _record_read(request, patient)
    return render(request, "patients/edit.html", context, status=status)


def _record_read(request: HttpRequest, patient: Any) -> None:
    """The read event of a page that shows a patient's record: every such page writes exactly one."""
    record(Action.PATIENT_READ, actor=request.user, origin=web_origin(request), obj=patient, patient=patient)


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
        return _render_edit(request, patient, context, status=422)
    return _saved(patient, "demographics")


def _everything(request: HttpRequest) -> frozenset[str]:
    """The sections the user asked to see in full (?all=antidepressant_trials)."""
    wanted = request.GET.get("all", "")
    return frozenset({wanted}) if wanted in SECTIONS else frozenset()


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
    context = {"chart_url": _chart_url(patient), "values": {}, "errors": {}, **_form_context(section)}
    return render(request, f"patients/forms/{section}.html", context)


def _section(key: str) -> Section:
    found = SECTIONS.get(key)
    if found is None:
        raise NotFound
    return found


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
    """The chart page; after a refused entry, with that section's form open, its errors and what was typed.

    Whatever brings the chart (a read, or a refused entry shown on it), its read event is written here.
    """
    _record_read(request, patient)
    opened = open_section or request.GET.get("open", "")
    chart = queries.chart(patient, everything)
    context = {
        "chart": chart,
        "picture_band": _picture_band(chart.picture),
        "banners": [banner for provider in _chart_banners for banner in provider(request, patient)],
        "chart_url": _chart_url(patient),
        "can_write": can_write,
        "errors": errors or {},
        "open": opened if opened in FORM_SECTIONS else "",
        "values": values or {},
        "saved": request.GET.get("saved") == "1" and not errors,
        "sections": SECTIONS,
        "labels": _coded_labels(),
        "drug_name": queries.drug_name,
        "interaction_classes": queries.interaction_classes,
        **_form_context(opened),
    }
    return render(request, "patients/chart.html", context, status=status)


@lru_cache(maxsize=256)  # a band is 10-17 kB: at most about 4 MB a worker
def _picture_band(shown: picture.Picture) -> Markup:
    """The chart's clinical picture band (patients/_picture.html), drawn once per distinct picture.

    The band shows nothing but the picture (frozen, hashable: equal pictures draw the same band), and its
    five cells of findings with their sources cost 0.14 ms to draw against 8 us to hash the picture;
    charts are opened again and again. The template's output is already escaped: Markup keeps it as is.
    """
    band = get_template("patients/_picture.html", using="jinja2")
    return Markup(band.template.render(picture=shown))  # type: ignore[attr-defined]  # noqa: S704


def _saved(patient: Any, anchor: str) -> HttpResponse:
    """Back to the chart after a write, at the section written, saying it was saved."""
    return redirect(f"{_chart_url(patient)}?saved=1#{anchor}")


@requires(Perm.PATIENT_WRITE)
@require_POST
def add_entry(request: HttpRequest, pk: str, section: str) -> HttpResponse:
    origin = web_origin(request)
    target = _section(section)
    patient = get_patient_for(request.user, pk, write=True, origin=origin)
    try:
        data = forms.parse_entry(target, request.POST)
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
    return _saved(patient, section)


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
    return _saved(patient, "demographics")


@requires(Perm.PATIENT_WRITE)
@require_POST
def change_entry_status(request: HttpRequest, pk: str, section: str, entry_id: int) -> HttpResponse:
    origin = web_origin(request)
    model = _section(section).model
    patient = get_patient_for(request.user, pk, write=True, origin=origin)
    entry = get_entry_for(patient, model, entry_id, user=request.user, origin=origin)
    try:
        actions.do_change_entry_status(
            entry, forms.parse_status(request.POST), actor=request.user, origin=origin
        )
    except InvalidInput as exc:
        return _render_chart(
            request, patient, errors=form_errors(exc.errors), open_section=section, status=422
        )
    return _saved(patient, section)
