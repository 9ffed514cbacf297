"""A request that fails the CSRF check is refused with a plain 403 and leaves a row in the audit trail."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, _unmask_cipher_token  # type: ignore[attr-defined]
from django.test import Client, RequestFactory

from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.web import context
from ketaclinic.web.csrf import csrf_failure, failed_check

if TYPE_CHECKING:
    from conftest import World


def _refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.CSRF_FAILURE).order_by("seq"))


def _guarded(world: World, who: str | None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if who is not None:
        client.force_login(world.user(who))
    return client


def test_a_forged_post_in_a_signed_in_session_is_refused_and_audited(world: World) -> None:
    patient = world.patient("north")
    client = _guarded(world, "nurse.north")
    response = client.post(f"/patients/{patient.pk}/conditions/", {"code": "hypertension"})
    assert response.status_code == 403
    assert not patient.conditions.filter(code="hypertension", status="active").exists()
    [event] = _refusals()
    assert event.actor == world.user("nurse.north") and event.outcome == Outcome.DENIED
    assert event.changed_fields == ["csrf_cookie"] and event.via == "web"
    assert event.request_id == response["X-Request-ID"]


def test_a_post_with_a_wrong_token_or_origin_names_the_check_that_failed(world: World) -> None:
    client = _guarded(world, "frontdesk.north")
    client.get("/patients/")  # the page sets the CSRF cookie
    assert client.post("/patients/", {"q": "a", "csrfmiddlewaretoken": "x" * 64}).status_code == 403
    token = client.cookies["csrftoken"].value
    forged = client.post(
        "/patients/", {"q": "a", "csrfmiddlewaretoken": token}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403
    assert [e.changed_fields for e in _refusals()] == [["csrf_token"], ["origin"]]
    assert client.post("/patients/", {"q": "a", "csrfmiddlewaretoken": token}).status_code == 200


def test_a_pages_token_passes_the_check_and_is_masked_afresh_on_every_page(world: World) -> None:
    """The token a page prints (web/context._token, not Django's get_token) is in Django's format."""
    client = _guarded(world, "frontdesk.north")
    pages = [client.get("/patients/").content.decode() for _ in range(3)]
    tokens = [m.group(1) for p in pages if (m := re.search(r'"csrfmiddlewaretoken" value="(\w{64})"', p))]
    secret = client.cookies["csrftoken"].value
    assert len(set(tokens)) == 3 and all(_unmask_cipher_token(t) == secret for t in tokens)
    assert client.post("/patients/", {"q": "a", "csrfmiddlewaretoken": tokens[-1]}).status_code == 200
    assert client.post("/patients/", {"q": "a", "csrfmiddlewaretoken": tokens[-1][::-1]}).status_code == 403


def test_the_mask_skips_the_bytes_that_would_favour_some_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    """248 = 4 x 62: bytes from 248 up are drawn again, so each of the 62 characters is equally likely."""
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = secret = CSRF_ALLOWED_CHARS[10:42]
    reads = iter([bytes([248, 255, *range(30), *[250] * 8]), bytes(range(30, 70))])
    monkeypatch.setattr("os.urandom", lambda n: next(reads))
    token = context._token(request)
    assert token[:32] == CSRF_ALLOWED_CHARS[:32]  # 248, 255 and 250 skipped; 30 and 31 from the next read
    assert _unmask_cipher_token(token) == secret and request.META["CSRF_COOKIE_NEEDS_UPDATE"]


def test_the_refusal_page_is_plain_and_the_same_for_everyone(world: World) -> None:
    """Nothing of the user (name, navigation, a fresh token) and nothing of the request shows."""
    signed_in = _guarded(world, "prescriber.north").post("/logout/")
    anonymous = _guarded(world, None).post("/login/", {"username": "prescriber.north", "password": "x"})
    assert signed_in.status_code == anonymous.status_code == 403
    assert signed_in.content == anonymous.content
    page = signed_in.content.decode()
    assert "Request refused" in page and "prescriber" not in page and "csrfmiddlewaretoken" not in page
    assert "Log out" not in page and "Patients" not in page
    assert (
        signed_in["Cache-Control"] == "no-store"
        and "frame-ancestors 'none'" in signed_in["Content-Security-Policy"]
    )
    assert [e.actor_id for e in _refusals()] == [world.user("prescriber.north").pk, None]


@pytest.mark.parametrize(
    ("reason", "check"),
    [
        ("CSRF cookie not set.", "csrf_cookie"),
        ("CSRF token missing.", "csrf_token"),
        ("CSRF token from POST incorrect.", "csrf_token"),
        ("CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.", "csrf_token"),
        ("Origin checking failed - https://evil.example does not match any trusted origins.", "origin"),
        ("Referer checking failed - no Referer.", "referer"),
    ],
)
def test_each_reason_is_recorded_as_the_check_not_its_text(reason: str, check: str) -> None:
    assert failed_check(reason) == check


@pytest.mark.django_db
def test_the_refusal_needs_no_user_and_answers_json_under_the_api() -> None:
    """Called for a request that never reached the session or login middleware, it still records and
    answers; under /api/ the answer is JSON like every other there."""
    factory = RequestFactory()
    page = csrf_failure(factory.post("/patients/"), "CSRF token missing.")
    api = csrf_failure(factory.post("/api/v1/patients"), "CSRF token missing.")
    assert page.status_code == api.status_code == 403
    assert api["Content-Type"] == "application/json" and set(json.loads(api.content)) == {"detail"}
    assert [(e.actor_id, e.via) for e in _refusals()] == [(None, "web"), (None, "api")]
