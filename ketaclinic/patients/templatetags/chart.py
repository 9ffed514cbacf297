"""The chart page below the navigation, rendered in Python.

The chart is the page a treatment floor opens most. Through the template language its body cost about
0.9 ms of CPU for an ordinary patient and a trial's row about 150 microseconds, so a long treatment
history cost the page nearly twice a short one (docs/performance.md); built as strings, the body costs
less than half of that and a row a few microseconds. The five history sections are one Card each (CARDS),
drawn by one function. The markup is the design system's (web/static/web/app.css). Every value from the
database goes through _e(), which escapes exactly as Django's templates do; the tests render hostile
values to prove it.

    {% load chart %}
    {% chart_body %}
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from ketaclinic.clinical.vocab import CONDITIONS
from ketaclinic.patients import queries
from ketaclinic.web.templatetags.fields import add_section
from ketaclinic.web.templatetags.kc import age, humanize

register = template.Library()

DASH = "—"


def _e(value: Any) -> str:
    """Escape for HTML text and attributes, as Django's escape() does (html.escape, quotes included)."""
    return html.escape(str(value))


def _num(value: Decimal, places: int) -> str:
    """A stored decimal as floatformat:"-N" shows it: no decimals when whole, else exactly N."""
    return str(int(value)) if value == value.to_integral_value() else f"{value:.{places}f}"


def _label(instance: Any, field: str) -> str:
    """What get_FOO_display() gives, from a table made once: Django's builds a dict of choices per call."""
    value = getattr(instance, field)
    return _labels(type(instance), field).get(value, value)


@cache
def _labels(model: type, field: str) -> dict[Any, str]:
    return {value: str(text) for value, text in model._meta.get_field(field).flatchoices}


def _off(entry: Any) -> str:
    return "" if entry.status == "active" else "entry-off"


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _small(text: Any, tag: str = "span", css: str = "muted small") -> str:
    return f'<{tag} class="{css}">{_e(text)}</{tag}>' if text else ""


def _status_cell(entry: Any, section: str, form: str) -> str:
    """An entry's status, and for writers (form: the change form's URL prefix) a form to change it."""
    if entry.status != "active":
        return f'<span class="badge muted">{_e(_label(entry, "status"))}</span>'
    if not form:
        return '<span class="badge ok">Active</span>'
    return form.replace("{pk}", str(int(entry.pk)), 1)


def _status_form(section: str, chart_url: str, csrf_token: Any, resolve: str) -> str:
    """The "Change" form of a section's active entries, with "{pk}" where the entry's id goes."""
    return (
        '<span class="badge ok">Active</span><details class="change"><summary>Change</summary>'
        f'<form class="status-form" method="post" action="{_e(chart_url)}{_e(section)}/{{pk}}/status/">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(csrf_token)}">'
        f'<select name="status" aria-label="New status"><option value="resolved">{_e(resolve)}</option>'
        '<option value="entered_in_error">Entered in error</option></select>'
        '<input name="reason" type="text" placeholder="Reason" maxlength="200" aria-label="Reason">'
        '<button class="quiet" type="submit">Save</button></form></details>'
    )


def _condition(entry: Any, status: str) -> str:
    name = CONDITIONS[entry.code].display if entry.code in CONDITIONS else entry.code
    since = " " + _small(f"since {entry.onset_year}") if entry.onset_year else ""
    return (
        f'<tr class="{_off(entry)}"><td>{_e(name)}{since}{_small(entry.note, "div")}</td>'
        f"<td>{status}</td></tr>"
    )


def _medication(entry: Any, status: str) -> str:
    classes = queries.interaction_classes(entry.drug)
    badges = (
        "".join(f'<span class="badge warn">{_e(c)}</span>' for c in classes)
        if classes
        else '<span class="muted small">none flagged</span>'
    )
    stopped = f" → {_day(entry.stopped_on)}" if entry.stopped_on else ""
    return (
        f'<tr class="{_off(entry)}"><td>{_e(queries.drug_name(entry.drug, entry.other_name))}</td>'
        f"<td>{_e(entry.dose or DASH)}</td><td>{badges}</td>"
        f'<td class="num">{_day(entry.started_on) or DASH}{stopped}</td><td>{status}</td></tr>'
    )


def _trial(entry: Any, status: str) -> str:
    year = " " + _small(entry.started_year) if entry.started_year else ""
    adequate = (
        '<span class="badge ok">Yes</span>' if entry.adequate_dose else '<span class="badge muted">No</span>'
    )
    optimised = ' <span class="muted small">optimised</span>' if entry.dose_optimised else ""
    augmented = (entry.augmentation_agent or "Yes") if entry.augmented else DASH
    return (
        f'<tr class="{_off(entry)}"><td>{_e(queries.drug_name(entry.drug, entry.other_name))}{year}</td>'
        f'<td class="num">{_num(entry.max_daily_dose_mg, 2)} mg</td>'
        f'<td class="num">{_num(entry.weeks_at_dose, 1)}</td><td>{adequate}{optimised}</td>'
        f"<td>{_e(augmented)}</td><td>{_e(_label(entry, 'outcome'))}</td>"
        f"<td>{'Current' if entry.current_episode else 'Earlier'}</td><td>{status}</td></tr>"
    )


