"""`ketaclinic serve` never runs half-alive: it stops whole, refuses a served port, and survives its writer.

Each test starts the real server (granian, one worker, and the audit writer) on a free port with its own
data folder, in a subprocess, as `make run` does; nothing here needs the database.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ketaclinic.audit.server import answers
from ketaclinic.web.management.commands.serve import GRACE_SECONDS, SOCKET_NAME, WRITER_RESTARTS
from ketaclinic.web.tests.servers import free_port, server_env

pytestmark = pytest.mark.installation

START_SECONDS = 60.0  # Django's start-up twice (writer, workers) on a machine shared with other work
STOP_SECONDS = 10.0  # what the server promises


def _children() -> dict[int, list[int]]:
    """pid -> its children's pids, for every live (non-zombie) process, from /proc."""
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            out.setdefault(int(ppid), []).append(int(entry.name))
    return out


def descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path

    @property
    def socket(self) -> Path:
        return self.data_dir / SOCKET_NAME

    def answers_http(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # an answer all the same
        except (urllib.error.URLError, OSError):
            return False

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not (self.answers_http() and answers(self.socket)):
            assert self.proc.poll() is None, f"serve exited with {self.proc.returncode}:\n{self.output()}"
            assert time.monotonic() < deadline, f"serve did not answer:\n{self.output()}"
            time.sleep(0.1)

    def writer_pids(self) -> set[int]:
        return {pid for pid in descendants(self.proc.pid) if "audit_writer" in cmdline(pid)}

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _start(data_dir: Path, port: int, log_name: str = "serve.log") -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "ketaclinic", "serve", "--port", str(port), "--workers", "1"]
    command += ["--threads", "1"]
    with (data_dir / log_name).open("wb") as out:
        return subprocess.Popen(command, env=server_env(data_dir), stdout=out, stderr=subprocess.STDOUT)


