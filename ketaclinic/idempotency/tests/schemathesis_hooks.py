"""Schemathesis hooks for fuzzing the API: a fresh Idempotency-Key for each generated request.

A fuzzer draws header values from the schema, so two different requests often carry the same key ("0"
in the coverage phase), and KetaClinic rightly refuses the second with 422: the key was used for another
request. A real client sends a new key per request and the same key only for a retry; this hook makes the
fuzzer do the same for every well-formed key it drew, and leaves malformed keys alone so that their 422
is still exercised. Use it with `SCHEMATHESIS_HOOKS=ketaclinic.idempotency.tests.schemathesis_hooks`.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis
from schemathesis import Case, HookContext

from ketaclinic.idempotency.keys import HEADER, parse_key


@schemathesis.hook
def before_call(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    # The request's own headers, not the case's: changing case.headers makes schemathesis merge the
    # run's --header values (the bearer token) back in, so a case meant to go without Authorization would
    # be sent with it and its 201 reported as "missing required header accepted".
    headers = kwargs.get("headers")
    if not isinstance(headers, dict):
        return
    drawn = headers.get(HEADER)
    if isinstance(drawn, str) and parse_key(drawn) is not None:
        headers[HEADER] = str(uuid.uuid4())