def _allergy(entry: Any, status: str) -> str:
    ketamine = ' <span class="badge danger">ketamine</span>' if entry.ketamine_related else ""
    severity = f" · {_e(_label(entry, 'severity'))}" if entry.severity != "unknown" else ""
    return (
        f'<tr class="{_off(entry)}"><td><strong>{_e(entry.substance)}</strong> '
        f"{_small(_label(entry, 'category'))}{ketamine}"
        f'<div class="small">{_e(entry.reaction)}{severity}</div></td><td>{status}</td></tr>'
    )


def _substance_use(entry: Any, status: str) -> str:
    disorder = ' <span class="badge warn">use disorder</span>' if entry.use_disorder else ""
    last_used = _small(f"last used {_day(entry.last_used_on)}", "div") if entry.last_used_on else ""
    return (
        f'<tr class="{_off(entry)}"><td><strong>{_e(_label(entry, "substance"))}</strong> · '
        f"{_e(_label(entry, 'use_status'))}{disorder}{last_used}{_small(entry.note, 'div', 'small')}</td>"
        f"<td>{status}</td></tr>"
    )


# Each section's row, and the label of its "resolve" choice (a medication is stopped, a trial resolved).
ROWS: dict[str, tuple[Callable[[Any, str], str], str]] = {
    "conditions": (_condition, "Resolved"),
    "medications": (_medication, "Stopped"),
    "trials": (_trial, "Resolve"),
    "allergies": (_allergy, "Resolved"),
    "substance_use": (_substance_use, "Resolved"),
}


def _rows(context: Any, section: str, entries: Iterable[Any]) -> str:
    """Every row of one history section's table."""
    row, resolve = ROWS[section]
    form = ""
    if context.get("can_write"):
        form = _status_form(section, context.get("chart_url", ""), context.get("csrf_token", ""), resolve)
    return "".join(row(entry, _status_cell(entry, section, form)) for entry in entries)


def _more(context: Any, section: str, shown: int) -> str:
    """Under a section cut at queries.SECTION_LIMIT: how many of how many, and a link to them all."""
    total = context["chart"].totals[section]
    if total <= shown:
        return ""
    url = _e(context.get("chart_url", ""))
    return (
        f'<p class="muted small">Showing {shown} of {total}. '
        f'<a href="{url}?all={section}#{section}">Show all</a></p>'
    )


def _flags(chart: Any) -> str:
    """The badges beside the patient's name: what a clinician must see before anything else."""
    p = chart.patient
    flags = []
    if p.pregnancy_status == "pregnant":
        flags.append(("danger", "Pregnant"))
    if p.breastfeeding:
        flags.append(("warn", "Breastfeeding"))
    flags += [
        ("danger", "Ketamine allergy") for a in chart.allergies if a.ketamine_related and a.status == "active"
    ]
    flags += [
        ("warn", "Psychosis history")
        for c in chart.conditions
        if c.code == "psychosis_history" and c.status == "active"
    ]
    return "\n".join(f'<span class="badge {css}">{text}</span>' for css, text in flags)


def _kpi(label: str, value: str, note: str | None = None) -> str:
    under = f'<div class="muted small">{note}</div>' if note is not None else ""
    return f'<div class="kpi"><div class="k">{label}</div><div class="v num">{value}</div>{under}</div>'


def _head(chart: Any) -> str:
    p = chart.patient
    weight, height = chart.weight, chart.height
    kpis = [
        _kpi(
            "Weight",
            f"{_num(weight.weight_kg, 1)} kg" if weight else DASH,
            _day(weight.measured_on) if weight else "",
        ),
        _kpi(
            "Height",
            f"{_num(height.height_cm, 1)} cm" if height else DASH,
            _day(height.measured_on) if height else "",
        ),
        _kpi("BMI", _e(chart.bmi) if chart.bmi is not None else DASH),
        _kpi("Adequate failed trials", str(chart.adequate_failed_trials), "current episode"),
    ]
    born = p.date_of_birth
    banner = ""
    if p.entered_in_error_at is not None:  # kept for the record, hidden from lists and search
        marked = timezone.localtime(p.entered_in_error_at).date()
        banner = (
            '<div class="notice error" role="alert" id="entered-in-error"><strong>This registration was '
            f"entered in error</strong> on {_day(marked)}: {_e(p.entered_in_error_reason)}. "
            "It is kept for the record and hidden from lists and search; do not chart on it.</div>"
        )
    return (
        banner + '<div class="patient-head"><div>'
        f"<h1>{_e(p.family_name)}, {_e(p.given_name)}</h1>"
        f'<div class="muted">MRN <strong class="num">{_e(p.mrn)}</strong> · born {born.isoformat()} '
        f"(age {age(born)}) · {_e(_label(p, 'sex'))} · {_e(p.location.name)}</div>"
        f'<div class="flags">{_flags(chart)}</div></div>'
        f'<div class="kpis">{"".join(kpis)}</div></div>'
    )


