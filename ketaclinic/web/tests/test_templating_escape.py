"""Pages print values through templating.escape_output: markupsafe's escaping without a Markup per value."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.template import engines
from django.utils.safestring import mark_safe
from jinja2 import Undefined
from markupsafe import Markup, escape

from ketaclinic.accounts.permissions import Role
from ketaclinic.web.templating import PageEnvironment, escape_output

HOSTILE = "<script>alert('x')</script> & \"quoted\" <b>"
VALUES = [
    HOSTILE,
    "",
    "plain",
    "O'Brien & <Sons>",
    42,
    Decimal("70.50"),
    None,
    True,
    uuid.UUID(int=7),
    dt.date(2026, 11, 28),
    Markup("<em>kept</em>"),
    mark_safe("<i>safe</i>"),  # Django's safe string: kept as it is, as markupsafe keeps it
    Role.NURSE,
    Undefined(name="missing"),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_same_text_as_markupsafe(value: object) -> None:
    assert escape_output(value) == str(escape(value))


def test_the_pages_environment_prints_through_it() -> None:
    env = engines["jinja2"].env  # type: ignore[attr-defined]
    assert isinstance(env, PageEnvironment)
    assert "environment.escape_output(" in str(env.compile("{{ x }}", raw=True))
    assert env.from_string("{{ x }}").render(x=HOSTILE) == str(escape(HOSTILE))


@pytest.mark.parametrize(
    "source",
    [
        "{% macro m(v) %}<b>{{ v }}</b>{% endmacro %}{{ m(x) }}",
        "{% set y %}<b>{{ x }}</b>{% endset %}{{ y }}",
        "{% filter lower %}<b>{{ x }}</b>{% endfilter %}",
        "{% macro m() %}<b>{{ caller() }}</b>{% endmacro %}{% call m() %}{{ x }}{% endcall %}",
        "{% macro m(v) %}<b>{{ v }}</b>{% endmacro %}{% set y = m(x) %}{{ y|replace('b', 'b') }}",
    ],
)
def test_blocks_used_as_values_are_escaped_once(source: str) -> None:
    env = engines["jinja2"].env  # type: ignore[attr-defined]
    out = env.from_string(source).render(x="<i>")
    assert "&lt;i&gt;" in out and "&amp;lt;" not in out and "<i>" not in out
    assert out.lower().count("<b>") == 1


def test_an_environment_whose_prints_skip_it_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from jinja2.compiler import CodeGenerator

    from ketaclinic.web import templating

    monkeypatch.setattr(templating.PageEnvironment, "code_generator_class", CodeGenerator)
    with pytest.raises(RuntimeError, match="escape_output"):
        templating.environment()
