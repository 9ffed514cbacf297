"""The whole rule set: every rule the library applies, its version, and the clinic-policy values in force.

`RULES` is the single list the catalogue, the staff page and the tests read. Each module owns its rules; this
module only gathers them and checks that ids are unique and every source tag resolves.
"""

from __future__ import annotations

from ketaclinic.clinical import (
    dosing,
    eligibility,
    home,
    kap,
    measurement,
    outcomes,
    protocols,
    rems,
    scales,
    scheduling,
    trd,
    vitals,
)
from ketaclinic.clinical.common import Area, Modality, Rule, parse_modality
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy, PolicyField, policy_fields
from ketaclinic.clinical.sources import unknown_tags

RULESET_VERSION = "2026.11.8"
"""Shown by the app with every decision so a clinic can review the rule set it applies. Bump it whenever a
rule, a policy default or a source changes."""

REFERENCE_NOTE = (
    "Label facts were read from older label text and secondary copies (reference, 'How it was checked'); "
    "re-check every label-derived rule against the current Spravato PI before release. This is reference "
    "material, not medical advice: a deployment needs clinical sign-off of its rule set."
)

AREA_ORDER: tuple[Area, ...] = (
    Area.ELIGIBILITY,
    Area.VITALS,
    Area.DISCHARGE,
    Area.DOSING,
    Area.PROTOCOLS,
    Area.REMS,
    Area.HOME,
    Area.SCALES,
    Area.OUTCOMES,
    Area.TRD,
)


def _gather() -> tuple[Rule, ...]:
    gathered = (
        eligibility.RULES
        + vitals.RULES
        + dosing.RULES
        + protocols.RULES
        + rems.RULES
        + scheduling.RULES
        + home.RULES
        + kap.RULES
        + scales.RULES
        + measurement.RULES
        + outcomes.RULES
        + trd.RULES
    )
    ids = [r.id for r in gathered]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuntimeError(f"duplicate rule ids: {duplicates}")
    missing = unknown_tags(tag for r in gathered for tag in r.sources)
    if missing:
        raise RuntimeError(f"rules cite unknown source tags: {sorted(missing)}")
    return tuple(sorted(gathered, key=lambda r: (AREA_ORDER.index(r.area), r.id)))


RULES: tuple[Rule, ...] = _gather()
RULES_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


def rule(rule_id: str) -> Rule:
    """The rule with this id; an unknown id raises KeyError."""
    return RULES_BY_ID[rule_id]


def rules_for(modality: str) -> tuple[Rule, ...]:
    """Every rule that applies to a modality."""
    kind: Modality = parse_modality(modality)
    return tuple(r for r in RULES if r.applies_to(kind))


def policy_table(policy: ClinicPolicy = DEFAULT_POLICY) -> tuple[PolicyField, ...]:
    """The policy values in force, with defaults, descriptions, sources and basis (for staff and the CLI)."""
    return policy_fields(policy)
