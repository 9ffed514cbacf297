"""Template helpers for forms with repeated rows and inline errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

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
