"""Every request the API does not authenticate is audited and counted for its address.

At most one audit row per (kind, address) per window stands for a flood, with its count; over the
address's limit the answer is 429 in the API's error shape with Retry-After. Valid tokens pass untouched.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.db.models import F, Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django import Settings

from ketaclinic.accounts.actions import do_revoke_api_token
from ketaclinic.accounts.models import ApiToken, AttemptCounter
from ketaclinic.audit.models import Action, AuditEvent, Outcome, RepeatTally, Via

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World

URL = "/api/v1/patients"


def call(header: str | None, address: str = "127.0.0.1") -> TestResponse:
    headers = {"Authorization": header} if header is not None else {}
    return Client(REMOTE_ADDR=address, headers=headers).get(URL)


def occurrences(action: str) -> int:
    return int(AuditEvent.objects.filter(action=action).aggregate(n=Sum("occurrences"))["n"] or 0)


def let_time_pass(seconds: int) -> None:
    AttemptCounter.objects.update(expires_at=F("expires_at") - timedelta(seconds=seconds))
    RepeatTally.objects.filter(reported_at__isnull=False).update(
        reported_at=F("reported_at") - timedelta(seconds=seconds)
    )


@pytest.fixture
def revoked(world: World) -> str:
    token = world.token("nurse.north")
    do_revoke_api_token(ApiToken.objects.get(user__username="nurse.north"))
    return token


@pytest.fixture(autouse=True)
def roomy_address(settings: Settings) -> None:
    settings.KETACLINIC_API_AUTH_FAILURES_PER_IP = 1000


def test_every_kind_of_refused_token_is_audited_and_a_flood_is_one_row_per_window(
    world: World, revoked: str, settings: Settings
) -> None:
    headers = [
        None,
        "",
        "Token abc",
        "Bearer ",
        "Bearer nonsense",
        "Bearer kc_" + "x" * 43,
        f"Bearer {revoked}",
    ]
    for header in headers:
        response = call(header, "198.51.100.20")
        assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer", header
        assert response.json() == {"detail": "A valid bearer token is required."}
    first = AuditEvent.objects.get(action=Action.API_AUTH_FAILED)
    assert (first.occurrences, first.source_ip, first.via) == (1, "198.51.100.20", Via.API)
    assert first.outcome == Outcome.FAILURE and first.actor is None
    let_time_pass(settings.KETACLINIC_AUDIT_REPEAT_WINDOW_SECONDS)
    call(None, "198.51.100.20")  # the next window's first failure carries the ones before it
    assert AuditEvent.objects.filter(action=Action.API_AUTH_FAILED).count() == 2
    assert occurrences(Action.API_AUTH_FAILED) == len(headers) + 1


def test_each_address_has_its_own_row(world: World) -> None:
    for address in ("198.51.100.21", "198.51.100.22", "198.51.100.22"):
        call("Bearer nonsense", address)
    by_address = dict(
        AuditEvent.objects.filter(action=Action.API_AUTH_FAILED).values_list("source_ip", "occurrences")
    )
    assert by_address == {"198.51.100.21": 1, "198.51.100.22": 1}
    assert RepeatTally.objects.get(address="198.51.100.22").pending == 1


def test_an_address_over_its_limit_gets_429_json_with_retry_after(world: World, settings: Settings) -> None:
    settings.KETACLINIC_API_AUTH_FAILURES_PER_IP = 3
    assert [call("Bearer nonsense", "203.0.113.30").status_code for _ in range(3)] == [401] * 3
    refused = call("Bearer nonsense", "203.0.113.30")
    assert refused.status_code == 429 and refused["Content-Type"] == "application/json; charset=utf-8"
    assert refused.json() == {"detail": "Too many failed authentications from this address; try again later."}
    assert 0 < int(refused["Retry-After"]) <= settings.KETACLINIC_AUTH_RATE_WINDOW_SECONDS
    assert call(None, "203.0.113.30").status_code == 429  # no token at all counts the same
    assert call("Bearer nonsense", "203.0.113.31").status_code == 401  # other addresses are not held up
    throttled = AuditEvent.objects.get(action=Action.API_AUTH_THROTTLED)
    assert throttled.source_ip == "203.0.113.30" and throttled.outcome == Outcome.DENIED
    let_time_pass(settings.KETACLINIC_AUTH_RATE_WINDOW_SECONDS)
    assert call("Bearer nonsense", "203.0.113.30").status_code == 401


def test_a_valid_token_is_not_held_up_by_failures_at_its_address(world: World, settings: Settings) -> None:
    settings.KETACLINIC_API_AUTH_FAILURES_PER_IP = 1
    call("Bearer nonsense", "203.0.113.40")
    assert call("Bearer nonsense", "203.0.113.40").status_code == 429
    assert call(f"Bearer {world.token('nurse.north')}", "203.0.113.40").status_code == 200


def test_a_valid_token_costs_no_query_for_the_limits(world: World) -> None:
    """Authentication stays one query: counters and tallies are touched by failures only."""
    header = f"Bearer {world.token('nurse.north')}"
    call(header)
    with CaptureQueriesContext(connection) as queries:
        assert call(header).status_code == 200
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "accounts_attemptcounter" not in tables and "audit_repeattally" not in tables
