"""Every way to sign in is one throttled, audited path; it tells nobody which usernames exist.

The admin site's login is the app's; each account gets KETACLINIC_LOGIN_FAILURE_LIMIT password checks per
lockout window, known or not; each address gets KETACLINIC_SIGNIN_RATE_PER_IP attempts that did not
succeed per rate window; refused floods are audited as one row per window with their count.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db.models import F, Sum
from django.test import Client
from django.urls import resolve
from pytest_django import Settings

from ketaclinic.accounts import throttle, views
from ketaclinic.accounts.actions import do_disable_staff
from ketaclinic.accounts.models import AttemptCounter
from ketaclinic.audit.models import Action, AuditEvent, RepeatTally
from ketaclinic.demo.data import PASSWORD

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World

LIMIT = 5  # KETACLINIC_LOGIN_FAILURE_LIMIT's default, which these tests run with


def attempt(
    path: str, username: str, password: str = "wrong-password", *, address: str = "127.0.0.1", **extra: str
) -> TestResponse:
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password, **extra})


def signin(username: str, password: str = "wrong-password", **kwargs: Any) -> TestResponse:
    return attempt("/login/", username, password, **kwargs)


def rows(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def occurrences(action: str) -> int:
    return int(AuditEvent.objects.filter(action=action).aggregate(n=Sum("occurrences"))["n"] or 0)


def let_time_pass(seconds: int) -> None:
    """Move every stored window back by `seconds`, as if that much time had passed."""
    AttemptCounter.objects.update(expires_at=F("expires_at") - timedelta(seconds=seconds))
    RepeatTally.objects.filter(reported_at__isnull=False).update(
        reported_at=F("reported_at") - timedelta(seconds=seconds)
    )


@pytest.fixture(autouse=True)
def roomy_address(settings: Settings) -> None:
    """Every test here comes from 127.0.0.1: the address rate is raised unless a test is about it."""
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = 1000
    settings.KETACLINIC_LOGIN_FAILURE_LIMIT = LIMIT


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The name of every password hash computed (the test settings' hasher is MD5)."""
    calls: list[str] = []
    encode = MD5PasswordHasher.encode

    def counting(self: MD5PasswordHasher, password: str, salt: str) -> str:
        calls.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    yield calls


# --- the admin site signs in through the app ---------------------------------------------------------


def test_the_admin_sites_login_and_logout_are_the_apps(world: World) -> None:
    assert resolve("/admin/login/").func is views.login_view
    assert resolve("/admin/logout/").func is views.logout_view
    anonymous = Client()
    to_login = anonymous.get("/admin/")
    assert to_login.status_code == 302 and to_login["Location"] == "/admin/login/?next=/admin/"
    page = anonymous.get(to_login["Location"])
    assert page.status_code == 200
    assert [t.origin.template_name for t in page.templates] == ["web/login.html"]
    assert 'name="next" value="/admin/"' in page.content.decode()


def test_a_clinic_admin_signs_in_through_the_admin_login_and_out_again(world: World) -> None:
    client = Client()
    response = client.post(
        "/admin/login/", {"username": "admin.north", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor__username="admin.north").count() == 1
    assert client.post("/admin/logout/").status_code == 302
    assert client.get("/admin/").status_code == 302
    assert AuditEvent.objects.filter(action=Action.LOGOUT, actor__username="admin.north").count() == 1


def test_wrong_passwords_through_the_admin_login_lock_the_account_like_login(world: World) -> None:
    """The issue's attack: 30 wrong passwords through /admin/login/, then the right one."""
    before = AuditEvent.objects.count()
    statuses = [attempt("/admin/login/", "admin.north").status_code for _ in range(30)]
    assert statuses == [401] * LIMIT + [429] * (30 - LIMIT)
    right = attempt("/admin/login/", "admin.north", PASSWORD, next="/admin/")
    assert right.status_code == 429 and "_auth_user_id" not in right.client.session
    admin = world.user("admin.north")
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED, actor=admin).count() == LIMIT
    assert AuditEvent.objects.filter(action=Action.LOGIN_LOCKED, actor=admin).count() == 31 - LIMIT
    assert AuditEvent.objects.count() - before == 31  # each attempt, its own row
    assert rows(Action.LOGIN) == 0


