"""Two-step sign-in: the clinic's policy, the code and enrolment steps, recovery codes, and resets.

Every test here runs with the production policy (clinic admins and prescribers must use a second factor);
the rest of the suite signs personas in with their password alone, as the demo clinic does.
"""

from __future__ import annotations

import time
from binascii import unhexlify
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django import Settings

from ketaclinic import config
from ketaclinic.accounts import mfa
from ketaclinic.accounts.actions import do_enrol_mfa
from ketaclinic.accounts.models import User
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.demo.data import PASSWORD

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World

KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test secret


@pytest.fixture(autouse=True)
def policy(settings: Settings) -> None:
    settings.KETACLINIC_MFA_REQUIRED_ROLES = frozenset(config.MFA_REQUIRED_BY_DEFAULT)


def login(client: Client, username: str, password: str = PASSWORD) -> TestResponse:
    return client.post("/login/", {"username": username, "password": password})


def code(key: str = KEY, *, ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `ahead` steps of 30 s later)."""
    totp = TOTP(unhexlify(key))
    totp.time = time.time() + 30 * ahead
    return f"{totp.token():06d}"


def enrol(user: User) -> list[str]:
    """An authenticator (secret KEY) and recovery codes, through the action; its last code long spent."""
    return do_enrol_mfa(user, KEY, confirmed_step=0, actor=user)


def wait_out_throttle(user: User) -> None:
    """As if the user waited after a wrong code: django-otp's back-off counts from the last failure."""
    long_ago = timezone.now() - timedelta(hours=1)
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_timestamp=long_ago)


def events(action: str, username: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, actor__username=username).order_by("seq"))


def signed_in_with_code(world: World, username: str) -> Client:
    enrol(world.user(username))
    client = Client()
    assert login(client, username)["Location"] == "/mfa/verify/"
    assert client.post("/mfa/verify/", {"code": code()}).status_code == 302
    return client


# The policy -------------------------------------------------------------------------------------------


def test_the_policy_requires_admins_and_prescribers_unless_the_clinic_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("KETACLINIC_MFA_REQUIRED_ROLES", "KETACLINIC_DEMO", "KETACLINIC_DEMO_MFA"):
        monkeypatch.delenv(name, raising=False)
    assert config.load().mfa_required_roles == ("clinic_admin", "prescriber")
    monkeypatch.setenv("KETACLINIC_MFA_REQUIRED_ROLES", "clinic_admin, prescriber, nurse")
    assert config.load().mfa_required_roles == ("clinic_admin", "prescriber", "nurse")
    monkeypatch.setenv("KETACLINIC_MFA_REQUIRED_ROLES", "none")
    assert config.load().mfa_required_roles == ()


