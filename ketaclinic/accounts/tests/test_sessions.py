"""Logging in and out, lockout after repeated failures, and the server-side idle timeout."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.test import Client, override_settings

from ketaclinic.accounts import sessions
from ketaclinic.accounts.middleware import LAST_SEEN
from ketaclinic.accounts.sessions import SessionStore
from ketaclinic.audit.models import AuditEvent
from ketaclinic.demo.data import PASSWORD

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World


def login(client: Client, username: str, password: str = PASSWORD) -> TestResponse:
    return client.post("/login/", {"username": username, "password": password})


def test_staff_log_in_to_their_home_page(world: World) -> None:
    assert login(Client(), "nurse.north")["Location"] == "/patients/"
    assert login(Client(), "admin.north")["Location"] == "/audit/"
    assert AuditEvent.objects.filter(action="auth.login", actor__username="nurse.north").exists()


def test_login_page_and_next_redirect(world: World) -> None:
    client = Client()
    assert client.get("/login/").status_code == 200
    response = client.post(
        "/login/", {"username": "nurse.north", "password": PASSWORD, "next": "/patients/new/"}
    )
    assert response["Location"] == "/patients/new/"
    evil = Client().post(
        "/login/", {"username": "nurse.north", "password": PASSWORD, "next": "https://evil.example"}
    )
    assert evil["Location"] == "/patients/"


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(world: World) -> None:
    response = login(Client(), "nurse.north", "not-the-password")
    assert response.status_code == 401 and b"Username or password is incorrect." in response.content
    assert login(Client(), "nobody.here").status_code == 401
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 2


@override_settings(KETACLINIC_LOGIN_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_account(world: World) -> None:
    for _ in range(3):
        login(Client(), "nurse.north", "wrong-password")
    locked = login(Client(), "nurse.north")
    assert locked.status_code == 429 and b"locked" in locked.content
    assert AuditEvent.objects.filter(action="auth.login_locked").count() == 1
    assert login(Client(), "nurse.south").status_code == 302  # other accounts are unaffected


def test_logout_ends_the_session(world: World) -> None:
    client = Client()
    login(client, "nurse.north")
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/patients/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.logout").exists()


@override_settings(KETACLINIC_IDLE_TIMEOUT_SECONDS=900)
def test_idle_sessions_are_ended_on_the_server(world: World) -> None:
    client = Client()
    login(client, "nurse.north")
    assert client.get("/patients/").status_code == 200
    session = client.session
    session[LAST_SEEN] = time.time() - 901
    session.save()
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert b"inactivity" in client.get("/login/").content
    assert AuditEvent.objects.filter(action="auth.session_timeout").exists()


def test_a_disabled_account_loses_its_session(world: World) -> None:
    from ketaclinic.accounts.actions import do_disable_staff

    client = Client()
    login(client, "nurse.north")
    do_disable_staff(world.user("nurse.north"))
    assert client.get("/patients/").status_code == 302


def test_a_user_without_roles_sees_the_no_access_page(world: World) -> None:
    from ketaclinic.accounts.actions import do_create_staff

    user = do_create_staff(world.network("nurse.north"), "new.hire", "a-long-enough-pass-phrase")
    client = Client()
    client.force_login(user)
    assert client.get("/")["Location"] == "/no-access/"
    assert client.get("/no-access/").status_code == 403


def test_session_cookie_is_http_only(world: World) -> None:
    response = login(Client(), "nurse.north")
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"


def test_a_decoded_session_is_kept_by_its_data_and_each_request_gets_its_own_copy() -> None:
    """accounts/sessions.SessionStore.decode keeps what verified, by the signed data and the key."""
    store = SessionStore()
    data = store.encode({"_auth_user_id": "7", LAST_SEEN: 1.5})
    first = store.decode(data)
    first["_auth_user_id"] = "8"  # a request changing its session in place
    assert store.decode(data) == {"_auth_user_id": "7", LAST_SEEN: 1.5}
    assert (settings.SECRET_KEY, data) in sessions._kept
    with override_settings(SECRET_KEY="another-" + "k" * 60):
        assert store.decode(data) == {}  # signed with the other key: refused, as Django refuses it
    tampered = data[:-1] + ("A" if data[-1] != "A" else "B")
    assert store.decode(tampered) == {} and (settings.SECRET_KEY, tampered) not in sessions._kept


def test_a_session_holding_a_list_is_decoded_afresh_every_time() -> None:
    store = SessionStore()
    data = store.encode({"notes": ["a"]})
    store.decode(data)["notes"].append("b")
    assert store.decode(data) == {"notes": ["a"]} and (settings.SECRET_KEY, data) not in sessions._kept
