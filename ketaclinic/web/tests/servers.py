"""What tests that start a real `ketaclinic serve` share: a free port and the server's environment."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(data_dir: Path) -> dict[str, str]:
    """The demo server's environment: the test process's key and data folder are not passed on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KETACLINIC_") and k != "DATABASE_URL"}
    env.update(
        KETACLINIC_DEMO="1",
        KETACLINIC_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="ketaclinic.settings",
        PYTHONUNBUFFERED="1",
    )
    return env
