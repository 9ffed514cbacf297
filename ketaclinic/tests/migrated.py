"""One empty KetaClinic database migrated once per test session, for the tests that start an installation of
their own (a `ketaclinic serve` on a SQLite file, an import into a new clinic).

Migrating an empty database takes 35-40 s of CPU here (Django renders the state of every migration), and
several tests each did it to get the same database. It is migrated once, in the background, as soon as
collection shows that one of those tests will run (conftest.py), with the production settings in a data
folder and key of its own; each test takes a copy: the database `ketaclinic migrate` makes, with no rows but
the migrations' own, as private as `ketaclinic migrate` leaves it (ketaclinic/tests/test_private_data.py
checks that part by migrating for real).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from ketaclinic import config

ROOT = Path(__file__).resolve().parents[2]
MIGRATE_SECONDS = 600

# The test files whose installations start from the copy (their node ids contain these).
WANTED_BY = (
    "ketaclinic/accounts/tests/test_signin_races.py",
    "ketaclinic/fhir/tests/test_round_trip_empty_database.py",
    "ketaclinic/idempotency/tests/test_concurrent.py",
)


def environment(data_dir: Path, key: str) -> dict[str, str]:
    """An installation's environment: the production settings on `data_dir` and `key`; nothing of the test
    process's database, data folder or key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_") and k != "DATABASE_URL"}
    env.update(
        KETACLINIC_DATA_DIR=str(data_dir),
        KETACLINIC_SECRET_KEY=key,
        DJANGO_SETTINGS_MODULE="ketaclinic.settings",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


class Template:
    """`ketaclinic migrate` of an empty database, running in the background from construction."""

    def __init__(self) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="ketaclinic-migrated-"))
        self.key = secrets.token_urlsafe(48)
        self.log = self.data_dir / "migrate.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ketaclinic", "migrate", "--noinput", "-v0"],
                env=environment(self.data_dir, self.key),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def copy_to(self, data_dir: Path) -> Path:
        """A copy of the migrated database in `data_dir` (made 0700 if new), once migrating has finished;
        the database file is 0600. The copy's path."""
        code = self.process.wait(timeout=MIGRATE_SECONDS)
        if code:
            raise AssertionError(f"migrate exited {code}:\n{self.log.read_text()}")
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = config.private_file(data_dir / config.DATABASE_FILE)
        source = sqlite3.connect(self.data_dir / config.DATABASE_FILE)
        target = sqlite3.connect(path)
        try:
            source.backup(target)  # reads the WAL too, unlike a file copy
        finally:
            source.close()
            target.close()
        return path

    def remove(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        shutil.rmtree(self.data_dir, ignore_errors=True)


_template: Template | None = None


def template() -> Template:
    """The session's migrated database, started on first use."""
    global _template
    if _template is None:
        _template = Template()
    return _template


def copy_to(data_dir: Path) -> Path:
    """A private copy of the session's migrated database in `data_dir` (see Template.copy_to)."""
    return template().copy_to(data_dir)


def remove_template() -> None:
    global _template
    if _template is not None:
        _template.remove()
        _template = None
