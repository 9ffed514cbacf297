"""Loading model instances over a plain cursor, for the few reads on every request's hot path.

Django's QuerySet costs about half a millisecond per query here, almost all of it in building the SQL;
the same SELECT through a cursor costs tens of microseconds (docs/performance.md). `fetch` keeps real
model instances, so templates, properties and get_FOO_display work as usual, and converts column values
the way the ORM would on SQLite and PostgreSQL alike. Use it only where a page or endpoint is measured;
everywhere else the ORM's clarity wins.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import signals
from django.db.models.base import ModelState

M = TypeVar("M", bound=models.Model)
Convert = Callable[[Any], Any]


def _aware(value: Any) -> Any:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _date(value: Any) -> Any:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _decimal(places: int) -> Convert:
    quantum = Decimal(1).scaleb(-places)

    def convert(value: Any) -> Any:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(str(value)).quantize(quantum)

    return convert


def _uuid(value: Any) -> Any:
    return uuid.UUID(value) if isinstance(value, str) else value


def _bool(value: Any) -> Any:
    return bool(value) if isinstance(value, int) else value


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _converter(field: models.Field) -> Convert | None:  # type: ignore[type-arg]
    if isinstance(field, models.ForeignKey):
        return _converter(field.target_field)
    if isinstance(field, models.DateTimeField):
        return _aware
    if isinstance(field, models.DateField):
        return _date
    if isinstance(field, models.DecimalField):
        return _decimal(field.decimal_places)
    if isinstance(field, models.UUIDField):
        return _uuid
    if isinstance(field, models.BooleanField):
        return _bool
    if isinstance(field, models.JSONField):
        return _json
    return None


@cache
def _plan(model: type[models.Model]) -> tuple[str, list[str], list[tuple[int, Convert]]]:
    fields = model._meta.concrete_fields
    columns = ", ".join(f"{model._meta.db_table}.{f.column}" for f in fields)
    converters = [(i, c) for i, f in enumerate(fields) if (c := _converter(f)) is not None]
    return columns, [f.attname for f in fields], converters


def param(model: type[models.Model], field: str, value: Any) -> Any:
    """A value as the database expects it for `field` (a UUID is hex text on SQLite, uuid on PostgreSQL)."""
    return _field(model, field).get_db_prep_value(value, connection)


@cache
def _field(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name)


def fetch(
    model: type[M],
    where: str,
    params: Sequence[Any],
    order_by: str = "",
    limit: int | None = None,
    offset: int = 0,
) -> list[M]:
    """SELECT every concrete column of `model` WHERE ... and build instances as the ORM would."""
    if offset and limit is None:
        raise ValueError("an offset needs a limit")
    columns, names, converters = _plan(model)
    # `where` and `order_by` are SQL written in our code; every value travels as a parameter.
    sql = f"SELECT {columns} FROM {model._meta.db_table} WHERE {where}"  # noqa: S608
    if order_by:
        sql += f" ORDER BY {order_by}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}" + (f" OFFSET {int(offset)}" if offset else "")
    db = connections[DEFAULT_DB_ALIAS]  # once: every `connection.x` is a lookup through a context-local
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    build, alias = _builder(model), db.alias
    out = []
    for row in rows:
        values = list(row)
        for index, convert in converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        out.append(build(alias, names, values))
    return out


@cache
def _builder(model: type[M]) -> Callable[[str, list[str], list[Any]], M]:
    """How to make an instance from a full row: as Model.from_db does, without running __init__.

    __init__ costs about 9 microseconds a row (it assigns each field through its descriptor, for
    arguments a loaded row never has); setting the attributes directly costs 1.5. It is what from_db
    does for every concrete field, so the result is the same instance, unless something listens for the
    model's init signals, or the model overrides from_db: then the ORM's own way is kept.
    """
    listened = signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)
    if listened or model.from_db.__func__ is not models.Model.from_db.__func__:
        return model.from_db

    def build(alias: str, names: list[str], values: list[Any]) -> M:
        instance = model.__new__(model)
        instance.__dict__.update(zip(names, values, strict=True))
        instance._state = ModelState()
        instance._state.adding = False
        instance._state.db = alias
        return instance

    return build


def fetch_one(model: type[M], where: str, params: Sequence[Any]) -> M | None:
    found = fetch(model, where, params, limit=1)
    return found[0] if found else None
