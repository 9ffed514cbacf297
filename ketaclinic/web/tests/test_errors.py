"""Errors: JSON in the API's one shape for every status under /api/, plain pages elsewhere that never depend
on who is signed in, the security headers on every answer, and a refused Host logged in one line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import HttpRequest
from django.test import Client, RequestFactory, override_settings

from ketaclinic.api.app import api
from ketaclinic.patients import queries
from ketaclinic.patients.schemas import ANY_OPERATION, NOT_FOUND, WITH_BODY
from ketaclinic.web import errors, shortcuts
from ketaclinic.web.logging import RedactFilter

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from conftest import World

SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "X-Request-ID")


def assert_error_shape(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body: dict[str, Any] = json.loads(response.content)
    assert set(body) <= {"detail", "errors"} and isinstance(body["detail"], str) and body["detail"]
    assert all(isinstance(v, str) for v in body.get("errors", {}).values())
    return body


def assert_security_headers(response: TestResponse) -> None:
    for name in SECURITY_HEADERS:
        assert response.has_header(name), name
    assert response["Cache-Control"] == "no-store"
    assert response["X-Frame-Options"] == "DENY"


# --- Every answer under /api/ is JSON in the one shape ------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/nothing/", "/api/v2/patients", "/api/"])
def test_an_unknown_path_under_api_is_a_json_404(world: World, path: str) -> None:
    for client in (world.api("nurse.north"), Client()):
        assert_error_shape(client.get(path), 404)


def test_a_method_a_path_does_not_take_is_a_json_405_that_says_which_it_takes(world: World) -> None:
    response = world.api("nurse.north").delete("/api/v1/patients")
    body = assert_error_shape(response, 405)
    assert "method" in body["detail"].lower()
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_the_openapi_document_answers_a_program_without_a_token_with_a_json_401(world: World) -> None:
    for client in (Client(), Client(headers={"Authorization": "Bearer not-a-token"})):
        response = client.get("/api/openapi.json")
        assert_error_shape(response, 401)
        assert response["WWW-Authenticate"] == "Bearer"
    assert world.api("nurse.north").get("/api/openapi.json").status_code == 200
    assert world.client("nurse.north").get("/api/openapi.json").status_code == 200


def test_a_body_that_is_not_json_is_a_json_400(world: World) -> None:
    client = world.api("nurse.north")
    for body in ("{", "\x00", "not json"):
        assert_error_shape(client.post("/api/v1/patients/search", body, content_type="application/json"), 400)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_limit_is_a_json_413_and_a_413_page(world: World) -> None:
    big = json.dumps({"q": "x" * 2000})
    api_answer = world.api("nurse.north").post(
        "/api/v1/patients/search", big, content_type="application/json"
    )
    assert_error_shape(api_answer, 413)
    page = world.client("frontdesk.north").post("/patients/new/", {"given_name": "x" * 2000})
    assert page.status_code == 413 and page["Content-Type"].startswith("text/html")


def test_a_server_fault_under_api_is_a_json_500_that_says_nothing_of_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(queries, "search", broken)
    client = world.api("nurse.north")
    client.raise_request_exception = False
    response = client.get("/api/v1/patients")
    body = assert_error_shape(response, 500)
    assert "secret" not in response.content.decode() and "errors" not in body
    assert_security_headers(response)


def test_every_status_an_operation_can_give_is_in_the_openapi_document() -> None:
    # As served at /api/openapi.json (status codes as strings).
    schema = json.loads(json.dumps(api.get_openapi_schema()))
    error_ref = "#/components/schemas/ErrorOut"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = {int(status) for status in operation["responses"]}
            expected = set(ANY_OPERATION)
            if "{patient_id}" in path:
                expected.add(NOT_FOUND)
            if "requestBody" in operation:
                expected.update(WITH_BODY)
            assert expected <= documented, (method, path, sorted(expected - documented))
            for status in expected:
                content = operation["responses"][str(status)]["content"]["application/json"]
                assert content["schema"]["$ref"] == error_ref, (method, path, status)
    patch = schema["paths"]["/api/v1/patients/{patient_id}"]["patch"]
    assert {"412", "428"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
    assert "409" in schema["paths"]["/api/v1/patients"]["post"]["responses"]


# --- A bad Host header --------------------------------------------------------------------------------------


@pytest.fixture
def console_log() -> Iterator[io.StringIO]:
    """What the configured console handler (settings.LOGGING, with its RedactFilter) writes."""
    handlers = [
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactFilter) for f in h.filters)
    ]
    assert handlers, "the console handler of settings.LOGGING"
    stream = io.StringIO()
    kept = [h.setStream(stream) for h in handlers if isinstance(h, logging.StreamHandler)]
    try:
        yield stream
    finally:
        for handler, old in zip(handlers, kept, strict=True):
            if isinstance(handler, logging.StreamHandler) and old is not None:
                handler.setStream(old)


@pytest.mark.parametrize("path", ["/patients/", "/login/", "/api/v1/patients"])
def test_a_bad_host_gets_a_plain_400_with_the_security_headers_and_one_log_line(
    db: None, console_log: io.StringIO, path: str
) -> None:
    response = Client(HTTP_HOST="evil.example", raise_request_exception=False).get(path)
    assert response.status_code == 400
    assert_security_headers(response)
    if path.startswith("/api/"):
        assert_error_shape(response, 400)
    else:
        assert "Bad request" in response.content.decode()
    logged = console_log.getvalue()
    assert "Invalid HTTP_HOST header" in logged
    assert "Traceback" not in logged and "evil.example" not in logged
    assert len(logged.strip().splitlines()) == 1, logged


def test_the_security_log_keeps_no_traceback() -> None:
    try:
        raise DisallowedHost("Invalid HTTP_HOST header: 'x.example'.")
    except DisallowedHost as exc:
        record = logging.LogRecord(
            "django.security.DisallowedHost", logging.ERROR, __file__, 1, str(exc), (), (type(exc), exc, None)
        )
    record.request = RequestFactory().get("/login/")
    assert RedactFilter().filter(record)
    assert record.exc_info is None and "x.example" not in record.getMessage()


# --- Error pages never depend on who is signed in -----------------------------------------------------------


class Untouchable:
    """Stands for request.user and request.session: any use of it fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"an error page read the signed-in user or session ({name})")


