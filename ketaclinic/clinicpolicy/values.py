"""A location's policy values: what may be overridden, how a change is checked, and what it changes.

The stored overrides are the JSON shape of `clinical.policy.policy_to_json`, holding only the fields that
differ from the documented defaults, so a default that a new release corrects reaches every location that
did not choose its own value.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy, policy_from_json, policy_to_json
from ketaclinic.errors import InvalidInput

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(ClinicPolicy))
DEFAULTS_JSON: dict[str, Any] = policy_to_json(DEFAULT_POLICY)
_MENTION = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA time zones a location may keep, sorted."""
    return tuple(sorted(available_timezones()))


def policy_of(overrides: Mapping[str, Any]) -> ClinicPolicy:
    """The policy in force for stored overrides: the defaults with each overridden value replaced."""
    return policy_from_json(dict(overrides)) if overrides else DEFAULT_POLICY


def _message(exc: ValueError, name: str) -> str:
    text = str(exc)
    for prefix in (f"ClinicPolicy.{name}", name):
        if text.startswith(prefix):
            text = text.removeprefix(prefix).lstrip(": ")
            break
    return text or "not a valid value"


def _mentioned(exc: ValueError) -> list[str]:
    return [word for word in _MENTION.findall(str(exc)) if word in DEFAULTS_JSON]


def new_overrides(
    current: Mapping[str, Any], values: Mapping[str, Any], reset: Iterable[str] = ()
) -> tuple[dict[str, Any], ClinicPolicy]:
    """The overrides after setting `values` (JSON shapes) and resetting the fields named in `reset`, and
    the policy they make. Raises InvalidInput naming each refused field as `values.<name>` (or `reset`).
    """
    errors: dict[str, str] = {}
    reset = list(reset)
    for name in reset:
        if name not in DEFAULTS_JSON:
            errors["reset"] = f"{name} is not a clinic policy value"
    for name in values:
        if name not in DEFAULTS_JSON:
            errors[f"values.{name}"] = "not a clinic policy value"
        elif name in reset:
            errors[f"values.{name}"] = "both set and reset: choose one"
    if errors:
        raise InvalidInput(errors)
    values = {name: _plain(name, raw) for name, raw in values.items()}
    # Each value alone first, so that every wrong one is named; a check across two fields (a minimum above
    # its maximum) is left to the whole policy below, which may be right once both have changed.
    for name, raw in values.items():
        try:
            policy_from_json({name: raw})
        except ValueError as exc:
            if not [m for m in _mentioned(exc) if m != name]:
                errors[f"values.{name}"] = _message(exc, name)
    if errors:
        raise InvalidInput(errors)
    merged = {k: v for k, v in current.items() if k not in reset and k in DEFAULTS_JSON}
    merged.update(values)
    try:
        policy = policy_of(merged)
    except ValueError as exc:
        mentioned = _mentioned(exc)
        blame = next((m for m in mentioned if m in values), None) or next(iter(values), None) or "reset"
        raise InvalidInput(
            {f"values.{blame}" if blame != "reset" else "reset": _message(exc, blame)}
        ) from exc
    # Keep only what differs from the default, in the canonical JSON shape.
    in_force = policy_to_json(policy)
    overrides = {name: in_force[name] for name in FIELD_NAMES if in_force[name] != DEFAULTS_JSON[name]}
    return overrides, policy


_DECIMAL_TEXT_MAX = 20


def _plain(name: str, raw: Any) -> Any:
    """A decimal sent as a JSON number is taken as its text (0.5 as "0.5"); a decimal's text is bounded."""
    if isinstance(DEFAULTS_JSON[name], str) and name not in _NOT_DECIMAL:
        if isinstance(raw, float):
            return repr(raw)
        if isinstance(raw, str) and len(raw) > _DECIMAL_TEXT_MAX:
            return "not a number"
    return raw


_NOT_DECIMAL = frozenset({"cssrs_ideation_band", "cssrs_method_band", "cssrs_past_behaviour_band"})


def differences(before: ClinicPolicy, after: ClinicPolicy) -> dict[str, dict[str, Any]]:
    """{field: {"old", "new"}} for each value that differs, in the JSON shape."""
    old, new = policy_to_json(before), policy_to_json(after)
    return {name: {"old": old[name], "new": new[name]} for name in FIELD_NAMES if old[name] != new[name]}
