"""Patient search through the token index: names in any order, word prefixes, accents folded, MRN,
external MRN and date of birth; never another location's patients, never a registration entered in error.
Runs on SQLite and PostgreSQL alike (`make test-postgres`)."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pytest

from ketaclinic.accounts.actions import do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.patients import actions, inputs, search
from ketaclinic.patients.models import Patient, PatientNameToken

if TYPE_CHECKING:
    from conftest import World


def register(world: World, given: str, family: str, *, location: str = "north", **more: Any) -> Patient:
    data = {
        "location": location,
        "given_name": given,
        "family_name": family,
        "date_of_birth": dt.date(1971, 2, 3),
        "sex": "male",
        "confirm_duplicate": True,
        **more,
    }
    return actions.do_register_patient(
        inputs.PatientCreate.model_validate(data), actor=world.user(f"frontdesk.{location}")
    )


def found_by_api(world: World, query: str, who: str = "nurse.north") -> list[str]:
    response = world.api(who).post(
        "/api/v1/patients/search", json.dumps({"q": query}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def found_on_page(world: World, query: str, who: str = "nurse.north") -> str:
    response = world.client(who).post("/patients/", {"q": query})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def jose(world: World) -> Patient:
    return register(world, "José", "García Márquez", external_mrn="Ref-77/A")


@pytest.mark.parametrize(
    "query",
    [
        "jose",
        "José",
        "JOSE",
        "garcia",
        "García",
        "marq",
        "jose garcia",
        "garcia jose",
        "gar jo",
        "márquez, josé",
    ],
)
def test_names_in_any_order_by_word_prefix_with_accents_folded(
    world: World, jose: Patient, query: str
) -> None:
    assert str(jose.pk) in found_by_api(world, query)
    assert f"/patients/{jose.pk}/" in found_on_page(world, query)


@pytest.mark.parametrize("query", ["josex", "garcia maria", "arcia", "ose"])
def test_every_word_must_start_a_word_of_the_patient(world: World, jose: Patient, query: str) -> None:
    assert str(jose.pk) not in found_by_api(world, query)


def test_hyphens_and_apostrophes(world: World) -> None:
    patient = register(world, "Mary-Jane", "O'Brien")
    for query in ("mary", "jane", "maryjane", "mary-j", "obrien", "o'brien", "brien"):
        assert str(patient.pk) in found_by_api(world, query), query


def test_mrn_external_mrn_and_birth_date(world: World, jose: Patient) -> None:
    number = jose.mrn.removeprefix("KC-")
    for query in (jose.mrn, jose.mrn.lower(), number, "ref-77/a", " REF-77/A ", "1971-02-03", "02/03/1971"):
        assert str(jose.pk) in found_by_api(world, query), query
    assert str(jose.pk) not in found_by_api(world, "1971-02-04")
    assert str(jose.pk) in found_by_api(world, "jose 1971-02-03")
    assert str(jose.pk) not in found_by_api(world, "jose 1980-01-01")


def test_another_locations_patients_are_never_found(world: World) -> None:
    south = register(world, "Zebedee", "Quartermain", location="south")
    for query in ("zebedee", south.mrn, "quartermain zeb"):
        assert found_by_api(world, query) == []
        assert f"/patients/{south.pk}/" not in found_on_page(world, query)
        assert str(south.pk) in found_by_api(world, query, who="nurse.south")


def test_a_registration_entered_in_error_is_hidden_from_search_and_list(world: World, jose: Patient) -> None:
    actions.do_mark_patient_entered_in_error(
        jose, inputs.EnteredInError(reason="registered twice"), actor=world.user("frontdesk.north")
    )
    assert found_by_api(world, "jose") == []
    assert found_by_api(world, jose.mrn) == []
    assert f"/patients/{jose.pk}/" not in world.client("nurse.north").get("/patients/").content.decode()
    listed = world.api("nurse.north").get("/api/v1/patients?limit=100").json()["items"]
    assert str(jose.pk) not in [item["id"] for item in listed]
    assert not PatientNameToken.objects.filter(patient=jose).exists()


def test_the_index_follows_changes_of_name_and_birth_date(world: World, jose: Patient) -> None:
    actions.do_update_patient(
        jose,
        inputs.PatientUpdate(family_name="Ibáñez", date_of_birth=dt.date(1970, 1, 1)),
        actor=world.user("frontdesk.north"),
    )
    assert found_by_api(world, "garcia") == []
    assert found_by_api(world, "1971-02-03") == []
    assert str(jose.pk) in found_by_api(world, "ibanez jose")
    assert str(jose.pk) in found_by_api(world, "1970-01-01")
    # Changing a field search does not use leaves the tokens alone.
    before = set(PatientNameToken.objects.filter(patient=jose).values_list("pk", flat=True))
    actions.do_update_patient(
        jose, inputs.PatientUpdate(phone="555-0100"), actor=world.user("frontdesk.north")
    )
    assert set(PatientNameToken.objects.filter(patient=jose).values_list("pk", flat=True)) == before


def test_results_are_in_name_order_and_paged(world: World) -> None:
    made = [register(world, "Same", f"Pager{letter}") for letter in "DBECA"]
    api = world.api("nurse.north")
    first = api.post(
        "/api/v1/patients/search", json.dumps({"q": "same pag", "limit": 3}), content_type="application/json"
    ).json()
    rest = api.post(
        "/api/v1/patients/search",
        json.dumps({"q": "same pag", "limit": 3, "offset": 3}),
        content_type="application/json",
    ).json()
    assert first["count"] == rest["count"] == len(made)
    names = [item["family_name"] for item in first["items"] + rest["items"]]
    assert names == ["PagerA", "PagerB", "PagerC", "PagerD", "PagerE"]


def test_search_body_refuses_unknown_fields_and_long_queries(world: World) -> None:
    api = world.api("nurse.north")
    extra = api.post(
        "/api/v1/patients/search", json.dumps({"q": "a", "name": "x"}), content_type="application/json"
    )
    assert extra.status_code == 422 and "name" in extra.json()["errors"]
    long = api.post("/api/v1/patients/search", json.dumps({"q": "a" * 101}), content_type="application/json")
    assert long.status_code == 422 and "q" in long.json()["errors"]


def test_location_column_only_for_users_of_several_locations(world: World) -> None:
    page = world.client("nurse.north").get("/patients/").content.decode()
    assert "<th>Location</th>" not in page and "<th>Sex</th>" not in page
    do_grant_role(world.user("nurse.north"), ClinicLocation.objects.get(slug="south"), "nurse")
    page = world.client("nurse.north").get("/patients/").content.decode()
    assert "<th>Location</th>" in page and "South" in page


def test_dates_are_iso_and_flag_chips_come_from_the_view(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = world.patient("north")
    from ketaclinic.patients import views

    monkeypatch.setattr(
        views, "_list_flags", lambda rows: {str(p.pk): [("danger", "<Ketamine allergy>")] for p in rows}
    )
    page = world.client("nurse.north").get("/patients/").content.decode()
    assert patient.date_of_birth.isoformat() in page
    assert '<span class="badge danger">&lt;Ketamine allergy&gt;</span>' in page


def test_folding_and_tokens() -> None:
    assert search.fold("  José MÜLLER  ") == "jose muller"
    assert search.words("García, José 02/03/1971") == ["1971-02-03", "garcia", "jose"]
    found = search.tokens(
        given_name="Ana",
        family_name="Di-Ode",
        mrn="KC-000042",
        external_mrn=" Ref/9 ",
        date_of_birth=dt.date(2000, 1, 2),
    )
    names = {
        "a",
        "an",
        "ana",
        "d",
        "di",
        "di-",
        "di-o",
        "di-od",
        "di-ode",
        "o",
        "od",
        "ode",
        "dio",
        "diod",
        "diode",
    }
    assert found == names | {"kc-000042", "000042", "ref/9", "2000-01-02"}
    long = search.tokens(
        given_name="A" * 30, family_name="B", mrn="KC-1", external_mrn="", date_of_birth=dt.date(2000, 1, 2)
    )
    assert "a" * search.MAX_PREFIX in long and "a" * 30 in long and "a" * (search.MAX_PREFIX + 1) not in long
