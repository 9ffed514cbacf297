"""The top bar of every page (web/_top_bar.html), drawn once per user, grants and page kind, then kept.

The bar shows the links the user's roles allow and marks the page's own: it is a function of the user's
name, their grants (accounts.access.grants, read on every request) and the page's section (its app and
URL name), and of nothing else but the per-request CSRF token of its log-out form. Drawing it, with its
five included link templates, was about 7% of a chart request's CPU in a served worker (py-spy, GIL held,
2026-11-28); in one process, a template drawing the bar took 217 us against 38 us for one printing a
kept bar (one run on a loaded machine).

It fails loudly rather than going stale: a bar is drawn from a context that holds only what its key is
made of (the navigation the context processors derive from the grants, the section, the name), and before
the first bar is drawn the bar's templates (with the ones they include) are read for the names they use:
a name outside that context raises, in every test that draws a page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from jinja2 import Environment, meta, nodes, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from ketaclinic.accounts.access import grants

# What the bar's templates may read, each set by the context processors from the grants alone (or
# constant); anything else is left out of the context the bar is drawn from.
DRAWN_FROM = (
    "links",
    "section",
    "nav",
    "worklist_nav",
    "schedule_nav",
    "emergency_nav",
    "rems_nav",
    "billing_nav",
)
TEMPLATE = "web/_top_bar.html"
KEPT_BARS = 1024  # a bar is about 2-3 kB: a few MB a worker at most
# Stands in for the log-out form's CSRF input while a bar is drawn. Nothing a user types can produce it:
# the bar escapes every value it shows, and this is a comment.
_CSRF_SLOT = Markup("<!--csrf-input-->")

_kept: OrderedDict[Hashable, str] = OrderedDict()
_kept_lock = threading.Lock()


@pass_context
def top_bar(context: Context) -> Markup:
    """The bar of this page (empty before sign-in and before the second step, as the template shows)."""
    if "nav" not in context:  # web.context.navigation sets it for a signed-in user past the second step
        return Markup("")
    user = context["request"].user
    name = user.get_full_name() or user.username
    key = (user.pk, name, frozenset(grants(user).items()), context["section"])
    with _kept_lock:
        bar = _kept.get(key)
        if bar is not None:
            _kept.move_to_end(key)
    if bar is None:
        bar = _draw(context, name)
        with _kept_lock:
            _kept[key] = bar
            if len(_kept) > KEPT_BARS:
                _kept.popitem(last=False)
    return Markup(bar.replace(_CSRF_SLOT, str(context["csrf_input"])))  # noqa: S704 - drawn escaped


def _draw(context: Context, name: str) -> str:
    environment = context.environment
    _check_reads(environment)
    values: dict[str, Any] = {key: context[key] for key in DRAWN_FROM}
    return environment.get_template(TEMPLATE).render(**values, user_name=name, csrf_input=_CSRF_SLOT)


_checked: set[int] = set()


def _check_reads(environment: Environment) -> None:
    """Raise if the bar's templates read a name that is not in the context a bar is drawn from."""
    if id(environment) in _checked:
        return
    allowed = {*DRAWN_FROM, "user_name", "csrf_input", *environment.globals}
    names, read = [TEMPLATE], set()
    while names:
        source = environment.loader.get_source(environment, names.pop())[0]  # type: ignore[union-attr]
        parsed = environment.parse(source)
        read |= meta.find_undeclared_variables(parsed)
        # Names a template sets itself inside a condition are counted as read by the analysis above.
        allowed |= {n.name for n in parsed.find_all(nodes.Name) if n.ctx == "store"}
        allowed |= {m.name for m in parsed.find_all(nodes.Macro)}
        included = list(meta.find_referenced_templates(parsed))
        if None in included:  # an include whose name is computed: its reads cannot be known here
            raise RuntimeError(f"{TEMPLATE} includes a template by a computed name, which cannot be checked")
        names += [n for n in included if n is not None]
    if read - allowed:
        raise RuntimeError(f"{TEMPLATE} reads {sorted(read - allowed)}, which a kept bar cannot depend on")
    _checked.add(id(environment))


def forget() -> None:
    """Drop every kept bar (tests that change a template's output)."""
    with _kept_lock:
        _kept.clear()
