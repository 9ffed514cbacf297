"""SQLite writers queue on the lock file beside the database (ketaclinic/db/sqlite3/base.py): a second
writer waits for the first and begins the moment it commits, rolls back or closes; one that waits past the
database's timeout gets SQLite's own "database is locked"."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError, connections

from ketaclinic.db.sqlite3.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(
    connections["default"].vendor != "sqlite", reason="the queue is the SQLite backend's"
)


def _wrapper(path: Path | str, timeout: float = 20) -> DatabaseWrapper:
    options = {"transaction_mode": "IMMEDIATE", "timeout": timeout}
    config = {**connections["default"].settings_dict, "NAME": str(path), "OPTIONS": options}
    return DatabaseWrapper(config, alias=f"probe-{threading.get_ident()}-{time.monotonic_ns()}")


def _begin(wrapper: DatabaseWrapper) -> None:
    wrapper.ensure_connection()
    wrapper._start_transaction_under_autocommit()


class _Writer(threading.Thread):
    """A writer in its own thread (a connection belongs to its thread): begins, says so, writes a row, then
    ends its transaction as told ("commit", "rollback" or "close") once `go` is set."""

    def __init__(self, path: Path, name: str, log: list[str], end: str = "commit", timeout: float = 20):
        super().__init__(daemon=True)
        self.path, self.label, self.log, self.end, self.timeout = path, name, log, end, timeout
        self.began, self.go = threading.Event(), threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        wrapper = _wrapper(self.path, self.timeout)
        try:
            _begin(wrapper)
            self.log.append(f"{self.label} began")
            self.began.set()
            self.go.wait(10)
            with wrapper.cursor() as cursor:
                cursor.execute("INSERT INTO probe (who) VALUES (%s)", [self.label])
            self.log.append(f"{self.label} ends ({self.end})")
            {"commit": wrapper.commit, "rollback": wrapper.rollback, "close": wrapper.close}[self.end]()
        except BaseException as error:  # handed to the test
            self.error = error
            self.began.set()
        finally:
            wrapper.close()


@pytest.fixture
def database(tmp_path: Path, django_db_blocker: Any) -> Iterator[Path]:
    """A database file of its own (not the suite's), its connections let through pytest-django's guard."""
    path = tmp_path / "probe.sqlite3"
    with django_db_blocker.unblock():
        wrapper = _wrapper(path)
        with wrapper.cursor() as cursor:
            cursor.execute("CREATE TABLE probe (who TEXT)")
        wrapper.close()
        yield path


def _lock_file_free(path: Path) -> bool:
    """Whether another open of the lock file beside the database could take it now."""
    fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def _rows(path: Path) -> list[Any]:
    wrapper = _wrapper(path)
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT who FROM probe ORDER BY rowid")
        rows = [row[0] for row in cursor.fetchall()]
    wrapper.close()
    return rows


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_second_writer_waits_and_begins_when_the_first_ends(database: Path, end: str) -> None:
    log: list[str] = []
    first = _Writer(database, "first", log, end=end)
    second = _Writer(database, "second", log)
    assert _lock_file_free(database)
    first.start()
    assert first.began.wait(5)
    assert not _lock_file_free(database), "a transaction began without the writers' lock"
    second.start()
    time.sleep(0.3)
    assert log == ["first began"], "the second writer began while the first held the lock"
    first.go.set()
    assert second.began.wait(5)
    second.go.set()
    first.join(5)
    second.join(5)
    assert first.error is None and second.error is None, (first.error, second.error)
    assert log == ["first began", f"first ends ({end})", "second began", "second ends (commit)"]
    assert _lock_file_free(database), "the lock outlived its transaction"
    assert _rows(database) == (["first", "second"] if end == "commit" else ["second"])


def test_a_writer_waiting_past_the_timeout_is_told_the_database_is_locked(database: Path) -> None:
    log: list[str] = []
    first = _Writer(database, "first", log)
    first.start()
    assert first.began.wait(5)
    late = _Writer(database, "late", log, timeout=0.2)
    started = time.monotonic()
    late.start()
    late.join(5)
    assert isinstance(late.error, OperationalError) and "database is locked" in str(late.error)
    assert 0.2 <= time.monotonic() - started < 3
    first.go.set()
    first.join(5)
    assert _rows(database) == ["first"]
    # The refused writer held nothing: the next one begins at once.
    after = _Writer(database, "after", log, timeout=0.5)
    after.start()
    after.go.set()
    after.join(5)
    assert after.error is None and _rows(database) == ["first", "after"]


def test_an_in_memory_database_has_no_lock_file() -> None:
    assert _wrapper(":memory:")._writer_lock_path() is None


def test_the_product_serves_sqlite_through_the_queue() -> None:
    assert settings.DATABASES["default"]["ENGINE"] == "ketaclinic.db.sqlite3"


def test_a_writer_waits_for_a_writer_of_another_process(database: Path) -> None:
    """Another process's writer holds the lock file (its own open of it: flock locks are per open file)."""
    other = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    log: list[str] = []
    writer = _Writer(database, "ours", log)
    try:
        writer.start()
        time.sleep(0.3)
        assert log == [], "a writer began while another process held the lock file"
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    assert writer.began.wait(5)
    writer.go.set()
    writer.join(5)
    assert writer.error is None and _rows(database) == ["ours"]


def test_writers_of_one_process_wait_without_polling_the_lock_file(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one thread writes, the process's other writers sleep on a thread lock: none tries the file."""
    tries: list[int] = []
    real_flock = fcntl.flock

    def counted(fd: int, operation: int) -> None:
        if operation & fcntl.LOCK_EX:
            tries.append(threading.get_ident())
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", counted)  # the module the backend calls it through
    log: list[str] = []
    first = _Writer(database, "first", log)
    first.start()
    assert first.began.wait(5)
    waiting = [_Writer(database, f"w{n}", log) for n in range(3)]
    for writer in waiting:
        writer.start()
    time.sleep(0.3)
    assert len(tries) == 1, f"waiting writers tried the lock file {len(tries) - 1} times"
    first.go.set()
    for writer in waiting:
        writer.go.set()  # each writes as soon as it begins, in whatever order they are let through
    for writer in [first, *waiting]:
        writer.join(5)
        assert writer.error is None
    assert sorted(_rows(database)) == ["first", "w0", "w1", "w2"]
