"""What the rules page shows, prepared for its template: headings, rows, badges and the sources list.

The clinical library holds the rules (`ketaclinic.clinical`); this module only arranges them for reading:
one section per area under a heading spelled as clinicians write it, every rule with its source tags, and
one list of full citations that the tags link to. The template prints these values; it builds no markup
from them beyond escaping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ketaclinic.clinical import rules
from ketaclinic.clinical.common import ALL_MODALITIES, Area, Level, Modality, Rule
from ketaclinic.clinical.policy import ClinicPolicy, PolicyBasis, PolicyField, format_value
from ketaclinic.clinical.sources import SOURCE_GROUPS, SOURCES, SourceGroup

HEADINGS: dict[Area, str] = {
    Area.ELIGIBILITY: "Eligibility screening",
    Area.VITALS: "Blood pressure and in-session vital signs",
    Area.DISCHARGE: "Discharge readiness",
    Area.DOSING: "Dosing",
    Area.PROTOCOLS: "Treatment schedules",
    Area.REMS: "SPRAVATO REMS and session medication screen",
    Area.HOME: "At-home ketamine: pre-dose blood pressure, check-ins and holds",
    Area.SCALES: "Rating scales (PHQ-9, GAD-7, QIDS-SR16, MADRS, CADSS, MOAA/S, C-SSRS, BPRS+)",
    Area.OUTCOMES: "Outcome definitions",
    Area.TRD: "Treatment-resistant depression (TRD)",
}

LEVEL_BADGES: dict[Level, str] = {
    Level.CONTRAINDICATED: "danger",
    Level.ACKNOWLEDGE: "warn",
    Level.DEFER: "warn",
    Level.ALERT: "warn",
    Level.BLOCKS_DISCHARGE: "warn",
}

BASIS_LABELS: dict[PolicyBasis, tuple[str, str]] = {
    PolicyBasis.UNVERIFIED: ("unverified", "warn"),
    PolicyBasis.SOURCES_DIFFER: ("sources differ", "warn"),
    PolicyBasis.VERIFIED_DEFAULT: ("verified default", "muted"),
    PolicyBasis.CLINIC_CHOICE: ("clinic choice", "muted"),
}

_ADDRESS = re.compile(r"https?://\S+")
_TRAILING = ".,;)"


@dataclass(frozen=True)
class RuleRow:
    id: str
    level: str
    badge: str
    modalities: str
    description: str
    clinic_policy: bool
    sources: tuple[str, ...]


@dataclass(frozen=True)
class AreaSection:
    anchor: str
    heading: str
    rules: tuple[RuleRow, ...]


@dataclass(frozen=True)
class PolicyRow:
    name: str
    value: str
    default: str
    basis: str
    badge: str
    description: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    """A piece of a citation: plain text, or a web address the page links to."""

    text: str
    address: bool = False


@dataclass(frozen=True)
class Citation:
    tag: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class SourceSection:
    heading: str
    citations: tuple[Citation, ...]


def modalities(chosen: frozenset[Modality]) -> str:
    if chosen == ALL_MODALITIES:
        return "all"
    return ", ".join(m.value.replace("_", " ") for m in Modality if m in chosen)


def rule_row(rule: Rule) -> RuleRow:
    return RuleRow(
        id=rule.id,
        level=rule.level.value.replace("_", " "),
        badge=LEVEL_BADGES.get(rule.level, "muted"),
        modalities=modalities(rule.modalities),
        description=rule.description,
        clinic_policy=bool(rule.policy_fields),
        sources=rule.sources,
    )


def areas() -> tuple[AreaSection, ...]:
    """The areas in the catalogue's order, each with its rules; areas without rules are left out."""
    sections = []
    for area in rules.AREA_ORDER:
        rows = tuple(rule_row(r) for r in rules.RULES if r.area is area)
        if rows:
            sections.append(AreaSection(f"area-{area.value}", HEADINGS[area], rows))
    return tuple(sections)


def policy_rows(policy: ClinicPolicy) -> tuple[PolicyRow, ...]:
    return tuple(_policy_row(row) for row in rules.policy_table(policy))


def _policy_row(row: PolicyField) -> PolicyRow:
    basis, badge = BASIS_LABELS[row.basis]
    return PolicyRow(
        name=row.name,
        value=format_value(row.value),
        default=format_value(row.default),
        basis=basis,
        badge=badge,
        description=row.description,
        sources=row.sources,
    )


def segments(citation: str) -> tuple[Segment, ...]:
    """A citation split so that its web addresses can be links (closing punctuation stays text)."""
    parts: list[Segment] = []
    position = 0
    for match in _ADDRESS.finditer(citation):
        address = match.group().rstrip(_TRAILING)
        if match.start() > position:
            parts.append(Segment(citation[position : match.start()]))
        parts.append(Segment(address, address=True))
        position = match.start() + len(address)
    if position < len(citation):
        parts.append(Segment(citation[position:]))
    return tuple(parts)


def sources(cited: set[str]) -> tuple[SourceSection, ...]:
    """Full citations of the tags the page cites, grouped as the reference's Sources list is."""
    sections = []
    for group in SourceGroup:
        citations = tuple(
            Citation(tag, segments(text))
            for tag, text in SOURCES.items()
            if tag in cited and SOURCE_GROUPS[tag] is group
        )
        if citations:
            sections.append(SourceSection(group.value, citations))
    return tuple(sections)


def cited_tags(sections: tuple[AreaSection, ...], policy: tuple[PolicyRow, ...]) -> set[str]:
    tags = {tag for section in sections for row in section.rules for tag in row.sources}
    return tags | {tag for row in policy for tag in row.sources}
