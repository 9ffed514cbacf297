"""Staff accounts, roles and the Django admin, which only clinic admins reach."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ketaclinic.accounts import actions
from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation, Membership
from ketaclinic.accounts.permissions import ROLE_PERMISSIONS, Perm, Role
from ketaclinic.audit.models import AuditEvent
from ketaclinic.errors import InvalidInput

if TYPE_CHECKING:
    from conftest import World


def test_every_role_has_a_reviewed_permission_set() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role.values)
    assert Perm.AUDIT_READ in ROLE_PERMISSIONS[Role.CLINIC_ADMIN]
    assert Perm.PATIENT_WRITE not in ROLE_PERMISSIONS[Role.THERAPIST]


def test_clinic_admin_reaches_the_admin_and_others_do_not(world: World) -> None:
    assert world.client("admin.north").get("/admin/").status_code == 200
    assert world.client("admin.north").get("/admin/accounts/membership/").status_code == 200
    assert world.client("nurse.north").get("/admin/").status_code == 302
    assert world.client(None).get("/admin/").status_code == 302


def test_admin_lists_only_staff_of_their_locations(world: World) -> None:
    page = world.client("admin.north").get("/admin/accounts/user/").content.decode()
    assert "nurse.north" in page and "nurse.south" not in page


def test_granting_a_role_in_the_admin_is_an_audited_privilege_change(world: World) -> None:
    north = ClinicLocation.objects.get(slug="north")
    therapist = world.user("therapist.north")
    response = world.client("admin.north").post(
        "/admin/accounts/membership/add/", {"user": therapist.pk, "location": north.pk, "role": "prescriber"}
    )
    assert response.status_code == 302
    assert Membership.objects.filter(user=therapist, role="prescriber").exists()
    event = AuditEvent.objects.get(
        action="staff.role_grant", object_id__isnull=False, actor__username="admin.north"
    )
    assert event.location_id == north.pk


def test_roles_add_up_and_revoking_takes_effect(world: World) -> None:
    user = world.user("therapist.north")
    north = ClinicLocation.objects.get(slug="north")
    assert not can(user, Perm.PATIENT_WRITE)
    membership = actions.do_grant_role(user, north, Role.NURSE)
    assert can(user, Perm.PATIENT_WRITE, north.pk)
    actions.do_revoke_role(membership)
    assert not can(user, Perm.PATIENT_WRITE, north.pk)
    assert AuditEvent.objects.filter(action="staff.role_revoke").count() == 1


def test_usernames_are_never_reused_and_passwords_must_be_strong(world: World) -> None:
    network = world.network("nurse.north")
    with pytest.raises(InvalidInput, match="username"):
        actions.do_create_staff(network, "NURSE.NORTH", "a-long-enough-pass-phrase")
    with pytest.raises(InvalidInput, match="password"):
        actions.do_create_staff(network, "new.person", "short")
    with pytest.raises(InvalidInput, match="password"):
        actions.do_create_staff(network, "new.person", "123456789012")


def test_a_role_at_another_networks_location_is_refused(world: World) -> None:
    other = actions.do_create_network("Elsewhere", "elsewhere")
    location = actions.do_create_location(other, "Far", "far")
    with pytest.raises(InvalidInput, match="location"):
        actions.do_grant_role(world.user("nurse.north"), location, Role.NURSE)
