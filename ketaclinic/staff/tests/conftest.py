"""The Staff pages' fixture: the demo network, a second admin at north, and north objects to act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from ketaclinic.accounts import actions
from ketaclinic.accounts.models import ApiToken, ClinicLocation, Membership, RoleRequest, User
from ketaclinic.accounts.permissions import Role

if TYPE_CHECKING:
    from conftest import World

SECOND_ADMIN = "admin2.north"


@dataclass(frozen=True)
class Targets:
    """North objects: nurse.north (with a role and a token) and a request of the second north admin."""

    member: User
    membership: Membership
    token: ApiToken
    request: RoleRequest
    north: ClinicLocation
    south: ClinicLocation


def second_admin(world: World) -> User:
    north = ClinicLocation.objects.get(slug="north")
    user = actions.do_create_staff(world.network("admin.north"), SECOND_ADMIN, "a-long-enough-pass-phrase")
    actions.do_grant_role(user, north, Role.CLINIC_ADMIN)
    return user


@pytest.fixture
def targets(world: World) -> Targets:
    north, south = ClinicLocation.objects.get(slug="north"), ClinicLocation.objects.get(slug="south")
    member = world.user("nurse.north")
    token, _ = actions.do_create_api_token(member, name="infusion pump bridge")
    request = actions.do_request_role(north, Role.PRESCRIBER, actor=second_admin(world))
    return Targets(
        member=member,
        membership=Membership.objects.get(user=member, location=north),
        token=token,
        request=request,
        north=north,
        south=south,
    )
