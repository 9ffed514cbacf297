"""The section registry is complete: every entry has what the actions, pages, API and demo derive from it."""

from __future__ import annotations

import typing

import pytest
from django.template import engines
from pydantic import BaseModel

from ketaclinic.api.app import api
from ketaclinic.patients import inputs, schemas
from ketaclinic.patients.models import Patient, PatientEntry
from ketaclinic.patients.sections import BY_INPUT, BY_MODEL, SECTIONS, Section

ALL = list(SECTIONS.values())


def _list_of(model: type[BaseModel], field: str) -> typing.Any:
    annotation = model.model_fields[field].annotation
    assert typing.get_origin(annotation) is list, (model, field)
    return typing.get_args(annotation)[0]


@pytest.mark.parametrize("section", ALL, ids=lambda s: s.key)
def test_the_model_hangs_off_the_patient_under_the_sections_key(section: Section) -> None:
    assert issubclass(section.model, PatientEntry)
    # The concrete sections' models have `patient`; their abstract base, which mypy sees here, does not.
    relation = section.model._meta.get_field("patient")  # type: ignore[misc]
    assert relation.related_model is Patient
    assert relation.remote_field.related_name == section.key
    assert hasattr(Patient, section.related_name)


@pytest.mark.parametrize("section", ALL, ids=lambda s: s.key)
def test_input_and_output_fit_the_model(section: Section) -> None:
    stored = {f.name for f in section.model._meta.concrete_fields}
    assert set(section.input.model_fields) <= stored, "every input is a column"
    assert section.input.model_config.get("extra") == "forbid"
    assert set(section.output.model_fields) - stored <= {"name", "display", "interaction_classes"}
    assert issubclass(section.output, schemas.Stamp)


@pytest.mark.parametrize("section", ALL, ids=lambda s: s.key)
def test_intake_and_the_patient_read_carry_the_section_under_its_key(section: Section) -> None:
    assert _list_of(inputs.PatientCreate, section.key) is section.input
    assert _list_of(schemas.PatientOut, section.key) is section.output


@pytest.mark.parametrize("section", ALL, ids=lambda s: s.key)
def test_the_pages_have_its_row_macro_and_add_form(section: Section) -> None:
    jinja = engines["jinja2"].env  # type: ignore[attr-defined]
    rows = jinja.get_template("patients/rows.html").make_module(
        {"labels": {}, "drug_name": str, "interaction_classes": list}
    )
    assert callable(getattr(rows, section.row_macro, None)), section.row_macro
    jinja.get_template(section.form_template)
    assert section.columns == () or section.columns[-1] == "Status"


@pytest.mark.parametrize("section", ALL, ids=lambda s: s.key)
def test_the_api_serves_it_under_its_key(section: Section) -> None:
    paths = api.get_openapi_schema()["paths"]
    collection = paths[f"/api/v1/patients/{{patient_id}}/{section.key}"]
    one = paths[f"/api/v1/patients/{{patient_id}}/{section.key}/{{entry_id}}"]
    assert set(collection) == {"get", "post"} and set(one) == {"get", "patch"}
    body = collection["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.rsplit("/", 1)[1] == section.input.__name__


def test_one_entry_per_input_and_model() -> None:
    assert len(BY_INPUT) == len(BY_MODEL) == len(SECTIONS)
    assert all(key == s.key for key, s in SECTIONS.items())
