"""The OpenAPI document is valid JSON and YAML for the docs page: no key appears twice in one object."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from ketaclinic.api.app import api


def _refuse_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    assert not repeated, f"keys written twice in one object of the OpenAPI document: {repeated}"
    return dict(pairs)


def test_no_key_of_the_openapi_document_is_written_twice() -> None:
    # A route's openapi_extra naming a status as "200" beside ninja's 200 gave two "200" keys: the docs
    # page (a YAML parser) then refused the whole document.
    json.loads(json.dumps(api.get_openapi_schema()), object_pairs_hook=_refuse_repeats)


def _models(base: type[BaseModel]) -> list[type[BaseModel]]:
    found = []
    for sub in base.__subclasses__():
        found.append(sub)
        found.extend(_models(sub))
    return found


def test_no_two_models_of_the_api_share_a_name_with_different_shapes() -> None:
    # The document names each model's schema by its class name alone: two request or answer models of one
    # name (a ChairOut of the floor board and another of the calendar) became one schema, the other's
    # fields documented wrongly (found by API fuzzing: a trial in a chart answer "lacked" the prior
    # authorisation packet's drug_name).
    assert api.get_openapi_schema()  # every router, and so every model, is imported
    by_name: dict[str, dict[str, Any]] = {}
    for model in _models(BaseModel):
        if not model.__module__.startswith("ketaclinic.") or ".tests" in model.__module__:
            continue
        if model.__pydantic_generic_metadata__["parameters"] or not model.model_fields:
            continue  # a generic itself (Page[T]) or a base with no fields (Out): never a schema
        shape = model.model_json_schema()
        seen = by_name.setdefault(model.__name__, {"shape": shape, "where": model.__module__})
        assert seen["shape"] == shape, f"{model.__name__}: {seen['where']} and {model.__module__} differ"
