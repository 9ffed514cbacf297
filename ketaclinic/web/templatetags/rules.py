"""Template helpers for the rule catalogue page."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def cite(tag: str, sources: dict[str, str]) -> str:
    return sources.get(tag, tag)


@register.filter
def modality_list(modalities: Any) -> str:
    return ", ".join(sorted(str(m).replace("_", " ") for m in modalities))
