"""The picture band renders every string escaped, each item opens to its findings and sources."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.template.loader import get_template

from ketaclinic.clinical.common import Level, Modality
from ketaclinic.clinical.eligibility import Decision
from ketaclinic.patients import picture as pic

if TYPE_CHECKING:
    from conftest import World

EVIL = '<script>alert("x")</script>&"\'<b onmouseover=1>'
SAFE = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&#34;&#39;&lt;b onmouseover=1&gt;"


def _source(n: int) -> pic.Source:
    return pic.Source(f"S{n}{EVIL}", f"citation {n} {EVIL}")


def _finding(level: Level, tone: pic.Tone) -> pic.PictureFinding:
    return pic.PictureFinding(
        rule_id=f"RULE-{level.upper()}{EVIL}",
        level=level,
        level_label=f"{level}{EVIL}",
        tone=tone,
        message=f"message {EVIL}",
        sources=(_source(1), _source(2)),
        escalated_by_policy=True,
    )


def _hostile(maudsley: int | None = 9) -> pic.Picture:
    findings = (_finding(Level.CONTRAINDICATED, pic.Tone.DANGER), _finding(Level.CAUTION, pic.Tone.INFO))
    cells = tuple(
        pic.ModalityCell(
            modality=m,
            label=f"{m.value}{EVIL}",
            decision=Decision.INELIGIBLE,
            decision_label=f"Ineligible{EVIL}",
            tone=pic.Tone.DANGER,
            first_reason=f"first reason {EVIL}",
            findings=findings,
        )
        for m in Modality
    )
    flag = pic.Flag(
        "ketamine_allergy", f"Ketamine allergy{EVIL}", pic.Tone.DANGER, f"detail {EVIL}", findings
    )
    trd = pic.TRDStatus(
        meets_definition=True,
        current_episode_failures=2,
        adequate_failures=3,
        min_trial_weeks=6,
        mgh_score=Decimal("2.5"),
        maudsley_score=maudsley,
        maudsley_band=f"moderate{EVIL}" if maudsley else None,
        maudsley_missing=() if maudsley else ("episode_months", f"severity{EVIL}"),
        rules=(pic.RuleRef(f"TRD-DEFINITION{EVIL}", f"description {EVIL}", (_source(3),)),),
    )
    resting = pic.RestingVitals(186, 104, 96, dt.date(2026, 11, 20))
    return pic.Picture(44, resting, trd, cells, (flag,), f"2026.11.1{EVIL}")


def _render(picture: pic.Picture) -> str:
    return get_template("patients/_picture.html", using="jinja2").render({"picture": picture})


def test_every_string_is_escaped() -> None:
    html = _render(_hostile())
    assert "<script>" not in html and "<b onmouseover" not in html and EVIL not in html
    # Every hostile string arrived, escaped: labels, reasons, messages, rule ids, sources, detail, version.
    for text in (
        "iv_ketamine",
        "first reason",
        "message",
        "RULE-CONTRAINDICATED",
        "citation 1",
        "S2",
        "detail",
        "Ketamine allergy",
        "Ineligible",
        "moderate",
        "description",
        "TRD-DEFINITION",
        "2026.11.1",
    ):
        assert f"{text}{SAFE}" in html or f"{text} {SAFE}" in html, text


def test_the_band_shows_staging_decisions_and_flags_each_opening_to_its_sources() -> None:
    html = _render(_hostile())
    assert "Meets definition" in html and "MGH-s&nbsp;2.5" in html and "Maudsley&nbsp;9 (moderate" in html
    assert "186/104 mmHg" in html and "96 bpm" in html and "2026-11-20" in html
    # One <details> for TRD, one per modality, one per flag; findings and citations sit inside them as text.
    assert html.count("<details") == 1 + len(Modality) + 1
    assert html.count('<li class="pic-cell danger">') == len(Modality)
    assert html.count('class="badge danger">Ineligible') == len(Modality)
    assert html.count("citation 1 ") == 2 * (len(Modality) + 1)
    assert 'class="badge muted">clinic policy' in html
    assert "2 findings" in html


def test_an_unstaged_maudsley_says_what_is_missing_and_no_flags_say_so() -> None:
    picture = _hostile(maudsley=None)
    html = _render(
        pic.Picture(picture.age, None, picture.trd, picture.modalities, (), picture.ruleset_version)
    )
    assert "Maudsley not staged" in html and "episode months" in html
    assert 'Resting BP</span> <span class="muted">not recorded' in html
    assert "No safety flags." in html


def test_a_real_picture_renders(world: World) -> None:
    from ketaclinic.patients.tests.test_picture import _picture, _register

    meds = [{"drug": "escitalopram"}, {"drug": "levothyroxine"}, {"drug": "clonazepam"}]
    html = _render(_picture(_register(world, medications=meds)))
    assert "Levothyroxine / thyroid hormone" in html and "ELIG-KET-DDI-LEVOTHYROXINE" in html
    assert "Kaplan" in html  # the K18 citation, readable without hovering
    assert html.count('class="badge ok">Eligible') == 4 and 'class="badge warn">Needs review' in html
