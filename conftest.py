"""Shared fixtures: a small demo clinic network built through the actions, and its personas.

`world` loads the demo network (north and south, one persona per role at each) with a few patients per
location; tests log in as `<role>.<location>` exactly as a newcomer does in `make run`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.http import HttpRequest
from django.template.backends import jinja2 as jinja2_backend
from django.test import Client
from django.test.signals import template_rendered
from django.utils import timezone

from ketaclinic.accounts.actions import do_create_api_token
from ketaclinic.accounts.models import ClinicNetwork, User
from ketaclinic.demo import data as demo
from ketaclinic.patients.models import Patient
from ketaclinic.tests import memo, migrated

ROLES = ("admin", "prescriber", "nurse", "therapist", "frontdesk")

PATIENTS_PER_LOCATION = 4


class World:
    def user(self, name: str) -> User:
        return User.objects.get(username=name)

    def network(self, name: str) -> ClinicNetwork:
        """The clinic network a persona belongs to (every persona has one)."""
        network = self.user(name).network
        assert network is not None
        return network

    def patient(self, location: str, index: int = 0) -> Patient:
        return Patient.objects.filter(location__slug=location).order_by("mrn")[index]

    def client(self, name: str | None) -> Client:
        client = Client()
        if name is not None:
            client.force_login(self.user(name))
        return client

    def token(self, name: str) -> str:
        return do_create_api_token(self.user(name), name="test client")[1]

    def api(self, name: str | None) -> Client:
        """A client that sends `Authorization: Bearer <token>` for `name` (anonymous when None)."""
        headers = {"Authorization": f"Bearer {self.token(name)}"} if name else {}
        return Client(headers=headers)


def load_world() -> None:
    demo.load(timezone.localdate(), patients_per_location=PATIENTS_PER_LOCATION)


class Snapshot:
    """The rows the demo network adds to a freshly migrated database, captured once per test session and
    written back at the start of each test that asks for the world (inside the test's transaction, which
    rolls them back with everything else the test did).

    Loading the network through the actions took about 0.2 s of CPU per test (0.6 s wall on a busy machine);
    writing its rows back takes a few ms. Every test still starts from the same rows the actions make, with
    the same ids. A row the loading changed (the audit chain's head) is deleted and written back as it was
    after loading; a changed row of a table without a primary key fails the capture loudly.
    """

    def __init__(self) -> None:
        self.rows: dict[str, tuple[list[str], list[Any]]] = {}
        self.gone: dict[str, tuple[str, list[Any]]] = {}

    @staticmethod
    def _tables() -> list[str]:
        names = connection.introspection.table_names(include_views=False)
        return [n for n in names if not n.startswith("sqlite_") and n != "django_migrations"]

    @staticmethod
    def _read(table: str) -> tuple[list[str], list[Any]]:
        quoted = connection.ops.quote_name(table)
        with connection.cursor() as cursor:
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            if connection.vendor == "postgresql":
                # COPY's text form round-trips every column type (json, arrays, intervals) unchanged.
                with cursor.cursor.copy(f"COPY {quoted} TO STDOUT") as copy:
                    data = b"".join(bytes(chunk) for chunk in copy)
                return columns, data.splitlines(keepends=True)
            # ifnull(column, NULL) is the stored value itself, without the declared type that would turn it
            # into a Python date or time the INSERT could not take back.
            stored = ", ".join(f"ifnull({connection.ops.quote_name(c)}, NULL)" for c in columns)
            cursor.execute(f"SELECT {stored} FROM {quoted}")  # noqa: S608 - names from the schema
            return columns, cursor.fetchall()

    @classmethod
    def capture(cls, load: Any) -> Snapshot:
        snapshot = cls()
        with transaction.atomic():
            before = {table: cls._read(table) for table in cls._tables()}
            load()
            for table in cls._tables():
                columns, after = cls._read(table)
                old = set(before.get(table, (columns, []))[1])
                now = set(after)
                added = [row for row in after if row not in old]
                gone = [row for row in old if row not in now]  # changed rows (the audit chain's head)
                if added or gone:
                    snapshot.rows[table] = (columns, added)
                if gone:
                    key = cls._primary_key(table, columns)
                    snapshot.gone[table] = (key, [cls._value(row, columns.index(key)) for row in gone])
            transaction.set_rollback(True)
        return snapshot

    @staticmethod
    def _primary_key(table: str, columns: list[str]) -> str:
        with connection.cursor() as cursor:
            key = connection.introspection.get_primary_key_column(cursor, table)
        if key is None:
            raise AssertionError(f"loading the demo changed rows of {table}, which has no primary key")
        return key

    @staticmethod
    def _value(row: Any, index: int) -> Any:
        return row.rstrip(b"\n").split(b"\t")[index].decode() if isinstance(row, bytes) else row[index]

    def restore(self) -> None:
        """Foreign keys are checked at commit (deferred), so the tables can be written in any order: in one
        transaction, also for the tests that run outside the test's own."""
        with transaction.atomic(), connection.cursor() as cursor:
            for table, (key, values) in self.gone.items():
                quoted, column = connection.ops.quote_name(table), connection.ops.quote_name(key)
                cast = "::text" if connection.vendor == "postgresql" else ""
                for value in values:
                    cursor.execute(f"DELETE FROM {quoted} WHERE {column}{cast} = %s", [value])  # noqa: S608
            for table, (columns, rows) in self.rows.items():
                quoted = connection.ops.quote_name(table)
                names = ", ".join(connection.ops.quote_name(c) for c in columns)
                if connection.vendor == "postgresql":
                    with cursor.cursor.copy(f"COPY {quoted} ({names}) FROM STDIN") as copy:
                        copy.write(b"".join(rows))
                    continue
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {quoted} ({names}) VALUES ({marks})", rows)  # noqa: S608


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start migrating the empty database that installations of their own copy (ketaclinic/tests/migrated.py)
    as soon as it is known that a test will want it: about 35 s of one core, while the suite's own database is
    made and the other tests run."""
    if any(wanted in item.nodeid for item in session.items for wanted in migrated.WANTED_BY):
        migrated.template()


def pytest_sessionfinish(session: pytest.Session) -> None:
    migrated.remove_template()


@pytest.fixture(scope="session")
def world_snapshot(django_db_setup: None, django_db_blocker: Any) -> Snapshot:
    with django_db_blocker.unblock():
        return Snapshot.capture(load_world)


@pytest.fixture
def world(db: None, world_snapshot: Snapshot) -> World:
    memo.forget()
    if connection.in_atomic_block:  # the test's transaction, rolled back after it
        world_snapshot.restore()
    else:  # a test that commits (transactional_db) starts from a flushed database: load it for real
        load_world()
    return World()


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture(autouse=True, scope="session")
def jinja2_context_in_responses() -> Iterator[None]:
    """`response.context` for Jinja2 pages too: the test client hears of Django templates only.

    Django's test environment instruments its own template language; this sends the same signal when a
    Jinja2 page renders, with the context the page saw (the view's, the request and the navigation).
    """
    original = jinja2_backend.Template.render

    def render(
        self: jinja2_backend.Template,
        context: dict[str, Any] | None = None,
        request: HttpRequest | None = None,
    ) -> str:
        context = {} if context is None else context
        html = original(self, context, request)  # adds the request, the CSRF token and the navigation
        template_rendered.send(sender=self, template=self, context=context)
        return html

    jinja2_backend.Template.render = render  # type: ignore[method-assign]
    yield
    jinja2_backend.Template.render = original  # type: ignore[method-assign]
