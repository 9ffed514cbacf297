"""Staff, roles and tokens over time: the rules the actions hold every caller to, token expiry and names,
the commands, and the Django admin site's scoping to the admin's own locations."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import TYPE_CHECKING
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, override_settings
from django.utils import timezone

from ketaclinic.accounts import actions
from ketaclinic.accounts.models import ApiToken, ClinicLocation, Membership, RoleRequest, User
from ketaclinic.accounts.permissions import Role, reads_phi
from ketaclinic.audit.models import Action, AuditEvent, Via
from ketaclinic.demo.data import PASSWORD
from ketaclinic.errors import Forbidden, InvalidInput

if TYPE_CHECKING:
    from conftest import World

PATIENTS = "/api/v1/patients"


def _bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def _location(slug: str) -> ClinicLocation:
    return ClinicLocation.objects.get(slug=slug)


def _second_admin(world: World) -> User:
    user = actions.do_create_staff(world.network("admin.north"), "admin2.north", "a-long-enough-pass-phrase")
    actions.do_grant_role(user, _location("north"), Role.CLINIC_ADMIN)
    return user


# Roles and who may grant them ----------------------------------------------------------------------


def test_the_roles_that_read_phi_are_the_clinical_ones() -> None:
    assert {role for role in Role.values if reads_phi(role)} == {
        Role.PRESCRIBER,
        Role.NURSE,
        Role.THERAPIST,
        Role.FRONT_DESK,
    }


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.NURSE, Role.THERAPIST, Role.FRONT_DESK])
def test_an_admin_cannot_grant_themselves_a_role_that_reads_phi(world: World, role: str) -> None:
    admin = world.user("admin.north")
    with pytest.raises(actions.SecondAdminNeeded):
        actions.do_grant_role(admin, _location("north"), role, actor=admin)
    assert not Membership.objects.filter(user=admin, role=role).exists()


def test_the_self_granted_role_comes_with_a_second_admins_approval(world: World) -> None:
    admin, second = world.user("admin.north"), _second_admin(world)
    request = actions.do_request_role(_location("north"), Role.NURSE, actor=admin)
    assert actions.do_request_role(_location("north"), Role.NURSE, actor=admin) == request  # asked once
    with pytest.raises(Forbidden, match="another admin"):
        actions.do_approve_role_request(request, actor=admin)
    with pytest.raises(Forbidden):
        actions.do_approve_role_request(request, actor=world.user("admin.south"))
    with pytest.raises(Forbidden):
        actions.do_approve_role_request(request, actor=world.user("nurse.north"))
    membership = actions.do_approve_role_request(request, actor=second)
    assert (membership.granted_by, membership.approved_by) == (admin, second)
    with pytest.raises(InvalidInput, match="already been decided"):
        actions.do_approve_role_request(request, actor=second)
    events = AuditEvent.objects.filter(object_type="RoleRequest", object_id=str(request.pk)).order_by("seq")
    assert [(e.action, e.actor) for e in events] == [
        (Action.ROLE_REQUEST, admin),
        (Action.ROLE_APPROVE, second),
    ]


def test_a_request_lapses_when_the_requester_stops_being_an_admin_there(world: World) -> None:
    admin, second = world.user("admin.north"), _second_admin(world)
    request = actions.do_request_role(_location("north"), Role.NURSE, actor=admin)
    actions.do_revoke_role(Membership.objects.get(user=admin, role=Role.CLINIC_ADMIN), actor=second)
    with pytest.raises(InvalidInput, match="no longer administers"):
        actions.do_approve_role_request(request, actor=second)
    assert not Membership.objects.filter(user=admin, role=Role.NURSE).exists()


def test_admins_grant_and_revoke_only_at_locations_they_administer(world: World) -> None:
    north_admin, nurse = world.user("admin.north"), world.user("nurse.north")
    with pytest.raises(Forbidden, match="locations you administer"):
        actions.do_grant_role(nurse, _location("south"), Role.NURSE, actor=north_admin)
    with pytest.raises(Forbidden):
        actions.do_grant_role(
            nurse, _location("north"), Role.PRESCRIBER, actor=world.user("prescriber.north")
        )
    membership = Membership.objects.get(user=nurse, location__slug="north")
    with pytest.raises(Forbidden):
        actions.do_revoke_role(membership, actor=world.user("admin.south"))
    with pytest.raises(Forbidden):
        actions.do_request_role(_location("south"), Role.NURSE, actor=north_admin)
    assert Membership.objects.filter(pk=membership.pk).exists()
    granted = actions.do_grant_role(nurse, _location("north"), Role.PRESCRIBER, actor=north_admin)
    assert granted.granted_by == north_admin and granted.approved_by is None


def test_a_disabled_account_gets_no_new_roles_or_tokens(world: World) -> None:
    nurse = world.user("nurse.north")
    actions.do_disable_staff(nurse)
    with pytest.raises(InvalidInput, match="disabled"):
        actions.do_grant_role(nurse, _location("north"), Role.THERAPIST, actor=world.user("admin.north"))
    with pytest.raises(InvalidInput, match="disabled"):
        actions.do_create_api_token(nurse, name="after")
    with pytest.raises(InvalidInput, match="already disabled"):
        actions.do_disable_staff(nurse)


def test_disabling_declines_the_accounts_waiting_requests(world: World) -> None:
    admin, second = world.user("admin.north"), _second_admin(world)
    request = actions.do_request_role(_location("north"), Role.NURSE, actor=admin)
    actions.do_disable_staff(admin, actor=second)
    request.refresh_from_db()
    assert request.status == "declined" and request.decided_by == second


# Tokens: names, expiry, and what a disabled account keeps ------------------------------------------


@override_settings(KETACLINIC_API_TOKEN_DAYS=90)
def test_a_token_works_until_its_expiry_and_not_after(world: World) -> None:
    token, secret = actions.do_create_api_token(world.user("nurse.north"), name="pharmacy sync")
    made = token.created_at
    assert token.expires_at == pytest.approx(made + dt.timedelta(days=90), abs=dt.timedelta(seconds=5))
    with mock.patch("django.utils.timezone.now", return_value=made + dt.timedelta(days=89)):
        assert _bearer(secret).get(PATIENTS).status_code == 200
    with mock.patch("django.utils.timezone.now", return_value=made + dt.timedelta(days=90, seconds=10)):
        expired = _bearer(secret).get(PATIENTS)
    assert expired.status_code == 401 and expired["Content-Type"].startswith("application/json")


@override_settings(KETACLINIC_API_TOKEN_DAYS=7)
def test_the_expiry_is_the_clinics_policy(world: World) -> None:
    token, _ = actions.do_create_api_token(world.user("nurse.north"), name="one week")
    assert token.expires_at - token.created_at == pytest.approx(
        dt.timedelta(days=7), abs=dt.timedelta(seconds=5)
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "name the token"), ("   ", "name the token"), ("x" * 81, "at most 80"), ("bad\x00name", "letters")],
)
def test_a_token_needs_a_plain_name(world: World, name: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        actions.do_create_api_token(world.user("nurse.north"), name=name)
    assert refused.value.errors.keys() == {"name"}
    assert not ApiToken.objects.exists()


def test_the_token_name_is_kept_trimmed_and_audited_without_the_secret(world: World) -> None:
    token, secret = actions.do_create_api_token(world.user("nurse.north"), name="  lab results import ")
    assert token.name == "lab results import"
    event = AuditEvent.objects.get(action=Action.TOKEN_CREATE)
    assert event.changed_fields == ["expires_at", "name"] and secret not in str(event.__dict__)


def test_a_disabled_users_token_gets_401_and_session_is_deleted(world: World) -> None:
    client = Client()
    client.post("/login/", {"username": "nurse.north", "password": PASSWORD})
    key = client.session.session_key
    secret = world.token("nurse.north")
    done = actions.do_disable_staff(world.user("nurse.north"), actor=world.user("admin.north"))
    assert (done.sessions_ended, done.tokens_revoked) == (1, 1)
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get("/patients/")["Location"].startswith("/login/")
    assert _bearer(secret).get(PATIENTS).status_code == 401


def test_staff_can_revoke_their_own_tokens_but_not_other_locations_tokens(world: World) -> None:
    token, _ = actions.do_create_api_token(world.user("nurse.north"), name="mine")
    with pytest.raises(Forbidden):
        actions.do_revoke_api_token(token, actor=world.user("admin.south"))
    with pytest.raises(Forbidden):
        actions.do_revoke_api_tokens(world.user("nurse.north"), actor=world.user("nurse.south"))
    actions.do_revoke_api_token(token, actor=world.user("nurse.north"))
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


# Commands ------------------------------------------------------------------------------------------


def test_create_api_token_takes_a_name_and_reports_the_expiry(world: World) -> None:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", "nurse.north", "--name", "lab import", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert _bearer(secret).get(PATIENTS).status_code == 200
    assert ApiToken.objects.get().name == "lab import" and "expires" in err.getvalue()
    with pytest.raises(CommandError, match="--name"):
        call_command("create_api_token", "nurse.north")
    with pytest.raises(CommandError, match="name"):
        call_command("create_api_token", "nurse.north", "--name", " ", stdout=out, stderr=err)
    with pytest.raises(CommandError, match="no staff user"):
        call_command("create_api_token", "nobody", "--name", "x", stdout=out, stderr=err)


def test_revoke_api_tokens_revokes_every_token_of_the_user(world: World) -> None:
    first, second, other = world.token("nurse.north"), world.token("nurse.north"), world.token("nurse.south")
    out = StringIO()
    call_command("revoke_api_tokens", "nurse.north", stdout=out)
    assert out.getvalue().strip() == "revoked 2 tokens of nurse.north"
    assert _bearer(first).get(PATIENTS).status_code == 401
    assert _bearer(second).get(PATIENTS).status_code == 401
    assert _bearer(other).get(PATIENTS).status_code == 200
    event = AuditEvent.objects.get(action=Action.TOKEN_REVOKE_ALL)
    assert event.via == Via.CLI and event.actor is None
    with pytest.raises(CommandError, match="no staff user"):
        call_command("revoke_api_tokens", "nobody")


def test_disable_staff_command_ends_sessions_and_tokens(world: World) -> None:
    client = Client()
    client.post("/login/", {"username": "therapist.north", "password": PASSWORD})
    secret = world.token("therapist.north")
    out = StringIO()
    call_command("disable_staff", "therapist.north", stdout=out)
    assert out.getvalue().strip() == "disabled therapist.north: 1 session(s) ended, 1 token(s) revoked"
    assert client.get("/patients/")["Location"].startswith("/login/")
    assert _bearer(secret).get(PATIENTS).status_code == 401
    assert AuditEvent.objects.get(action=Action.STAFF_DISABLE).via == Via.CLI
    with pytest.raises(CommandError, match="already disabled"):
        call_command("disable_staff", "therapist.north")
    with pytest.raises(CommandError, match="no staff user"):
        call_command("disable_staff", "nobody")


# The Django admin site -----------------------------------------------------------------------------


def test_the_admin_site_shows_a_clinic_admin_only_their_locations_and_staff(world: World) -> None:
    admin = world.client("admin.north")
    users = admin.get("/admin/accounts/user/").content.decode()
    assert "nurse.north" in users and "nurse.south" not in users and "admin.south" not in users
    locations = admin.get("/admin/accounts/cliniclocation/").content.decode()
    assert "North Clinic" in locations and "South Clinic" not in locations
    roles = admin.get("/admin/accounts/membership/").content.decode()
    assert "North Clinic" in roles and "South Clinic" not in roles  # rows and the location filter
    south_nurse = world.user("nurse.south")
    assert admin.get(f"/admin/accounts/user/{south_nurse.pk}/change/").status_code == 302  # not found
    assert admin.get(f"/admin/accounts/cliniclocation/{_location('south').pk}/change/").status_code == 302


def test_the_admin_sites_choices_are_the_admins_locations_and_staff(world: World) -> None:
    form = world.client("admin.north").get("/admin/accounts/membership/add/").context["adminform"].form
    assert set(form.fields["location"].queryset) == {_location("north")}
    users = {u.username for u in form.fields["user"].queryset}
    assert "nurse.north" in users and not any(name.endswith(".south") for name in users)


def test_a_staff_member_working_at_both_shows_only_the_admins_roles(world: World) -> None:
    nurse = world.user("nurse.north")
    actions.do_grant_role(nurse, _location("south"), Role.NURSE)
    page = world.client("admin.north").get(f"/admin/accounts/user/{nurse.pk}/change/").content.decode()
    assert "North Clinic" in page and "South Clinic" not in page


def test_a_superuser_sees_every_location_and_all_staff(world: World) -> None:
    root = User.objects.create_superuser("root", password="a-long-enough-pass-phrase")  # the operator
    client = Client()
    client.force_login(root)
    users = client.get("/admin/accounts/user/").content.decode()
    assert "nurse.north" in users and "nurse.south" in users
    locations = client.get("/admin/accounts/cliniclocation/").content.decode()
    assert "North Clinic" in locations and "South Clinic" in locations


def test_the_admin_site_refuses_a_self_granted_phi_role_on_the_form(world: World) -> None:
    admin = world.user("admin.north")
    response = world.client("admin.north").post(
        "/admin/accounts/membership/add/",
        {"user": admin.pk, "location": _location("north").pk, "role": "nurse"},
    )
    assert response.status_code == 200 and b"needs a second admin" in response.content
    assert not Membership.objects.filter(user=admin, role="nurse").exists()


def test_the_admin_site_refuses_other_locations_and_other_roles(world: World) -> None:
    nurse = world.user("nurse.north")
    response = world.client("admin.north").post(
        "/admin/accounts/membership/add/",
        {"user": nurse.pk, "location": _location("south").pk, "role": "nurse"},
    )
    assert response.status_code == 200 and "location" in response.context["adminform"].form.errors
    assert not Membership.objects.filter(user=nurse, location__slug="south").exists()
    assert world.client("nurse.north").get("/admin/accounts/membership/add/").status_code == 302
    assert Client().get("/admin/accounts/membership/add/").status_code == 302


# The migration -------------------------------------------------------------------------------------


# Only the migration under test is taken back and run again, from the state of the few migrations it stands
# on (accounts, auth, contenttypes): the whole project migrated back to it and forwards again took about
# 50 s of CPU. No later migration touches the tables it changes (checked first), so running it again leaves
# the schema as it was. SQLite changes a schema only outside a transaction, so there the test commits and
# the tables are emptied after it; PostgreSQL changes schemas inside the test's transaction, which is rolled
# back (emptying the tables would TRUNCATE the audit table, which its trigger refuses).
ON_SQLITE = str(settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3")
BEFORE, TOKENS = ("accounts", "0002_signin"), ("accounts", "0003_staff_tokens")
TOKEN_MODELS = {"apitoken", "membership", "rolerequest"}


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


@pytest.mark.django_db(transaction=ON_SQLITE)
@override_settings(KETACLINIC_API_TOKEN_DAYS=30)
def test_tokens_made_before_the_migration_get_a_name_and_an_expiry() -> None:
    executor = MigrationExecutor(connection)
    migration = executor.loader.get_migration(*TOKENS)
    later = [
        key
        for key, other in executor.loader.disk_migrations.items()
        if key[0] != "accounts" or key > TOKENS
        for operation in other.operations
        if getattr(operation, "model_name_lower", getattr(operation, "name_lower", None)) in TOKEN_MODELS
    ]
    assert not later, f"{later} change the token tables: migrate the project back to {TOKENS} instead"
    old = executor.loader.project_state(BEFORE)
    executor.unapply_migration(old, migration)
    assert not {"name", "expires_at"} & _columns("accounts_apitoken")
    user = old.apps.get_model("accounts", "User").objects.create(username="legacy", password="!")
    old.apps.get_model("accounts", "ApiToken").objects.create(user=user, prefix="kc_abcdef", digest="d" * 64)
    if connection.vendor == "postgresql":  # as if made in an earlier transaction: check the foreign key now
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor.apply_migration(executor.loader.project_state(BEFORE), migration)
    token = ApiToken.objects.get(digest="d" * 64)
    assert token.name == "unnamed token"
    expected = timezone.now() + dt.timedelta(days=30)
    assert abs(token.expires_at - expected) < dt.timedelta(minutes=5)
    assert RoleRequest.objects.count() == 0
