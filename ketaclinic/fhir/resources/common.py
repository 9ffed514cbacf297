"""What every mapping shares: references, instants, numbers, and the shape of a mapping module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import orjson
from django.db import connections

Resource = dict[str, Any]
Row = dict[str, Any]
PatientIds = Sequence[Any]


def ref(resource_type: str, resource_id: object) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}


def patient_ref(row: Row, key: str = "patient_id") -> dict[str, str]:
    return ref("Patient", row[key])


def instant(value: dt.datetime | str | None) -> str | None:
    """A FHIR instant. rows() hands SQLite's values on unconverted: naive datetimes (Django stores UTC) or
    text; PostgreSQL's are aware."""
    if value is None or isinstance(value, str):
        return _sqlite_instant(value) if value else None
    if value.tzinfo is None:
        return value.isoformat() + "+00:00"
    return value.isoformat()


def _sqlite_instant(value: str) -> str:
    return value.replace(" ", "T", 1) + "+00:00" if "+" not in value[10:] else value.replace(" ", "T", 1)


def day(value: dt.date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    return value.isoformat()


def moment(value: dt.datetime | str) -> dt.datetime:
    """An aware datetime from any of those forms, for the few mappings that compute with one."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(_sqlite_instant(value))
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def num(value: Decimal | int | float) -> int | float:
    """A FHIR decimal for orjson (which writes no Decimal): whole numbers as ints."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def meta(profile: str | None, updated: dt.datetime | str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if profile:
        out["profile"] = [profile]
    if updated is not None:
        out["lastUpdated"] = instant(updated)
    return out


def prune(resource: Resource) -> Resource:
    """Drop empty values at the top level (FHIR allows no empty strings, lists or objects)."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


def since_filter(since: dt.datetime | None, field: str = "updated_at") -> dict[str, Any]:
    return {f"{field}__gte": since} if since is not None else {}


def _hex_uuid(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 32:
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return None if value is None else str(value)


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _bool(value: Any) -> Any:
    return None if value is None else bool(value)


def _passthrough(value: Any) -> Any:
    return value


# Each column's value as the mappings take it, from what the database driver gives: SQLite's naive UTC
# datetimes stay naive (instant() writes them with their offset), UUIDs become their dashed text, JSON is
# parsed, booleans are booleans; decimals stay numbers (num() writes them). Django's own converters would
# build aware datetimes only for the mapping to write them back out: a third of an export's time.
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "UUIDField": _hex_uuid,
    "JSONField": _json,
    "BooleanField": _bool,
}


def _converter(field: Any) -> Callable[[Any], Any]:
    while field.is_relation:
        field = field.target_field
    return _CONVERTERS.get(field.get_internal_type(), _passthrough)


def rows(queryset: Any) -> Iterator[Row]:
    """The rows of a values() query over a plain cursor, in chunks, so an export's memory stays flat.

    The SQL (filters, joins, order) is the query's own, compiled by Django; only the per-value conversion
    is ours (above)."""
    query = queryset.query
    names = [*query.values_select, *query.annotation_select]
    model = queryset.model
    converters = []
    for name in names:
        if name in query.annotation_select:
            converters.append(_converter(query.annotation_select[name].output_field))
        else:
            converters.append(_converter(model._meta.get_field(name)))
    sql, params = query.get_compiler(queryset.db).as_sql()
    pairs = list(zip(names, converters, strict=True))
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(2000):
            for raw in batch:
                yield {name: convert(value) for (name, convert), value in zip(pairs, raw, strict=True)}