def _errors(errors: dict[str, str]) -> str:
    if not errors:
        return ""
    listed = "".join(f"{_e(humanize(field))}: {_e(message)} " for field, message in errors.items())
    return f'<div class="notice error" role="alert"><strong>Not saved.</strong> {listed}</div>'


def _demographics(context: Any, p: Any) -> str:
    contact = DASH
    if p.emergency_contact_name:
        relation = f" ({_e(p.emergency_contact_relationship)})" if p.emergency_contact_relationship else ""
        contact = f"{_e(p.emergency_contact_name)}{relation} {_e(p.emergency_contact_phone)}"
    facts = [
        ("Phone", _e(p.phone or DASH)),
        ("E-mail", _e(p.email or DASH)),
        ("Address", _e(p.address or DASH)),
        ("Emergency contact", contact),
    ]
    if p.sex != "male" or p.pregnancy_status != "not_applicable":
        recorded = (
            f' <span class="muted small">(recorded {_day(p.pregnancy_recorded_on)})</span>'
            if p.pregnancy_recorded_on
            else ""
        )
        feeding = ", breastfeeding" if p.breastfeeding else ""
        facts.append(("Pregnancy", f"{_e(_label(p, 'pregnancy_status'))}{feeding}{recorded}"))
    edit = f'<a href="{_e(context["chart_url"])}edit/">Edit</a>' if context.get("can_write") else ""
    return (
        f'<section class="card" id="demographics"><header><h2>Demographics and contact</h2>{edit}</header>'
        f'<dl class="facts">{"".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)}</dl>'
        f"{add_section(context, 'measurements', 'Record weight or height')}</section>"
    )


@dataclass(frozen=True)
class Card:
    """A history section of the chart: its title, table and "add" form."""

    section: str
    entries: str  # the Chart attribute holding its entries
    title: str
    add: str
    empty: str = "None recorded."
    columns: tuple[str, ...] = ()  # table headings; none for the compact cards
    note: str = ""  # beside the title


CARDS = {
    "conditions": Card("conditions", "conditions", "Conditions", "Add a condition"),
    "medications": Card(
        "medications",
        "medications",
        "Current medications",
        "Add a medication",
        columns=("Medication", "Dose", "Interaction class", "Started", "Status"),
        note="Interaction-relevant class shown for each",
    ),
    "trials": Card(
        "trials",
        "trials",
        "Antidepressant treatment history",
        "Add an antidepressant trial",
        empty="No antidepressant trials recorded.",
        columns=(
            "Antidepressant",
            "Max daily dose",
            "Weeks",
            "Adequate dose",
            "Augmented",
            "Outcome",
            "Episode",
            "Status",
        ),
    ),
    "allergies": Card(
        "allergies", "allergies", "Allergies", "Add an allergy", empty="No known allergies recorded."
    ),
    "substance_use": Card("substance_use", "substance_uses", "Substance use", "Add substance use"),
}


def _card(context: Any, card: Card) -> str:
    chart = context["chart"]
    entries = getattr(chart, card.entries)
    note = card.note
    if card.section == "trials":
        total = chart.totals["trials"]
        note = f"{total} trial{'' if total == 1 else 's'}"
    header = f"<header><h2>{card.title}</h2>" + (f'<span class="muted small">{note}</span>' if note else "")
    if entries:
        head = "".join(f"<th>{c}</th>" for c in card.columns)
        table = f"<table>{f'<thead><tr>{head}</tr></thead>' if head else ''}<tbody>"
        body = f"{table}{_rows(context, card.section, entries)}</tbody></table>"
    else:
        body = f'<p class="empty">{card.empty}</p>'
    more = _more(context, card.section, len(entries))
    return (
        f'<section class="card" id="{card.section}">{header}</header>{body}{more}'
        f"{add_section(context, card.section, card.add)}</section>"
    )


@register.simple_tag(takes_context=True)
def chart_body(context: Any) -> SafeString:
    """The whole chart below the navigation."""
    chart = context["chart"]
    cards = {key: _card(context, card) for key, card in CARDS.items()}
    page = (
        _head(chart)
        + _errors(context.get("errors") or {})
        + f'<div class="grid two">{_demographics(context, chart.patient)}{cards["conditions"]}</div>'
        + cards["medications"]
        + cards["trials"]
        + f'<div class="grid two">{cards["allergies"]}{cards["substance_use"]}</div>'
    )
    return mark_safe(page)  # noqa: S308 - every value from the database went through _e()
