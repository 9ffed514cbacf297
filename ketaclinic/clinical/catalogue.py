"""The rule catalogue as Markdown: docs/clinical-rules.md is this output, checked by a test.

A management command (`ketaclinic rules`) and the staff page show the same text, so what a clinician reads is
what the code applies.
"""

from __future__ import annotations

from ketaclinic.clinical.common import ALL_MODALITIES, Area, Modality, Rule
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy, PolicyField, format_value, policy_fields
from ketaclinic.clinical.rules import AREA_ORDER, REFERENCE_NOTE, RULES, RULESET_VERSION
from ketaclinic.clinical.sources import SOURCES

_AREA_TITLES: dict[Area, str] = {
    Area.ELIGIBILITY: "Eligibility screening",
    Area.VITALS: "Blood pressure and in-session vital signs",
    Area.DISCHARGE: "Discharge readiness",
    Area.DOSING: "Dosing",
    Area.PROTOCOLS: "Treatment schedules",
    Area.REMS: "SPRAVATO REMS and session medication screen",
    Area.HOME: "At-home ketamine",
    Area.SCALES: "Rating scales",
    Area.OUTCOMES: "Outcome definitions",
    Area.TRD: "Treatment-resistant depression",
}

_AREA_NOTES: dict[Area, str] = {
    Area.ELIGIBILITY: (
        "Decision: any `contraindicated` finding makes the patient ineligible; any `acknowledge` finding "
        "(including not meeting the TRD definition) needs review. For home ketamine, clinic policy "
        "`home_cautions_require_acknowledgement` raises every `caution` to `acknowledge`."
    ),
}


def render_markdown(policy: ClinicPolicy = DEFAULT_POLICY) -> str:
    """The full catalogue: version, every rule with its sources, then the policy values in force."""
    lines = [
        "# KetaClinic clinical rule catalogue",
        "",
        f"Ruleset version: **{RULESET_VERSION}**",
        "",
        "Generated from `ketaclinic.clinical` by `ketaclinic.clinical.catalogue.render_markdown()`; do not "
        "edit by hand. Every fact comes from `shared/clinical/reference.md`; source tags resolve below each "
        "rule.",
        "",
        f"> {REFERENCE_NOTE}",
        "",
        f"{len(RULES)} rules. Rules marked *clinic policy* use the values in the policy table at the end.",
        "",
    ]
    for area in AREA_ORDER:
        lines += _area(area)
    lines += _policy(policy)
    return "\n".join(lines) + "\n"


def _area(area: Area) -> list[str]:
    rules = [r for r in RULES if r.area is area]
    lines = [f"## {_AREA_TITLES[area]} ({len(rules)} rules)", ""]
    if area in _AREA_NOTES:
        lines += [_AREA_NOTES[area], ""]
    for r in rules:
        lines += _rule(r)
    return lines


def _rule(r: Rule) -> list[str]:
    lines = [
        f"### {r.id}",
        "",
        f"- Level: `{r.level}`",
        f"- Modalities: {_modalities(r.modalities)}",
    ]
    if r.policy_fields:
        lines.append("- Clinic policy: " + ", ".join(f"`{name}`" for name in r.policy_fields))
    lines += [f"- {r.description}", "- Sources:"]
    lines += [f"  - [{tag}] {SOURCES[tag]}" for tag in r.sources]
    return [*lines, ""]


def _modalities(modalities: frozenset[Modality]) -> str:
    if modalities == ALL_MODALITIES:
        return "all"
    return ", ".join(m.value for m in Modality if m in modalities)


def _policy(policy: ClinicPolicy) -> list[str]:
    rows = policy_fields(policy)
    lines = [
        "## Clinic policy values in force",
        "",
        "Thresholds the reference marks UNVERIFIED, where its sources differ, or where it gives no number. "
        "Shown to staff as clinic policy, not as label or guideline.",
        "",
        "| Field | Value | Default | Basis | Sources | Description |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_policy_row(row) for row in rows]
    return [*lines, ""]


def _policy_row(row: PolicyField) -> str:
    value = format_value(row.value) + ("" if row.is_default else " (changed)")
    sources = ", ".join(row.sources) or "none"
    cells = (f"`{row.name}`", value, format_value(row.default), row.basis.value, sources, row.description)
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
