"""What every mapping shares: references, instants, numbers, and the shape of a mapping module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

Resource = dict[str, Any]
Row = dict[str, Any]
PatientIds = Sequence[Any]


def ref(resource_type: str, resource_id: object) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}


def patient_ref(row: Row, key: str = "patient_id") -> dict[str, str]:
    return ref("Patient", row[key])


def instant(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def num(value: Decimal | int | float) -> int | float:
    """A FHIR decimal for orjson (which writes no Decimal): whole numbers as ints."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def meta(profile: str | None, updated: dt.datetime | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if profile:
        out["profile"] = [profile]
    if updated is not None:
        out["lastUpdated"] = updated.isoformat()
    return out


def prune(resource: Resource) -> Resource:
    """Drop empty values at the top level (FHIR allows no empty strings, lists or objects)."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


def since_filter(since: dt.datetime | None, field: str = "updated_at") -> dict[str, Any]:
    return {f"{field}__gte": since} if since is not None else {}


def rows(queryset: Any) -> Iterator[Row]:
    """Rows of a values() query read in chunks, so an export's memory stays flat."""
    return queryset.iterator(chunk_size=2000)  # type: ignore[no-any-return]
