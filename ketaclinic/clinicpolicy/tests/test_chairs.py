"""Chairs and rooms of a location: listed for its staff, added, renamed and retired by its clinic admins;
never deleted; names unique at the location; stale changes refused."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.clinicpolicy.actions import do_add_chair, do_rename_chair, do_retire_chair
from ketaclinic.clinicpolicy.inputs import ChairIn
from ketaclinic.clinicpolicy.models import Chair, ChairKind
from ketaclinic.errors import InvalidInput, VersionConflict

if TYPE_CHECKING:
    from conftest import World


def _loc(slug: str) -> ClinicLocation:
    return ClinicLocation.objects.get(slug=slug)


def test_the_demo_has_north_six_chairs_two_rooms_and_south_four_chairs_one_room(world: World) -> None:
    def layout(slug: str) -> tuple[int, int]:
        chairs = Chair.objects.filter(location__slug=slug, active=True)
        return chairs.filter(kind=ChairKind.CHAIR).count(), chairs.filter(kind=ChairKind.ROOM).count()

    assert layout("north") == (6, 2) and layout("south") == (4, 1)


def test_add_rename_retire_each_audited_and_a_retired_chair_stays(world: World) -> None:
    north, admin = _loc("north"), world.user("admin.north")
    chair = do_add_chair(north, ChairIn(name="Window chair"), actor=admin)
    chair = do_rename_chair(chair, "Garden chair", actor=admin, expected_version=1)
    chair = do_retire_chair(chair, actor=admin, expected_version=2)
    assert Chair.objects.get(pk=chair.pk).active is False and chair.name == "Garden chair"
    events = AuditEvent.objects.filter(object_type="Chair", object_id=str(chair.pk)).order_by("seq")
    assert [e.action for e in events] == [Action.CHAIR_ADD, Action.CHAIR_RENAME, Action.CHAIR_RETIRE]
    assert all(e.location_id == north.pk and e.actor_id == admin.pk for e in events)
    with pytest.raises(InvalidInput):
        do_retire_chair(chair, actor=admin, expected_version=3)


def test_names_are_unique_at_a_location_ignoring_case_but_not_across_locations(world: World) -> None:
    admin = world.user("admin.north")
    with pytest.raises(InvalidInput) as refused:
        do_add_chair(_loc("north"), ChairIn(name="chair 1"), actor=admin)
    assert "name" in refused.value.errors
    chair = Chair.objects.get(location__slug="north", name="Chair 2")
    with pytest.raises(InvalidInput):
        do_rename_chair(chair, "CHAIR 1", actor=admin, expected_version=chair.version)
    do_add_chair(_loc("south"), ChairIn(name="Chair 7"), actor=world.user("admin.south"))
    do_add_chair(_loc("north"), ChairIn(name="Chair 7"), actor=admin)


def test_a_stale_rename_is_refused(world: World) -> None:
    admin = world.user("admin.north")
    chair = Chair.objects.get(location__slug="north", name="Chair 3")
    do_rename_chair(chair, "Chair 3a", actor=admin, expected_version=1)
    with pytest.raises(VersionConflict):
        do_rename_chair(chair, "Chair 3b", actor=admin, expected_version=1)
    assert Chair.objects.get(pk=chair.pk).name == "Chair 3a"


def _api(location: ClinicLocation) -> str:
    return f"/api/v1/locations/{location.pk}/chairs"


def test_api_lists_adds_renames_and_retires(world: World) -> None:
    north, api = _loc("north"), world.api("admin.north")
    listed = world.api("therapist.north").get(_api(north)).json()
    assert listed["count"] == 8 and {c["kind"] for c in listed["items"]} == {"chair", "room"}
    response = api.post(_api(north), data=json.dumps({"name": "Chair 9"}), content_type="application/json")
    assert response.status_code == 201
    made = response.json()
    assert response["Location"] == f"{_api(north)}/{made['id']}"
    assert api.get(response["Location"]).json() == made
    url = response["Location"]

    def patch(body: dict[str, Any], etag: str | None) -> Any:
        headers = {"If-Match": etag} if etag else {}
        return api.patch(url, data=json.dumps(body), content_type="application/json", headers=headers)

    assert patch({"name": "Chair 10"}, None).status_code == 428
    assert patch({"name": "Chair 10"}, '"1"').json()["name"] == "Chair 10"
    assert patch({"active": False}, '"1"').status_code == 412  # stale: renamed since
    retired = patch({"active": False}, '"2"')
    assert retired.status_code == 200 and retired.json()["active"] is False
    assert patch({"active": True}, '"3"').status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": "a\u0000"}, "name"),
        ({"name": "Chair 1"}, "name"),
        ({"name": "B", "kind": "sofa"}, "kind"),
    ],
)
def test_api_refuses_a_bad_chair_naming_the_field(world: World, body: dict[str, Any], field: str) -> None:
    north = _loc("north")
    before = Chair.objects.count()
    response = world.api("admin.north").post(
        _api(north), data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422 and field in response.json()["errors"], response.content
    assert Chair.objects.count() == before


def test_another_locations_chair_under_this_location_is_not_found(world: World) -> None:
    north, south_chair = _loc("north"), Chair.objects.filter(location__slug="south").first()
    assert south_chair is not None
    url = f"{_api(north)}/{south_chair.pk}"
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert world.api("admin.north").get(url).status_code == 404
    body = json.dumps({"name": "Mine now"})
    patched = world.api("admin.north").patch(
        url, data=body, content_type="application/json", headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 404
    page = world.client("admin.north").post(
        f"/clinic/{north.pk}/chairs/{south_chair.pk}/", {"name": "Mine", "version": "1"}
    )
    assert page.status_code == 404
    assert Chair.objects.get(pk=south_chair.pk).name == south_chair.name
    denials = AuditEvent.objects.filter(seq__gt=last, outcome=Outcome.DENIED).count()
    assert denials == 3


def test_a_retried_add_with_the_same_idempotency_key_adds_one_chair(world: World) -> None:
    from django.test import Client

    north = _loc("north")
    client = Client(
        headers={"Authorization": f"Bearer {world.token('admin.north')}", "Idempotency-Key": "chair-9-once"}
    )
    body = json.dumps({"name": "Chair 9", "kind": "chair"})
    first = client.post(_api(north), data=body, content_type="application/json")
    again = client.post(_api(north), data=body, content_type="application/json")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Chair.objects.filter(location=north, name="Chair 9").count() == 1


def test_pages_add_rename_retire_and_show_errors(world: World) -> None:
    north, client = _loc("north"), world.client("admin.north")
    base = f"/clinic/{north.pk}/chairs/"
    assert client.post(base, {"name": "Chair 11", "kind": "chair"}).status_code == 302
    refused = client.post(base, {"name": "chair 11", "kind": "chair"})
    assert refused.status_code == 422 and 'id="e-name"' in refused.content.decode()
    chair = Chair.objects.get(location=north, name="Chair 11")
    assert client.post(f"{base}{chair.pk}/", {"name": "Chair 12", "version": "1"}).status_code == 302
    stale = client.post(f"{base}{chair.pk}/", {"retire": "1", "version": "1"})
    assert stale.status_code == 409 and "another admin changed" in stale.content.decode()
    assert client.post(f"{base}{chair.pk}/", {"retire": "1", "version": "2"}).status_code == 302
    page = client.get(base).content.decode()
    assert "Chair 12" in page and "retired" in page
    nurse_page = world.client("nurse.north").get(base).content.decode()
    assert "Chair 12" in nurse_page and "Add a chair or room" not in nurse_page
