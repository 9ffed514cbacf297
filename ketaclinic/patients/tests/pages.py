"""Reading what a page shows: its field errors, its form's values. Jinja2 pages carry no test context,
so tests read the HTML the user gets."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

_ERROR = re.compile(r'<div class="field-error" id="e-([^"]+)">(.*?)</div>', re.S)
_INPUT = re.compile(r"<input\b[^>]*>", re.S)
_SELECT = re.compile(r'<select id="f-[^"]*" name="([^"]+)".*?</select>', re.S)
_ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')


def field_errors(response: TestResponse) -> dict[str, str]:
    """{input name: message} of the inline errors on the page."""
    return {name: html.unescape(message) for name, message in _ERROR.findall(response.content.decode())}


def form_values(response: TestResponse) -> dict[str, str]:
    """The values the page's form would send: text inputs, checked boxes and selected options."""
    page = response.content.decode()
    values: dict[str, str] = {}
    for tag in _INPUT.findall(page):
        attrs = {k: html.unescape(v or "") for k, v in _ATTR.findall(tag[6:])}
        name = attrs.get("name")
        if not name or name == "csrfmiddlewaretoken":
            continue
        if attrs.get("type") == "checkbox":
            if "checked" in attrs:
                values[name] = "on"
        else:
            values[name] = attrs.get("value", "")
    for match in _SELECT.finditer(page):
        chosen = re.search(r'<option value="([^"]*)" selected>', match.group(0))
        values[match.group(1)] = html.unescape(chosen.group(1)) if chosen else ""
    return values
