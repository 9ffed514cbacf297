"""The policy form of the /clinic/ page: each value's input, read back into the JSON shape of the API.

A value is sent only when it differs from the one in force, so an unchanged row never becomes an override.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import QueryDict

from ketaclinic.clinical.policy import BloodPressure, ClinicPolicy, CssrsBand, format_value
from ketaclinic.clinical.vocab import CONDITIONS
from ketaclinic.web.catalogue import BASIS_LABELS

_WHOLE = re.compile(r"^-?\d{1,9}$")


def _kind(f: dataclasses.Field[Any]) -> str:
    default, optional = f.default, "None" in str(f.type)
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, Decimal):
        return "decimal"
    if isinstance(default, BloodPressure) or "BloodPressure" in str(f.type):
        return "opt_bp" if optional else "bp"
    if isinstance(default, CssrsBand):
        return "band"
    if isinstance(default, frozenset):
        return "set"
    return "opt_int" if optional else "int"


KINDS: dict[str, str] = {f.name: _kind(f) for f in dataclasses.fields(ClinicPolicy)}
BANDS = [(b.value, b.value) for b in CssrsBand if b is not CssrsBand.NONE]
YES_NO = [("yes", "yes"), ("no", "no")]
CONDITION_CHOICES = sorted((code, getattr(c, "display", code)) for code, c in CONDITIONS.items())


@dataclass(frozen=True)
class Row:
    """One policy value as the page shows it (and, for an admin, its input)."""

    name: str
    kind: str
    basis: str
    badge: str
    description: str
    sources: tuple[str, ...]
    value: str
    default: str
    overridden: bool
    typed: Any  # what the input shows: text, (systolic, diastolic), or the chosen codes


def _typed(kind: str, raw: Any) -> Any:
    """A JSON value as the input shows it."""
    if kind in ("bp", "opt_bp"):
        return ("", "") if raw is None else (str(raw["systolic"]), str(raw["diastolic"]))
    if kind == "bool":
        return "yes" if raw else "no"
    if kind == "set":
        return list(raw)
    return "" if raw is None else str(raw)


def _shown(kind: str, raw: Any) -> str:
    if kind in ("bp", "opt_bp"):
        return "not set" if raw is None else f"{raw['systolic']}/{raw['diastolic']}"
    if kind == "set":
        return ", ".join(raw) or "none"
    return format_value(raw)


def rows(fields: list[dict[str, Any]], typed: dict[str, Any] | None = None) -> list[Row]:
    """The page's rows from the API's `fields` (policy_body); `typed` keeps what an admin typed."""
    out = []
    for f in fields:
        kind = KINDS[f["name"]]
        basis, badge = BASIS_LABELS[f["basis"]]
        out.append(
            Row(
                name=f["name"],
                kind=kind,
                basis=basis,
                badge=badge,
                description=f["description"],
                sources=tuple(f["sources"]),
                value=_shown(kind, f["value"]),
                default=_shown(kind, f["default"]),
                overridden=f["overridden"],
                typed=(typed or {}).get(f["name"], _typed(kind, f["value"])),
            )
        )
    return out


def _whole(text: str) -> int | None:
    return int(text) if _WHOLE.match(text) else None


def _same_number(kind: str, typed: Any, current: Any) -> bool:
    if kind != "decimal":
        return False
    try:
        return bool(Decimal(typed) == Decimal(current))
    except (ArithmeticError, ValueError, TypeError):
        return False


def read(
    post: QueryDict, in_force: dict[str, Any]
) -> tuple[dict[str, Any], list[str], dict[str, str], dict[str, Any]]:
    """(values that changed, fields to reset, errors by field, what was typed) from the posted form.

    A field whose input was not sent is left as it is.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    typed: dict[str, Any] = {}
    reset = [name for name in post.getlist("reset") if name in KINDS]
    for name, kind in KINDS.items():
        key = f"v-{name}"
        if name in reset:
            continue
        if kind in ("bp", "opt_bp"):
            if f"{key}-systolic" not in post:
                continue
            sys_text = post.get(f"{key}-systolic", "").strip()
            dia_text = post.get(f"{key}-diastolic", "").strip()
            typed[name] = (sys_text, dia_text)
            if kind == "opt_bp" and not sys_text and not dia_text:
                raw: Any = None
            else:
                systolic, diastolic = _whole(sys_text), _whole(dia_text)
                if systolic is None or diastolic is None:
                    errors[name] = "enter systolic and diastolic as whole numbers of mmHg"
                    continue
                raw = {"systolic": systolic, "diastolic": diastolic}
        elif kind == "set":
            if f"{key}-sent" not in post:
                continue
            raw = sorted(set(post.getlist(key)))
            typed[name] = raw
        else:
            if key not in post:
                continue
            text = post.get(key, "").strip()
            typed[name] = text
            if kind == "bool":
                if text not in ("yes", "no"):
                    errors[name] = "choose yes or no"
                    continue
                raw = text == "yes"
            elif kind in ("int", "opt_int"):
                if not text and kind == "opt_int":
                    raw = None
                elif (number := _whole(text)) is None:
                    errors[name] = "enter a whole number" + (
                        ", or leave it empty for not set" if kind == "opt_int" else ""
                    )
                    continue
                else:
                    raw = number
            else:  # decimal, band: checked by the policy itself
                raw = text
        if raw != in_force[name] and not _same_number(kind, raw, in_force[name]):
            values[name] = raw
    return values, reset, errors, typed
