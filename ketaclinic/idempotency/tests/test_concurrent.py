"""Concurrent requests with one Idempotency-Key: one registration, and every answer is the first one.

The requests are sent at once from threads. A request that finds its key taken by one still in flight waits
for it (SQLite's write lock, PostgreSQL's unique index) and replays its answer; none gets an error or makes
a second patient. On PostgreSQL the requests run in this process, each thread with its own connection to
the test database, against committed data (transactional tests). The test database of SQLite is in memory,
shared between threads through SQLite's shared cache, where a lock is an immediate error instead of a wait
(no busy timeout), unlike the database file a server uses; so on SQLite the race is run against a real
`ketaclinic serve` on a database file (two worker processes, four threads each), whatever the suite's
database.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client

from ketaclinic.audit.actions import verify_chain
from ketaclinic.audit.tests.test_writer import chain as chain
from ketaclinic.idempotency.keys import HEADER, REPLAYED_HEADER
from ketaclinic.idempotency.models import IdempotencyKey
from ketaclinic.patients.models import Patient
from ketaclinic.tests import migrated
from ketaclinic.web.tests.servers import free_port, server_env
from ketaclinic.web.tests.test_serve import alive, descendants

THREADS = 6
JOIN_SECONDS = 60
START_SECONDS = 120  # the demo and Django's start-up, on a machine shared with other work
URL = "/api/v1/patients"
BODY: dict[str, object] = {
    "location": "north",
    "given_name": "Race",
    "family_name": "Condition",
    "date_of_birth": "1975-05-06",
    "sex": "male",
}


@pytest.fixture
def committed_world(chain: None) -> Iterator[None]:
    """The demo clinic, committed for real so that other connections see it (flushed afterwards)."""
    from django.utils import timezone

    from ketaclinic.demo import data as demo

    demo.load(timezone.localdate(), patients_per_location=1)
    yield


def _token(username: str) -> str:
    from ketaclinic.accounts.actions import do_create_api_token
    from ketaclinic.accounts.models import User

    return do_create_api_token(User.objects.get(username=username), name="retry race")[1]


Answer = tuple[int, bytes, dict[str, str]]
Send = Callable[[dict[str, object]], Answer]


def _race(send: Send, bodies: list[dict[str, object]]) -> list[Answer]:
    """Send each body at the same moment from its own thread; the answers in order."""
    start = threading.Barrier(len(bodies))
    answers: list[Answer | None] = [None] * len(bodies)

    def run(index: int) -> None:
        start.wait()
        answers[index] = send(bodies[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
        assert not thread.is_alive(), "a request with a repeated key never finished"
    return [answer for answer in answers if answer is not None]


def _in_process(token: str, key: str | None) -> Send:
    """POST a registration through Django's test client, on this thread's own connection."""

    def send(body: dict[str, object]) -> Answer:
        headers = {"Authorization": f"Bearer {token}", **({HEADER: key} if key else {})}
        try:
            response = Client(headers=headers).post(URL, json.dumps(body), "application/json")
            return response.status_code, response.content, _lower(response.items())
        finally:
            connections.close_all()

    return send


def _over_http(port: int, token: str, key: str) -> Send:
    def send(body: dict[str, object]) -> Answer:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{URL}",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", HEADER: key, "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=JOIN_SECONDS) as response:
                return response.status, response.read(), _lower(response.headers.items())
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read(), _lower(refused.headers.items())

    return send


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


def _one_answer(answers: list[Answer]) -> None:
    """Every answer is the first registration's, and all but one are replays."""
    assert [status for status, _, _ in answers] == [201] * THREADS, [a[:2] for a in answers]
    assert len({body for _, body, _ in answers}) == 1
    assert len({headers["location"] for _, _, headers in answers}) == 1
    assert sum(REPLAYED_HEADER.lower() in headers for _, _, headers in answers) == THREADS - 1


in_process = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite's in-memory test database cannot wait for a lock"
)


@in_process
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_register_once(committed_world: None) -> None:
    _one_answer(_race(_in_process(_token("nurse.north"), "race-1"), [BODY] * THREADS))
    assert Patient.objects.filter(family_name="Condition").count() == 1
    assert IdempotencyKey.objects.count() == 1
    assert verify_chain().ok


@in_process
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_and_two_bodies_register_one(committed_world: None) -> None:
    other = {**BODY, "given_name": "Other"}
    answers = _race(_in_process(_token("nurse.north"), "race-2"), [BODY, other] * (THREADS // 2))
    statuses = sorted(status for status, _, _ in answers)
    # Whichever body ran first owns the key: its copies replay, the others are refused.
    assert statuses == [201] * (THREADS // 2) + [422] * (THREADS // 2), [a[:2] for a in answers]
    assert Patient.objects.filter(family_name="Condition").count() == 1


@in_process
@pytest.mark.django_db(transaction=True)
def test_without_a_key_the_same_race_registers_every_time(committed_world: None) -> None:
    """The control: the race above is real, and would make duplicates without the key."""
    confirmed = {**BODY, "confirm_duplicate": True}
    answers = _race(_in_process(_token("nurse.north"), None), [confirmed] * 3)
    assert [status for status, _, _ in answers] == [201] * 3
    assert Patient.objects.filter(family_name="Condition").count() == 3


def _run(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ketaclinic", *args],
        env=server_env(data_dir),
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=True,
    )
    return done.stdout


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, str, Path]]:
    """A demo `ketaclinic serve` on a SQLite file: its port, a nurse's token and its data folder."""
    data_dir = tmp_path / "data"
    migrated.copy_to(data_dir)  # the empty database `ketaclinic migrate` makes
    _run(data_dir, "load_demo", "--patients", "1")
    token = _run(data_dir, "create_api_token", "nurse.north", "--name", "retry race").strip()
    port = free_port()
    command = [sys.executable, "-m", "ketaclinic", "serve", "--port", str(port), "--workers", "2"]
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(command, env=server_env(data_dir), stdout=log, stderr=subprocess.STDOUT)
    family: set[int] = set()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(port):
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        family = descendants(proc.pid)
        yield port, token, data_dir
    finally:
        proc.terminate()
        proc.wait(timeout=START_SECONDS)
        for pid in family:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.mark.installation
def test_concurrent_requests_with_one_key_register_once_on_a_served_sqlite_file(
    served: tuple[int, str, Path],
) -> None:
    port, token, data_dir = served
    _one_answer(_race(_over_http(port, token, "served-race"), [BODY] * THREADS))
    with sqlite3.connect(data_dir / "ketaclinic.sqlite3") as db:
        (registered,) = db.execute(
            "SELECT count(*) FROM patients_patient WHERE family_name = ?", ["Condition"]
        ).fetchone()
        (kept,) = db.execute("SELECT count(*) FROM idempotency_idempotencykey").fetchone()
    assert (registered, kept) == (1, 1)
    # The server's database and its -wal and -shm files are its user's only (ketaclinic/config.py).
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    database = data_dir / "ketaclinic.sqlite3"
    assert {stat.S_IMODE(Path(f"{database}{end}").stat().st_mode) for end in ("", "-wal", "-shm")} == {0o600}
