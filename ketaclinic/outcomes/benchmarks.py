"""Published figures (data/benchmarks.toml) and the rule that decides which stand beside the clinic's.

A figure is comparable only when its scale, its response rule and (when it reports remission) its
remission cut-off are the clinic's, its definitions are stated in our sources, and it is for the modality
the report is filtered to (any modality when not filtered). Everything else is listed with the reason, so a
reader sees what was left out and why.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "benchmarks.toml"
MODALITY_NAMES = {
    "iv_ketamine": "IV ketamine",
    "im_ketamine": "IM ketamine",
    "esketamine_nasal": "esketamine",
}
RESPONSE_RULES = {"fall_50": "a fall of at least 50% from baseline"}


@dataclass(frozen=True, slots=True)
class Benchmark:
    key: str
    study: str
    modality: str
    scale: str
    response_rule: str
    remission_max: int | None
    time_point: str
    population: str
    imputation: str
    response_rate: float | None
    remission_rate: float | None
    durability_landmarks: dict[int, float]
    durability_note: str
    source: str
    definitions_stated: bool

    @property
    def definition(self) -> str:
        parts = [f"{self.scale} response = {RESPONSE_RULES[self.response_rule]}"]
        if self.remission_max is not None:
            parts.append(f"remission = total {self.remission_max} or less")
        parts += [f"at {self.time_point}", f"population: {self.population}", f"analysis: {self.imputation}"]
        return "; ".join(parts)


@cache
def all_benchmarks() -> tuple[Benchmark, ...]:
    raw = tomllib.loads(DATA.read_text(encoding="utf-8"))["benchmark"]
    return tuple(
        Benchmark(
            key=b["key"],
            study=b["study"],
            modality=b["modality"],
            scale=b["scale"],
            response_rule=b["response_rule"],
            remission_max=b.get("remission_max"),
            time_point=b["time_point"],
            population=b["population"],
            imputation=b["imputation"],
            response_rate=b.get("response_rate"),
            remission_rate=b.get("remission_rate"),
            durability_landmarks={int(k): float(v) for k, v in b.get("durability_landmarks", {}).items()},
            durability_note=b.get("durability_note", ""),
            source=b["source"],
            definitions_stated=b["definitions_stated"],
        )
        for b in raw
    )


def why_not(b: Benchmark, *, scale: str, remission_max: int, modality: str | None) -> str | None:
    """None when `b` may stand beside the clinic's figures, else the reason it may not."""
    if b.scale != scale:
        return f"measured on {b.scale}, not {scale}"
    if not b.definitions_stated:
        return "our sources give the figures but not the response and remission cut-offs"
    if b.response_rule != "fall_50":
        return "a different response rule"
    if b.remission_rate is not None and b.remission_max != remission_max:
        return f"remission cut-off {b.remission_max} or less, the clinic's is {remission_max} or less"
    if modality and b.modality != modality:
        studied, reported = (MODALITY_NAMES.get(m, m) for m in (b.modality, modality))
        return f"a study of {studied}; the report is of {reported}"
    return None


def split(
    *, scale: str, remission_max: int, modality: str | None
) -> tuple[list[Benchmark], list[tuple[Benchmark, str]]]:
    """(the comparable figures, the others of the same scale with the reason each is left out)."""
    shown: list[Benchmark] = []
    left: list[tuple[Benchmark, str]] = []
    for b in all_benchmarks():
        reason = why_not(b, scale=scale, remission_max=remission_max, modality=modality)
        if reason is None:
            shown.append(b)
        elif b.scale == scale:
            left.append((b, reason))
    return shown, left