def bare_request(path: str) -> HttpRequest:
    request = RequestFactory().get(path)
    request.user = Untouchable()  # type: ignore[assignment]
    request.session = Untouchable()  # type: ignore[assignment]
    return request


@pytest.mark.parametrize(
    ("handler", "status"),
    [
        (errors.bad_request, 400),
        (errors.forbidden, 403),
        (errors.not_found, 404),
        (errors.server_error, 500),
    ],
)
@pytest.mark.parametrize("path", ["/patients/", "/api/v1/patients"])
def test_error_pages_render_without_the_user_or_the_session(handler: Any, status: int, path: str) -> None:
    response = handler(bare_request(path)) if status == 500 else handler(bare_request(path), Exception())
    assert response.status_code == status
    if path.startswith("/api/"):
        assert json.loads(response.content)["detail"]
    else:
        assert "<h1>" in response.content.decode()


def test_an_oversized_request_is_413_on_both_sides() -> None:
    assert errors.bad_request(bare_request("/patients/"), RequestDataTooBig()).status_code == 413
    assert errors.bad_request(bare_request("/api/v1/patients"), RequestDataTooBig()).status_code == 413


def test_a_signed_in_users_404_page_shows_nothing_of_them(world: World) -> None:
    client = world.client("nurse.north")
    response = client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "nurse.north" not in page and "Log out" not in page


def test_a_role_gates_403_page_shows_nothing_of_the_signed_in_user(world: World) -> None:
    response = world.client("therapist.north").get("/patients/new/")
    page = response.content.decode()
    assert response.status_code == 403 and "Your role does not allow this" in page
    assert "therapist.north" not in page and "Log out" not in page
    assert shortcuts.forbidden(bare_request("/patients/new/")).status_code == 403
