"""Form fields with their label, inline error and the value typed, rendered in Python.

These replace three template includes that the chart renders dozens of times: an include costs about
60 microseconds and a select's option loop more, while these cost a few (docs/performance.md). The markup
is the design system's (web/static/web/app.css); every value is escaped by format_html.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _lookup(mapping: Any, name: str) -> str:
    if not mapping:
        return ""
    value = mapping.get(name, "")
    return "" if value is None else str(value)


def _error(context: Any, name: str) -> str:
    return _lookup(context.get("errors"), name)


def _state(context: Any, name: str, value: Any) -> tuple[str, str]:
    """The field's error, and its value: the one given, else what the user typed (re-shown after an error)."""
    current = str(value) if value not in (None, "") else _lookup(context.get("values"), name)
    return _error(context, name), current


def _wrap(name: str, error: str, cls: str, body: SafeString) -> SafeString:
    css = " ".join(filter(None, ["invalid" if error else "", cls]))
    message = format_html('<div class="field-error" id="e-{}">{}</div>', name, error) if error else ""
    return format_html('<div class="{}">{}{}</div>', css, body, message)


def _label(name: str, label: str, hint: str) -> SafeString:
    extra = format_html(' <span class="hint">{}</span>', hint) if hint else ""
    return format_html('<label for="f-{}">{}{}</label>', name, label, extra)


@register.simple_tag(takes_context=True)
def input_field(
    context: Any,
    name: str,
    label: str,
    type: str = "text",
    hint: str = "",
    cls: str = "",
    value: Any = None,
    required: Any = False,
    **attrs: Any,
) -> SafeString:
    error, current = _state(context, name, value)
    extra = [
        (k, v) for k, v in attrs.items() if k in {"min", "max", "step", "maxlength"} and v not in (None, "")
    ]
    if required:
        extra.append(("required", "required"))
    if error:
        extra += [("aria-invalid", "true"), ("aria-describedby", f"e-{name}")]
    attributes = format_html_join("", ' {}="{}"', extra)
    body = format_html(
        '{}<input id="f-{}" name="{}" type="{}" value="{}"{}>',
        _label(name, label, hint),
        name,
        name,
        type,
        current,
        attributes,
    )
    return _wrap(name, error, cls, body)


@lru_cache(maxsize=64)
def _options(choices: tuple[tuple[str, str], ...]) -> str:
    return format_html_join("", '<option value="{}">{}</option>', choices)


def _as_tuple(choices: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(code), str(text)) for code, text in choices)


@register.simple_tag(takes_context=True)
def select_field(
    context: Any,
    name: str,
    label: str,
    choices: Any,
    blank: str = "",
    cls: str = "",
    value: Any = None,
    required: Any = False,
) -> SafeString:
    error, current = _state(context, name, value)
    options = _options(choices if isinstance(choices, tuple) else _as_tuple(choices))
    if current:
        options = options.replace(
            f'<option value="{_escape(current)}">', f'<option value="{_escape(current)}" selected>', 1
        )
    blank_option = format_html('<option value="">{}</option>', blank) if blank else ""
    aria = format_html(' aria-invalid="true" aria-describedby="e-{}"', name) if error else ""
    body = format_html(
        '{}<select id="f-{}" name="{}"{}{}>{}{}</select>',
        _label(name, label, ""),
        name,
        name,
        mark_safe(" required") if required else "",
        aria,
        blank_option,
        mark_safe(options),  # noqa: S308 - built by format_html_join, values escaped
    )
    return _wrap(name, error, cls, body)


def _escape(text: str) -> str:
    return str(format_html("{}", text))


@register.simple_tag(takes_context=True)
def check_field(context: Any, name: str, label: str, cls: str = "", checked: Any = False) -> SafeString:
    on = checked or _lookup(context.get("values"), name)
    error = _error(context, name)
    box = format_html(
        '<label class="check"><input type="checkbox" name="{}"{}> {}</label>',
        name,
        mark_safe(" checked") if on else "",
        label,
    )
    message = format_html('<div class="field-error">{}</div>', error) if error else ""
    return format_html('<div class="{}">{}{}</div>', cls, box, message)


@lru_cache(maxsize=4)
def _grouped(groups: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]) -> str:
    return "".join(
        format_html('<optgroup label="{}">{}</optgroup>', group, _options(items)) for group, items in groups
    )


@register.simple_tag(takes_context=True)
def grouped_select_field(context: Any, name: str, label: str, groups: Any, blank: str = "") -> SafeString:
    """A select whose options are grouped (conditions by category)."""
    error = _error(context, name)
    key = tuple((str(g), tuple((c.code, c.display) for c in items)) for g, items in groups)
    blank_option = format_html('<option value="">{}</option>', blank) if blank else ""
    body = format_html(
        '{}<select id="f-{}" name="{}">{}{}</select>',
        _label(name, label, ""),
        name,
        name,
        blank_option,
        mark_safe(_grouped(key)),  # noqa: S308 - built by format_html, values escaped
    )
    return _wrap(name, error, "", body)


@register.simple_tag(takes_context=True)
def add_section(context: Any, section: str, summary: str) -> SafeString:
    """A chart section's collapsed "add" form: fetched when opened, or rendered here when it has errors.

    Without scripts, the link reloads the chart with that form open.
    """
    if not context.get("can_write"):
        return mark_safe("")
    url = context["chart_url"]
    if context.get("open") == section:
        form = render_to_string(f"patients/forms/{section}.html", context.flatten())
        return format_html(
            '<details class="add" id="add-{}" open><summary>{}</summary><div class="form-slot">{}'
            "</div></details>",
            section,
            summary,
            form,  # a rendered template: already safe, so format_html leaves it as it is
        )
    # Six of these on every chart: built as a string, not through format_html's per-argument escaping.
    url, key, text = escape(url), escape(section), escape(summary)
    return mark_safe(  # noqa: S308 - every value escaped above
        f'<details class="add" id="add-{key}" hx-get="{url}forms/{key}/" hx-trigger="toggle once" '
        f'hx-target="find .form-slot" hx-select="unset"><summary>{text}</summary><div class="form-slot">'
        f'<a href="{url}?open={key}#add-{key}">Open the form</a></div></details>'
    )
