"""One new row's INSERT prepared before a transaction and sent inside it.

Model.save builds and compiles its INSERT while the transaction runs; on SQLite that is while the database's
one write lock is held (ketaclinic/db/sqlite3/base.py), so every other writer waits for it. Measured in
process: save() 0.28 ms against 0.07 ms for the same prepared statement (docs/performance.md, "A
submission's time under the write lock"). Here `prepare` gives the values as save would (each field's
pre_save, then get_db_prep_save) before the transaction, and `send` runs only the statement under the lock.

What save does beyond that is refused loudly: a listener for the model's save signals (none is sent), a
database that cannot answer the new id from the INSERT, or an unsaved related object (save()'s own check).
Fields named `late` are known only under the lock (read there): `send` prepares them then.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model, signals


def prepare(row: Model, *, late: Collection[str] = ()) -> list[Any]:
    """The INSERT's values for the unsaved `row`, None in place of the `late` fields."""
    model = type(row)
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        raise RuntimeError(f"prepared: something listens for {model.__name__}'s save signals; use save()")
    if not connection.features.can_return_columns_from_insert:
        raise RuntimeError("prepared: the database cannot return the new id from an INSERT; use save()")
    row._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    return [
        None if f.name in late else f.get_db_prep_save(f.pre_save(row, True), connection)
        for f in _fields(model)
    ]


def send(row: Model, values: list[Any], *, late: Collection[str] = ()) -> None:
    """Insert `row` with the values `prepare` gave (the `late` fields prepared now); it is saved after."""
    model = type(row)
    for i, f in enumerate(_fields(model)):
        if f.name in late:
            values[i] = f.get_db_prep_save(f.pre_save(row, True), connection)
    with connection.cursor() as cursor:
        cursor.execute(_sql(model), values)
        row.pk = cursor.fetchone()[0]
    row._state.adding = False
    row._state.db = connection.alias


@cache
def _fields(model: type[Model]) -> list[Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


@cache
def _sql(model: type[Model]) -> str:
    name, meta = connection.ops.quote_name, model._meta
    columns = ", ".join(name(str(f.column)) for f in _fields(model))
    marks = ", ".join(["%s"] * len(_fields(model)))
    table, key = name(meta.db_table), name(str(meta.pk.column))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {key}"  # noqa: S608 - names from the model
