"""The checked-in catalogue matches the code, so CI catches drift between docs and rules."""

import dataclasses
from decimal import Decimal
from pathlib import Path

from ketaclinic.clinical.catalogue import render_markdown
from ketaclinic.clinical.policy import DEFAULT_POLICY, policy_fields
from ketaclinic.clinical.rules import RULES, RULESET_VERSION
from ketaclinic.clinical.sources import SOURCES

DOC = Path(__file__).parents[3] / "docs" / "clinical-rules.md"


def test_checked_in_catalogue_is_current() -> None:
    # Regenerate with: python -c "from ketaclinic.clinical.catalogue import render_markdown as r;
    # open('docs/clinical-rules.md', 'w').write(r())"
    assert DOC.read_text(encoding="utf-8") == render_markdown()


def test_catalogue_lists_version_every_rule_and_its_citations() -> None:
    text = render_markdown()
    assert f"Ruleset version: **{RULESET_VERSION}**" in text
    for r in RULES:
        assert f"### {r.id}\n" in text
        for tag in r.sources:
            assert f"[{tag}] {SOURCES[tag]}" in text


def test_catalogue_shows_policy_values_and_marks_changes() -> None:
    assert all(f"`{row.name}`" in render_markdown() for row in policy_fields())
    changed = dataclasses.replace(DEFAULT_POLICY, madrs_remission_max=12, iv_mg_per_kg_max=Decimal("0.75"))
    text = render_markdown(changed)
    assert "| `madrs_remission_max` | 12 (changed) | 10 | sources_differ |" in text
    assert "| `iv_mg_per_kg_max` | 0.75 (changed) | 1.0 |" in text
    assert "| `phq9_relapse_min` | not set | not set |" in text


def test_catalogue_marks_all_modality_rules_and_scoped_rules() -> None:
    text = render_markdown()
    assert "### ELIG-ALL-ACK-PREGNANCY\n\n- Level: `acknowledge`\n- Modalities: all\n" in text
    assert "### ELIG-ESK-CI-AVM\n\n- Level: `contraindicated`\n- Modalities: esketamine_nasal\n" in text
