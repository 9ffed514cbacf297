"""Every Staff page against every persona: the north admin may, everyone else may not.

The objects acted on live at north. The south admin gets 404 for them (they do not exist for a south
admin), a role without staff.manage gets 403, anonymous users the login page. Every denial leaves an audit
row and changes nothing; a new Staff page fails test_every_staff_page_is_in_the_matrix until it is listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from ketaclinic.accounts.models import ApiToken, Membership, RequestStatus, RoleRequest, User
from ketaclinic.audit.models import AuditEvent, Outcome

if TYPE_CHECKING:
    from _pytest.mark import ParameterSet
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World
    from ketaclinic.staff.tests.conftest import Targets

ROLES = ("admin", "prescriber", "nurse", "therapist", "frontdesk")

# (name, method, url template, body, scoped to north's objects)
Route = tuple[str, str, str, dict[str, str] | None, bool]
ROUTES: list[Route] = [
    ("staff list", "get", "/staff/", None, False),
    (
        "grant role",
        "post",
        "/staff/grant/",
        {"user": "{member}", "location": "{north}", "role": "therapist"},
        True,
    ),
    ("approve request", "post", "/staff/requests/{request}/approve/", None, True),
    ("decline request", "post", "/staff/requests/{request}/decline/", None, True),
    ("revoke role", "post", "/staff/roles/{membership}/revoke/", None, True),
    ("revoke token", "post", "/staff/tokens/{token}/revoke/", None, True),
    ("staff member", "get", "/staff/{member}/", None, True),
    ("disable form", "get", "/staff/{member}/disable/", None, True),
    ("disable", "post", "/staff/{member}/disable/", None, True),
    ("revoke all tokens", "post", "/staff/{member}/tokens/revoke/", None, True),
]


def _ids(targets: Targets) -> dict[str, int]:
    return {
        "member": targets.member.pk,
        "membership": targets.membership.pk,
        "token": targets.token.pk,
        "request": targets.request.pk,
        "north": targets.north.pk,
    }


def _call(world: World, who: str | None, route: Route, targets: Targets) -> TestResponse:
    _, method, url, body, _ = route
    ids = _ids(targets)
    data = {key: value.format(**ids) for key, value in (body or {}).items()}
    response: TestResponse = getattr(world.client(who), method)(url.format(**ids), data)
    return response


def _unchanged(targets: Targets) -> bool:
    member = User.objects.get(pk=targets.member.pk)
    return (
        member.is_active
        and Membership.objects.filter(pk=targets.membership.pk).exists()
        and not Membership.objects.filter(user=member, role="therapist").exists()
        and ApiToken.objects.get(pk=targets.token.pk).revoked_at is None
        and RoleRequest.objects.get(pk=targets.request.pk).status == RequestStatus.PENDING
    )


def _cases() -> Iterator[ParameterSet]:
    for route in ROUTES:
        for role in ROLES:
            for location in ("north", "south"):
                yield pytest.param(route, f"{role}.{location}", id=f"{route[0]}-{role}.{location}")
        yield pytest.param(route, None, id=f"{route[0]}-anonymous")


@pytest.mark.parametrize(("route", "who"), list(_cases()))
def test_access(world: World, targets: Targets, route: Route, who: str | None) -> None:
    name, _, _, _, scoped = route
    denials_before = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    response = _call(world, who, route, targets)
    status = response.status_code
    if who is None:
        assert status == 302 and response["Location"].startswith("/login/"), name
        assert _unchanged(targets)
        return
    role, location = who.split(".")
    if role == "admin" and location == "north":
        assert status in (200, 302), (name, status, response.content[:300])
        return
    if role != "admin":
        assert status == 403, (name, who, status)
    elif not scoped:
        assert status == 200, (name, who, status)  # the south admin's own list
        assert targets.member.username not in response.content.decode()
        return
    elif name == "grant role":
        # North's staff and location are not among the south admin's choices: refused, naming both fields.
        assert status == 422 and response.context["errors"].keys() == {"user", "location"}, status
        assert _unchanged(targets)
        return
    else:
        assert status == 404, (name, who, status)
    assert targets.member.username.encode() not in response.content
    assert targets.token.name.encode() not in response.content
    assert _unchanged(targets)
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials_before + 1


def test_every_staff_page_is_in_the_matrix() -> None:
    """A new Staff page fails here until it has allowed and denied cases above."""

    def names(patterns: list[URLPattern | URLResolver], inside: bool = False) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from names(p.url_patterns, inside or p.namespace == "staff")
            elif inside:
                assert p.name is not None, p
                yield f"staff:{p.name}"

    served = set(names(get_resolver().url_patterns))
    covered = {resolve(r[2].format(member=1, membership=1, token=1, request=1)).view_name for r in ROUTES}
    assert served and served - covered == set()
