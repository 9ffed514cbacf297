"""The JSON API v1 (OpenAPI at /api/docs and /api/openapi.json), with one error shape for every error.

The handlers here answer what the endpoints raise. What no endpoint answers (an unknown path, a method a
path does not take, a body too large, a server fault) gets the same shape from web/errors.py and
web/middleware.ApiErrorsMiddleware.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from ketaclinic.api.auth import BearerToken, user_for_request_token
from ketaclinic.api.docs import AppSwagger
from ketaclinic.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    Refused,
    VersionConflict,
    error_body,
    errors_by_field,
)
from ketaclinic.idempotency.hook import honour_idempotency_keys


def docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API docs are for staff and integrators: a logged-in session or a valid bearer token.

    A person at /api/docs is sent to log in; a program asking for the document gets the API's 401.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        token_ok = (
            header.startswith("Bearer ") and user_for_request_token(request, header[7:].strip()) is not None
        )
        if not (request.user.is_authenticated or token_ok):
            if request.path.endswith(".json"):
                return _unauthenticated(request, AuthenticationError())
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


api = NinjaAPI(
    title="KetaClinic API",
    version="1",
    description=(
        "The KetaClinic JSON API. Authenticate with `Authorization: Bearer <token>`; create a token with "
        "`ketaclinic create_api_token <username> --name <what uses it>` (tokens expire). Every read and "
        "write is audited. Errors have the shape "
        '`{"detail": "...", "errors": {"field": "message"}}`, whatever the status (400, 401, 403, 404, 405, '
        "409, 412, 413, 422, 428, 429, 500). Updates need `If-Match` with the ETag from the last read. "
        "Text never holds NUL characters (refused with 422, naming the field)."
    ),
    auth=BearerToken(),
    urls_namespace="api",
    docs=AppSwagger(),
    docs_decorator=docs_access,
)


def _error(
    request: HttpRequest, detail: str, status: int, errors: dict[str, str] | None = None
) -> HttpResponse:
    return api.create_response(request, error_body(detail, errors), status=status)


@api.exception_handler(InvalidInput)
def _invalid(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    return _error(request, "Some fields are not valid.", 422, exc.errors)


@api.exception_handler(NinjaValidationError)
def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = errors_by_field(exc.errors, skip=frozenset({"body", "payload", "query", "path", "data"}))
    return _error(request, "Some fields are not valid.", 422, errors)


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return _error(request, "Not found.", 404)


@api.exception_handler(Forbidden)
def _forbidden(request: HttpRequest, exc: Forbidden) -> HttpResponse:
    return _error(request, "Your role does not allow this.", 403)


@api.exception_handler(Refused)
def _refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    # {"detail", "reasons": [...]} as the workflow's gates promise; "errors" too when one field is to blame.
    body = error_body(exc.detail, {exc.field: exc.detail} if exc.field else None)
    body["reasons"] = exc.reasons
    return api.create_response(request, body, status=409)


@api.exception_handler(VersionConflict)
def _conflict(request: HttpRequest, exc: VersionConflict) -> HttpResponse:
    # Neither the current version nor any current value: the reader reads the record again to see them.
    return _error(request, "The record changed since you read it. Read it again, then send your change.", 412)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, "A valid bearer token is required.", 401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = _error(request, "Too many failed authentications from this address; try again later.", 429)
    if exc.wait:
        response["Retry-After"] = str(exc.wait)
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, str(exc), exc.status_code)


from ketaclinic.assessments.api import router as assessments_router  # noqa: E402
from ketaclinic.assessments.requests_api import router as assessment_requests_router  # noqa: E402
from ketaclinic.assessments.safety_api import router as safety_router  # noqa: E402
from ketaclinic.billing.api import router as billing_router  # noqa: E402
from ketaclinic.clinicpolicy.api import router as clinicpolicy_router  # noqa: E402
from ketaclinic.consent.api import router as consent_router  # noqa: E402
from ketaclinic.floor.api import router as floor_router  # noqa: E402
from ketaclinic.homecare.api import router as homecare_router  # noqa: E402
from ketaclinic.ledger.api import router as ledger_router  # noqa: E402
from ketaclinic.patients.api import router as patients_router  # noqa: E402
from ketaclinic.rems.api import router as rems_router  # noqa: E402
from ketaclinic.scheduling.api import router as scheduling_router  # noqa: E402
from ketaclinic.screening.api import router as screening_router  # noqa: E402
from ketaclinic.therapy.api import router as therapy_router  # noqa: E402
from ketaclinic.treatment.api import router as treatment_router  # noqa: E402

api.add_router("/v1/patients", patients_router)
# The treatment workflow's routers declare their whole path under /v1 (some sit under /patients/{id}/).
api.add_router("/v1", clinicpolicy_router)
api.add_router("/v1", screening_router)
api.add_router("/v1", consent_router)
api.add_router("/v1", ledger_router)
api.add_router("/v1", treatment_router)
api.add_router("/v1", rems_router)
api.add_router("/v1", floor_router)
api.add_router("/v1", safety_router)
api.add_router("/v1", assessments_router)
api.add_router("/v1", assessment_requests_router)
api.add_router("/v1", billing_router)
api.add_router("/v1", scheduling_router)
api.add_router("/v1", homecare_router)
api.add_router("/v1", therapy_router)
# Outcome analytics (ketaclinic/outcomes).
from ketaclinic.outcomes.api import router as outcomes_router  # noqa: E402

api.add_router("/v1", outcomes_router)
# Every POST honours Idempotency-Key (ketaclinic/idempotency/hook.py), documented on each operation.
honour_idempotency_keys(api, authenticate=user_for_request_token)
