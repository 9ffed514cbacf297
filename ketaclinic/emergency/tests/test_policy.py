"""The break-glass policy: read from the environment, with the issue's defaults, and refused out of range."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from ketaclinic import config

NAMES = ("KETACLINIC_BREAK_GLASS_MINUTES", "KETACLINIC_BREAK_GLASS_REASON_MIN_CHARS")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KETACLINIC_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("KETACLINIC_DATA_DIR", str(tmp_path))
    return monkeypatch


def test_an_hour_and_twenty_characters_by_default(env: pytest.MonkeyPatch) -> None:
    loaded = config.load()
    assert (loaded.break_glass_minutes, loaded.break_glass_reason_min_chars) == (60, 20)
    assert settings.KETACLINIC_BREAK_GLASS_MINUTES == 60
    assert settings.KETACLINIC_BREAK_GLASS_REASON_MIN_CHARS == 20


def test_a_clinic_sets_its_own(env: pytest.MonkeyPatch) -> None:
    env.setenv("KETACLINIC_BREAK_GLASS_MINUTES", "30")
    env.setenv("KETACLINIC_BREAK_GLASS_REASON_MIN_CHARS", "40")
    loaded = config.load()
    assert (loaded.break_glass_minutes, loaded.break_glass_reason_min_chars) == (30, 40)


@pytest.mark.parametrize(("name", "value"), [(NAMES[0], "0"), (NAMES[0], "1441"), (NAMES[1], "0")])
def test_a_policy_out_of_range_refuses_to_start(env: pytest.MonkeyPatch, name: str, value: str) -> None:
    env.setenv(name, value)
    with pytest.raises(config.ConfigError, match=name):
        config.load()


def test_only_prescribers_and_nurses_may_break_the_glass() -> None:
    from ketaclinic.accounts.permissions import ROLE_PERMISSIONS, Perm, Role

    holders = {role for role, perms in ROLE_PERMISSIONS.items() if Perm.EMERGENCY_ACCESS in perms}
    assert holders == {Role.PRESCRIBER, Role.NURSE}
