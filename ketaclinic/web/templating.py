"""The Jinja2 environment of KetaClinic's pages (Django's own Jinja2 backend, autoescape on).

Pages on hot paths are Jinja2 templates under each app's `jinja2/` folder: a table row costs about 6 µs
there against 30-38 µs in Django's template language (docs/performance.md), and every value is escaped
unless a template says otherwise. An undefined name prints as nothing (Django's backend gives the
environment Jinja2's lenient Undefined, and templates rely on it: `{% if errors.date_of_birth %}`), so a
test asserts what a page shows. Django's template language is left to the admin site.

Globals: `url(name, *args)` reverses a URL, `static(path)` names a static file, `top_bar()` draws the
top bar (web/topbar.py); the backend adds `request`, `csrf_token` and `csrf_input`, and the context
processors of settings.TEMPLATES add `links` and `nav`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from jinja2 import Environment
from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Expr
from markupsafe._speedups import _escape_inner  # markupsafe's own escaping, in C

DASH = "—"


def url(name: str, *args: Any) -> str:
    """reverse(name, args=args); for UUID arguments (a patient's pages), from the route's pattern.

    The chart links to nine pages of other areas by the patient's id, and reverse() cost about 15 us each;
    a route's URL is made once with marker UUIDs and the markers replaced after (bench/reads_profile.py).
    A route whose URL does not hold each marker once, as given (a converter that changes a UUID's text,
    a route that takes no UUID), has no pattern and goes through reverse() every time.
    """
    if args and all(type(arg) is uuid.UUID for arg in args):
        parts = _uuid_pattern(get_urlconf(), get_script_prefix(), name, len(args))
        if parts is not None:
            out = [parts[0]]
            for arg, part in zip(args, parts[1:], strict=True):
                out += (str(arg), part)
            return "".join(out)
    return reverse(name, args=args)


# Marker UUIDs: letters and digits, so that a converter that changed their case or dropped their dashes
# would leave them unfound in the URL (and the route without a pattern).
_MARKERS = tuple(uuid.UUID(f"{n:x}{n:x}bcdef0-ab12-4cde-8f01-23456789abcd") for n in range(10, 16))


@lru_cache(maxsize=512)
def _uuid_pattern(urlconf: str | None, prefix: str, name: str, count: int) -> tuple[str, ...] | None:
    """The route's URL cut at each of `count` UUID arguments, or None when it cannot be made that way."""
    if count > len(_MARKERS):
        return None
    markers = [str(m) for m in _MARKERS[:count]]
    try:
        made = reverse(name, args=_MARKERS[:count], urlconf=urlconf)
    except NoReverseMatch:
        return None
    parts = []
    for marker in markers:
        before, found, made = made.partition(marker)
        if not found or marker in made or marker in before:
            return None
        parts.append(before)
    return (*parts, made)


def age(born: dt.date, today: dt.date | None = None) -> int:
    """Whole years since `born`, on the server's calendar (a list passes `today` once for all its rows)."""
    today = today or timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def day(value: dt.date | dt.datetime | None) -> str:
    """A date as every page shows one: 2026-11-27 (ISO 8601, what the date inputs take too)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.isoformat()


def moment(value: dt.datetime | None, zone: str = "") -> str:
    """A time as every page shows one: 2026-11-27 14:05 UTC, or on the clock of the time zone given (a
    location's, such as America/New_York): 2026-11-27 09:05 EST."""
    if value is None:
        return ""
    if zone:
        return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def number(value: Decimal | int | None, places: int = 1) -> str:
    """A stored decimal without trailing zeros when whole: 70 or 70.5, never 70.0."""
    if value is None:
        return DASH
    value = Decimal(value)
    return str(int(value)) if value == value.to_integral_value() else f"{value:.{places}f}"


def humanize(code: str) -> str:
    return str(code).replace("_", " ")


def plural(count: int, one: str, many: str = "") -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def escape_output(value: Any) -> str:
    """What `{{ value }}` prints: markupsafe.escape(value), as a plain string.

    markupsafe.escape wraps every escaped value in a new Markup (a Python-level constructor), and a chart
    prints about 210 values: 2.0 us against 0.27 us a value for a short name (python -m timeit, one run
    on a loaded machine); Markup.__new__ was 5.9% of a served chart's CPU (py-spy, GIL held). A printed
    value only goes into the page's text, where Markup and str join alike; a block whose output is used
    as a value (a macro, `{% set %}...{% endset %}`, a filter or call block) is
    still wrapped in Markup by Jinja2's own code, so nothing is escaped twice.
    """
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return _escape_inner(str(value))


class _Generator(CodeGenerator):
    """Jinja2's code generator, with each autoescaped print calling `escape_output` (see there)."""

    def _output_child_pre(self, node: Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.escape_output(")
            if finalize.src is not None:
                self.write(finalize.src)
            return
        super()._output_child_pre(node, frame, finalize)


class PageEnvironment(Environment):
    code_generator_class = _Generator
    escape_output = staticmethod(escape_output)


def environment(**options: Any) -> Environment:
    options.pop("autoescape", None)  # the backend passes True; every page escapes what it prints
    env = PageEnvironment(autoescape=True, **options)
    if "environment.escape_output(" not in str(env.compile("{{ x }}", raw=True)):
        # Jinja2's code generator changed: its prints would still be escaped, by its own code, but slower.
        raise RuntimeError("the page environment's print no longer calls escape_output: see templating.py")
    from ketaclinic.web.topbar import top_bar  # reads the grants: models, loaded once apps are ready

    env.globals.update(url=url, static=static, DASH=DASH, top_bar=top_bar)
    env.filters.update(age=age, day=day, moment=moment, number=number, humanize=humanize, plural=plural)
    return env
