"""Questionnaire forms made from the clinical library's instrument metadata (`clinical.scales.INSTRUMENTS`).

`question_form(instrument)` gives what the `_questions.html` macro draws: each item's wording and its answer
options, so a form and the scorer cannot disagree about what a valid answer is. `answers_from_post` reads
the posted radio buttons back into the answers the library scores; an item left unanswered is left out, so
the library names it ("answers.9: is missing").

Field names: `item-<key>` (`item-1` .. `item-9`; the C-SSRS screener's `item-q1` ..), values the score, or
`yes` / `no` for the C-SSRS screener. Errors are keyed as the action names them (`answers.9`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ketaclinic.clinical import scales
from ketaclinic.clinical.scales import Instrument

# The PHQ-9 and GAD-7 share their answers and their two-week recall window [R2].
FREQUENCY_STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
STEMS: dict[Instrument, str] = {
    Instrument.PHQ9: FREQUENCY_STEM,
    Instrument.GAD7: FREQUENCY_STEM,
    Instrument.QIDS_SR16: "Over the last 7 days: choose the score that best describes you for each item.",
    Instrument.MADRS: "Clinician rating: score each item from the interview (0 = absent, 6 = most severe).",
    Instrument.CSSRS_SCREEN: "Ask each question; ask a follow-up only after a yes to the question before it.",
}
YES_NO: tuple[tuple[str, str], ...] = (("yes", "Yes"), ("no", "No"))
# Instruments a patient answers on their own (self-report); the others are rated by a clinician.
SELF_REPORT = frozenset({Instrument.PHQ9, Instrument.GAD7, Instrument.QIDS_SR16})
# Instruments staff enter from the chart.
CLINIC_ENTRY: tuple[Instrument, ...] = (
    Instrument.PHQ9,
    Instrument.GAD7,
    Instrument.QIDS_SR16,
    Instrument.MADRS,
    Instrument.CSSRS_SCREEN,
)


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    number: int
    text: str
    # (posted value, label), lowest score first.
    options: tuple[tuple[str, str], ...]

    @property
    def field(self) -> str:
        return f"item-{self.key}"

    @property
    def error_key(self) -> str:
        return f"answers.{self.key}"


@dataclass(frozen=True, slots=True)
class QuestionForm:
    instrument: str
    name: str
    stem: str
    questions: tuple[Question, ...]


def _options(instrument: Instrument, item: scales.ItemSpec) -> tuple[tuple[str, str], ...]:
    if instrument is Instrument.CSSRS_SCREEN:
        return YES_NO
    if instrument in (Instrument.PHQ9, Instrument.GAD7):
        return tuple((str(score), label) for score, _, label in scales.FREQUENCY_ANSWER_CODES)
    return tuple((str(n), str(n)) for n in range(item.min_score, item.max_score + 1))


def question_form(instrument: str) -> QuestionForm:
    kind = scales.parse_instrument(instrument)
    spec = scales.INSTRUMENTS[kind]
    questions = tuple(Question(i.key, i.number, i.label, _options(kind, i)) for i in spec.items)
    return QuestionForm(kind.value, spec.name, STEMS.get(kind, ""), questions)


def answers_from_post(instrument: str, post: Mapping[str, str]) -> dict[str, object]:
    """The posted answers as the library takes them (item number to score; C-SSRS key to yes/no).

    A value that is not one of the item's options is passed on as given, so the library names the item.
    """
    form = question_form(instrument)
    answers: dict[str, object] = {}
    for q in form.questions:
        raw = post.get(q.field, "")
        if raw == "":
            continue
        if form.instrument == Instrument.CSSRS_SCREEN:
            answers[q.key] = {"yes": True, "no": False}.get(raw, raw)
        else:
            answers[q.key] = int(raw) if raw.isascii() and raw.isdigit() else raw
    return answers