def _kill_all(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def server(data_dir: Path) -> Iterator[Server]:
    port = free_port()
    srv = Server(_start(data_dir, port), port, data_dir, data_dir / "serve.log")
    seen: set[int] = set()
    try:
        srv.wait_until_up()
        seen = descendants(srv.proc.pid)
        yield srv
    finally:
        seen |= descendants(srv.proc.pid) if srv.proc.poll() is None else set()
        if srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()
        _kill_all({pid for pid in seen if alive(pid)})  # never leave a test's server behind


def _gone_within(pids: set[int], seconds: float) -> set[int]:
    """The pids still alive after waiting up to `seconds` for all of them to go."""
    deadline = time.monotonic() + seconds
    while (left := {pid for pid in pids if alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_stop_signal_ends_every_process_of_the_server_within_ten_seconds(
    server: Server, signum: signal.Signals
) -> None:
    family = descendants(server.proc.pid)
    assert len(server.writer_pids()) == 1 and len(family) >= 3, family  # writer, granian, a worker
    started = time.monotonic()
    server.proc.send_signal(signum)
    server.proc.wait(timeout=STOP_SECONDS)
    assert server.proc.returncode == 0, server.output()
    assert not _gone_within(family, STOP_SECONDS - (time.monotonic() - started))
    assert not server.socket.exists()
    assert not server.answers_http()


def test_a_wsgi_server_that_hangs_on_term_is_killed_with_its_workers(server: Server, data_dir: Path) -> None:
    """granian's parent stopped answering signals: after the grace period its whole group is killed."""
    family = descendants(server.proc.pid)
    granian = next(pid for pid in family if "granian" in cmdline(pid) and os.getpgid(pid) == pid)
    os.kill(granian, signal.SIGSTOP)  # a process that ignores TERM as a hung one does
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(timeout=STOP_SECONDS)
    assert not _gone_within(family, STOP_SECONDS - (time.monotonic() - started))
    assert time.monotonic() - started >= GRACE_SECONDS - 0.5  # it was given its grace period first
    assert not server.socket.exists()
    # and the next start is not refused
    again = subprocess.run(
        [sys.executable, "-m", "ketaclinic", "serve", "--port", str(server.port), "--check"],
        env=server_env(data_dir),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 0, again.stderr


def test_a_second_server_on_a_served_port_refuses_before_starting_anything(
    server: Server, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    second = subprocess.run(
        [sys.executable, "-m", "ketaclinic", "serve", "--port", str(server.port), "--workers", "1"],
        env=server_env(other),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode != 0
    assert f"127.0.0.1:{server.port} is already in use" in second.stderr
    assert "is KetaClinic already running?" in second.stderr
    assert not (other / SOCKET_NAME).exists()  # no writer was started
    assert server.answers_http() and server.proc.poll() is None  # the first server is untouched


def test_a_second_server_on_the_same_data_folder_refuses(server: Server, data_dir: Path) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "ketaclinic", "serve", "--port", str(free_port()), "--check"],
        env=server_env(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode != 0 and "an audit writer is already serving" in second.stderr
    assert answers(server.socket)


def test_a_socket_left_by_a_dead_server_does_not_block_a_start(data_dir: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(data_dir / SOCKET_NAME))
    stale.close()  # the file stays, as after a SIGKILL; nothing answers on it
    assert (data_dir / SOCKET_NAME).exists() and not answers(data_dir / SOCKET_NAME)
    port = free_port()
    srv = Server(_start(data_dir, port), port, data_dir, data_dir / "serve.log")
    family: set[int] = set()
    try:
        srv.wait_until_up()
        family = descendants(srv.proc.pid)
    finally:
        srv.proc.terminate()
        srv.proc.wait(timeout=STOP_SECONDS)
        _kill_all({pid for pid in family if alive(pid)})
    assert srv.proc.returncode == 0, srv.output()


def test_a_killed_writer_is_started_again_and_the_server_goes_on(server: Server) -> None:
    (first,) = server.writer_pids()
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + START_SECONDS
    while not ((pids := server.writer_pids()) and first not in pids and answers(server.socket)):
        assert server.proc.poll() is None, server.output()
        assert time.monotonic() < deadline, "the writer was not started again"
        time.sleep(0.1)
    assert server.answers_http()
    assert "the audit writer exited" in server.output()


def test_a_writer_that_keeps_dying_stops_the_whole_server_with_an_error(server: Server) -> None:
    family = descendants(server.proc.pid)
    deadline = time.monotonic() + START_SECONDS * 2
    while server.proc.poll() is None:
        assert time.monotonic() < deadline, "the server neither kept its writer nor stopped"
        _kill_all(server.writer_pids())
        family |= descendants(server.proc.pid) if server.proc.poll() is None else set()
        time.sleep(0.1)
    assert server.proc.returncode != 0
    assert f"exited {WRITER_RESTARTS + 1} times" in server.output()
    assert not _gone_within(family, STOP_SECONDS)
    assert not server.answers_http() and not server.socket.exists()


def test_the_task_runner_runs_beside_the_server_and_is_started_again(server: Server) -> None:
    """`make run` starts the reminders' task runner too; killed, it comes back, and a stop ends it."""

    def runners() -> set[int]:
        return {pid for pid in descendants(server.proc.pid) if "run_huey" in cmdline(pid)}

    deadline = time.monotonic() + START_SECONDS
    while not runners():
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.1)
    (first,) = runners()
    os.kill(first, signal.SIGKILL)
    while not ((pids := runners()) and first not in pids):
        assert server.proc.poll() is None, server.output()
        assert time.monotonic() < deadline + START_SECONDS, "the task runner was not started again"
        time.sleep(0.1)
    assert "the task runner exited" in server.output()
    assert (server.data_dir / "tasks.sqlite3").exists()
    family = descendants(server.proc.pid)
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(timeout=STOP_SECONDS)
    assert not _gone_within(family, STOP_SECONDS)
