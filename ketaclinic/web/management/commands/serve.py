"""ketaclinic serve: the production server. granian's WSGI workers, and the audit writer beside them.

This process supervises its children and serves nothing itself:

- the audit writer (`ketaclinic audit_writer`, ketaclinic/audit/server.py), started first, on a socket in
  the data folder; granian's workers get its path in KETACLINIC_AUDIT_WRITER;
- the task runner's consumer (`ketaclinic run_huey`: Huey, settings.HUEY; periodic schedules, reminders and
  pre-visit messages, ketaclinic/assessments/tasks.py), unless `--tasks off`;
- granian, in its own process group, so that its workers can be stopped with it whatever its parent does.

Before starting anything it checks that the port is free and that no writer answers on the socket, so a
second `make run` refuses with a message instead of sharing the port (granian binds with SO_REUSEPORT). A
socket file left by a server that died is taken over. If the writer or the task runner exits it is started
again (workers commit their own events meanwhile; the tasks are idempotent and their queue is on disk); if
one keeps exiting, or granian exits, the whole server stops with a non-zero status. SIGTERM or SIGINT stops
granian (SIGTERM, then SIGKILL to its whole group after GRACE_SECONDS), then the task runner, then the
writer, and removes the socket: everything is gone within 10 seconds.
`make run`, `make serve` and `make bench` call it.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from ketaclinic.audit.server import answers

log = logging.getLogger(__name__)

SOCKET_NAME = "audit-writer.sock"
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes on Linux
GRACE_SECONDS = 5.0  # granian's time to finish requests in flight after SIGTERM; then SIGKILL
WRITER_STOP_SECONDS = 2.0  # the writer stops within half a second of SIGTERM; then SIGKILL
WRITER_START_SECONDS = 30.0  # Django's start-up in the writer process, on a busy machine
WRITER_RESTARTS = 3  # restarts allowed within RESTART_WINDOW_SECONDS; one more and the server stops
RESTART_WINDOW_SECONDS = 60.0
POLL_SECONDS = 0.2


class Command(BaseCommand):
    help = "Serve KetaClinic with granian (WSGI) and the audit writer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4, help="blocking threads per worker")
        parser.add_argument(
            "--audit-writer",
            choices=["auto", "on", "off"],
            default="auto",
            help="run the audit writer: auto runs it where it pays (see writer_pays)",
        )
        parser.add_argument(
            "--tasks",
            choices=["on", "off"],
            default="on",
            help="run the task runner's consumer (reminders, schedules) beside the server",
        )
        parser.add_argument(
            "--check", action="store_true", help="only check that the port and the data folder are free"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        granian = shutil.which("granian", path=str(Path(sys.executable).parent)) or shutil.which("granian")
        if granian is None:
            raise CommandError("granian is not installed (pip install -e .)")
        data_dir: Path = settings.KETACLINIC_DATA_DIR
        refusal = port_refusal(host, port) or writer_refusal(data_dir / SOCKET_NAME)
        if refusal:
            raise CommandError(refusal)
        if options["check"]:
            return
        command = [
            granian,
            "--interface", "wsgi",
            "--host", host,
            "--port", str(port),
            "--workers", str(options["workers"]),
            "--blocking-threads", str(options["threads"]),
            "--no-ws",
            "--log-level", "warning",
            "ketaclinic.wsgi:application",
        ]  # fmt: skip
        choice = options["audit_writer"]
        path = socket_path(data_dir) if choice == "on" or (choice == "auto" and writer_pays()) else None
        problem = Supervisor(command, path, tasks=options["tasks"] == "on").run()
        if problem:
            raise CommandError(problem)


def writer_pays() -> bool:
    """Whether the audit writer makes this database faster: on SQLite, not on PostgreSQL.

    SQLite has one write lock, and worker threads committing read events one by one queued on it; the
    writer's shared commits took the chart page from 31% to 41-43% of its baseline. PostgreSQL commits
    concurrently, and measured the same or slower with the writer in the way (docs/performance.md).
    """
    return bool(connection.vendor == "sqlite")


def port_refusal(host: str, port: int) -> str:
    """Why the server must not start on host:port (something listens there), or "" when it is free.

    A plain bind, without SO_REUSEPORT: granian's own socket has it and would share the port silently.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's TIME_WAIT is fine
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            return (
                f"{host}:{port} is already in use ({exc.strerror}): is KetaClinic already running? "
                "Stop it first, or serve on another port (make run PORT=8123)."
            )
    return ""


def writer_refusal(path: Path) -> str:
    """Why the server must not start with this data folder (a live audit writer answers), or ""."""
    if answers(path):
        return (
            f"an audit writer is already serving {path}: another KetaClinic server uses this data folder. "
            "Stop it first."
        )
    return ""


def socket_path(data_dir: Path) -> Path:
    path = data_dir / SOCKET_NAME
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:  # the limit is in bytes
        return path
    return Path(tempfile.mkdtemp(prefix="ketaclinic-")) / SOCKET_NAME  # mkdtemp makes it 0700