def test_the_demo_clinic_needs_no_second_factor_unless_asked(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.delenv("KETACLINIC_MFA_REQUIRED_ROLES", raising=False)
    monkeypatch.setenv("KETACLINIC_DEMO", "1")
    assert config.load().mfa_required_roles == ()
    monkeypatch.setenv("KETACLINIC_DEMO_MFA", "1")
    assert config.load().mfa_required_roles == ("clinic_admin", "prescriber")
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    assert "`KETACLINIC_DEMO_MFA=1 make run`" in readme  # and the README says so


def test_a_misspelt_role_in_the_policy_stops_the_server(settings: Settings) -> None:
    settings.KETACLINIC_MFA_REQUIRED_ROLES = frozenset({"prescriber", "nures"})
    errors = mfa.check_required_roles()
    assert [e.id for e in errors] == ["ketaclinic.E101"] and "nures" in errors[0].msg


def test_demo_personas_sign_in_with_the_password_alone(
    world: World, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.delenv("KETACLINIC_MFA_REQUIRED_ROLES", raising=False)
    monkeypatch.setenv("KETACLINIC_DEMO", "1")
    settings.KETACLINIC_MFA_REQUIRED_ROLES = frozenset(config.load().mfa_required_roles)
    assert login(Client(), "admin.north")["Location"] == "/audit/"
    assert login(Client(), "prescriber.north")["Location"] == "/patients/"


def test_a_role_outside_the_policy_signs_in_with_the_password_alone(world: World, settings: Settings) -> None:
    client = Client()
    assert login(client, "nurse.north")["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    settings.KETACLINIC_MFA_REQUIRED_ROLES = frozenset({"clinic_admin", "prescriber", "nurse"})
    assert login(Client(), "nurse.north")["Location"] == "/mfa/enrol/"


def test_anyone_with_an_authenticator_is_asked_for_a_code_whatever_their_role(world: World) -> None:
    enrol(world.user("nurse.north"))
    assert login(Client(), "nurse.north")["Location"] == "/mfa/verify/"


# Enrolment --------------------------------------------------------------------------------------------


def test_a_required_role_without_an_authenticator_cannot_reach_the_patient_list(world: World) -> None:
    client = Client()
    assert login(client, "prescriber.north")["Location"] == "/mfa/enrol/"
    assert client.get("/patients/")["Location"].startswith("/login/")  # not signed in yet
    assert not events(Action.LOGIN, "prescriber.north")
    page = client.get("/mfa/enrol/")
    assert page.status_code == 200
    assert b'src="data:image/svg+xml' in page.content  # the QR code, drawn here
    assert mfa.manual_secret(client.session[mfa.ENROL_KEY]["key"]).encode() in page.content


def test_enrolment_confirms_a_code_and_shows_the_recovery_codes_once(world: World) -> None:
    client = Client()
    login(client, "prescriber.north")
    client.get("/mfa/enrol/")
    key = client.session[mfa.ENROL_KEY]["key"]
    wrong = client.post("/mfa/enrol/", {"code": "000000" if code(key) != "000000" else "111111"})
    assert wrong.status_code == 422 and b"does not match" in wrong.content
    assert not TOTPDevice.objects.filter(user__username="prescriber.north").exists()

    done = client.post("/mfa/enrol/", {"code": code(key)})
    assert done.status_code == 200
    shown = done.context["codes"]
    user = world.user("prescriber.north")
    assert len(shown) == mfa.RECOVERY_CODES and all(len(mfa.normalise(c)) == 12 for c in shown)
    assert all(c.encode() in done.content for c in shown)
    # Only keyed digests are kept: the table gives no code away.
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert stored == {mfa.recovery_digest(c) for c in shown}
    assert not stored & {mfa.normalise(c) for c in shown}
    enrolled = events(Action.MFA_ENROL, "prescriber.north")
    assert len(enrolled) == 1 and enrolled[0].changed_fields == ["authenticator", "recovery_codes"]
    assert events(Action.LOGIN, "prescriber.north")
    assert client.get("/patients/").status_code == 200
    again = client.get("/mfa/enrol/")
    assert again["Location"] == "/mfa/"  # no second enrolment, and the codes are never shown again
    assert TOTPDevice.objects.filter(user=user).count() == 1
    # The code that confirmed the key is spent.
    other = Client()
    login(other, "prescriber.north")
    assert other.post("/mfa/verify/", {"code": code(key)}).status_code == 401


def test_anyone_may_enrol_from_their_own_page(world: World) -> None:
    client = world.client("nurse.north")
    page = client.get("/mfa/")
    assert page.status_code == 200 and b"Set up an authenticator app" in page.content
    client.get("/mfa/enrol/")
    key = client.session[mfa.ENROL_KEY]["key"]
    assert client.post("/mfa/enrol/", {"code": code(key)}).status_code == 200
    assert b"Recovery codes left" in client.get("/mfa/").content
    assert events(Action.MFA_ENROL, "nurse.north")


def test_the_second_step_pages_need_a_right_password_first(world: World) -> None:
    for path in ("/mfa/verify/", "/mfa/enrol/"):
        assert Client().get(path)["Location"] == "/login/"
        assert Client().post(path, {"code": "123456"})["Location"] == "/login/"
    assert Client().get("/mfa/")["Location"].startswith("/login/")


def test_a_right_password_waits_only_so_long_for_its_code(world: World) -> None:
    enrol(world.user("prescriber.north"))
    client = Client()
    login(client, "prescriber.north")
    session = client.session
    session[mfa.PENDING] = {**session[mfa.PENDING], "since": time.time() - mfa.PENDING_SECONDS - 1}
    session.save()
    assert client.post("/mfa/verify/", {"code": code()})["Location"] == "/login/"
    assert client.get("/patients/")["Location"].startswith("/login/")


# The code ---------------------------------------------------------------------------------------------


def test_a_wrong_code_is_refused_and_audited_and_the_right_one_signs_in(world: World) -> None:
    enrol(world.user("prescriber.north"))
    client = Client()
    assert login(client, "prescriber.north")["Location"] == "/mfa/verify/"
    assert client.get("/mfa/verify/").status_code == 200
    wrong = client.post("/mfa/verify/", {"code": "000000" if code() != "000000" else "111111"})
    assert wrong.status_code == 401 and b"not right" in wrong.content
    failed = events(Action.MFA_FAILED, "prescriber.north")
    assert len(failed) == 1 and failed[0].outcome == Outcome.FAILURE
    assert client.get("/patients/")["Location"].startswith("/login/")
    assert not events(Action.LOGIN, "prescriber.north")

    wait_out_throttle(world.user("prescriber.north"))
    right = client.post("/mfa/verify/", {"code": code()})
    assert right["Location"] == "/patients/"
    assert events(Action.MFA_VERIFIED, "prescriber.north") and events(Action.LOGIN, "prescriber.north")
    assert client.get("/patients/").status_code == 200


def test_the_code_step_keeps_where_the_user_was_going(world: World) -> None:
    enrol(world.user("prescriber.north"))
    client = Client()
    client.post("/login/", {"username": "prescriber.north", "password": PASSWORD, "next": "/patients/new/"})
    assert client.post("/mfa/verify/", {"code": code()})["Location"] == "/patients/new/"


def test_a_code_signs_in_once(world: World) -> None:
    enrol(world.user("prescriber.north"))
    used = code()
    first = Client()
    login(first, "prescriber.north")
    assert first.post("/mfa/verify/", {"code": used}).status_code == 302
    replay = Client()
    login(replay, "prescriber.north")
    assert replay.post("/mfa/verify/", {"code": used}).status_code == 401


def test_wrong_codes_in_quick_succession_are_throttled(world: World) -> None:
    enrol(world.user("prescriber.north"))
    client = Client()
    login(client, "prescriber.north")
    client.post("/mfa/verify/", {"code": "000000" if code() != "000000" else "111111"})
    throttled = client.post("/mfa/verify/", {"code": code()})  # even the right one, too soon
    assert throttled.status_code == 429 and b"Wait" in throttled.content
    assert events(Action.MFA_FAILED, "prescriber.north")[-1].outcome == Outcome.DENIED
    assert client.get("/patients/")["Location"].startswith("/login/")


def test_wrong_codes_count_toward_the_sign_in_lockout(world: World, settings: Settings) -> None:
    settings.KETACLINIC_LOGIN_FAILURE_LIMIT = 3
    user = world.user("prescriber.north")
    enrol(user)
    login(Client(), "prescriber.north", "wrong-password")
    client = Client()
    login(client, "prescriber.north")
    for _ in range(2):
        wait_out_throttle(user)
        assert (
            client.post("/mfa/verify/", {"code": "999999" if code() != "999999" else "111111"}).status_code
            == 401
        )
    wait_out_throttle(user)
    locked = client.post("/mfa/verify/", {"code": code()})
    assert locked.status_code == 429 and b"locked" in locked.content
    assert login(Client(), "prescriber.north").status_code == 429  # the password step is locked too
    assert len(events(Action.LOGIN_LOCKED, "prescriber.north")) == 2


def test_a_recovery_code_signs_in_once(world: World) -> None:
    codes = enrol(world.user("prescriber.north"))
    client = Client()
    login(client, "prescriber.north")
    typed = mfa.grouped(codes[0]).upper()  # as printed, in capitals
    response = client.post("/mfa/verify/", {"code": typed})
    assert response["Location"] == "/mfa/"
    assert f"{mfa.RECOVERY_CODES - 1} of them are left".encode() in client.get("/mfa/").content
    assert events(Action.MFA_RECOVERY_USED, "prescriber.north")
    assert client.get("/patients/").status_code == 200

    again = Client()
    login(again, "prescriber.north")
    assert again.post("/mfa/verify/", {"code": codes[0]}).status_code == 401
    assert events(Action.MFA_FAILED, "prescriber.north")


def test_an_empty_code_names_the_field(world: World) -> None:
    enrol(world.user("prescriber.north"))
    client = Client()
    login(client, "prescriber.north")
    response = client.post("/mfa/verify/", {"code": "  "})
    assert response.status_code == 422 and response.context["errors"].keys() == {"code"}
    assert not events(Action.MFA_FAILED, "prescriber.north")


# No page half signed in -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/patients/", "/audit/", "/admin/", "/rules/", "/api/docs", "/mfa/"])
def test_a_session_signed_in_another_way_is_held_on_the_code_page(world: World, path: str) -> None:
    enrol(world.user("admin.north"))
    client = world.client("admin.north")  # as the admin site's own login form would leave it
    assert client.get(path)["Location"] == "/mfa/verify/"
    assert client.post(path, {})["Location"] == "/mfa/verify/"
    assert client.get(path, headers={"HX-Request": "true"})["HX-Redirect"] == "/mfa/verify/"
    assert client.get("/mfa/verify/").status_code == 200
    assert client.post("/mfa/verify/", {"code": code()})["Location"] == "/audit/"
    assert client.get(path).get("Location") != "/mfa/verify/"


def test_a_session_without_the_required_authenticator_is_held_on_the_enrolment_page(world: World) -> None:
    client = world.client("prescriber.north")
    assert client.get("/patients/")["Location"] == "/mfa/enrol/"
    page = client.get("/mfa/enrol/")
    assert page.status_code == 200 and b"Sign out" in page.content
    assert b'aria-label="Main"' not in page.content  # no navigation before the second step
    assert client.post("/logout/").status_code == 302


def test_api_tokens_are_not_asked_for_a_second_factor(world: World) -> None:
    api = world.api("prescriber.north")
    assert api.get("/api/v1/patients").status_code == 200


def test_a_passed_session_costs_the_list_page_no_query(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketaclinic.patients.tests.test_query_counts import LIST_PAGE_QUERIES

    client = signed_in_with_code(world, "prescriber.north")
    client.get("/patients/")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/patients/").status_code == 200
    assert len(ctx.captured_queries) == LIST_PAGE_QUERIES


def test_the_admin_site_does_not_show_second_factor_secrets() -> None:
    from django.contrib import admin

    import ketaclinic.urls  # noqa: F401 - the URLconf unregisters them

    assert not admin.site.is_registered(TOTPDevice) and not admin.site.is_registered(StaticDevice)


def test_the_enrolment_uri_names_the_clinic_and_username_only(world: World) -> None:
    uri = mfa.otpauth_uri(world.user("prescriber.north"), KEY)
    assert uri.startswith("otpauth://totp/KetaClinic%3Aprescriber.north?secret=")
    assert "issuer=KetaClinic" in uri


# Resets -----------------------------------------------------------------------------------------------


def test_a_reset_is_audited_ends_the_sessions_and_forces_a_new_enrolment(world: World) -> None:
    target = world.user("prescriber.north")
    signed_in = signed_in_with_code(world, "prescriber.north")
    waiting = Client()
    login(waiting, "prescriber.north")
    admin = world.client("admin.north")
    enrol(world.user("admin.north"))
    assert admin.post("/mfa/verify/", {"code": code()}).status_code == 302
    page = admin.get("/mfa/staff/")
    assert page.status_code == 200 and b"prescriber.north" in page.content

    response = admin.post(f"/mfa/staff/{target.pk}/reset/")
    assert response["Location"] == "/mfa/staff/"
    assert b"was reset" in admin.get("/mfa/staff/").content
    reset = events(Action.MFA_RESET, "admin.north")
    assert len(reset) == 1 and reset[0].object_id == str(target.pk)
    assert reset[0].location is not None and reset[0].location.slug == "north"
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert not StaticDevice.objects.filter(user=target).exists()
    assert signed_in.get("/patients/")["Location"].startswith("/login/")
    assert waiting.post("/mfa/verify/", {"code": code(ahead=1)})["Location"] == "/login/"
    assert login(Client(), "prescriber.north")["Location"] == "/mfa/enrol/"


def test_only_an_admin_of_the_persons_location_may_reset(world: World, settings: Settings) -> None:
    settings.KETACLINIC_MFA_REQUIRED_ROLES = frozenset()  # the personas' own second step is not tested here
    target = world.user("prescriber.north")
    enrol(target)
    url = f"/mfa/staff/{target.pk}/reset/"
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    other_location = world.client("admin.south").post(url)
    assert other_location.status_code == 404 and b"prescriber.north" not in other_location.content
    assert world.client("nurse.north").post(url).status_code == 403
    assert world.client("therapist.north").post(url).status_code == 403
    assert Client().post(url)["Location"].startswith("/login/")
    assert world.client("admin.north").get(url).status_code == 405
    assert world.client("admin.north").post("/mfa/staff/999999/reset/").status_code == 404
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 4
    assert TOTPDevice.objects.filter(user=target).exists()
    assert not AuditEvent.objects.filter(action=Action.MFA_RESET).exists()


def test_an_admin_cannot_reset_their_own_second_factor(world: World) -> None:
    admin = world.user("admin.north")
    client = signed_in_with_code(world, "admin.north")
    assert client.post(f"/mfa/staff/{admin.pk}/reset/").status_code == 403
    assert TOTPDevice.objects.filter(user=admin).exists()


def test_the_staff_page_shows_only_the_admins_locations(world: World, settings: Settings) -> None:
    settings.KETACLINIC_MFA_REQUIRED_ROLES = frozenset()  # the page itself is what is tested here
    page = world.client("admin.north").get("/mfa/staff/")
    assert page.status_code == 200
    names = {row.user.username for row in page.context["rows"]}
    assert "nurse.north" in names and "prescriber.north" in names
    assert not any(name.endswith(".south") for name in names)
    assert world.client("nurse.north").get("/mfa/staff/").status_code == 403
    assert Client().get("/mfa/staff/")["Location"].startswith("/login/")


def test_the_reset_command_is_audited(world: World) -> None:
    target = world.user("prescriber.north")
    enrol(target)
    call_command("reset_mfa", "prescriber.north")
    assert not TOTPDevice.objects.filter(user=target).exists()
    event = AuditEvent.objects.get(action=Action.MFA_RESET)
    assert event.via == "cli" and event.actor is None and event.object_id == str(target.pk)
    with pytest.raises(CommandError):
        call_command("reset_mfa", "nobody.here")