def test_an_account_locked_on_login_cannot_sign_in_through_the_admin(world: World) -> None:
    for _ in range(LIMIT):
        signin("admin.north")
    client = Client()
    response = client.post(
        "/admin/login/", {"username": "admin.north", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302  # still signed out
    assert rows(Action.LOGIN_LOCKED) == 1 and rows(Action.LOGIN) == 0


# --- the account lockout ----------------------------------------------------------------------------


def test_a_lockout_lasts_a_window_from_the_attempt_that_reached_the_limit(
    world: World, settings: Settings
) -> None:
    window = settings.KETACLINIC_LOGIN_LOCKOUT_SECONDS
    for _ in range(LIMIT):
        signin("nurse.north")
    locked = signin("nurse.north", PASSWORD)
    assert locked.status_code == 429
    assert window - 5 <= int(locked["Retry-After"]) <= window
    let_time_pass(window - 60)
    assert signin("nurse.north", PASSWORD).status_code == 429
    let_time_pass(60)
    assert signin("nurse.north", PASSWORD).status_code == 302


def test_a_successful_sign_in_starts_the_account_afresh(world: World) -> None:
    for _ in range(LIMIT - 1):
        signin("nurse.north")
    assert signin("nurse.north", PASSWORD).status_code == 302
    assert [signin("nurse.north").status_code for _ in range(LIMIT)] == [401] * LIMIT


def test_unknown_usernames_lock_like_known_ones(world: World) -> None:
    statuses = [signin("nobody.here").status_code for _ in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]
    assert AuditEvent.objects.filter(action=Action.LOGIN_LOCKED, actor=None).count() == 1


def test_a_username_is_counted_however_it_is_written(world: World) -> None:
    """Case and Unicode compatibility forms of a username share its counter: no fresh tries by respelling."""
    for spelling in ("NURSE.NORTH", "Nurse.North", "ｎｕｒｓｅ.ｎｏｒｔｈ", " nurse.north ", "nurse.north"):
        signin(spelling)
    assert signin("nurse.north", PASSWORD).status_code == 429
    assert throttle.account_key("nurse.north") == throttle.account_key("ＮＵＲＳＥ.north")
    assert throttle.account_key("nurse.north") != throttle.account_key("nurse.south")


def test_counters_hold_no_username(world: World) -> None:
    signin("Correct-Horse-Battery-Staple")  # a password typed into the username box
    assert not AttemptCounter.objects.filter(key__icontains="horse").exists()


# --- the same answers and the same cost for every username ------------------------------------------


def _comparable(username: str) -> tuple[int, str, list[str]]:
    """A wrong password's answer: status, body and header names, the username typed set aside.

    The form gives back what was typed, and the CSRF token differs on every answer; nothing else may.
    """
    response = signin(username)
    body = response.content.decode().replace(f'value="{username}"', 'value="…"')
    body = re.sub(r"[A-Za-z0-9]{64}", "CSRF", body)  # the masked token, in the form and in hx-headers
    return response.status_code, body, sorted(response.headers)


def test_unknown_and_known_usernames_get_the_same_answers_locked_or_not(world: World) -> None:
    do_disable_staff(world.user("therapist.north"))
    open_answers = {name: _comparable(name) for name in ("nurse.north", "nobody.here", "therapist.north")}
    assert open_answers["nurse.north"] == open_answers["nobody.here"] == open_answers["therapist.north"]
    assert open_answers["nobody.here"][0] == 401
    for _ in range(LIMIT):
        signin("nurse.south")
        signin("nobody.there")
    known_locked, unknown_locked = _comparable("nurse.south"), _comparable("nobody.there")
    assert known_locked == unknown_locked and known_locked[0] == 429
    assert "Retry-After" in known_locked[2]


@pytest.mark.parametrize(
    ("username", "password", "lock_first", "status"),
    [
        ("nurse.north", "wrong-password", False, 401),
        ("nobody.here", "wrong-password", False, 401),
        ("therapist.north", PASSWORD, False, 401),  # disabled below
        ("nurse.north", "wrong-password", True, 429),
        ("nobody.here", "wrong-password", True, 429),
        ("nurse.north", PASSWORD, True, 429),
        ("nurse.north", PASSWORD, False, 302),
    ],
)
def test_every_answer_costs_one_password_hash(
    world: World, hashes: list[str], username: str, password: str, lock_first: bool, status: int
) -> None:
    do_disable_staff(world.user("therapist.north"))
    if lock_first:
        for _ in range(LIMIT):
            signin(username)
    hashes.clear()
    assert signin(username, password).status_code == status
    assert hashes == [password]


def test_a_refused_attempt_takes_as_long_as_a_password_check(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lower bound only (a hash that takes 50 ms makes every answer take 50 ms), so it cannot flake."""
    encode = MD5PasswordHasher.encode

    def slow(self: MD5PasswordHasher, password: str, salt: str) -> str:
        time.sleep(0.05)
        return encode(self, password, salt)

    for name in ("nurse.north", "nobody.here"):
        for _ in range(LIMIT):
            signin(name)
    monkeypatch.setattr(MD5PasswordHasher, "encode", slow)
    for name in ("nurse.north", "nobody.here", "nurse.south", "nobody.there"):
        started = time.perf_counter()
        signin(name)
        assert time.perf_counter() - started >= 0.05, name


# --- the rate per address ---------------------------------------------------------------------------


def test_an_address_over_its_rate_is_refused_for_every_username(world: World, settings: Settings) -> None:
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = 3
    for name in ("nurse.north", "nobody.here", "nurse.south"):  # spraying across usernames
        assert signin(name, address="198.51.100.7").status_code == 401
    refused = signin("prescriber.north", PASSWORD, address="198.51.100.7")
    assert refused.status_code == 429 and b"from this network" in refused.content
    assert 0 < int(refused["Retry-After"]) <= settings.KETACLINIC_AUTH_RATE_WINDOW_SECONDS
    assert signin("prescriber.north", PASSWORD, address="198.51.100.8").status_code == 302
    throttled = AuditEvent.objects.get(action=Action.LOGIN_THROTTLED)
    assert throttled.source_ip == "198.51.100.7" and throttled.actor is None
    assert rows(Action.LOGIN_FAILED) == 3


def test_an_address_over_its_rate_costs_no_hash(world: World, settings: Settings, hashes: list[str]) -> None:
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = 1
    signin("nurse.north")
    hashes.clear()
    assert signin("nurse.north").status_code == 429 and signin("nobody.here").status_code == 429
    assert hashes == []  # the same for every username, so nothing to hide by hashing


def test_successful_sign_ins_do_not_use_up_the_address_rate(world: World, settings: Settings) -> None:
    """A clinic behind one address signs its whole staff in every morning."""
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = 2
    for name in ("nurse.north", "nurse.south", "prescriber.north", "therapist.north", "admin.north"):
        assert signin(name, PASSWORD).status_code == 302
    assert signin("nurse.north").status_code == 401


def test_ipv6_clients_are_counted_by_their_64_network(world: World, settings: Settings) -> None:
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = 2
    signin("nurse.north", address="2001:db8:1:2::1")
    signin("nurse.north", address="2001:db8:1:2:aaaa::9")
    assert signin("nurse.south", PASSWORD, address="2001:db8:1:2:ffff::1").status_code == 429
    assert signin("nurse.south", PASSWORD, address="2001:db8:1:3::1").status_code == 302


# --- refused floods in the audit trail --------------------------------------------------------------


def test_a_refused_flood_is_one_audit_row_per_window_with_its_count(world: World, settings: Settings) -> None:
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = 1
    settings.KETACLINIC_AUTH_RATE_WINDOW_SECONDS = 4 * settings.KETACLINIC_AUDIT_REPEAT_WINDOW_SECONDS
    signin("nurse.north", address="203.0.113.5")
    for _ in range(50):
        signin("nurse.north", address="203.0.113.5")
    first = AuditEvent.objects.get(action=Action.LOGIN_THROTTLED)
    assert first.occurrences == 1 and first.source_ip == "203.0.113.5"  # the flood shows as it starts
    let_time_pass(settings.KETACLINIC_AUDIT_REPEAT_WINDOW_SECONDS)
    signin("nurse.north", address="203.0.113.5")  # the next window's first: carries the 49 before it
    assert rows(Action.LOGIN_THROTTLED) == 2 and occurrences(Action.LOGIN_THROTTLED) == 51
    assert rows(Action.LOGIN_FAILED) == 1


def test_refusals_still_pending_reach_the_trail_once_their_window_has_passed(
    world: World, settings: Settings
) -> None:
    """The flood stopped: the next sign-in from anywhere writes out what its last window counted."""
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = 1
    for _ in range(20):
        signin("nurse.north", address="203.0.113.9")
    assert occurrences(Action.LOGIN_THROTTLED) == 1
    assert signin("nurse.south", PASSWORD, address="192.0.2.1").status_code == 302
    assert occurrences(Action.LOGIN_THROTTLED) == 1  # still inside its window
    let_time_pass(settings.KETACLINIC_AUDIT_REPEAT_WINDOW_SECONDS)
    assert signin("nurse.south", PASSWORD, address="192.0.2.1").status_code == 302
    assert rows(Action.LOGIN_THROTTLED) == 2 and occurrences(Action.LOGIN_THROTTLED) == 19
    flushed = AuditEvent.objects.filter(action=Action.LOGIN_THROTTLED).order_by("-seq").first()
    assert flushed is not None and flushed.source_ip == "203.0.113.9" and flushed.occurrences == 18
