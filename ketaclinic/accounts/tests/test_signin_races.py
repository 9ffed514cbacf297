"""Concurrent sign-in attempts check no more passwords than the limits allow.

Two ways, one per database:

- SQLite: 64 clients post at once to a real `ketaclinic serve` (two worker processes, eight threads each,
  its own SQLite file in WAL mode). The in-memory SQLite of the test run cannot take writes from several
  threads (its shared cache answers "table is locked" at once), so the server has its own database.
  Every wrong password checked writes one LOGIN_FAILED row, read from that file afterwards.
- PostgreSQL: 64 threads post to the login view in this process, each on its own connection, with the
  hasher's verify() counted (a refused attempt only pays for a hash, it checks nothing).
"""

from __future__ import annotations

import contextlib
import http.client
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test import Client
from pytest_django import Settings

from ketaclinic.accounts.actions import do_create_network, do_create_staff
from ketaclinic.audit.actions import verify_chain
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.audit.tests.test_writer import chain  # noqa: F401 - the fixture, requested by name
from ketaclinic.tests import migrated
from ketaclinic.web.tests.servers import free_port, server_env

ATTEMPTS = 64  # the figure
LIMIT = 5  # per account
RATE = 7  # per address: above LIMIT, so one account locks before its address is throttled
STAFF = ("racer.0", "racer.1", "racer.2")
JOIN_SECONDS = 120
START_SECONDS = 90


def _at_once(usernames: list[str], post: Callable[[str], int]) -> list[int]:
    """Post one wrong password per username, all released together; their statuses, sorted."""
    statuses: list[int] = []
    ready = threading.Barrier(len(usernames), timeout=JOIN_SECONDS)

    def attempt(username: str) -> None:
        ready.wait()
        statuses.append(post(username))

    threads = [threading.Thread(target=attempt, args=(name,), daemon=True) for name in usernames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert len(statuses) == len(usernames), "a request failed or hung"
    return sorted(statuses)


# --- a real server on its own SQLite file --------------------------------------------------------------


@dataclass
class Served:
    port: int
    database: Path

    def log(self) -> str:
        return (self.database.parent / "serve.log").read_text(errors="replace")[-3000:]

    def failed_checks(self, address: str) -> int:
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)) as db:
            row = db.execute(
                "SELECT count(*) FROM audit_auditevent WHERE action = ? AND source_ip = ?",
                [Action.LOGIN_FAILED.value, address],
            ).fetchone()
        return int(row[0])

    def poster(self, address: str) -> Callable[[str], int]:
        """A wrong-password POST from `address` (any 127.x.y.z reaches the server over loopback)."""

        def post(username: str) -> int:
            conn = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=JOIN_SECONDS, source_address=(address, 0)
            )
            try:
                conn.request("GET", "/login/")
                page = conn.getresponse()
                html = page.read().decode()
                cookie = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie") or "")
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
                assert cookie and token, html
                body = urlencode(
                    {"username": username, "password": "wrong-password", "csrfmiddlewaretoken": token[1]}
                )
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": f"csrftoken={cookie[1]}",
                }
                conn.request("POST", "/login/", body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                return answer.status
            finally:
                conn.close()

        return post


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ketaclinic", *args], env=env, capture_output=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("served")
    env = server_env(data_dir) | {
        "DJANGO_SETTINGS_MODULE": "ketaclinic.test_settings",  # a fast hasher: 128 hashes on 2 cores
        "KETACLINIC_LOGIN_FAILURE_LIMIT": str(LIMIT),
        "KETACLINIC_SIGNIN_RATE_PER_IP": str(RATE),
    }
    migrated.copy_to(data_dir)  # the empty database `ketaclinic migrate` makes
    create = (
        "from ketaclinic.accounts.actions import do_create_network, do_create_staff\n"
        "network = do_create_network('Race Clinic', 'race')\n"
        f"for name in {STAFF!r}: do_create_staff(network, name, 'a-long-enough-pass-phrase')\n"
    )
    _run(["shell", "-c", create], env)
    port = free_port()
    command = [sys.executable, "-m", "ketaclinic", "serve", "--port", str(port), "--workers", "2"]
    command += ["--threads", "8"]
    with (data_dir / "serve.log").open("wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(port):
            assert proc.poll() is None, (data_dir / "serve.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield Served(port, data_dir / "ketaclinic.sqlite3")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/login/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@pytest.mark.installation
def test_served_concurrent_wrong_passwords_for_one_account_check_no_more_than_the_limit(
    served: Served,
) -> None:
    statuses = _at_once([STAFF[0]] * ATTEMPTS, served.poster("127.0.0.2"))
    assert statuses.count(401) == LIMIT and statuses.count(429) == ATTEMPTS - LIMIT, (
        Counter(statuses),
        served.log(),
    )
    assert served.failed_checks("127.0.0.2") == LIMIT


@pytest.mark.installation
def test_served_concurrent_attempts_from_one_address_check_no_more_than_its_rate(served: Served) -> None:
    # Each tried once, and none the test above locked (the server is the module's).
    usernames = [*STAFF[1:], *(f"nobody.{n}" for n in range(ATTEMPTS - 2))]
    statuses = _at_once(usernames, served.poster("127.0.0.3"))
    assert statuses.count(401) == RATE and statuses.count(429) == ATTEMPTS - RATE, (
        Counter(statuses),
        served.log(),
    )
    assert served.failed_checks("127.0.0.3") == RATE


# --- in this process, on PostgreSQL ------------------------------------------------------------------


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password checked against a stored hash, from any thread."""
    calls: list[str] = []
    lock = threading.Lock()
    verify = MD5PasswordHasher.verify

    def counting(self: MD5PasswordHasher, password: str, encoded: str) -> bool:
        with lock:
            calls.append(password)
        return verify(self, password, encoded)

    monkeypatch.setattr(MD5PasswordHasher, "verify", counting)
    yield calls


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="threads cannot write the in-memory SQLite test database; the served tests cover SQLite",
)


@pytest.fixture
def staff(chain: None, settings: Settings) -> None:  # noqa: F811 - the imported fixture, requested by name
    settings.KETACLINIC_LOGIN_FAILURE_LIMIT = LIMIT
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = RATE
    network = do_create_network("Race Clinic", "race")
    for name in STAFF:
        do_create_staff(network, name, "a-long-enough-pass-phrase")


def _in_process(username: str) -> int:
    try:
        return Client().post("/login/", {"username": username, "password": "wrong-password"}).status_code
    finally:
        connection.close()


@postgres_only
def test_concurrent_wrong_passwords_for_one_account_check_no_more_than_the_limit(
    staff: None, checks: list[str]
) -> None:
    statuses = _at_once([STAFF[0]] * ATTEMPTS, _in_process)
    assert len(checks) == LIMIT
    assert statuses.count(401) == LIMIT and statuses.count(429) == ATTEMPTS - LIMIT
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() == LIMIT
    assert verify_chain().ok


@postgres_only
def test_concurrent_attempts_from_one_address_check_no_more_than_its_rate(staff: None) -> None:
    usernames = [*STAFF, *(f"nobody.{n}" for n in range(ATTEMPTS - len(STAFF)))]  # each tried once
    statuses = _at_once(usernames, _in_process)
    assert statuses.count(401) == RATE and statuses.count(429) == ATTEMPTS - RATE
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() == RATE
    assert AuditEvent.objects.filter(action=Action.LOGIN_THROTTLED).count() == 1
    assert verify_chain().ok
