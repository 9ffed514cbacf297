"""Every rule is traceable: stable unique ids, non-empty sources, and every source tag resolves."""

import dataclasses
import re

import pytest

from ketaclinic.clinical import eligibility, rules, vitals
from ketaclinic.clinical.common import ALL_MODALITIES, Area, Level, Modality, Rule, parse_modality
from ketaclinic.clinical.policy import ClinicPolicy, policy_fields
from ketaclinic.clinical.sources import SOURCE_GROUPS, SOURCES, SourceGroup, cite, unknown_tags

# The tags of the reference's Sources list, copied from shared/clinical/reference.md.
REFERENCE_TAGS = [
    "S1",
    "S2",
    "S3a",
    "S3b",
    "S3c",
    "S3d",
    "S4",
    "S4b",
    "S5",
    "S6",
    "S7",
    "S8",
    "S9",
    "S10",
    "S11",
    "S12",
    "S13",
    "S14",
    "S15",
    "S16a",
    "S16b",
    "S17",
    "S17b",
    "S17c",
    "S18",
    "S19",
    "S20",
    "S21",
    "S22",
    "S23",
    "S24",
    "S25",
    "S25b",
    "S26",
    "S27",
    "S28",
    "S29",
    "K1",
    "K2",
    "K3",
    "K4",
    "K5",
    "K6",
    "K7a",
    "K7b",
    "K7c",
    "K8",
    "K9",
    "K9b",
    "K9c",
    "K10",
    "K11",
    "K12a",
    "K12b",
    "K13",
    "K14",
    "K15",
    "K16",
    "K16b",
    "K17",
    "K18",
    "K18b",
    "K19a",
    "K19b",
    "K20",
    "K21",
    "K22",
    "R1",
    "R2",
    "R2b",
    "R3",
    "R4",
    "R5",
    "R6a",
    "R6b",
    "R6c",
    "R6d",
    "R7a",
    "R7b",
    "R7c",
    "R7d",
    "R8a",
    "R8b",
    "R8c",
    "R9",
    "R9b",
    "R10a",
    "R10b",
    "R10c",
    "R10d",
    "R11a",
    "R11b",
    "R12a",
    "R12b",
    "R12c",
    "R13a",
    "R13b",
    "R13c",
    "R14a",
    "R14b",
    "R14c",
    "R15a",
    "R15b",
    "R16",
    "T1",
    "T2",
    "T2b",
    "T2c",
    "T3",
    "T4a",
    "T4b",
    "T4c",
    "T5",
    "T6",
    "T6b",
    "C1",
    "C2",
    "C3",
    "C4",
]


def test_sources_cover_every_tag_of_the_reference_list() -> None:
    assert set(REFERENCE_TAGS) <= set(SOURCES)
    assert len(REFERENCE_TAGS) == 119


def test_group_tags_used_in_the_reference_body_resolve_to_their_parts() -> None:
    assert "[K7a]" in SOURCES["K7"] and "[K7c]" in SOURCES["K7"]
    assert "[R15a]" in SOURCES["R15"] and "[R15b]" in SOURCES["R15"]
    assert SOURCES["R11a"].startswith("Same record as R10a: ") and SOURCES["R10a"] in SOURCES["R11a"]


def test_citations_are_full_text_and_grouped() -> None:
    assert "Sanacora G" in SOURCES["K1"]
    assert "NCT04226963" in SOURCES["R10a"]
    assert SOURCE_GROUPS["C3"] is SourceGroup.COSTS
    assert set(SOURCE_GROUPS) == set(SOURCES)
    assert all(text.strip() for text in SOURCES.values())


def test_cite_and_unknown_tags() -> None:
    assert cite("S7") == SOURCES["S7"]
    with pytest.raises(KeyError, match="S99"):
        cite("S99")
    assert unknown_tags(["S7", "S99", "K15"]) == {"S99"}


@pytest.mark.parametrize("r", rules.RULES, ids=lambda r: r.id)
def test_every_rule_has_sources_that_exist(r: Rule) -> None:
    assert r.sources
    assert not unknown_tags(r.sources), r.id


@pytest.mark.parametrize("r", rules.RULES, ids=lambda r: r.id)
def test_every_rule_is_well_formed(r: Rule) -> None:
    assert re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)+", r.id)
    assert r.description.strip()
    assert r.modalities <= ALL_MODALITIES and r.modalities
    names = {f.name for f in dataclasses.fields(ClinicPolicy)}
    assert set(r.policy_fields) <= names, r.id


def test_rule_ids_are_unique_and_indexed() -> None:
    ids = [r.id for r in rules.RULES]
    assert len(ids) == len(set(ids)) == len(rules.RULES_BY_ID)
    assert rules.rule("ELIG-ESK-CI-ANEURYSM").sources == ("S7", "S9", "S23")
    with pytest.raises(KeyError):
        rules.rule("NO-SUCH-RULE")


def test_every_policy_field_cites_known_sources() -> None:
    for row in policy_fields():
        assert not unknown_tags(row.sources), row.name


def test_every_policy_field_is_used_by_a_rule_or_documented_as_a_data_bound() -> None:
    used = {name for r in rules.RULES for name in r.policy_fields}
    unused = {row.name for row in policy_fields()} - used
    # The weight bounds are data-entry limits, listed in the policy table, and used by the dosing rules.
    assert unused == set(), unused


def test_rules_for_a_modality() -> None:
    esk = rules.rules_for("esketamine_nasal")
    assert any(r.id == "ELIG-ESK-CI-AVM" for r in esk)
    assert not any(r.id == "ELIG-KET-CI-AVM" for r in esk)
    assert all(r.applies_to(Modality.HOME_KETAMINE) for r in rules.rules_for("home_ketamine"))
    with pytest.raises(ValueError, match="unknown modality"):
        rules.rules_for("intrathecal")


def test_ruleset_version_and_policy_table() -> None:
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", rules.RULESET_VERSION)
    assert rules.policy_table() == policy_fields()


def test_rule_validation_rejects_untraceable_rules() -> None:
    modalities = frozenset({Modality.IV_KETAMINE})
    with pytest.raises(ValueError, match="upper-case"):
        Rule("bad id", Area.TRD, Level.INFO, modalities, "x", ("T1",))
    with pytest.raises(ValueError, match="source"):
        Rule("A-B", Area.TRD, Level.INFO, modalities, "x", ())
    with pytest.raises(ValueError, match="modality"):
        Rule("A-B", Area.TRD, Level.INFO, frozenset(), "x", ("T1",))
    with pytest.raises(ValueError, match="description"):
        Rule("A-B", Area.TRD, Level.INFO, modalities, " ", ("T1",))


def test_parse_modality() -> None:
    assert parse_modality("iv_ketamine") is Modality.IV_KETAMINE
    with pytest.raises(ValueError, match="esketamine_nasal"):
        parse_modality("spravato")


def test_gather_refuses_duplicates_and_unknown_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    duplicate = vitals.RULES[0]
    monkeypatch.setattr(vitals, "RULES", (*vitals.RULES, duplicate))
    with pytest.raises(RuntimeError, match="duplicate"):
        rules._gather()
    monkeypatch.undo()
    bad = Rule("X-UNSOURCED", Area.VITALS, Level.INFO, ALL_MODALITIES, "x", ("Z9",))
    monkeypatch.setattr(eligibility, "RULES", (*eligibility.RULES, bad))
    with pytest.raises(RuntimeError, match="Z9"):
        rules._gather()
