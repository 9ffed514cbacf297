"""What every response promises: security headers, no caching of PHI, no PHI in logs or error pages."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from django.test import Client

if TYPE_CHECKING:
    from conftest import World

MARKER = "Zyxwvutsrq"


def test_pages_and_api_carry_security_headers(world: World) -> None:
    for response in (
        world.client("nurse.north").get("/patients/"),
        world.api("nurse.north").get("/api/v1/patients"),
        Client().get("/login/"),
    ):
        assert response["Cache-Control"] == "no-store"
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Request-ID"]


def test_posts_without_a_csrf_token_are_refused(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("frontdesk.north"))
    assert client.post("/patients/new/", {"given_name": "N1"}).status_code == 403


def test_no_phi_reaches_the_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Even a request that fails validation or is refused logs routes and status, never the values."""
    caplog.set_level(logging.DEBUG)
    client = world.client("frontdesk.north")
    client.post(
        "/patients/new/",
        {
            "location": "north",
            "external_mrn": "N0",
            "given_name": MARKER,
            "family_name": MARKER,
            "date_of_birth": "2999-01-01",
            "sex": "female",
        },
    )
    client.post("/patients/", {"q": MARKER})
    world.api("therapist.north").post(
        "/api/v1/patients", {"given_name": MARKER}, content_type="application/json"
    )
    assert MARKER not in caplog.text


def test_unknown_pages_get_a_plain_404(world: World) -> None:
    response = world.client("nurse.north").get("/patients/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert Client().get("/nothing-here/").status_code == 404
