"""The SQLite backend's cursors keep each statement's "qmark" form (ketaclinic/db/sqlite3/base.py): the
same text Django's own conversion gives, made once per statement, and named parameters still Django's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import SQLiteCursorWrapper

from ketaclinic.db.sqlite3 import base

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend's cursor")

STATEMENTS = [
    "SELECT 1",
    "SELECT a FROM t WHERE b = %s AND c <> %s ORDER BY d LIMIT 51",
    "SELECT '%%s' || %s, 'x%%' FROM t WHERE e LIKE %s ESCAPE '\\'",
    "SELECT %%s, %%%s, %s%s",
]


@pytest.mark.parametrize("sql", STATEMENTS)
def test_the_kept_form_is_djangos(sql: str) -> None:
    assert base._qmark(sql) == SQLiteCursorWrapper.convert_query(None, sql)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_the_connections_cursors_keep_the_form() -> None:
    base._qmark.cache_clear()
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, base.QmarkKeptCursor)
        for _ in range(3):
            cursor.execute("SELECT %s || '%%', %s", ["a", 2])
            assert cursor.fetchone() == ("a%", 2)
    assert base._qmark.cache_info().misses == 1
    assert base._qmark.cache_info().hits == 2


@pytest.mark.django_db
def test_named_parameters_are_converted_as_django_does() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %(a)s || %(b)s", {"a": "x", "b": "y"})
        assert cursor.fetchone() == ("xy",)
