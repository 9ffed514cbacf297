"""The chart's entry tables, row by row, rendered in Python.

A chart section holds up to 50 entries (queries.SECTION_LIMIT). Through the template language a trial's
row cost about 150 microseconds of CPU here, so a long treatment history cost the page nearly twice a
short one; built as strings, a row costs a few (docs/performance.md). The markup is the design system's
(web/static/web/app.css). Every value from the database goes through _e(), which escapes exactly as
Django's templates do; the tests render hostile values to prove it.

    {% load chart %}
    {% chart_rows "trials" chart.trials %}
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from ketaclinic.clinical.vocab import CONDITIONS
from ketaclinic.patients import queries

register = template.Library()

DASH = "—"


def _e(value: Any) -> str:
    """Escape for HTML text and attributes, as Django's escape() does (html.escape, quotes included)."""
    return html.escape(str(value))


def _num(value: Decimal, places: int) -> str:
    """A stored decimal as floatformat:"-N" shows it: no decimals when whole, else exactly N."""
    return str(int(value)) if value == value.to_integral_value() else f"{value:.{places}f}"


def _off(entry: Any) -> str:
    return "" if entry.status == "active" else "entry-off"


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _small(text: Any, tag: str = "span", css: str = "muted small") -> str:
    return f'<{tag} class="{css}">{_e(text)}</{tag}>' if text else ""


def status_cell(entry: Any, section: str, form: str) -> str:
    """An entry's status, and for writers (form: the change form's URL prefix) a form to change it."""
    if entry.status != "active":
        return f'<span class="badge muted">{_e(entry.get_status_display())}</span>'
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
        f"<td>{_e(augmented)}</td><td>{_e(entry.get_outcome_display())}</td>"
        f"<td>{'Current' if entry.current_episode else 'Earlier'}</td><td>{status}</td></tr>"
    )


def _allergy(entry: Any, status: str) -> str:
    ketamine = ' <span class="badge danger">ketamine</span>' if entry.ketamine_related else ""
    severity = f" · {_e(entry.get_severity_display())}" if entry.severity != "unknown" else ""
    return (
        f'<tr class="{_off(entry)}"><td><strong>{_e(entry.substance)}</strong> '
        f"{_small(entry.get_category_display())}{ketamine}"
        f'<div class="small">{_e(entry.reaction)}{severity}</div></td><td>{status}</td></tr>'
    )


def _substance_use(entry: Any, status: str) -> str:
    disorder = ' <span class="badge warn">use disorder</span>' if entry.use_disorder else ""
    last_used = _small(f"last used {_day(entry.last_used_on)}", "div") if entry.last_used_on else ""
    return (
        f'<tr class="{_off(entry)}"><td><strong>{_e(entry.get_substance_display())}</strong> · '
        f"{_e(entry.get_use_status_display())}{disorder}{last_used}{_small(entry.note, 'div', 'small')}</td>"
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


@register.simple_tag(takes_context=True)
def chart_rows(context: Any, section: str, entries: Iterable[Any]) -> SafeString:
    """Every row of one chart section's table."""
    row, resolve = ROWS[section]
    form = ""
    if context.get("can_write"):
        form = _status_form(section, context.get("chart_url", ""), context.get("csrf_token", ""), resolve)
    rows = "".join(row(entry, status_cell(entry, section, form)) for entry in entries)
    return mark_safe(rows)  # noqa: S308 - every value in it went through _e()


@register.simple_tag(takes_context=True)
def more_entries(context: Any, section: str, shown: list[Any]) -> SafeString:
    """Under a section cut at queries.SECTION_LIMIT: how many of how many, and a link to them all."""
    total = context["chart"].totals[section]
    if total <= len(shown):
        return mark_safe("")
    return format_html(
        '<p class="muted small">Showing {} of {}. <a href="{}?all={}#{}">Show all</a></p>',
        len(shown),
        total,
        context.get("chart_url", ""),
        section,
        section,
    )


@register.simple_tag
def chart_flags(chart: Any) -> SafeString:
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
    return format_html_join("\n", '<span class="badge {}">{}</span>', flags)
