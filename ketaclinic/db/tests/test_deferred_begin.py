"""A transaction that begins late (DatabaseWrapper.deferred_begin, ketaclinic/db/sqlite3/base.py): its reads
run without the write lock, while another writer holds it; its first write (or savepoint) takes the lock,
sends BEGIN IMMEDIATE and runs on_begin before anything else; a block that only reads never takes the lock.
The idempotency hook claims a request's key this way (ketaclinic/idempotency/tests/test_deferred.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections, transaction

from ketaclinic.db.sqlite3.base import DatabaseWrapper
from ketaclinic.db.tests.test_writer_queue import _lock_file_free, _wrapper, _Writer

pytestmark = pytest.mark.skipif(
    connections["default"].vendor != "sqlite", reason="the late BEGIN is the SQLite backend's"
)


class Claimed(BaseException):
    pass


@pytest.fixture
def probe(tmp_path: Path, django_db_blocker: Any) -> Iterator[tuple[Path, DatabaseWrapper]]:
    """A database file of its own with a table `probe`, and a connection to it registered as an alias, so
    that transaction.atomic(using=...) runs on it (in this thread)."""
    path = tmp_path / "probe.sqlite3"
    with django_db_blocker.unblock():
        wrapper = _wrapper(path)
        with wrapper.cursor() as cursor:
            cursor.execute("CREATE TABLE probe (who TEXT)")
        connections[wrapper.alias] = wrapper
        try:
            yield path, wrapper
        finally:
            wrapper.close()
            del connections[wrapper.alias]


def _rows(wrapper: DatabaseWrapper) -> list[str]:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT who FROM probe ORDER BY rowid")
        return [who for (who,) in cursor.fetchall()]


def _insert(wrapper: DatabaseWrapper, who: str) -> None:
    with wrapper.cursor() as cursor:
        cursor.execute("INSERT INTO probe (who) VALUES (%s)", [who])


def test_reads_do_not_wait_for_another_writer_and_the_first_write_does(
    probe: tuple[Path, DatabaseWrapper],
) -> None:
    path, wrapper = probe
    log: list[str] = []
    other = _Writer(path, "other", log)
    other.start()
    assert other.began.wait(10)

    def claim() -> None:
        log.append("claimed")
        _insert(wrapper, "claim")

    with wrapper.deferred_begin(claim), transaction.atomic(using=wrapper.alias):
        started = time.monotonic()
        assert _rows(wrapper) == []  # read while the other writer holds the lock
        assert time.monotonic() - started < 1
        assert wrapper.is_deferred() and not _lock_file_free(path)  # the lock is the other's
        threading.Timer(0.3, other.go.set).start()
        _insert(wrapper, "mine")  # waits for the other writer to commit
        assert not wrapper.is_deferred()
    other.join(10)
    assert log == ["other began", "other ends (commit)", "claimed"]
    assert _rows(wrapper) == ["other", "claim", "mine"]  # on_begin's write came first
    assert _lock_file_free(path)


def test_a_block_that_only_reads_takes_no_lock_and_runs_no_claim(probe: tuple[Path, DatabaseWrapper]) -> None:
    path, wrapper = probe
    claims: list[str] = []
    with wrapper.deferred_begin(lambda: claims.append("claimed")), transaction.atomic(using=wrapper.alias):
        assert _rows(wrapper) == []
        assert _lock_file_free(path)
        assert wrapper.is_deferred()
    assert claims == []
    assert not wrapper.is_deferred()
    with transaction.atomic(using=wrapper.alias):  # the next block begins as usual, holding the lock
        assert not wrapper.is_deferred() and not _lock_file_free(path)
    assert _lock_file_free(path)


def test_what_the_claim_raises_unwinds_from_the_write_and_rolls_back(
    probe: tuple[Path, DatabaseWrapper],
) -> None:
    path, wrapper = probe
    after_write: list[str] = []

    def claim() -> None:
        _insert(wrapper, "claim")
        raise Claimed

    with pytest.raises(Claimed), wrapper.deferred_begin(claim), transaction.atomic(using=wrapper.alias):
        try:
            _insert(wrapper, "mine")
            after_write.append("went on")
        except Exception:  # an action's broad handler does not take it
            after_write.append("caught")
    assert after_write == []
    assert _rows(wrapper) == []  # the claim's row rolled back with the rest
    assert _lock_file_free(path)


def test_a_savepoint_begins_it_and_a_block_inside_another_is_not_deferred(
    probe: tuple[Path, DatabaseWrapper],
) -> None:
    path, wrapper = probe
    claims: list[str] = []
    with (
        wrapper.deferred_begin(lambda: claims.append("claimed")),
        transaction.atomic(using=wrapper.alias),
        transaction.atomic(using=wrapper.alias),  # SAVEPOINT: a write of the transaction
    ):
        assert claims == ["claimed"] and not _lock_file_free(path)
    assert _lock_file_free(path)

    claims.clear()
    with (
        transaction.atomic(using=wrapper.alias),  # begun as usual
        wrapper.deferred_begin(lambda: claims.append("claimed")),
        transaction.atomic(using=wrapper.alias),
    ):
        assert not wrapper.is_deferred()  # a savepoint of a transaction already begun
        _insert(wrapper, "inner")
    assert claims == []
    assert _rows(wrapper) == ["inner"]
