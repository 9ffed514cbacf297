"""What the audit chain hashes: the fields, their canonical values and the format version.

The fields are listed once, here. Hashing (actions.append), verification (actions.verify_chain) and the
events a worker sends the audit writer (client.encode, server.decode) all read them from this module.

Each hashed body starts with its format number, so adding a column never makes old events look altered:
append the column to a new tuple in FORMATS under the next number and point FORMAT at it. Events hashed
before keep verifying under their own format. The first events of a chain, written before formats were
numbered, are format 1: the same fields, without the number in front.

Along a chain the format only moves forward: verify_chain refuses an event hashed in a format older than
the one before it, so an edit cannot hide behind an old format that leaves the edited field out.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ketaclinic.audit.models import AuditEvent

GENESIS = "0" * 64

_FIELDS_1 = (
    "seq",
    "occurred_at",
    "actor_id",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "patient_id",
    "location_id",
    "changed_fields",
    "via",
    "request_id",
    "source_ip",
    "prev_hash",
)

# format number -> the event's fields (attnames) it hashes, in order. Format 3 adds how many occurrences
# an event stands for (repeated failures are written as one event with their count); format 4 the patient
# portal account that acted (a patient's own reads and answers in ketaclinic/portal).
FORMATS: dict[int, tuple[str, ...]] = {
    1: _FIELDS_1,
    2: _FIELDS_1,
    3: (*_FIELDS_1, "occurrences"),
    4: (*_FIELDS_1, "occurrences", "patient_account_id"),
}
FORMAT = 4  # what new events are hashed in
HASHED: tuple[str, ...] = FORMATS[FORMAT]

# Set when an event is chained (by actions.append, in the writer or in the caller's transaction); the rest
# of the hashed fields are what record() fills in and a worker sends to the writer.
CHAINED = ("seq", "prev_hash")
SUBMITTED: tuple[str, ...] = tuple(name for name in HASHED if name not in CHAINED)


def canonical(name: str, value: Any) -> Any:
    """A field's value as JSON hashes it (and as it travels to the writer): the same on every database."""
    if value is None:
        return None
    if name == "occurred_at":
        return value.isoformat()
    if name == "patient_id":
        return str(value)
    if name == "changed_fields":
        return sorted(value)
    return value


def body(event: AuditEvent, fmt: int | None = None) -> bytes:
    """The bytes hashed for an event in format `fmt` (the current FORMAT when not given)."""
    fmt = FORMAT if fmt is None else fmt
    values = [canonical(name, getattr(event, name)) for name in FORMATS[fmt]]
    return json.dumps(values if fmt == 1 else [fmt, *values], separators=(",", ":")).encode()


def digest(event: AuditEvent, fmt: int | None = None) -> str:
    return hashlib.sha256(body(event, fmt)).hexdigest()


def format_of(event: AuditEvent, oldest: int = 1) -> int | None:
    """The format, not older than `oldest`, whose digest of the event is its stored hash; None if none is."""
    for fmt in sorted(FORMATS):
        if fmt >= oldest and digest(event, fmt) == event.hash:
            return fmt
    return None
