"""Loading model instances over a plain cursor, for the few reads on every request's hot path.

Django's QuerySet spends most of a query's cost building the SQL; the same SELECT through a cursor costs
tens of microseconds (docs/performance.md). `fetch` keeps real model instances, so templates, properties
and get_FOO_display work as usual, and converts column values the way the ORM would on SQLite and
PostgreSQL alike. Use it only where a page or endpoint is measured; everywhere else the ORM's clarity wins.

It cannot silently go wrong:

- Filters are keyword arguments, never SQL: `fetch(Model, patient=p, status__ne=x, order_by=("-id",))`.
  Equality (None is IS NULL), `__ne` (as exclude(): NULL counts as different) and `__in` are all there is;
  anything else raises. Values are prepared by their field, so a UUID or a model instance just works.
- A model is checked field by field on first use: a field type without a converter here, or one that
  defines from_db_value (other than a plain JSONField), raises UnsupportedField naming model and field.
  tests/test_fastload.py compares every row of every installed model with the ORM's, on both databases.

Measured in process (bench/fastload_timeit.py, SQLite, one thread, microseconds per call, on the shared
2-core machine under other load, so compare within a row):

    read                     QuerySet   .values()   .raw()   fastload
    patient by id               1713          -        311         58
    50 trials of a chart        3490        3142      2781       1687
    user by API token           1052          -        242        293 (two reads)

So fastload stays where it is 5x (one row) to 1.6x (50 rows) ahead of .raw(), and the API token lookup,
which needs a subquery, uses `.raw()`: as fast as two fastload reads, in one query.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache, lru_cache
from types import MethodType
from typing import Any, TypeVar, cast

from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import signals
from django.db.models.base import ModelState
from django.db.transaction import TransactionManagementError

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


def _time(value: Any) -> Any:
    return dt.time.fromisoformat(value) if isinstance(value, str) else value  # SQLite gives text


# A history section's rows repeat the same few values (the patient's id in every row, a handful of doses):
# the decimals and UUIDs made from the driver's values are kept, keyed by that value (both types are
# immutable), which makes a 50-trial section about 4 us a row cheaper (bench/reads_profile.py).
_KEPT = 4096


def _decimal(places: int) -> Convert:
    quantum = Decimal(1).scaleb(-places)

    @lru_cache(maxsize=_KEPT)
    def exact(value: int | float | str) -> Decimal:
        return Decimal(str(value)).quantize(quantum)

    def convert(value: Any) -> Any:
        if value is None or isinstance(value, Decimal):
            return value
        if not value:  # 0 and -0.0 are one key, but the ORM gives 0.00 and -0.00: made afresh
            return Decimal(str(value)).quantize(quantum)
        return exact(value)

    return convert


@lru_cache(maxsize=_KEPT)
def _uuid_of(text: str) -> uuid.UUID:
    return uuid.UUID(text)


def _uuid(value: Any) -> Any:
    return _uuid_of(value) if isinstance(value, str) else value


def _bool(value: Any) -> Any:
    return bool(value) if isinstance(value, int) else value


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class UnsupportedField(TypeError):
    """A model has a field whose database values fastload cannot convert exactly as the ORM does."""


# Field types whose values come back from every database driver as Python wants them. Exact types only:
# a subclass may override from_db_value or to_python, and is refused until it is listed.
_PASSED_THROUGH: frozenset[type[Any]] = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.SmallAutoField,
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveBigIntegerField,
        models.PositiveSmallIntegerField,
        models.CharField,
        models.TextField,
        models.FloatField,  # the driver's float is the ORM's (no from_db_value)
        models.EmailField,
        models.SlugField,
        models.URLField,
        models.GenericIPAddressField,
        models.BinaryField,
    }
)
_RELATIONS: frozenset[type[Any]] = frozenset({models.ForeignKey, models.OneToOneField})


def _converter(field: models.Field[Any, Any]) -> Convert | None:
    """How to turn the driver's value into the ORM's; None when it passes through. Raises for the rest."""
    kind = type(field)
    if isinstance(field, models.ForeignKey) and kind in _RELATIONS:
        return _converter(field.target_field)
    if kind is models.JSONField and getattr(field, "decoder", None) is None:
        return _json  # JSONField.from_db_value is json.loads with the field's decoder, here none
    if kind is models.DateTimeField:
        return _aware
    if kind is models.DateField:
        return _date
    if kind is models.TimeField:
        return _time
    if kind is models.DecimalField:
        return _decimal(field.decimal_places)  # type: ignore[attr-defined]
    if kind is models.UUIDField:
        return _uuid
    if kind is models.BooleanField:
        return _bool
    if kind in _PASSED_THROUGH and not hasattr(field, "from_db_value"):
        return None
    why = "defines from_db_value" if hasattr(field, "from_db_value") else "has no converter"
    raise UnsupportedField(
        f"fastload: {field.model._meta.label}.{field.name} ({kind.__name__}) {why}; load this model "
        "through the ORM, or teach fastload._converter the field and add it to tests/test_fastload.py"
    )


@cache
def _plan(model: type[models.Model]) -> tuple[str, list[str], list[tuple[int, Convert]]]:
    """The SELECT list, attribute names and converters of a model; raises UnsupportedField once, here."""
    fields = model._meta.concrete_fields
    columns = ", ".join(f"{model._meta.db_table}.{f.column}" for f in fields)
    converters = [(i, c) for i, f in enumerate(fields) if (c := _converter(f)) is not None]
    return columns, [f.attname for f in fields], converters


def check(model: type[models.Model]) -> None:
    """Raise UnsupportedField now if fetch() could not load `model` exactly as the ORM does."""
    _plan(model)


def param(model: type[models.Model], field: str, value: Any) -> Any:
    """A value as the database expects it for `field` (a UUID is hex text on SQLite, uuid on PostgreSQL)."""
    return _field(model, field).get_db_prep_value(value, connection)


def params(model: type[models.Model], field: str, values: Sequence[Any]) -> list[Any]:
    """Values of one field as the database expects them, prepared once for several queries (the list's
    safety flags send a page's 25 patient ids in three)."""
    prepare, db = _field(model, field).get_db_prep_value, connections[DEFAULT_DB_ALIAS]
    return [prepare(v, db) for v in values]


@cache
def _field(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name)


# The filters fetch() understands: `name=value` (equality; None is IS NULL), `name__ne=value` (not
# equal, as the ORM's exclude(): a NULL column counts as different), `name__in=[...]` (one of a
# non-empty list, for a page of patients) and `name__lte=value` (at most, as the ORM's __lte: a NULL
# column is never at most anything; the value may not be None). Nothing else: no joins.
_LOOKUPS = ("", "ne", "in", "lte")


def _shape(key: str, value: Any) -> int:
    """How a filter's value enters the SQL: -1 for NULL, 1 for one value, n for a list of n (`__in`)."""
    if key.endswith("__in"):
        if isinstance(value, str | bytes) or not len(value):
            raise ValueError(f"fastload: filter {key!r} needs a non-empty list of values")
        return len(value)
    return -1 if value is None else 1


@cache
def _select(
    model: type[models.Model], spec: tuple[tuple[str, int], ...], order_by: tuple[str, ...]
) -> tuple[str, tuple[Any, ...]]:
    """The SELECT for filters named in `spec` ((key, _shape) pairs) and an order, made once each; with
    the fields whose values become its parameters, in order."""
    columns = _plan(model)[0]
    table = model._meta.db_table
    clauses, fields = [], []
    for key, shape in spec:
        name, _, lookup = key.partition("__")
        if lookup not in _LOOKUPS:
            raise ValueError(
                f"fastload: {model.__name__} filter {key!r}: "
                "only equality, __ne, __in and __lte are supported"
            )
        try:
            field = _field(model, name)
        except FieldDoesNotExist as exc:
            raise ValueError(f"fastload: {model.__name__} has no field {name!r}") from exc
        if not field.concrete or field.many_to_many:
            raise ValueError(f"fastload: {model.__name__}.{name} is not a column")
        column = f"{table}.{field.column}"
        if lookup == "in":
            fields += [field] * shape
            clauses.append(f"{column} IN ({', '.join(['%s'] * shape)})")
            continue
        if shape < 0:
            if lookup == "lte":
                raise ValueError(f"fastload: {model.__name__} filter {key!r} needs a value, not None")
            clauses.append(f"{column} IS NOT NULL" if lookup else f"{column} IS NULL")
            continue
        fields.append(field)
        if lookup == "lte":
            clauses.append(f"{column} <= %s")
        elif not lookup:
            clauses.append(f"{column} = %s")
        elif field.null:
            clauses.append(f"({column} <> %s OR {column} IS NULL)")
        else:
            clauses.append(f"{column} <> %s")
    sql = f"SELECT {columns} FROM {table} WHERE {' AND '.join(clauses) or '1 = 1'}"  # noqa: S608 - from the model
    if order_by:
        sql += f" ORDER BY {_order(model, order_by)}"
    return sql, tuple(fields)


def _order(model: type[models.Model], order_by: Sequence[str]) -> str:
    terms = []
    for term in order_by:
        name = term.removeprefix("-")
        try:
            column = _field(model, name).column
        except FieldDoesNotExist as exc:
            raise ValueError(f"fastload: {model.__name__} cannot be ordered by {term!r}") from exc
        terms.append(f"{model._meta.db_table}.{column}" + (" DESC" if term.startswith("-") else ""))
    return ", ".join(terms)


def fetch(
    model: type[M],
    *,
    order_by: Sequence[str] = (),
    limit: int | None = None,
    offset: int = 0,
    for_update: bool = False,
    **filters: Any,
) -> list[M]:
    """Instances of `model` matching `filters` (see _LOOKUPS), built as the ORM would build them.

    `order_by` names fields, "-" first for descending. Column names come from the model, every value
    travels as a parameter: no SQL is written by callers. `for_update` locks the rows as
    `select_for_update()` does (FOR UPDATE where the database has it; SQLite's transactions take the
    database's write lock at BEGIN IMMEDIATE), and like it refuses to run outside a transaction.
    """
    if isinstance(order_by, str):
        raise TypeError("fastload: order_by is a sequence of field names")
    if offset and limit is None:
        raise ValueError("an offset needs a limit")
    _, names, converters = _plan(model)
    sql, fields = _select(model, tuple((k, _shape(k, v)) for k, v in filters.items()), tuple(order_by))
    db = connections[DEFAULT_DB_ALIAS]  # once: every `connection.x` is a lookup through a context-local
    given = [v for k, v in filters.items() for v in (v if k.endswith("__in") else [v])]
    values = [v.pk if isinstance(v, models.Model) else v for v in given if v is not None]
    params = [field.get_db_prep_value(v, db) for field, v in zip(fields, values, strict=True)]
    if limit is not None:
        sql += f" LIMIT {int(limit)}" + (f" OFFSET {int(offset)}" if offset else "")
    if for_update:
        if db.get_autocommit():
            raise TransactionManagementError("fastload: for_update outside a transaction locks nothing")
        if db.features.has_select_for_update:
            sql += " FOR UPDATE"
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
    # from_db is a classmethod: compare the functions behind the bound methods.
    own, base = cast(MethodType, model.from_db), cast(MethodType, models.Model.from_db)
    if listened or own.__func__ is not base.__func__:
        return model.from_db

    def build(alias: str, names: list[str], values: list[Any]) -> M:
        instance = model.__new__(model)
        instance.__dict__.update(zip(names, values, strict=True))
        instance._state = ModelState()
        instance._state.adding = False
        instance._state.db = alias
        return instance

    return build


def fetch_one(model: type[M], *, for_update: bool = False, **filters: Any) -> M | None:
    """The first instance matching `filters`, or None (fetch with a limit of one)."""
    found = fetch(model, limit=1, for_update=for_update, **filters)
    return found[0] if found else None


def get(model: type[M], *, for_update: bool = False, **filters: Any) -> M:
    """The first instance matching `filters`; raises the model's DoesNotExist, as QuerySet.get does."""
    found = fetch_one(model, for_update=for_update, **filters)
    if found is None:
        raise model.DoesNotExist(f"fastload: no {model.__name__} matches")  # type: ignore[attr-defined]
    return found


def hold(instance: models.Model, related_name: str, rows: Sequence[models.Model]) -> None:
    """Hold `rows` as `prefetch_related` holds a reverse foreign key's rows, so `instance.<related_name>
    .all()` answers them without a query, and each row's foreign key back is `instance` (no query either).

    The same three assignments as django.db.models.query.prefetch_one_level; a name that is not a reverse
    foreign key of the instance's model raises.
    """
    relation = instance._meta.get_field(related_name)
    if not (relation.one_to_many and relation.auto_created):
        raise ValueError(f"fastload: {type(instance).__name__}.{related_name} is not a reverse foreign key")
    back = relation.field.name  # type: ignore[union-attr]
    for row in rows:
        setattr(row, back, instance)
    queryset = getattr(instance, related_name).get_queryset()
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[related_name] = queryset
