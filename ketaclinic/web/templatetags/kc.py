"""Template helpers for forms with repeated rows and inline errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape
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
    """The signed-in user's navigation: on every page, so built in Python (docs/performance.md)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return mark_safe("")
    links, nav = context["links"], context.get("nav") or {}
    app, page = context.get("section", ("", ""))

    def link(url: str, text: str, current: bool) -> str:
        here = ' aria-current="page"' if current else ""
        return f'<a href="{escape(url)}"{here}>{text}</a>'

    items = [
        link(links["patients"], "Patients", app == "patients" and page != "new")
        if nav.get("patients")
        else "",
        link(links["register"], "Register patient", page == "new") if nav.get("register") else "",
        link(links["audit"], "Audit trail", app == "audit") if nav.get("audit") else "",
        link(links["admin"], "Staff admin", False) if nav.get("admin") else "",
        link(links["rules"], "Clinical rules", page == "rules"),
        '<a href="/api/docs">API</a>' if nav.get("patients") else "",
    ]
    name = user.get_full_name() or user.username
    token = context.get("csrf_token", "")
    return mark_safe(  # noqa: S308 - the user's name, the token and the URLs are escaped
        '<header class="top"><div class="bar">'
        f'<a class="logo" href="{escape(links["home"])}">KetaClinic</a>'
        f'<nav aria-label="Main">{"".join(items)}</nav>'
        f'<div class="who"><span>{escape(name)}</span><form method="post" action="{escape(links["logout"])}">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'
        '<button type="submit">Log out</button></form></div></div></header>'
    )