def _die_with_parent() -> None:
    """In a child, before exec: SIGTERM it when this server process dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Supervisor:
    """Starts the writer, then granian; watches both; stops both, in that order reversed."""

    def __init__(self, command: list[str], path: Path | None, *, tasks: bool = False) -> None:
        self.command, self.path, self.with_tasks = command, path, tasks
        self.stopping: list[int] = []
        self.writer: subprocess.Popen[bytes] | None = None
        self.tasks: subprocess.Popen[bytes] | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self.restarts: list[float] = []
        self.task_restarts: list[float] = []

    def run(self) -> str:
        """Serve until told to stop ("") or until the server cannot go on (why, for a non-zero exit)."""
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._stop)
        try:
            return self._serve()
        finally:
            self.shutdown()

    def _serve(self) -> str:
        env = dict(os.environ)
        if self.path is not None:
            problem = self._start_writer()
            if problem or self.stopping:
                return problem
            env["KETACLINIC_AUDIT_WRITER"] = str(self.path)
        if self.with_tasks:
            self._start_tasks(env)
        self.server = subprocess.Popen(  # noqa: S603 - our own command line
            self.command, env=env, start_new_session=True, preexec_fn=_die_with_parent
        )
        while not self.stopping:
            if self.server.poll() is not None:
                return f"granian exited with status {self.server.returncode}; the server stopped"
            if self.writer is not None and self.writer.poll() is not None:
                problem = self._restart_writer(self.writer.returncode)
                if problem:
                    return problem
            if self.tasks is not None and self.tasks.poll() is not None:
                problem = self._restart_tasks(self.tasks.returncode, env)
                if problem:
                    return problem
            time.sleep(POLL_SECONDS)
        return ""

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping.append(signum)

    def _start_writer(self) -> str:
        assert self.path is not None
        command = [sys.executable, "-m", "ketaclinic", "audit_writer", "--socket", str(self.path)]
        self.writer = subprocess.Popen(command, preexec_fn=_die_with_parent)  # noqa: S603 - our own command
        deadline = time.monotonic() + WRITER_START_SECONDS
        while not self.stopping and not answers(self.path):
            if self.writer.poll() is not None:
                return f"the audit writer exited with status {self.writer.returncode} at start"
            if time.monotonic() > deadline:
                return f"the audit writer did not start within {WRITER_START_SECONDS:.0f} s"
            time.sleep(0.05)
        return ""

    def _start_tasks(self, env: dict[str, str]) -> None:
        """The task runner's consumer: its locks flushed (a killed run's), periodic tasks on."""
        command = [sys.executable, "-m", "ketaclinic", "run_huey"]  # locks flushed: settings.HUEY
        self.tasks = subprocess.Popen(command, env=env, preexec_fn=_die_with_parent)  # noqa: S603 - our own

    def _restart_tasks(self, status: int, env: dict[str, str]) -> str:
        now = time.monotonic()
        self.task_restarts = [t for t in self.task_restarts if now - t < RESTART_WINDOW_SECONDS] + [now]
        if len(self.task_restarts) > WRITER_RESTARTS:
            return (
                f"the task runner exited {len(self.task_restarts)} times within a minute; the server stopped"
            )
        log.warning("the task runner exited with status %s; starting it again", status)
        self._start_tasks(env)
        return ""

    def _restart_writer(self, status: int) -> str:
        """Start the writer again, unless it has exited too often: then why the server must stop."""
        while True:
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_SECONDS] + [now]
            if len(self.restarts) > WRITER_RESTARTS:
                return (
                    f"the audit writer exited {len(self.restarts)} times within a minute; the server stopped"
                )
            log.warning("the audit writer exited with status %s; starting it again", status)
            problem = self._start_writer()
            assert self.writer is not None
            if not problem or self.writer.poll() is None:  # started, or it did not start in time
                return problem
            status = self.writer.returncode  # it exited again while starting

    def shutdown(self) -> None:
        """granian first (its draining workers may still hand events to the writer), the task runner told
        to stop beside it, then the writer."""
        if self.tasks is not None and self.tasks.poll() is None:
            self.tasks.terminate()  # at once, beside granian's grace: Huey stops a running task on TERM
        if self.server is not None:
            _stop_group(self.server, GRACE_SECONDS)
        if self.tasks is not None:
            _stop_process(self.tasks, WRITER_STOP_SECONDS)
        if self.writer is not None:
            _stop_process(self.writer, WRITER_STOP_SECONDS)
        if self.path is None:
            return
        if not answers(self.path):  # a writer that had to be killed leaves its socket file behind
            self.path.unlink(missing_ok=True)
        if self.path.parent != settings.KETACLINIC_DATA_DIR:
            shutil.rmtree(self.path.parent, ignore_errors=True)  # the temporary folder of a long path


def _stop_process(proc: subprocess.Popen[bytes], grace: float) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _stop_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM granian; after `grace`, SIGKILL its whole group: a parent hung on SIGTERM, or workers it
    left behind, never outlive the server (they would keep the port, and the writer's socket with them)."""
    _stop_process(proc, grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # its group id is its pid (start_new_session)
