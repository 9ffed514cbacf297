"""ketaclinic audit_writer: the audit writer process, started and watched by `ketaclinic serve`.

It binds the socket given (taking over a stale one, refusing a live one) and commits the workers' events
(ketaclinic/audit/server.py) until it gets SIGTERM or its parent, the server, is gone. Ctrl-C is left to
the server, which stops the WSGI workers first and this writer last, so that draining requests can
still hand it their events.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.audit.server import Writer, WriterRunning


class Command(BaseCommand):
    help = "Run the audit writer on a Unix socket (started by `ketaclinic serve`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--socket", required=True, type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        parent = os.getppid()
        stopping: list[int] = []

        def stop(signum: int, _frame: FrameType | None) -> None:
            stopping.append(signum)

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, stop)
        try:
            writer = Writer(options["socket"])
        except WriterRunning as exc:
            raise CommandError(str(exc)) from exc
        writer.run(keep_going=lambda: not stopping and os.getppid() == parent)
