"""/api/docs is Swagger UI inside the app's layout: the navigation stays, the assets are ninja's own."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from django.contrib.staticfiles import finders
from django.test import Client

if TYPE_CHECKING:
    from conftest import World

ASSETS = ("ninja/swagger-ui.css", "ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js")


def test_docs_keep_the_navigation_and_load_swagger_from_the_app(world: World) -> None:
    response = world.client("frontdesk.north").get("/api/docs")
    assert response.status_code == 200
    body = response.content.decode()
    nav = re.search(r'<nav aria-label="Main">.*?</nav>', body, re.S)
    assert nav, "the app's navigation bar"
    assert 'href="/patients/"' in nav.group() and 'href="/rules/"' in nav.group()
    assert '<a href="/api/docs" aria-current="page">API</a>' in nav.group()
    assert "Log out" in body
    for asset in ASSETS:
        assert f"/static/{asset}" in body
        assert finders.find(asset), f"{asset} is served by the app (ninja vendors it)"
    settings = re.search(r'<script type="application/json" id="swagger-settings">(.*?)</script>', body, re.S)
    assert settings and json.loads(settings.group(1))["url"] == "/api/openapi.json"
    assert '<div class="card api-docs" id="swagger-ui">' in body


def test_docs_use_no_cdn_and_no_inline_script(world: World) -> None:
    response = world.client("nurse.north").get("/api/docs")
    body = response.content.decode()
    assert "cdn" not in body.lower()
    addresses = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert addresses and not [a for a in addresses if a.startswith(("http:", "https:", "//"))]
    for attrs in re.findall(r"<script([^>]*)>", body):
        assert "src=" in attrs or 'type="application/json"' in attrs, f"inline script: {attrs}"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_docs_need_a_session_or_a_token(world: World) -> None:
    anonymous = Client().get("/api/docs")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert world.api("nurse.south").get("/api/docs").status_code == 200
    assert Client(headers={"Authorization": "Bearer not-a-token"}).get("/api/docs").status_code == 302
