"""Bad input is a 4xx naming the field, never a 500 or a database error: paging bounds, NUL characters and
lone surrogates, JSON types the OpenAPI document does not allow, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from ketaclinic.api.app import api
from ketaclinic.clinicpolicy import inputs as clinicpolicy_inputs
from ketaclinic.ledger import inputs as ledger_inputs
from ketaclinic.patients import inputs, schemas
from ketaclinic.patients.models import Patient
from ketaclinic.patients.schemas import PAGE_OFFSET_MAX

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World

PERSON = {
    "location": "north",
    "given_name": "Rosa",
    "family_name": "Lindqvist",
    "date_of_birth": "1966-09-12",
    "sex": "female",
}


def post(client: Client, url: str, body: Any) -> TestResponse:
    return client.post(url, json.dumps(body), content_type="application/json")


def refused(response: TestResponse, field: str) -> str:
    assert response.status_code == 422, response.content
    errors: dict[str, str] = response.json()["errors"]
    assert field in errors, errors
    return errors[field]


# --- Paging -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [2**63, 2**63 - 1, 2**64, 10**30, PAGE_OFFSET_MAX + 1, -1])
def test_an_offset_out_of_bounds_is_422_not_a_database_error(world: World, offset: int) -> None:
    api = world.api("nurse.north")
    patient = world.patient("north")
    for url in (
        f"/api/v1/patients?offset={offset}",
        f"/api/v1/patients/{patient.pk}/conditions?offset={offset}",
        f"/api/v1/patients/{patient.pk}/measurements?offset={offset}",
    ):
        refused(api.get(url), "offset")
    refused(post(api, "/api/v1/patients/search", {"q": "a", "offset": offset}), "offset")


@pytest.mark.parametrize("limit", [0, 101, 2**63, -1])
def test_a_limit_out_of_bounds_is_422(world: World, limit: int) -> None:
    api = world.api("nurse.north")
    refused(api.get(f"/api/v1/patients?limit={limit}"), "limit")
    refused(post(api, "/api/v1/patients/search", {"limit": limit}), "limit")


def test_the_largest_offset_is_an_empty_page(world: World) -> None:
    api = world.api("nurse.north")
    listed = api.get(f"/api/v1/patients?offset={PAGE_OFFSET_MAX}&limit=100")
    assert listed.status_code == 200 and listed.json()["items"] == []
    searched = post(api, "/api/v1/patients/search", {"q": "", "offset": PAGE_OFFSET_MAX, "limit": 100})
    assert searched.status_code == 200 and searched.json()["items"] == []


@pytest.mark.parametrize("value", [False, True, "5", 2.5, None, [], {}])
def test_paging_in_a_body_takes_only_whole_numbers(world: World, value: object) -> None:
    refused(post(world.api("nurse.north"), "/api/v1/patients/search", {"offset": value}), "offset")


# --- NUL characters and lone surrogates ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["Ro\x00sa", "\x00", "Rosa\ud800", "\udfff"])
def test_nul_and_lone_surrogates_in_text_are_refused_by_name_over_the_api(world: World, bad: str) -> None:
    api = world.api("frontdesk.north")
    patient = world.patient("north")
    before = Patient.objects.count()
    # json.dumps writes a lone surrogate as the escape "\ud800", as a client's JSON would carry it.
    refused(post(api, "/api/v1/patients", {**PERSON, "given_name": bad}), "given_name")
    refused(post(api, "/api/v1/patients", {**PERSON, "phone": bad}), "phone")
    refused(post(api, "/api/v1/patients/search", {"q": bad}), "q")
    refused(
        post(api, f"/api/v1/patients/{patient.pk}/allergies", {"substance": bad, "category": "food"}),
        "substance",
    )
    nested = {**PERSON, "medications": [{"drug": "other", "other_name": bad}]}
    refused(post(api, "/api/v1/patients", nested), "medications.0.other_name")
    assert Patient.objects.count() == before


def refused_page(response: TestResponse, field: str) -> None:
    page = response.content.decode()
    assert response.status_code == 422, response.status_code
    assert f"“{field}” must not contain NUL characters" in page


def test_nul_in_a_form_or_a_query_is_refused_by_name_before_any_view(world: World) -> None:
    client = world.client("frontdesk.north")
    before = Patient.objects.count()
    refused_page(client.post("/patients/new/", {**PERSON, "family_name": "Lind\x00qvist"}), "family_name")
    patient = world.patient("north")
    allergy = {"substance": "pea\x00nut", "category": "food"}
    refused_page(client.post(f"/patients/{patient.pk}/allergies/", allergy), "substance")
    for headers in ({}, {"HX-Request": "true"}):
        refused_page(client.post("/patients/", {"q": "a\x00b"}, headers=headers), "q")
    refused_page(client.get("/audit/?actor=\x00"), "actor")
    refused_page(Client().post("/login/", {"username": "nurse.north\x00", "password": "x"}), "username")
    api = world.api("nurse.north")
    refused(api.get("/api/v1/patients?limit=1\x00"), "limit")
    assert Patient.objects.count() == before


def test_the_search_page_takes_bytes_that_are_not_utf8_as_text(world: World) -> None:
    # A form's bytes that are not UTF-8 (a lone surrogate's) arrive replaced, as text Django can read.
    client = world.client("nurse.north")
    broken = client.post("/patients/", b"q=%ED%A0%80", content_type="application/x-www-form-urlencoded")
    assert broken.status_code == 200


# --- JSON types the document does not allow -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date_of_birth": 0}, "date_of_birth"),
        ({"breastfeeding": 1}, "breastfeeding"),
        ({"breastfeeding": "yes"}, "breastfeeding"),
        ({"confirm_duplicate": "true"}, "confirm_duplicate"),
        ({"given_name": " " * 3}, "given_name"),
        ({"given_name": "x" * 79 + "  "}, "given_name"),
        ({"external_mrn": "!nope"}, "external_mrn"),
        (
            {"conditions": [{"code": "major_depressive_disorder", "onset_year": "2001"}]},
            "conditions.0.onset_year",
        ),
        ({"measurement": {"systolic_mmhg": "120", "diastolic_mmhg": 80}}, "measurement.systolic_mmhg"),
    ],
)
def test_values_the_document_forbids_are_refused(world: World, change: dict[str, Any], field: str) -> None:
    refused(post(world.api("frontdesk.north"), "/api/v1/patients", {**PERSON, **change}), field)


def test_text_is_measured_as_sent_and_stored_trimmed(world: World) -> None:
    response = post(world.api("frontdesk.north"), "/api/v1/patients", {**PERSON, "given_name": "  Rosa\t"})
    assert response.status_code == 201 and response.json()["given_name"] == "Rosa"


# The OpenAPI document's patterns say what the validators do; a fuzzer holds the API to the document.
TEXT = st.text(alphabet=st.sampled_from(["a", "Z", "0", " ", "\t", "\n", "\r", "\f", "\v", "\x00", "é", "@"]))


@settings(max_examples=300, deadline=None)
@given(value=TEXT)
def test_the_documented_text_patterns_match_what_is_accepted(value: str) -> None:
    for model, field, pattern in (
        (inputs.AllergyIn, "substance", inputs.SOME_TEXT),
        (inputs.AllergyIn, "reaction", inputs.ANY_TEXT),
        (inputs.PatientUpdate, "external_mrn", inputs.EXTERNAL_MRN_PATTERN),
    ):
        body = (
            {"category": "food", "substance": "x", field: value}
            if model is inputs.AllergyIn
            else {field: value}
        )
        try:
            model.model_validate(body)
            accepted = True
        except ValidationError:
            accepted = False
        assert accepted == bool(re.search(pattern, value)), (field, value)


# The input models of the other areas' routes, found by name like those of the patients' routes.
OTHER_INPUTS = (ledger_inputs, clinicpolicy_inputs)


def test_the_documented_examples_are_accepted() -> None:
    """The OpenAPI document's examples (what schemathesis' examples phase sends) are valid bodies."""
    bodies = [
        op["requestBody"]["content"]["application/json"]["schema"]
        for operations in api.get_openapi_schema()["paths"].values()
        for op in operations.values()
        if "requestBody" in op
    ]
    components = api.get_openapi_schema()["components"]["schemas"]
    # Every area's input models subclass inputs.Strict (screening, consent, ...): found by name.
    strict: dict[str, type[Any]] = {}
    stack: list[type[Any]] = [inputs.Strict]
    while stack:
        cls = stack.pop()
        strict.setdefault(cls.__name__, cls)
        stack.extend(cls.__subclasses__())
    with_examples = 0
    for body in bodies:
        name = body["$ref"].rsplit("/", 1)[1]
        model = (
            getattr(inputs, name, None)
            or strict.get(name)
            or next(getattr(m, name) for m in (schemas, *OTHER_INPUTS) if hasattr(m, name))
        )
        examples = components[name].get("examples", [])
        for example in examples:  # a body may show more than one (a list of scores, an object of them)
            model.model_validate(example)
        with_examples += bool(examples)
    assert with_examples == len(bodies), "every body has an example"
