"""The data folder and the SQLite database are the server user's only: 0700 and 0600, -wal and -shm too.

`ketaclinic migrate` runs here as a newcomer's first command does, into a data folder that does not exist
yet, from a process whose umask would leave files readable by everyone (022). It migrates one small app
(contenttypes): the command makes the folder, the key and the database file before it migrates anything, and
the whole project's migrations would add 35-40 s of CPU and no file. An existing folder that is open to
others is tightened with a warning when it is KetaClinic's own, and refused when it is shared.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ketaclinic import config
from ketaclinic.web.tests.servers import server_env

LOOSE_UMASK = 0o022


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def ketaclinic(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ketaclinic", *args],
        env=server_env(data_dir),  # the demo's environment, on this data folder and SQLite
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
        preexec_fn=lambda: os.umask(LOOSE_UMASK),  # the child's umask, before it starts
    )


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(LOOSE_UMASK)
    yield
    os.umask(previous)


@pytest.mark.installation
def test_migrate_and_collectstatic_create_a_private_folder_database_and_files(
    tmp_path: Path, loose_umask: None
) -> None:
    data_dir = tmp_path / "new" / "data"
    ketaclinic(data_dir, "migrate", "contenttypes", "--noinput", "-v0")
    database = data_dir / config.DATABASE_FILE
    assert mode(data_dir) == 0o700
    assert mode(database) == 0o600 and database.stat().st_size > 0
    assert mode(data_dir / "secret_key") == 0o600
    # Any process that writes to the database (this one, umask 022) gets -wal and -shm files as private
    # as the database file.
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        db.execute("CREATE TABLE mode_probe (x)")
        assert {mode(Path(f"{database}-{end}")) for end in ("wal", "shm")} == {0o600}
    ketaclinic(data_dir, "collectstatic", "--noinput", "-v0")
    everything = [data_dir, *data_dir.rglob("*")]
    assert {oct(mode(p)) for p in everything if p.is_dir()} == {oct(0o700)}
    assert {oct(mode(p)) for p in everything if p.is_file()} == {oct(0o600)}


@pytest.mark.installation
def test_a_wsgi_server_of_its_own_umask_gets_a_private_database_too(tmp_path: Path) -> None:
    """Another WSGI server (gunicorn ketaclinic.wsgi) does not pass through the `ketaclinic` command."""
    data_dir = tmp_path / "data"
    opens = "from ketaclinic.wsgi import application; from django.db import connection; "
    opens += "connection.cursor().execute('CREATE TABLE probe (x)')"
    subprocess.run(
        [sys.executable, "-c", opens],
        env=server_env(data_dir),
        check=True,
        timeout=180,
        preexec_fn=lambda: os.umask(LOOSE_UMASK),
    )
    assert mode(data_dir) == 0o700
    assert {mode(p) for p in data_dir.iterdir()} == {0o600}


@pytest.mark.installation
def test_ketaclinic_commands_create_private_files(tmp_path: Path) -> None:
    shown = ketaclinic(tmp_path / "data", "shell", "-c", "import os; print(oct(os.umask(0)))")
    assert shown.stdout.splitlines()[-1] == oct(config.PRIVATE_UMASK)


def test_an_open_folder_of_our_own_and_its_files_are_tightened_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    for name in (config.DATABASE_FILE, f"{config.DATABASE_FILE}-wal", "secret_key"):
        (data_dir / name).write_text("")
        (data_dir / name).chmod(0o644)
    (data_dir / "unrelated.txt").write_text("")
    (data_dir / "unrelated.txt").chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="ketaclinic.config"):
        config.private_data_dir(data_dir)
    assert mode(data_dir) == 0o700
    assert mode(data_dir / config.DATABASE_FILE) == mode(data_dir / "secret_key") == 0o600
    assert mode(data_dir / f"{config.DATABASE_FILE}-wal") == 0o600
    assert mode(data_dir / "unrelated.txt") == 0o644  # not ours to change; unreachable inside 0700
    assert "now 0700" in caplog.text and "now 0600" in caplog.text


def test_a_private_folder_is_left_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    config.private_data_dir(data_dir)
    assert mode(data_dir) == 0o700 and not caplog.records


def test_a_shared_folder_is_refused_not_changed(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    with pytest.raises(config.ConfigError, match="not KetaClinic's own"):
        config.private_data_dir(shared)
    assert mode(shared) == 0o1777


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_of_another_user_is_refused_not_changed(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    theirs.chmod(0o755)
    os.chown(theirs, 65534, 65534)  # nobody
    with pytest.raises(config.ConfigError, match="open to other users"):
        config.private_data_dir(theirs)
    assert mode(theirs) == 0o755


def test_the_database_file_is_created_private_and_an_existing_one_kept(tmp_path: Path) -> None:
    path = tmp_path / config.DATABASE_FILE
    assert config.private_file(path) == path and mode(path) == 0o600
    path.write_bytes(b"data")
    config.private_file(path)
    assert path.read_bytes() == b"data"
