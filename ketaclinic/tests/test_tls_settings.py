"""Secure cookies, HSTS and the proxy's https header: off for the plain-HTTP demo, on from the environment.

Each case starts Django in a fresh process with the environment an operator would set (docs/deployment.md)
and reads the settings Django ended with; `check --deploy` agrees, and the answers through a TLS proxy
carry HSTS and Secure cookies.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from pytest_django import Settings

from ketaclinic.config import HSTS_YEAR
from ketaclinic.demo.data import PASSWORD
from ketaclinic.web.tests.servers import server_env

if TYPE_CHECKING:
    from conftest import World

NAMES = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
]
READ = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    f"print(json.dumps({{n: getattr(s, n) for n in {NAMES!r}}}))"
)
# Django's deployment checks for these settings: HSTS, SSL redirect, session and CSRF cookies.
DEPLOY_WARNINGS = ("security.W004", "security.W008", "security.W012", "security.W016")
OFF = {
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
    "SECURE_HSTS_SECONDS": 0,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
    "SECURE_PROXY_SSL_HEADER": None,
    "SECURE_SSL_REDIRECT": False,
}
BEHIND_PROXY = {
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_HSTS_SECONDS": HSTS_YEAR,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    "SECURE_SSL_REDIRECT": False,
}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**server_env(tmp_path / "data"), **extra}


def settings_with(tmp_path: Path, **extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", READ], env=_env(tmp_path, **extra), capture_output=True, text=True, check=True
    )
    loaded: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return loaded


@pytest.mark.installation
@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, OFF),
        ({"KETACLINIC_SECURE_COOKIES": "1"}, BEHIND_PROXY),
        (
            {"KETACLINIC_SECURE_COOKIES": "1", "KETACLINIC_HSTS_SECONDS": "300"},
            {**BEHIND_PROXY, "SECURE_HSTS_SECONDS": 300},
        ),
        (
            {"KETACLINIC_HSTS_SECONDS": "600", "KETACLINIC_HSTS_INCLUDE_SUBDOMAINS": "0"},
            {**OFF, "SECURE_HSTS_SECONDS": 600},
        ),
        (
            {"KETACLINIC_TRUST_X_FORWARDED_PROTO": "1", "KETACLINIC_SSL_REDIRECT": "1"},
            {
                **OFF,
                "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
                "SECURE_SSL_REDIRECT": True,
            },
        ),
        (
            {"KETACLINIC_SECURE_COOKIES": "1", "KETACLINIC_TRUST_X_FORWARDED_PROTO": "0"},
            {**BEHIND_PROXY, "SECURE_PROXY_SSL_HEADER": None},
        ),
    ],
    ids=["demo", "secure-cookies", "hsts-seconds", "hsts-alone", "proxy-and-redirect", "no-proxy"],
)
def test_the_environment_switches_tls_settings(
    tmp_path: Path, environment: dict[str, str], expected: dict[str, Any]
) -> None:
    assert settings_with(tmp_path, **environment) == expected


def _deploy_warnings(tmp_path: Path, **extra: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "ketaclinic", "check", "--deploy"],
        env=_env(tmp_path, KETACLINIC_SECRET_KEY="x" * 60, **extra),
        capture_output=True,
        text=True,
        check=False,
    )
    return {warning for warning in DEPLOY_WARNINGS if warning in done.stdout + done.stderr}


@pytest.mark.installation
def test_djangos_deployment_check_agrees(tmp_path: Path) -> None:
    assert _deploy_warnings(tmp_path) == set(DEPLOY_WARNINGS)
    on = {"KETACLINIC_SECURE_COOKIES": "1", "KETACLINIC_SSL_REDIRECT": "1"}
    assert _deploy_warnings(tmp_path, **on) == set()


@pytest.mark.installation
def test_the_database_url_carries_tls_to_the_postgresql_connection(tmp_path: Path) -> None:
    url = "postgres://kc@db.example.org:5432/ketaclinic?sslmode=verify-full&sslrootcert=/etc/kc/db-ca.pem"
    read = "import django, json; django.setup(); from django.conf import settings as s; "
    read += "print(json.dumps(s.DATABASES['default']['OPTIONS']))"
    done = subprocess.run(
        [sys.executable, "-c", read],
        env=_env(tmp_path, DATABASE_URL=url),
        capture_output=True,
        text=True,
        check=True,
    )
    options = json.loads(done.stdout.splitlines()[-1])
    assert options == {"sslmode": "verify-full", "sslrootcert": "/etc/kc/db-ca.pem"}


def test_through_a_tls_proxy_answers_carry_hsts_and_cookies_are_secure(
    world: World, settings: Settings
) -> None:
    """What KETACLINIC_SECURE_COOKIES=1 sets, seen in the answers a browser gets."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = HSTS_YEAR, True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = Client(HTTP_X_FORWARDED_PROTO="https")
    page = proxied.get("/login/")
    assert page["Strict-Transport-Security"] == f"max-age={HSTS_YEAR}; includeSubDomains"
    assert page.cookies["csrftoken"]["secure"]
    signed_in = proxied.post("/login/", {"username": "nurse.north", "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in.cookies["sessionid"]["secure"]
    assert "Strict-Transport-Security" not in Client().get("/login/")  # never over plain http
