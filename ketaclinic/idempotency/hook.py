"""The one hook into the API: every POST operation honours `Idempotency-Key`, and its OpenAPI entry says so.

ketaclinic/api/app.py calls `honour_idempotency_keys(api, authenticate=user_for_token)` once. That adds
a ninja "view" decorator, which ninja applies to each operation as the routers are mounted; the decorator
wraps the POST operations (a new POST route is covered without a line here) and documents the header on
each. A keyed POST then runs as follows (`answer`):

- no valid bearer token: the API answers as it would without the key (401); keys are per user;
- a malformed key: 422 naming the header;
- otherwise, in one transaction: claim the user's key (waiting for a request with the same key still in
  flight), run the operation, and keep a 2xx answer whole with the key. The same key and request later get
  that answer again (`Idempotent-Replayed: true`), the same key with another request a 422. A 4xx answer
  is not kept (nothing was written; a retry runs again). A 5xx rolls back everything the request did, so a
  retry with the same key runs once more from nothing.

On SQLite the transaction begins late, at the operation's first write, and the key is claimed first thing
then (`_once`): the operation's reads (access, validation) run before it, outside the one write lock, as
they do without a key.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from ninja import NinjaAPI
from ninja.operation import Operation

from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.idempotency import keys, replay, store
from ketaclinic.idempotency.keys import HEADER, KEY_MAX_LENGTH, REPLAYED_HEADER
from ketaclinic.idempotency.models import IdempotencyKey

Authenticate = Callable[[HttpRequest, str], Any]
Run = Callable[..., HttpResponseBase]
_REPLAYED = {
    REPLAYED_HEADER: {
        "description": "`true` on an answer replayed for a repeated key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def honour_idempotency_keys(api: NinjaAPI, *, authenticate: Authenticate) -> None:
    """Make every POST of `api` idempotent; `authenticate` maps a request's bearer token to its user (or
    None)."""
    api.add_decorator(partial(_wrap, authenticate=authenticate), mode="view")


def _wrap(run: Run, *, authenticate: Authenticate) -> Run:
    # ninja hands a "view" decorator the operation's bound run method (perhaps wrapped by another).
    operation = getattr(inspect.unwrap(run), "__self__", None)
    if not isinstance(operation, Operation) or "POST" not in operation.methods:
        return run
    operation.openapi_extra = _documented(operation)

    @wraps(run)
    def keyed(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        return answer(request, operation.api, partial(run, request, **kwargs), authenticate)

    return keyed


def answer(
    request: HttpRequest, api: NinjaAPI, call: Callable[[], HttpResponseBase], authenticate: Authenticate
) -> HttpResponseBase:
    raw = request.headers.get(HEADER)
    user = None if raw is None else _bearer_user(request, authenticate)
    if raw is None or user is None:
        return call()
    key = keys.parse_key(raw)
    if key is None:
        return _refuse(request, api, "Some fields are not valid.", keys.KEY_RULE)
    try:
        body = request.body
    except RequestDataTooBig:
        return call()  # the API's own answer to a body too large
    digest = keys.fingerprint(request.method or "POST", request.get_full_path(), body)
    response = _once(request, api, call, user, key, digest)
    store.prune_if_due()
    return response


class _Repeated(BaseException):
    """The key was found taken when the transaction began: the stored answer is to be replayed.

    Raised from the operation's first write (on SQLite, where the claim comes then), it unwinds the
    operation to `_once`, every atomic block rolling back on the way. A BaseException, as GeneratorExit
    is, so that no `except Exception` in an action or in the API's error handling takes it for a failure.
    """

    def __init__(self, row: IdempotencyKey) -> None:
        super().__init__()
        self.row = row


def _once(
    request: HttpRequest,
    api: NinjaAPI,
    call: Callable[[], HttpResponseBase],
    user: Any,
    key: str,
    digest: str,
) -> HttpResponseBase:
    def claim() -> None:
        stored = store.claim(user, key, digest, timezone.now(), getattr(request, "request_id", ""))
        if stored is not None:
            raise _Repeated(stored)

    # On SQLite the claim waits for the operation's first write (ketaclinic/db/sqlite3/base.py): from the
    # claim to the commit the request holds the database's one write lock, which every other write waits
    # for. A retry sent while the first is still running still finds its claim, once that commits: the
    # claim is the first statement of every keyed transaction. A retry whose operation is refused before
    # any write (the first one's change makes it a duplicate) claims after it, and replays all the same.
    deferred = getattr(connection, "deferred_begin", None)
    try:
        with deferred(claim) if deferred is not None else contextlib.nullcontext():
            return _claimed(call, user, key, claim)
    except _Repeated as repeated:
        return _replayed(request, api, user, repeated.row, digest)


def _claimed(
    call: Callable[[], HttpResponseBase], user: Any, key: str, claim: Callable[[], None]
) -> HttpResponseBase:
    with transaction.atomic():
        if not _deferred():
            claim()  # PostgreSQL, or a transaction inside another: the claim first, as it begins
        response = call()
        # An operation that wrote nothing has not begun the transaction yet: the fill or the release below
        # is its first write, and claims the key before it (a repeat refused before any write replays).
        # A failure writes nothing more, and nothing was claimed.
        if response.status_code >= 500:
            transaction.set_rollback(True)  # nothing of a failed request stays, its key included
        elif 200 <= response.status_code < 300 and isinstance(response, HttpResponse):
            store.fill(user, key, response)
        else:
            store.release(user, key)  # a refusal changed nothing: the same request may run again
        return response


def _deferred() -> bool:
    is_deferred = getattr(connection, "is_deferred", None)
    return bool(is_deferred is not None and is_deferred())


def _replayed(
    request: HttpRequest, api: NinjaAPI, user: Any, row: IdempotencyKey, digest: str
) -> HttpResponseBase:
    if row.fingerprint != digest:
        return _refuse(
            request,
            api,
            f"This {HEADER} was sent before with another request.",
            "was used for another request (path or body); send a new key for a new request",
        )
    try:
        replay.recheck(request, user, row)
    except (NotFound, Forbidden) as refused:
        return api.on_exception(request, refused)
    return store.replay(row)


def _refuse(request: HttpRequest, api: NinjaAPI, detail: str, problem: str) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": {HEADER: problem}}, status=422)


def _bearer_user(request: HttpRequest, authenticate: Authenticate) -> Any:
    """The user of the request's bearer token, read as ninja's HttpBearer reads it.

    A stored answer is replayed here, before the API's own authentication runs: `authenticate` must be
    the API's whole check of a token (revoked, expired, disabled user), as api.auth.user_for_token is.
    """
    parts = request.headers.get("Authorization", "").split(" ")
    if parts[0].lower() != "bearer":
        return None
    return authenticate(request, " ".join(parts[1:]))


def _documented(operation: Operation) -> dict[str, Any]:
    """The operation's OpenAPI extras with the header parameter, and the replay marker on its 2xx."""
    extra = dict(operation.openapi_extra or {})
    extra["parameters"] = [*extra.get("parameters", []), _parameter()]
    extra["responses"] = {
        **extra.get("responses", {}),
        **{code: {"headers": _REPLAYED} for code in operation.response_models if 200 <= code < 300},
    }
    return extra


def _parameter() -> dict[str, Any]:
    hours = settings.KETACLINIC_IDEMPOTENCY_HOURS
    return {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": "^[!-~]+$"},
        "description": (
            "A new unique value (a UUID) for each write; send the same value again when you retry it. "
            f"For at least {hours} hours the same key with the same request returns the first answer "
            f"(status, body, `Location`) with `{REPLAYED_HEADER}: true`, and nothing is created twice; "
            "a retry sent while the first is still running waits for it. The same key with another "
            "path or body is refused (422). Keys are per user. A refusal (4xx) is not kept: fix the "
            "request and send it again with the same key."
        ),
    }
