"""What the Staff pages do: disable an account, revoke roles and tokens, grant roles, and the second admin
that a self-granted role reading PHI needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from ketaclinic.accounts import actions
from ketaclinic.accounts.models import ApiToken, Membership, RequestStatus, RoleRequest, User
from ketaclinic.accounts.permissions import Role
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.demo.data import PASSWORD
from ketaclinic.staff.tests.conftest import SECOND_ADMIN

if TYPE_CHECKING:
    from conftest import World
    from ketaclinic.staff.tests.conftest import Targets


def _signed_in(username: str, password: str = PASSWORD) -> Client:
    """A real sign-in through the login page, so the session is a row in the session table."""
    client = Client()
    assert client.post("/login/", {"username": username, "password": password}).status_code == 302
    return client


def _bearer(token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_disabling_ends_the_accounts_sessions_and_tokens_at_once(world: World, targets: Targets) -> None:
    nurse = _signed_in("nurse.north")
    api = _bearer(world.token("nurse.north"))
    assert nurse.get("/patients/").status_code == 200 and api.get("/api/v1/patients").status_code == 200
    session_key = nurse.session.session_key
    admin = world.client("admin.north")

    confirm = admin.get(f"/staff/{targets.member.pk}/disable/")
    assert confirm.status_code == 200 and b"2 working API tokens are revoked" in confirm.content
    response = admin.post(f"/staff/{targets.member.pk}/disable/")
    assert response.status_code == 302 and response["Location"] == f"/staff/{targets.member.pk}/"

    assert not Session.objects.filter(session_key=session_key).exists()
    after = nurse.get("/patients/")
    assert after.status_code == 302 and after["Location"].startswith("/login/")
    assert api.get("/api/v1/patients").status_code == 401
    assert not ApiToken.objects.filter(user=targets.member, revoked_at__isnull=True).exists()
    event = AuditEvent.objects.get(action=Action.STAFF_DISABLE)
    assert event.actor == world.user("admin.north") and event.object_id == str(targets.member.pk)
    page = admin.get(f"/staff/{targets.member.pk}/").content.decode()
    assert "1 session(s) ended, 2 API token(s) revoked" in page and "disabled" in page


def test_other_peoples_sessions_survive_a_disable(world: World, targets: Targets) -> None:
    therapist = _signed_in("therapist.north")
    world.client("admin.north").post(f"/staff/{targets.member.pk}/disable/")
    assert therapist.get("/patients/").status_code == 200


def test_an_admin_cannot_disable_themselves_or_an_account_working_elsewhere(
    world: World, targets: Targets
) -> None:
    admin = world.client("admin.north")
    me = world.user("admin.north")
    assert admin.post(f"/staff/{me.pk}/disable/").status_code == 403
    actions.do_grant_role(targets.member, targets.south, Role.NURSE)
    page = admin.get(f"/staff/{targets.member.pk}/").content.decode()
    assert "cannot be disabled here" in page and "South" not in page  # says there is another, not which
    refused = admin.post(f"/staff/{targets.member.pk}/disable/")
    assert refused.status_code == 403 and b"locations you do not administer" in refused.content
    assert world.client("admin.south").post(f"/staff/{targets.member.pk}/disable/").status_code == 403
    assert User.objects.filter(is_active=False).count() == 0
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED, actor=me).count() == 2


def test_revoking_a_role_takes_it_away_at_once(world: World, targets: Targets) -> None:
    nurse = world.client("nurse.north")
    assert nurse.get("/patients/").status_code == 200
    response = world.client("admin.north").post(f"/staff/roles/{targets.membership.pk}/revoke/")
    assert response.status_code == 302
    assert nurse.get("/patients/").status_code == 403
    event = AuditEvent.objects.get(action=Action.ROLE_REVOKE)
    assert event.actor == world.user("admin.north") and event.location_id == targets.north.pk


def test_the_member_page_lists_tokens_with_name_dates_and_status(world: World, targets: Targets) -> None:
    with override_settings(KETACLINIC_API_TOKEN_DAYS=0):  # expires as it is made
        actions.do_create_api_token(targets.member, name="trial import")
    revoked, _ = actions.do_create_api_token(targets.member, name="old laptop script")
    actions.do_revoke_api_token(revoked)
    page = world.client("admin.north").get(f"/staff/{targets.member.pk}/")
    tokens = [(token.name, status) for token, status in page.context["tokens"]]
    assert tokens == [
        ("trial import", "expired"),
        ("infusion pump bridge", "active"),
        ("old laptop script", "revoked"),
    ]
    body = page.content.decode()
    assert targets.token.prefix in body and targets.token.expires_at.date().isoformat() in body
    assert "Revoke all working tokens" in body


def test_revoking_one_token_or_all_of_them(world: World, targets: Targets) -> None:
    second = world.token("nurse.north")
    admin = world.client("admin.north")
    assert admin.post(f"/staff/tokens/{targets.token.pk}/revoke/").status_code == 302
    assert ApiToken.objects.get(pk=targets.token.pk).revoked_at is not None
    assert _bearer(second).get("/api/v1/patients").status_code == 200
    again = admin.post(f"/staff/tokens/{targets.token.pk}/revoke/")  # already revoked: said, not a 500
    assert again.status_code == 302 and b"already revoked" in admin.get(again["Location"]).content
    assert admin.post(f"/staff/{targets.member.pk}/tokens/revoke/").status_code == 302
    assert _bearer(second).get("/api/v1/patients").status_code == 401
    assert AuditEvent.objects.filter(action=Action.TOKEN_REVOKE_ALL, actor__username="admin.north").exists()


def test_granting_a_role_to_staff_of_the_admins_location(world: World, targets: Targets) -> None:
    admin = world.client("admin.north")
    therapist = world.user("therapist.north")
    form = {"user": str(therapist.pk), "location": str(targets.north.pk), "role": Role.NURSE}
    assert admin.post("/staff/grant/", form).status_code == 302
    granted = Membership.objects.get(user=therapist, role=Role.NURSE)
    assert granted.granted_by == world.user("admin.north") and granted.approved_by is None
    assert (
        world.client("therapist.north")
        .post(f"/patients/{world.patient('north').pk}/conditions/", {"code": "hypertension"})
        .status_code
        == 302
    )


def test_a_grant_form_with_bad_input_names_each_field(world: World, targets: Targets) -> None:
    response = world.client("admin.north").post(
        "/staff/grant/", {"user": "x", "location": str(targets.south.pk), "role": "superuser"}
    )
    assert response.status_code == 422
    assert response.context["errors"].keys() == {"user", "location", "role"}
    body = response.content.decode()
    assert 'id="e-user"' in body and 'id="e-location"' in body and 'id="e-role"' in body


def test_a_self_granted_phi_role_waits_for_a_second_admin(world: World, targets: Targets) -> None:
    me = world.user("admin.north")
    admin = world.client("admin.north")
    form = {"user": str(me.pk), "location": str(targets.north.pk), "role": Role.PRESCRIBER}
    assert admin.post("/staff/grant/", form).status_code == 302
    assert not Membership.objects.filter(user=me, role=Role.PRESCRIBER).exists()
    assert admin.get("/patients/").status_code == 403
    request = RoleRequest.objects.get(user=me, status=RequestStatus.PENDING)
    assert AuditEvent.objects.get(action=Action.ROLE_REQUEST, object_id=str(request.pk)).actor == me

    listed = admin.get("/staff/").content.decode()
    assert "Your request: another admin of North Clinic decides" in listed
    assert admin.post(f"/staff/requests/{request.pk}/approve/").status_code == 403  # not by oneself
    assert world.client("admin.south").post(f"/staff/requests/{request.pk}/approve/").status_code == 404
    assert not Membership.objects.filter(user=me, role=Role.PRESCRIBER).exists()

    assert world.client(SECOND_ADMIN).post(f"/staff/requests/{request.pk}/approve/").status_code == 302
    granted = Membership.objects.get(user=me, role=Role.PRESCRIBER, location=targets.north)
    assert granted.granted_by == me and granted.approved_by == world.user(SECOND_ADMIN)
    approval = AuditEvent.objects.get(action=Action.ROLE_APPROVE, object_id=str(request.pk))
    assert approval.actor == world.user(SECOND_ADMIN) and approval.location_id == targets.north.pk
    assert admin.get("/patients/").status_code == 200
    member_page = world.client(SECOND_ADMIN).get(f"/staff/{me.pk}/").content.decode()
    assert SECOND_ADMIN in member_page  # the role shows who approved it


def test_a_request_can_be_declined_by_another_admin_or_withdrawn(world: World, targets: Targets) -> None:
    me = world.user("admin.north")
    north = targets.north
    first = actions.do_request_role(north, Role.NURSE, actor=me)
    assert world.client(SECOND_ADMIN).post(f"/staff/requests/{first.pk}/decline/").status_code == 302
    second = actions.do_request_role(north, Role.NURSE, actor=me)
    assert world.client("admin.north").post(f"/staff/requests/{second.pk}/decline/").status_code == 302
    assert RoleRequest.objects.filter(user=me, status=RequestStatus.DECLINED).count() == 2
    assert not Membership.objects.filter(user=me, role=Role.NURSE).exists()
    assert AuditEvent.objects.filter(action=Action.ROLE_DECLINE).count() == 2


def test_a_non_phi_role_for_oneself_needs_no_second_admin_but_only_at_ones_own_locations(
    world: World, targets: Targets
) -> None:
    me = world.user("admin.north")
    form = {"user": str(me.pk), "location": str(targets.south.pk), "role": Role.CLINIC_ADMIN}
    response = world.client("admin.north").post("/staff/grant/", form)
    assert response.status_code == 422 and "location" in response.context["errors"]
    assert not Membership.objects.filter(user=me, location=targets.south).exists()


def test_the_staff_link_is_in_the_navigation_for_admins_only(world: World) -> None:
    assert b'href="/staff/"' in world.client("admin.north").get("/audit/").content
    assert b'href="/staff/"' not in world.client("nurse.north").get("/patients/").content


def test_the_staff_list_shows_roles_here_and_costs_the_same_however_many_staff(
    world: World, targets: Targets
) -> None:
    from django.db import connection

    admin = world.client("admin.north")
    admin.get("/staff/")  # warm the per-process caches (URL resolving, templates)
    with CaptureQueriesContext(connection) as before:
        page = admin.get("/staff/")
    body = page.content.decode()
    assert '<span class="badge">Nurse</span>' in body and "nurse.south" not in body
    network = world.network("admin.north")
    for index in range(8):
        user = actions.do_create_staff(network, f"extra{index}.north", "a-long-enough-pass-phrase")
        actions.do_grant_role(user, targets.north, Role.THERAPIST)
        actions.do_create_api_token(user, name="extra")
    with CaptureQueriesContext(connection) as after:
        assert "extra7.north" in admin.get("/staff/").content.decode()
    # Session, user and grants (every page), then locations, staff, their roles, requests, the form's users.
    assert len(after) == len(before) == 8, [q["sql"] for q in after.captured_queries]


def test_a_new_hire_without_roles_can_be_given_one(world: World, targets: Targets) -> None:
    hire = actions.do_create_staff(world.network("admin.north"), "new.hire", "a-long-enough-pass-phrase")
    admin = world.client("admin.north")
    assert (hire.pk, "new.hire (new.hire)") in admin.get("/staff/").context["grantable"]
    form = {"user": str(hire.pk), "location": str(targets.north.pk), "role": Role.FRONT_DESK}
    assert admin.post("/staff/grant/", form).status_code == 302
    assert Membership.objects.filter(user=hire, role=Role.FRONT_DESK).exists()


def test_an_admin_of_two_locations_sees_where_each_role_is(world: World, targets: Targets) -> None:
    actions.do_grant_role(world.user("admin.north"), targets.south, Role.CLINIC_ADMIN)
    body = world.client("admin.north").get("/staff/").content.decode()
    assert "Nurse · North Clinic" in body and "Nurse · South Clinic" in body
