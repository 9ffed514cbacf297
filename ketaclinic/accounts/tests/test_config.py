"""KetaClinic refuses to start outside the demo without a real secret key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ketaclinic import config


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ("KETACLINIC_SECRET_KEY", "KETACLINIC_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(tmp_path))
    return monkeypatch


def test_production_without_a_key_refuses_to_start(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(config.ConfigError, match="not set"):
        config.load()


@pytest.mark.parametrize("key", ["demo-" + "x" * 60, "short"])
def test_production_refuses_demo_and_short_keys(env: pytest.MonkeyPatch, key: str) -> None:
    env.setenv("KETACLINIC_SECRET_KEY", key)
    with pytest.raises(config.ConfigError, match="demo or short"):
        config.load()


def test_the_demo_generates_a_key_once_and_keeps_it(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("KETACLINIC_DEMO", "1")
    first = config.load().secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert config.load().secret_key == first and len(first) > 50


def test_a_generated_demo_key_is_refused_outside_the_demo(env: pytest.MonkeyPatch) -> None:
    env.setenv("KETACLINIC_DEMO", "1")
    config.load()
    env.delenv("KETACLINIC_DEMO")
    # The key file exists now, but it is a demo key: production settings must not run on it.
    env.setenv(
        "KETACLINIC_SECRET_KEY",
        (Path(os.environ["KETACLINIC_DATA_DIR"]) / "secret_key").read_text(),
    )
    with pytest.raises(config.ConfigError):
        config.load()


def test_settings_are_read_from_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("KETACLINIC_SECRET_KEY", "k" * 40)
    env.setenv("KETACLINIC_IDLE_TIMEOUT_MINUTES", "5")
    env.setenv("KETACLINIC_ALLOWED_HOSTS", "clinic.example, other.example")
    loaded = config.load()
    assert loaded.idle_timeout_minutes == 5 and loaded.allowed_hosts == ["clinic.example", "other.example"]


def test_an_empty_data_folder_setting_means_the_default_not_the_current_folder(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("KETACLINIC_DATA_DIR", "")
    env.setenv("KETACLINIC_SECRET_KEY", "k" * 40)
    env.chdir(tmp_path)
    assert config.load().data_dir == config.BASE_DIR / "var"
