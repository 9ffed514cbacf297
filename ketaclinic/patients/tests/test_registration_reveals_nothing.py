"""A registration never reveals a patient of a location the user cannot see: not by a refusal, not by a
possible-duplicate list, not by the words of an answer. The MRN is assigned (network-unique); an external
MRN is unique per location and checked only at the location being registered to, after the user's right to
register there."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ketaclinic.patients.models import Patient

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World


def south_twin(world: World) -> tuple[Patient, dict[str, Any]]:
    """A south patient, and a north registration with their name, date of birth and external MRN."""
    south = world.patient("south")
    assert south.external_mrn
    body = {
        "location": "north",
        "given_name": south.given_name,
        "family_name": south.family_name,
        "date_of_birth": south.date_of_birth.isoformat(),
        "sex": south.sex,
        "external_mrn": south.external_mrn.lower(),
    }
    return south, body


def assert_reveals_nothing_of(south: Patient, response: TestResponse) -> None:
    text = response.content.decode()
    for secret in (str(south.pk), south.mrn, "south", "South"):
        assert secret not in text, secret


def api_post(world: World, body: dict[str, Any], who: str = "frontdesk.north") -> TestResponse:
    return world.api(who).post("/api/v1/patients", json.dumps(body), content_type="application/json")


def test_a_south_patients_identifiers_register_at_north_as_a_new_patient(world: World) -> None:
    south, body = south_twin(world)
    response = api_post(world, body)
    assert response.status_code == 201, response.content
    assert response.json()["mrn"] != south.mrn
    assert_reveals_nothing_of(south, response)
    page = world.client("frontdesk.north").post(
        "/patients/new/", {**body, "given_name": f"{south.given_name}x", "external_mrn": "elsewhere-1"}
    )
    assert page.status_code == 302


def test_registering_where_one_may_not_says_only_that(world: World) -> None:
    """The right to register at a location is checked before its external MRNs: a taken one and a free one
    get the same answer, so the refusal says nothing about south's patients."""
    south, body = south_twin(world)
    taken = api_post(world, {**body, "location": "south"})
    free = api_post(world, {**body, "location": "south", "external_mrn": "never-used-1"})
    assert taken.status_code == free.status_code == 422
    assert taken.json() == free.json()
    assert list(taken.json()["errors"]) == ["location"]
    assert south.pk.hex not in taken.content.decode() and south.mrn not in taken.content.decode()
    page = world.client("frontdesk.north").post("/patients/new/", {**body, "location": "south"})
    assert page.status_code == 422
    assert "already used" not in page.content.decode()


def test_a_typed_mrn_is_refused_without_a_word_about_whose_it_is(world: World) -> None:
    south, body = south_twin(world)
    response = api_post(world, {**body, "external_mrn": "", "mrn": south.mrn})
    assert response.status_code == 422
    assert response.json()["errors"] == {"mrn": "this field is not allowed here"}
    assert_reveals_nothing_of(south, response)


def test_an_update_may_take_an_external_mrn_used_at_another_location(world: World) -> None:
    south, _ = south_twin(world)
    north = world.patient("north", 1)
    response = world.api("frontdesk.north").patch(
        f"/api/v1/patients/{north.pk}",
        json.dumps({"external_mrn": south.external_mrn}),
        content_type="application/json",
        headers={"If-Match": f'"{north.version}"'},
    )
    assert response.status_code == 200, response.content
    assert_reveals_nothing_of(south, response)
