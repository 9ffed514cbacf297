"""The billing code rules shipped with KetaClinic (data/codes.toml): read, checked, loaded as CodeRule rows.

A clinic admin changes a code by adding a later version (the admin site's Code rules); loading again adds
only the versions not there yet, so it never overwrites a clinic's own.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from django.utils import timezone

DATA = Path(__file__).parent / "data" / "codes.toml"
KINDS = {"infusion_initial", "infusion_additional", "esketamine_medicare", "drug_per_mg", "per_session"}
REQUIRED_PARAMS = {
    "infusion_initial": {"min_minutes"},
    "infusion_additional": {"beyond_minutes"},
    "drug_per_mg": {"mg_per_unit"},
}
FIELDS = {"code", "description", "rule", "effective_from", "source"}


def read(path: Path = DATA) -> list[dict[str, Any]]:
    """The file's code rules, each {"code", "description", "rule", "effective_from", "source", "params"};
    a row the builder could not apply stops here with a message naming it."""
    rows = []
    for number, raw in enumerate(tomllib.loads(path.read_text())["codes"]):
        where = f"{path.name}: codes.{number}"
        if raw.get("rule") not in KINDS:
            raise ValueError(f"{where}.rule: not one of {sorted(KINDS)}")
        if not raw.get("code"):
            raise ValueError(f"{where}.code: required")
        params = {k: v for k, v in raw.items() if k not in FIELDS}
        missing = REQUIRED_PARAMS.get(raw["rule"], set()) - params.keys()
        if missing:
            raise ValueError(f"{where}: {raw['rule']} needs {sorted(missing)}")
        rows.append(
            {
                "code": raw["code"],
                "description": raw["description"],
                "rule": raw["rule"],
                "effective_from": dt.date.fromisoformat(raw["effective_from"]),
                "source": raw.get("source", ""),
                "params": params,
            }
        )
    return rows


def load(model: Any, path: Path = DATA) -> int:
    """Add the file's versions not yet stored; returns how many were added."""
    added = 0
    for row in read(path):
        _, made = model.objects.get_or_create(
            code=row["code"],
            effective_from=row["effective_from"],
            defaults={**row, "created_at": timezone.now()},
        )
        added += made
    return added
