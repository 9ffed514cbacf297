"""The OpenAPI document is valid JSON and YAML for the docs page: no key appears twice in one object."""

from __future__ import annotations

import json
from typing import Any

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
