"""Types shared by every clinical module: modalities, rule levels and the `Rule` record.

Each module declares its rules as `Rule` constants next to the code that applies them; `rules.RULES`
collects them so the catalogue, the staff page and the tests all see one list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Modality(StrEnum):
    """How the drug reaches the patient. Only esketamine nasal spray is a labelled product (reference 1)."""

    IV_KETAMINE = "iv_ketamine"
    IM_KETAMINE = "im_ketamine"
    ESKETAMINE_NASAL = "esketamine_nasal"
    ORAL_KETAMINE = "oral_ketamine"
    HOME_KETAMINE = "home_ketamine"


ALL_MODALITIES: frozenset[Modality] = frozenset(Modality)
ESKETAMINE: frozenset[Modality] = frozenset({Modality.ESKETAMINE_NASAL})
# Every modality other than Spravato uses racemic ketamine, whose facts come from reference section 2 and 5.
RACEMIC: frozenset[Modality] = ALL_MODALITIES - ESKETAMINE
HOME: frozenset[Modality] = frozenset({Modality.HOME_KETAMINE})


def parse_modality(value: str) -> Modality:
    """The `Modality` for an id; unknown ids raise ValueError so a typo never skips the safety rules."""
    try:
        return Modality(value)
    except ValueError:
        known = ", ".join(m.value for m in Modality)
        raise ValueError(f"unknown modality {value!r}; expected one of: {known}") from None


class Area(StrEnum):
    """Which part of the library a rule belongs to (groups the catalogue)."""

    ELIGIBILITY = "eligibility"
    VITALS = "vitals"
    DISCHARGE = "discharge"
    DOSING = "dosing"
    PROTOCOLS = "protocols"
    SCALES = "scales"
    OUTCOMES = "outcomes"
    TRD = "trd"
    REMS = "rems"
    HOME = "home"


class Level(StrEnum):
    """What a rule does when it fires.

    The first four are screening levels: `contraindicated` makes a patient ineligible, `acknowledge` needs a
    clinician's recorded acknowledgement, `caution` and `info` are shown but do not block.
    """

    CONTRAINDICATED = "contraindicated"
    ACKNOWLEDGE = "acknowledge"
    CAUTION = "caution"
    INFO = "info"
    PROCEED = "proceed"
    DEFER = "defer"
    ALERT = "alert"
    BLOCKS_DISCHARGE = "blocks_discharge"
    LIMIT = "limit"
    SCHEDULE = "schedule"
    DEFINITION = "definition"


_RULE_ID = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")


@dataclass(frozen=True, slots=True)
class Rule:
    """One clinical rule: a stable id a clinician can search for, and the source tags it rests on.

    `policy_fields` names the `ClinicPolicy` fields whose values the rule uses, so the catalogue can show
    which parts are clinic policy rather than label or guideline.
    """

    id: str
    area: Area
    level: Level
    modalities: frozenset[Modality]
    description: str
    sources: tuple[str, ...]
    policy_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _RULE_ID.match(self.id):
            raise ValueError(f"rule id {self.id!r} must be upper-case words joined by hyphens")
        if not self.sources:
            raise ValueError(f"rule {self.id} needs at least one source tag")
        if not self.modalities:
            raise ValueError(f"rule {self.id} must apply to at least one modality")
        if not self.description.strip():
            raise ValueError(f"rule {self.id} needs a description")

    def applies_to(self, modality: Modality) -> bool:
        return modality in self.modalities
