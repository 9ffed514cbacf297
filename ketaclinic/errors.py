"""Errors the actions raise and the web and API layers turn into clear 4xx answers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError


def error_body(detail: str, errors: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The one shape of every error answer under /api/: {"detail": "...", "errors": {"field": "message"}}.

    `errors` is left out when no field is to blame (a 404, a 405, a 500).
    """
    body: dict[str, Any] = {"detail": detail}
    if errors:
        body["errors"] = dict(errors)
    return body


class InvalidInput(Exception):
    """Input the clinic cannot accept; `errors` maps each field (dotted path) to a plain message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))
        self.errors = dict(errors)


class NotFound(Exception):
    """The object does not exist or lies outside what the caller may see (never says which)."""


class Forbidden(Exception):
    """The caller can see the object but their role does not allow this action."""


class PossibleDuplicate(Exception):
    """A patient the user can see has the same name and date of birth; registering needs confirmation."""

    def __init__(self, patient_ids: list[Any]) -> None:
        super().__init__(f"{len(patient_ids)} patient(s) with this name and date of birth")
        self.patient_ids = patient_ids


class Refused(Exception):
    """A clinical or regulatory gate refuses the step; every unmet reason is listed (409 on the API).

    `field` optionally names the one input to blame (e.g. a waste's witness), for pages that mark fields.
    """

    def __init__(self, detail: str, reasons: Iterable[str], *, field: str | None = None) -> None:
        self.detail = detail
        self.reasons = list(reasons)
        self.field = field
        super().__init__(detail + (": " + "; ".join(self.reasons) if self.reasons else ""))


class VersionConflict(Exception):
    """The record changed since the caller read it (optimistic concurrency)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"the record is now at version {current_version}")
        self.current_version = current_version


FRIENDLY = {
    "missing": "this field is required",
    "extra_forbidden": "this field is not allowed here",
    "date_from_datetime_parsing": "enter a date as YYYY-MM-DD",
    "date_parsing": "enter a date as YYYY-MM-DD",
    "decimal_parsing": "enter a number",
    "int_parsing": "enter a whole number",
    "int_type": "enter a whole number",
    "int_from_float": "enter a whole number",
    "bool_parsing": "choose yes or no",
    "bool_type": "choose yes or no",
    "date_type": "enter a date as YYYY-MM-DD",
    "string_type": "enter text",
    "string_unicode": "contains a character that is not valid text",
}


def message_for(error: Mapping[str, object]) -> str:
    kind = str(error.get("type", ""))
    if kind in FRIENDLY:
        return FRIENDLY[kind]
    ctx = error.get("ctx", {})
    if kind == "string_too_short" and isinstance(ctx, Mapping) and ctx.get("min_length") == 1:
        return FRIENDLY["missing"]
    if kind == "string_too_long" and isinstance(ctx, Mapping):
        return f"must be at most {ctx.get('max_length')} characters"

    msg = str(error.get("msg", "is not valid"))
    # Pydantic prefixes messages raised by our own validators with "Value error, ".
    return msg.removeprefix("Value error, ")


def errors_by_field(
    errors: Iterable[Mapping[str, Any]], skip: frozenset[str] = frozenset()
) -> dict[str, str]:
    """Pydantic errors as {"trials.0.weeks_at_dose": "message"}; the first message per field wins.

    `skip` drops leading location parts that say where a value came from (django-ninja's "body").
    """
    out: dict[str, str] = {}
    for error in errors:
        parts = [str(part) for part in error.get("loc", ())]
        while parts and parts[0] in skip:
            parts = parts[1:]
        path, message = ".".join(parts), message_for(error)
        # Cross-field checks name their field as "field: message" (they have no location of their own).
        field, sep, rest = message.partition(": ")
        if sep and field.isidentifier():
            path, message = ".".join(filter(None, [path, field])), rest
        out.setdefault(path or "__all__", message)
    return out


def field_errors(exc: ValidationError) -> dict[str, str]:
    return errors_by_field(exc.errors())
