"""The templates' url() gives what reverse() gives, for every route, including through its UUID fast path."""

from __future__ import annotations

import sys
import types
import uuid
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path, register_converter, reverse, set_urlconf

from ketaclinic.web import templating


def _routes(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, list[str]]]:
    """(full name, converter names of its arguments) of every named route."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            converters = getattr(entry.pattern, "converters", {})
            yield f"{namespace}{entry.name}", [type(c).__name__ for c in converters.values()]


def test_url_is_reverse_for_every_route_taking_uuids() -> None:
    checked = 0
    for name, converters in _routes(get_resolver().url_patterns):
        if not converters or set(converters) != {"UUIDConverter"}:
            continue
        args = [uuid.uuid4() for _ in converters]
        assert templating.url(name, *args) == reverse(name, args=args), name
        assert templating.url(name, *args) == reverse(name, args=args), name  # the second, from the pattern
        checked += 1
    assert checked > 20  # the chart's links among them
    assert templating._uuid_pattern.cache_info().currsize >= checked


def test_a_route_that_does_not_show_the_uuid_as_given_goes_through_reverse() -> None:
    class Hex:  # writes a UUID without its dashes: the marker is not found, so the route has no pattern
        regex = "[0-9a-f]{32}"

        def to_python(self, value: str) -> uuid.UUID:
            return uuid.UUID(value)

        def to_url(self, value: uuid.UUID) -> str:
            return value.hex

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    register_converter(Hex, "test_hex")
    name = "ketaclinic_test_templating_urls"
    urls = types.ModuleType(name)
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("hex/<test_hex:pk>/", view, name="hex"),
        path("pair/<uuid:a>/to/<uuid:b>/", view, name="pair"),
        path("count/<int:n>/", view, name="count"),
    ]
    one, two = uuid.uuid4(), uuid.uuid4()
    sys.modules[name] = urls
    set_urlconf(name)
    try:
        assert templating.url("hex", one) == f"/hex/{one.hex}/"
        assert templating._uuid_pattern(name, "/", "hex", 1) is None
        assert templating.url("pair", one, two) == f"/pair/{one}/to/{two}/"
        assert templating._uuid_pattern(name, "/", "pair", 2) == ("/pair/", "/to/", "/")
        assert templating.url("count", 3) == "/count/3/"
    finally:
        set_urlconf(None)
        del sys.modules[name]
