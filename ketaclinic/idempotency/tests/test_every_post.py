"""Every POST operation of the API, found in its OpenAPI document, honours Idempotency-Key.

The bodies come from the access matrix (patients/tests/test_access_matrix.py), which fails until a new
route is listed there; so a new POST is replayed here without a line added. For each: the replay gives the
first status, body and Location, and no table but the audit trail gains a row; each POST's OpenAPI entry
documents the header.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.test import Client

from conftest import World
from ketaclinic.api.app import api
from ketaclinic.audit.models import AuditEvent, ChainHead
from ketaclinic.idempotency.keys import HEADER, REPLAYED_HEADER
from ketaclinic.idempotency.models import IdempotencyKey
from ketaclinic.patients.tests.test_access_matrix import ROUTES, Route, _call

SCHEMA = api.get_openapi_schema()
POSTS = sorted(path for path, operations in SCHEMA["paths"].items() if "post" in operations)
# Rows a replay may add: its own audit events (it is a read) and nothing else.
AUDIT = {AuditEvent, ChainHead}
# Answers whose first copy carries a secret shown once, never stored: the replay gives the field as null.
WITHHELD = {"/api/v1/patients/{patient_id}/assessment-requests": "url"}


def _matrix_route(path: str) -> Route:
    """The access matrix's route for an OpenAPI path (its {pid}, {<section>} are {patient_id}, {entry_id})."""

    def normal(template: str) -> str:
        return re.sub(r"\{(?!pid\}|patient_id\})\w+\}", "{entry_id}", template).replace(
            "{pid}", "{patient_id}"
        )

    for route in ROUTES:
        if route[6] and route[1] == "post" and normal(route[2]) == normal(path):
            return route
    raise AssertionError(f"POST {path} is not in the access matrix")


class Keyed(World):
    """The personas, whose API client sends one Idempotency-Key with every request."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.clients: dict[str | None, Client] = {}

    def api(self, name: str | None) -> Client:
        assert name is not None
        if name not in self.clients:  # one token: a new one would be a new row between the two calls
            self.clients[name] = Client(
                headers={"Authorization": f"Bearer {self.token(name)}", HEADER: self.key}
            )
        return self.clients[name]


def _rows() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if m not in AUDIT}


def test_the_api_has_posts_to_check() -> None:
    assert {"/api/v1/patients", "/api/v1/patients/search"} <= set(POSTS) and len(POSTS) >= 8


@pytest.mark.parametrize("path", POSTS)
def test_every_post_replays_its_first_answer(world: World, path: str) -> None:
    route = _matrix_route(path)
    who = "nurse.north" if "nurse" in route[4] else f"{sorted(route[4])[0]}.north"
    patient, keyed = world.patient("north"), Keyed(f"key-for-{path}")
    first = _call(keyed, who, route, patient)
    assert 200 <= first.status_code < 300, (path, first.status_code, first.content[:300])
    before = _rows()
    again = _call(keyed, who, route, patient)
    if path in WITHHELD:
        assert first.json()[WITHHELD[path]] is not None
        assert (again.status_code, again.json()) == (
            first.status_code,
            {**first.json(), WITHHELD[path]: None},
        )
    else:
        assert (again.status_code, again.content) == (first.status_code, first.content), path
    assert again.get("Location") == first.get("Location") and again[REPLAYED_HEADER] == "true"
    assert _rows() == before, path
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize("path", POSTS)
def test_every_post_documents_the_header(path: str) -> None:
    operation = SCHEMA["paths"][path]["post"]
    headers = [p for p in operation["parameters"] if p["in"] == "header" and p["name"] == HEADER]
    assert len(headers) == 1 and headers[0]["required"] is False
    assert headers[0]["schema"]["maxLength"] == 255
    for status, answer in operation["responses"].items():
        assert (REPLAYED_HEADER in answer.get("headers", {})) == (200 <= int(status) < 300)


def test_no_other_method_takes_the_header() -> None:
    for path, operations in SCHEMA["paths"].items():
        for method, operation in operations.items():
            if method != "post":
                names = {p["name"] for p in operation.get("parameters", [])}
                assert HEADER not in names, (method, path)
