"""Template helpers for the pages still written in Django's template language (the patients app)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.template.loader import get_template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def fieldname(section: str, index: int, field: str) -> str:
    return f"{section}-{index}-{field}"


@register.filter
def get(mapping: Any, key: str) -> Any:
    if not mapping:
        return ""
    value = mapping.get(key, "")
    return "" if value is None else value


@register.filter
def getlist(mapping: Any, key: str) -> list[str]:
    return mapping.getlist(key) if hasattr(mapping, "getlist") else []


@register.filter
def age(born: dt.date) -> int:
    today = timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@register.filter
def humanize(code: str) -> str:
    return str(code).replace("_", " ")


@register.simple_tag(takes_context=True)
def top_bar(context: Any) -> SafeString:
    """The navigation bar for the pages still written in Django's template language.

    It is the Jinja2 partial web/_top_bar.html, so both kinds of page show one navigation. Delete this tag
    with web/templates/web/base.html once no Django template extends it.
    """
    request = context.get("request")
    if request is None:
        return mark_safe("")
    html = get_template("web/_top_bar.html", using="jinja2").render(request=request)
    return mark_safe(html)  # noqa: S308 - rendered by the autoescaping Jinja2 environment
