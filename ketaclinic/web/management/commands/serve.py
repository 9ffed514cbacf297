"""ketaclinic serve: the production server. granian's WSGI workers, and the audit writer beside them.

This process binds the audit writer's socket in the data folder, starts granian with
KETACLINIC_AUDIT_WRITER pointing at it, and then commits the workers' audit events
(ketaclinic/audit/server.py) until granian exits or the process is told to stop (SIGTERM or SIGINT), which
it passes on to granian. `make run` and `make serve` call it; so does `make bench`, which reads the
Makefile's SERVE line.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.audit.server import Writer, WriterRunning

SOCKET_NAME = "audit-writer.sock"
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes on Linux


class Command(BaseCommand):
    help = "Serve KetaClinic with granian (WSGI) and the audit writer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4, help="blocking threads per worker")

    def handle(self, *args: Any, **options: Any) -> None:
        granian = shutil.which("granian", path=str(Path(sys.executable).parent)) or shutil.which("granian")
        if granian is None:
            raise CommandError("granian is not installed (pip install -e .)")
        path = _socket_path(settings.KETACLINIC_DATA_DIR)
        try:
            writer = Writer(path)
        except WriterRunning as exc:
            raise CommandError(str(exc)) from exc
        command = [
            granian,
            "--interface", "wsgi",
            "--host", options["host"],
            "--port", str(options["port"]),
            "--workers", str(options["workers"]),
            "--blocking-threads", str(options["threads"]),
            "--no-ws",
            "--log-level", "warning",
            "ketaclinic.wsgi:application",
        ]  # fmt: skip
        env = {**os.environ, "KETACLINIC_AUDIT_WRITER": str(path)}
        server = subprocess.Popen(command, env=env)  # noqa: S603 - our own command line
        stopping: list[int] = []

        def stop(signum: int, _frame: Any) -> None:
            stopping.append(signum)
            if server.poll() is None:
                server.send_signal(signum)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            # Keep committing while granian drains: its workers may still be answering requests.
            writer.run(keep_going=lambda: server.poll() is None)
        finally:
            if server.poll() is None:  # the writer failed: do not leave granian serving without it
                server.terminate()
                server.wait(timeout=30)
            if path.parent != settings.KETACLINIC_DATA_DIR:
                shutil.rmtree(path.parent, ignore_errors=True)  # the temporary folder of a long path
        if server.returncode and not stopping:
            raise CommandError(f"granian exited with status {server.returncode}")


def _socket_path(data_dir: Path) -> Path:
    path = data_dir / SOCKET_NAME
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:  # the limit is in bytes
        return path
    return Path(tempfile.mkdtemp(prefix="ketaclinic-")) / SOCKET_NAME  # mkdtemp makes it 0700
