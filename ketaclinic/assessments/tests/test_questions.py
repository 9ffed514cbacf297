"""The questionnaire macro and its form: every item of the instrument with its wording and answers, one
fieldset and legend per item, radio buttons; posted answers go back to the library as scores."""

from __future__ import annotations

import pytest
from django.template import engines

from ketaclinic.assessments.actions import library_answers
from ketaclinic.assessments.forms import CLINIC_ENTRY, answers_from_post, question_form
from ketaclinic.clinical import scales


def _render(instrument: str, **context: object) -> str:
    template = engines["jinja2"].from_string(
        '{% import "assessments/_questions.html" as q %}{{ q.questions(form, values=values, errors=errors) }}'
    )
    return template.render({"form": question_form(instrument), "values": {}, "errors": {}, **context})


@pytest.mark.parametrize("instrument", [i.value for i in CLINIC_ENTRY])
def test_every_item_is_a_fieldset_with_its_wording_and_options(instrument: str) -> None:
    html = _render(instrument)
    spec = scales.INSTRUMENTS[scales.Instrument(instrument)]
    assert html.count("<fieldset") == spec.item_count == html.count("<legend>")
    for item in spec.items:
        assert item.label.replace("'", "&#39;") in html
        assert f'name="item-{item.key}"' in html
    assert 'type="radio"' in html


def test_phq9_answers_are_the_instrument_own() -> None:
    html = _render("phq9")
    for label in ("Not at all", "Several days", "More than half the days", "Nearly every day"):
        assert html.count(label) == 9
    assert "Over the last 2 weeks" in html


def test_a_chosen_answer_stays_chosen_and_an_item_error_shows_beside_it() -> None:
    html = _render("phq9", values={"item-9": "2"}, errors={"answers.9": "phq9 item 9: is missing"})
    assert 'name="item-9" value="2" checked' in html
    assert 'aria-invalid="true" aria-describedby="e-item-9"' in html and "is missing" in html


def test_posted_answers_become_library_answers() -> None:
    post = {f"item-{n}": "1" for n in range(1, 10)}
    answers = library_answers("phq9", answers_from_post("phq9", post))
    assert scales.score("phq9", answers).total == 9  # type: ignore[arg-type]
    del post["item-4"]
    assert "4" not in answers_from_post("phq9", post)
    cssrs = answers_from_post("cssrs_screen", {"item-q1": "yes", "item-q2": "no", "item-q6": "no"})
    assert cssrs == {"q1": True, "q2": False, "q6": False}
