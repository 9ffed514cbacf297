"""Django's SQLite backend, with writers that queue instead of sleeping.

Every KetaClinic transaction on SQLite starts with BEGIN IMMEDIATE, which takes the database's one write
lock. A second writer that finds it taken waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20,
25, 25, 25, 50, 50 and then 100 ms between tries: the lock is freed and taken by others many times while
a writer sleeps, so under load the lock stands idle between holders and the unlucky wait for seconds
(docs/performance.md, recording vitals: p99 four to five times the mean).

Here a transaction first takes an exclusive lock on a file beside the database (one lock file per
database; flock, so it is per connection, across threads and processes alike), polled every
`POLL_SECONDS`, and only then sends BEGIN IMMEDIATE; it lets the file go when the transaction commits,
rolls back or its connection closes. Writers hand the lock on within a poll instead of a sleep of up to
100 ms, and SQLite's own lock is then almost always free at BEGIN. Readers take no lock (WAL). A writer
that waits longer than the database's `timeout` gets the error SQLite gives then: "database is locked".

An in-memory database (the tests' own) has no file to lock beside it; it is served as Django serves it.

A transaction may also begin late (`DatabaseWrapper.deferred_begin`): the outermost atomic block sends no
BEGIN, its reads run as they would outside it, and the lock and BEGIN IMMEDIATE come before its first
statement that is not a SELECT (a write, or a savepoint: an inner atomic block). The idempotency hook uses
this to claim a request's key as the transaction's first write, so that a keyed request's reads wait for
no one (ketaclinic/idempotency/hook.py).

Its cursors also keep each statement's SQLite form: see QmarkKeptCursor.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# How often a waiting writer tries the lock file again: short against a transaction's few milliseconds,
# long enough that eight waiting threads cost under 1% of a core in wake-ups.
POLL_SECONDS = 0.0005

# The writers of one process queue on a thread lock first, per database, so that at most one thread of a
# process polls the lock file: a thread waiting on a thread lock sleeps in the kernel until it is let go.
# Seven threads polling the file cost about 8% of a core and woke the GIL 14,000 times a second, taken
# from the thread that held the lock (measured: docs/performance.md, recording vitals).
_process_writers: dict[str, threading.Lock] = {}
_process_writers_guard = threading.Lock()


def _process_writer_lock(path: str) -> threading.Lock:
    with _process_writers_guard:
        return _process_writers.setdefault(path, threading.Lock())


# Statements kept in their SQLite form, per process. A page's statements are the same few dozen texts on
# every request (values travel as parameters, never in the text); the bound keeps a process that builds
# unusual statements (long `IN` lists of varying length) from growing without limit: 1024 statements of
# about 1 kB, both forms, is about 2 MB.
KEPT_STATEMENTS = 1024


@lru_cache(maxsize=KEPT_STATEMENTS)
def _qmark(query: str) -> str:
    """Django's own "format" to "qmark" conversion of one statement (it reads nothing of the cursor)."""
    return base.SQLiteCursorWrapper.convert_query(None, query)  # type: ignore[arg-type]


class QmarkKeptCursor(base.SQLiteCursorWrapper):
    """Django's SQLite cursor, converting each statement's `%s` placeholders to `?` once per process.

    Django converts them on every execute with a regular expression whose lookbehind walks the whole
    statement: about 17 us for the 900-character SELECT of a chart section, as long as SQLite takes to run
    it, and 0.27 ms of a chart request's 14 statements (bench/reads_profile.py). The converted text is kept
    by statement. Named ("pyformat") parameters, which no KetaClinic code uses, go through Django's own
    conversion every time, as before.
    """

    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is not None:
            return str(super().convert_query(query, param_names=param_names))
        return _qmark(query)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer_fd: int | None = None
        self._writer_held = False
        self._process_held: threading.Lock | None = None
        # deferred_begin: what to run once the transaction has begun, kept from the atomic block's start
        # (self._defer) until its first write (self._pending); None when nothing waits.
        self._defer: Callable[[], None] | None = None
        self._pending: Callable[[], None] | None = None

    def create_cursor(self, name: Any = None) -> Any:
        return self.connection.cursor(factory=QmarkKeptCursor)

    def _writer_lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return f"{name}-writer.lock"

    def _take_writer_lock(self) -> None:
        if self._writer_held:
            raise AssertionError("ketaclinic.db.sqlite3: a transaction began inside another")
        path = self._writer_lock_path()
        if path is None:
            return
        if self._writer_fd is None:
            self._writer_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", 5))
        process_lock = _process_writer_lock(path)
        if not process_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise OperationalError("database is locked")  # as Django raises SQLite's own
        self._process_held = process_lock
        while True:
            try:
                fcntl.flock(self._writer_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._let_process_lock_go()
                    raise OperationalError("database is locked") from None  # as Django raises SQLite's own
                time.sleep(POLL_SECONDS)
                continue
            self._writer_held = True
            return

    def _let_process_lock_go(self) -> None:
        if self._process_held is not None:
            self._process_held.release()
            self._process_held = None

    def _let_writer_lock_go(self) -> None:
        if self._writer_held and self._writer_fd is not None:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
        self._writer_held = False
        self._let_process_lock_go()

    @contextmanager
    def deferred_begin(self, on_begin: Callable[[], None]) -> Iterator[None]:
        """Within this block, the next outermost atomic block begins its transaction late: before its first
        statement that is not a SELECT. Then, holding the write lock, on_begin() runs first; what it raises
        unwinds from that statement. Until then the block's reads run in autocommit, each seeing what is
        committed, as they would outside it.

        An atomic block inside another (a savepoint) is not deferred: `is_deferred()` then says False, and
        on_begin is never called. Leave this block only after the atomic block has ended."""
        self._defer = on_begin
        with self.execute_wrapper(self._begin_before_write):
            try:
                yield
            finally:
                self._defer = None

    def is_deferred(self) -> bool:
        """The transaction has not begun yet: no write lock, no BEGIN."""
        return self._pending is not None

    def _begin_before_write(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        on_begin = self._pending
        if on_begin is not None and not _reads_only(sql):
            self._pending = None  # first: on_begin's own statements run in the transaction begun here
            self._begin_holding_the_lock()
            on_begin()
        return execute(sql, params, many, context)

    def _start_transaction_under_autocommit(self) -> None:
        if self._defer is not None:
            self._pending, self._defer = self._defer, None
            return
        self._begin_holding_the_lock()

    def _begin_holding_the_lock(self) -> None:
        self._take_writer_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # Django's own, untyped
        except BaseException:
            self._let_writer_lock_go()
            raise

    def _commit(self) -> Any:
        self._pending = None  # never begun: nothing to commit (sqlite3's commit does nothing then)
        try:
            return super()._commit()  # type: ignore[misc]  # Django's own, untyped
        finally:
            self._let_writer_lock_go()

    def _rollback(self) -> Any:
        self._pending = None
        try:
            return super()._rollback()  # type: ignore[misc]  # Django's own, untyped
        finally:
            self._let_writer_lock_go()

    def _close(self) -> Any:
        self._pending = None
        try:
            return super()._close()  # type: ignore[misc]  # Django's own, untyped
        finally:
            self._let_writer_lock_go()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None


def _reads_only(sql: str) -> bool:
    """A SELECT: a statement a deferred transaction may run before it begins. Anything else (a write, a
    savepoint, a WITH that may write, a PRAGMA) begins it first."""
    return sql.lstrip()[:6].upper() == "SELECT"
