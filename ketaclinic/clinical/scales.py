"""Rating scales: item metadata, validated scoring, severity bands and safety flags (reference section 3).

`score(instrument, answers)` is the one entry point. `INSTRUMENTS` holds the metadata forms are built from
(items, per-item range, LOINC codes where the reference gives them), so the form and the scorer cannot
disagree about what a valid answer is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.clinical.common import ALL_MODALITIES, Area, Level, Rule
from ketaclinic.clinical.policy import CSSRS_BAND_ORDER, DEFAULT_POLICY, ClinicPolicy, CssrsBand


class Instrument(StrEnum):
    PHQ9 = "phq9"
    GAD7 = "gad7"
    QIDS_SR16 = "qids_sr16"
    MADRS = "madrs"
    CADSS = "cadss"
    MOAAS = "moaas"
    CSSRS_SCREEN = "cssrs_screen"
    BPRS_POSITIVE = "bprs_positive"


class Flag(StrEnum):
    """Safety flags a result can carry. Flags from clinic policy say so in `FLAG_IS_POLICY`."""

    SUICIDAL_IDEATION = "suicidal_ideation"
    SUICIDAL_BEHAVIOUR = "suicidal_behaviour"
    HIGH_SUICIDE_RISK = "high_suicide_risk"
    LOSS_OF_CONSCIOUSNESS = "loss_of_consciousness"
    SEDATION_ALERT = "sedation_alert"
    DISSOCIATION_ALERT = "dissociation_alert"
    PROBABLE_GAD = "probable_gad"
    POSITIVE_SYMPTOMS_PRESENT = "positive_symptoms_present"


FLAG_IS_POLICY: dict[Flag, bool] = {
    flag: flag in {Flag.SEDATION_ALERT, Flag.DISSOCIATION_ALERT} for flag in Flag
}


class BprsConvention(StrEnum):
    """How BPRS items were scored (reference 3.8): standard 1-7, or re-based 0-6 in some protocols."""

    ONE_TO_SEVEN = "1-7"
    ZERO_TO_SIX = "0-6"


BPRS_ITEM_RANGE: dict[BprsConvention, tuple[int, int]] = {
    BprsConvention.ONE_TO_SEVEN: (1, 7),
    BprsConvention.ZERO_TO_SIX: (0, 6),
}


class InvalidAnswers(ValueError):
    """The answers cannot be scored. `item` names the offending item when there is one."""

    def __init__(self, instrument: str, message: str, item: str | None = None) -> None:
        self.instrument = instrument
        self.item = item
        where = f"{instrument} item {item}" if item is not None else instrument
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """One question: its 1-based number, the key a form posts it under, and its score range."""

    number: int
    key: str
    label: str
    min_score: int
    max_score: int
    loinc: str | None = None


@dataclass(frozen=True, slots=True)
class Band:
    id: str
    low: int
    high: int

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True, slots=True)
class LoincCodes:
    """LOINC codes of the panel and of the total score, where the reference gives them (else None)."""

    panel: str | None = None
    total: str | None = None


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    instrument: Instrument
    name: str
    items: tuple[ItemSpec, ...]
    total_min: int | None
    total_max: int | None
    bands: tuple[Band, ...]
    codes: LoincCodes
    sources: tuple[str, ...]

    @property
    def item_count(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class DomainScore:
    """A QIDS-SR16 symptom domain: the items it covers and its score (the maximum or the single item)."""

    domain: str
    items: tuple[int, ...]
    score: int


@dataclass(frozen=True, slots=True)
class ScaleResult:
    instrument: Instrument
    total: int | None
    band: str | None
    flags: frozenset[str]
    codes: LoincCodes
    item_scores: tuple[int, ...] = ()
    domains: tuple[DomainScore, ...] = ()
    convention: BprsConvention | None = None
    sources: tuple[str, ...] = ()


# --- Item tables -------------------------------------------------------------------------------------------

PHQ9_ITEMS: tuple[tuple[str, str], ...] = (
    ("Little interest or pleasure in doing things", "44250-9"),
    ("Feeling down, depressed, or hopeless", "44255-8"),
    ("Trouble falling or staying asleep, or sleeping too much", "44259-0"),
    ("Feeling tired or having little energy", "44254-1"),
    ("Poor appetite or overeating", "44251-7"),
    ("Feeling bad about yourself", "44258-2"),
    ("Trouble concentrating", "44252-5"),
    ("Moving or speaking slowly, or being restless", "44253-3"),
    ("Thoughts that you would be better off dead or of hurting yourself", "44260-8"),
)
PHQ9_DIFFICULTY_LOINC = "69722-7"
"""The PHQ-9 functional difficulty question (not scored) [R2]."""

GAD7_ITEMS: tuple[tuple[str, str], ...] = (
    ("Feeling nervous, anxious, or on edge", "69725-0"),
    ("Not being able to stop or control worrying", "68509-9"),
    ("Worrying too much about different things", "69733-4"),
    ("Trouble relaxing", "69734-2"),
    ("Being so restless that it's hard to sit still", "69735-9"),
    ("Becoming easily annoyed or irritable", "69689-8"),
    ("Being afraid as if something awful might happen", "69736-7"),
)

ITEM_LOINC: dict[Instrument, tuple[str, ...]] = {
    Instrument.PHQ9: tuple(code for _, code in PHQ9_ITEMS),
    Instrument.GAD7: tuple(code for _, code in GAD7_ITEMS),
}
"""Per-item LOINC codes, in item order, for the instruments the reference codes [R1], [R2]."""

FREQUENCY_ANSWER_CODES: tuple[tuple[int, str, str], ...] = (
    (0, "LA6568-5", "Not at all"),
    (1, "LA6569-3", "Several days"),
    (2, "LA6570-1", "More than half the days"),
    (3, "LA6571-9", "Nearly every day"),
)
"""PHQ-9 / GAD-7 answer codes [R2]. Score from the ordinal value: one GAD-7 item uses LA18938-3 for 2."""

PHQ9_DIFFICULTY_ANSWER_CODES: tuple[tuple[str, str], ...] = (
    ("LA6572-7", "Not difficult at all"),
    ("LA6573-5", "Somewhat difficult"),
    ("LA6575-0", "Very difficult"),
    ("LA6574-3", "Extremely difficult"),
)

MADRS_ITEMS: tuple[str, ...] = (
    "Apparent sadness",
    "Reported sadness",
    "Inner tension",
    "Reduced sleep",
    "Reduced appetite",
    "Concentration difficulties",
    "Lassitude",
    "Inability to feel",
    "Pessimistic thoughts",
    "Suicidal thoughts",
)

QIDS_ITEMS: tuple[str, ...] = (
    "Falling asleep (onset insomnia)",
    "Sleep during the night (mid-nocturnal insomnia)",
    "Waking up too early",
    "Sleeping too much",
    "Feeling sad",
    "Decreased appetite",
    "Increased appetite",
    "Decreased weight",
    "Increased weight",
    "Concentration / decision making",
    "View of myself",
    "Thoughts of death or suicide",
    "General interest",
    "Energy level",
    "Feeling slowed down",
    "Feeling restless",
)

# The nine DSM symptom domains; a domain of several items scores the highest of them [R7a], [R7b].
QIDS_DOMAINS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("sleep", (1, 2, 3, 4)),
    ("sad_mood", (5,)),
    ("appetite_weight", (6, 7, 8, 9)),
    ("concentration", (10,)),
    ("self_view", (11,)),
    ("suicidal_ideation", (12,)),
    ("involvement", (13,)),
    ("energy", (14,)),
    ("psychomotor", (15, 16)),
)

MOAAS_LEVELS: tuple[tuple[int, str], ...] = (
    (5, "Responds readily to name spoken in normal tone (alert)"),
    (4, "Lethargic response to name spoken in normal tone"),
    (3, "Responds only after name is called loudly and/or repeatedly"),
    (2, "Responds only after mild prodding or shaking"),
    (1, "Responds only after painful trapezius squeeze"),
    (0, "No response to painful trapezius squeeze"),
)
"""The MOAA/S version KetaClinic fixes (BMC Anesthesiology 2022 [R9]); other versions differ at 0-1 [R9b]."""

MOAAS_ALERT = 5
"""MOAA/S 5 is 'alert': the score at which sedation has resolved [R9]."""

BPRS_POSITIVE_ITEMS: tuple[str, ...] = (
    "Conceptual disorganisation",
    "Suspiciousness",
    "Hallucinatory behaviour",
    "Unusual thought content",
)

CSSRS_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("q1", "Wished to be dead, or to go to sleep and not wake up (past month)?"),
    ("q2", "Any actual thoughts of killing yourself (past month)?"),
    ("q3", "Thought about how you might do it (method)?"),
    ("q4", "Had these thoughts with some intention of acting on them?"),
    ("q5", "Worked out, or started to work out, the details (plan) and intend to carry it out?"),
    ("q6", "Ever done, started, or prepared anything to end your life?"),
    ("q6_past_3_months", "If yes: within the past 3 months?"),
)
"""Paraphrased C-SSRS screener questions [R12a]; take verbatim wording from Columbia's official form."""


def _items(
    labels: Sequence[str], low: int, high: int, codes: Sequence[str | None] = ()
) -> tuple[ItemSpec, ...]:
    codes = tuple(codes) or (None,) * len(labels)
    return tuple(
        ItemSpec(n, str(n), label, low, high, code)
        for n, (label, code) in enumerate(zip(labels, codes, strict=True), 1)
    )


def _bands(*bands: tuple[str, int, int]) -> tuple[Band, ...]:
    return tuple(Band(band_id, low, high) for band_id, low, high in bands)


_I = Instrument
INSTRUMENTS: dict[Instrument, InstrumentSpec] = {
    _I.PHQ9: InstrumentSpec(
        _I.PHQ9,
        "PHQ-9",
        _items([label for label, _ in PHQ9_ITEMS], 0, 3, ITEM_LOINC[_I.PHQ9]),
        0,
        27,
        _bands(
            ("minimal", 0, 4),
            ("mild", 5, 9),
            ("moderate", 10, 14),
            ("moderately_severe", 15, 19),
            ("severe", 20, 27),
        ),
        LoincCodes(panel="44249-1", total="44261-6"),
        ("R1", "R2", "R3", "R4"),
    ),
    _I.GAD7: InstrumentSpec(
        _I.GAD7,
        "GAD-7",
        _items([label for label, _ in GAD7_ITEMS], 0, 3, ITEM_LOINC[_I.GAD7]),
        0,
        21,
        _bands(("minimal", 0, 4), ("mild", 5, 9), ("moderate", 10, 14), ("severe", 15, 21)),
        LoincCodes(panel="69737-5", total="70274-6"),
        ("R2", "R2b", "R5"),
    ),
    _I.QIDS_SR16: InstrumentSpec(
        _I.QIDS_SR16,
        "QIDS-SR16",
        _items(QIDS_ITEMS, 0, 3),
        0,
        27,
        _bands(
            ("none", 0, 5), ("mild", 6, 10), ("moderate", 11, 15), ("severe", 16, 20), ("very_severe", 21, 27)
        ),
        LoincCodes(),
        ("R7a", "R7b", "R7c", "R7d"),
    ),
    _I.MADRS: InstrumentSpec(
        _I.MADRS,
        "MADRS",
        _items(MADRS_ITEMS, 0, 6),
        0,
        60,
        _bands(("normal", 0, 6), ("mild", 7, 19), ("moderate", 20, 34), ("severe", 35, 60)),
        LoincCodes(),
        ("R6a", "R6b"),
    ),
    _I.CADSS: InstrumentSpec(
        _I.CADSS,
        "CADSS",
        _items([f"CADSS item {n}" for n in range(1, 24)], 0, 4),
        0,
        92,
        (),
        LoincCodes(),
        ("R10a", "R10b"),
    ),
    _I.MOAAS: InstrumentSpec(
        _I.MOAAS,
        "MOAA/S",
        _items(["Responsiveness (MOAA/S level)"], 0, 5),
        0,
        5,
        (),
        LoincCodes(),
        ("R9", "S6"),
    ),
    _I.CSSRS_SCREEN: InstrumentSpec(
        _I.CSSRS_SCREEN,
        "C-SSRS Screener",
        tuple(ItemSpec(n, key, text, 0, 1) for n, (key, text) in enumerate(CSSRS_QUESTIONS, 1)),
        None,
        None,
        (),
        LoincCodes(),
        ("R12a", "R12b", "R12c"),
    ),
    _I.BPRS_POSITIVE: InstrumentSpec(
        _I.BPRS_POSITIVE,
        "BPRS positive symptoms",
        _items(BPRS_POSITIVE_ITEMS, 1, 7),
        4,
        28,
        (),
        LoincCodes(),
        ("R11a", "R11b"),
    ),
}


# --- Rules -------------------------------------------------------------------------------------------------

_A = ALL_MODALITIES


def _rule(rule_id: str, level: Level, description: str, sources: tuple[str, ...], *policy: str) -> Rule:
    return Rule(rule_id, Area.SCALES, level, _A, description, sources, tuple(policy))


RULE_PHQ9_BANDS = _rule(
    "SCALE-PHQ9-BANDS",
    Level.DEFINITION,
    "PHQ-9: 9 items 0-3, total 0-27; minimal 0-4, mild 5-9, moderate 10-14, moderately severe 15-19, "
    "severe 20-27.",
    ("R2", "R4"),
)
RULE_PHQ9_ITEM9 = _rule(
    "SCALE-PHQ9-ITEM9-SI",
    Level.ALERT,
    "PHQ-9 item 9 (thoughts of being better off dead or of self-harm) scored 1 or more: flag suicidal "
    "ideation for a same-day suicide risk assessment (e.g. C-SSRS). Standard practice, not a validated "
    "cut-off.",
    ("R1", "R2"),
)
RULE_GAD7_BANDS = _rule(
    "SCALE-GAD7-BANDS",
    Level.DEFINITION,
    "GAD-7: 7 items 0-3, total 0-21; minimal 0-4, mild 5-9, moderate 10-14, severe 15-21.",
    ("R2", "R5"),
)
RULE_GAD7_PROBABLE = _rule(
    "SCALE-GAD7-PROBABLE-GAD",
    Level.INFO,
    "GAD-7 total 10 or more: the usual cut-off for probable generalised anxiety disorder "
    "(sensitivity 89%, specificity 82%).",
    ("R5",),
)
RULE_QIDS_TOTAL = _rule(
    "SCALE-QIDS-SR16-TOTAL",
    Level.DEFINITION,
    "QIDS-SR16: 16 items 0-3; total 0-27 is the sum of 9 domains, taking the highest of items 1-4 (sleep), "
    "6-9 (appetite/weight) and 15-16 (psychomotor); none 0-5, mild 6-10, moderate 11-15, severe 16-20, "
    "very severe 21-27.",
    ("R7a", "R7b", "R7c", "R7d"),
)
RULE_QIDS_ITEM12 = _rule(
    "SCALE-QIDS-SR16-ITEM12-SI",
    Level.ALERT,
    "QIDS-SR16 item 12 (thoughts of death or suicide) scored 1 or more: flag suicidal ideation.",
    ("R7a", "R7b"),
)
RULE_MADRS_BANDS = _rule(
    "SCALE-MADRS-BANDS",
    Level.DEFINITION,
    "MADRS: 10 items 0-6, total 0-60; Snaith bands normal 0-6, mild 7-19, moderate 20-34, severe 35-60.",
    ("R6a", "R6b", "R6c"),
)
RULE_CADSS_TOTAL = _rule(
    "SCALE-CADSS-TOTAL",
    Level.DEFINITION,
    "CADSS: 23 items 0-4, total 0-92.",
    ("R10a", "R10b"),
)
RULE_CADSS_ALERT = _rule(
    "SCALE-CADSS-ALERT",
    Level.ALERT,
    "Clinic policy: flag a dissociation alert when the CADSS total is above the policy level "
    "(the 'total >4' threshold is UNVERIFIED).",
    ("R10a", "R10b", "S6"),
    "cadss_alert_above",
)
RULE_MOAAS_LOC = _rule(
    "SCALE-MOAAS-LOC",
    Level.ALERT,
    "MOAA/S 0 (no response to painful trapezius squeeze) is loss of consciousness.",
    ("S6", "R9"),
)
RULE_MOAAS_SEDATION = _rule(
    "SCALE-MOAAS-SEDATION-ALERT",
    Level.ALERT,
    "Clinic policy: flag a sedation alert when MOAA/S is at or below the policy level "
    "('sedation = MOAA/S <=3' is UNVERIFIED).",
    ("R9", "S20", "S6"),
    "moaas_sedation_alert_at_or_below",
)
RULE_CSSRS_HIGH = _rule(
    "SCALE-CSSRS-HIGH",
    Level.ALERT,
    "C-SSRS screener high risk: yes to Q4 (intent) or Q5 (plan) in the past month, or suicidal behaviour in "
    "the past 3 months. Needs immediate referral and safety precautions.",
    ("R12a", "R12b"),
)
RULE_CSSRS_LOWER = _rule(
    "SCALE-CSSRS-LOWER-BANDS",
    Level.DEFINITION,
    "Clinic policy: C-SSRS screener lower bands follow the common mapping (Q1-2 only = low; Q3, or behaviour "
    "more than 3 months ago = moderate), which is UNVERIFIED against Columbia's form.",
    ("R12a", "R12b", "R12c"),
    "cssrs_ideation_band",
    "cssrs_method_band",
    "cssrs_past_behaviour_band",
)
RULE_BPRS = _rule(
    "SCALE-BPRS-POSITIVE",
    Level.DEFINITION,
    "BPRS positive subscale: 4 items (conceptual disorganisation, suspiciousness, hallucinatory behaviour, "
    "unusual thought content), 1-7 each (total 4-28) or re-based 0-6 (total 0-24); the convention is stored "
    "with the result. Any item above 'not present' flags positive symptoms.",
    ("R11a", "R11b"),
)

RULES: tuple[Rule, ...] = (
    RULE_PHQ9_BANDS,
    RULE_PHQ9_ITEM9,
    RULE_GAD7_BANDS,
    RULE_GAD7_PROBABLE,
    RULE_QIDS_TOTAL,
    RULE_QIDS_ITEM12,
    RULE_MADRS_BANDS,
    RULE_CADSS_TOTAL,
    RULE_CADSS_ALERT,
    RULE_MOAAS_LOC,
    RULE_MOAAS_SEDATION,
    RULE_CSSRS_HIGH,
    RULE_CSSRS_LOWER,
    RULE_BPRS,
)

# --- Scoring -----------------------------------------------------------------------------------------------

Answers = Sequence[int] | Mapping[int, int] | Mapping[str, bool]


def parse_instrument(value: str) -> Instrument:
    try:
        return Instrument(value)
    except ValueError:
        raise InvalidAnswers(str(value), "unknown instrument") from None


def instrument_spec(
    instrument: str, bprs_convention: BprsConvention = BprsConvention.ONE_TO_SEVEN
) -> InstrumentSpec:
    """The metadata of an instrument; BPRS+ item ranges and total follow the scoring convention."""
    spec = INSTRUMENTS[parse_instrument(instrument)]
    if spec.instrument is not Instrument.BPRS_POSITIVE:
        return spec
    low, high = BPRS_ITEM_RANGE[BprsConvention(bprs_convention)]
    items = _items(BPRS_POSITIVE_ITEMS, low, high)
    return InstrumentSpec(
        spec.instrument, spec.name, items, low * len(items), high * len(items), (), spec.codes, spec.sources
    )


def band_for(instrument: str, total: int) -> str | None:
    """The severity band id of a total, or None for instruments without bands. Out-of-range totals raise."""
    spec = INSTRUMENTS[parse_instrument(instrument)]
    if (
        spec.total_min is not None
        and spec.total_max is not None
        and not spec.total_min <= total <= spec.total_max
    ):
        raise ValueError(f"{spec.instrument} total {total} is outside {spec.total_min}-{spec.total_max}")
    return next((band.id for band in spec.bands if band.contains(total)), None)


def score(
    instrument: str,
    answers: Answers,
    *,
    policy: ClinicPolicy = DEFAULT_POLICY,
    bprs_convention: BprsConvention = BprsConvention.ONE_TO_SEVEN,
) -> ScaleResult:
    """Score one completed instrument; invalid answers raise `InvalidAnswers` naming the item.

    `answers` is the item scores in item order, or a mapping from 1-based item number to score. The C-SSRS
    screener takes a mapping of `q1`..`q6` and `q6_past_3_months` to booleans instead [R12a].
    """
    kind = parse_instrument(instrument)
    if kind is Instrument.CSSRS_SCREEN:
        return _score_cssrs(answers, policy)
    convention = _convention(bprs_convention)
    spec = instrument_spec(kind, convention)
    items = _item_scores(spec, answers)
    total, domains = _total(kind, items)
    return ScaleResult(
        instrument=kind,
        total=total,
        band=band_for(kind, total) if spec.bands else None,
        flags=frozenset(_flags(kind, items, total, policy, convention)),
        codes=spec.codes,
        item_scores=items,
        domains=domains,
        convention=convention if kind is Instrument.BPRS_POSITIVE else None,
        sources=spec.sources,
    )


def _convention(value: str) -> BprsConvention:
    try:
        return BprsConvention(value)
    except ValueError:
        raise InvalidAnswers(Instrument.BPRS_POSITIVE, f"unknown scoring convention {value!r}") from None


def _item_scores(spec: InstrumentSpec, answers: object) -> tuple[int, ...]:
    if isinstance(answers, Mapping):
        return _from_mapping(spec, answers)
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise InvalidAnswers(spec.instrument, "answers must be a sequence of item scores or a mapping")
    if len(answers) < spec.item_count:
        raise InvalidAnswers(spec.instrument, "is missing", str(len(answers) + 1))
    if len(answers) > spec.item_count:
        raise InvalidAnswers(
            spec.instrument,
            f"does not exist (the scale has {spec.item_count} items)",
            str(spec.item_count + 1),
        )
    return tuple(_checked(spec, item, value) for item, value in zip(spec.items, answers, strict=True))


def _from_mapping(spec: InstrumentSpec, answers: Mapping[object, object]) -> tuple[int, ...]:
    numbers = {item.number for item in spec.items}
    for key in answers:
        # bool is an int subclass; True must not silently stand for item 1.
        if isinstance(key, bool) or not isinstance(key, int) or key not in numbers:
            raise InvalidAnswers(
                spec.instrument, f"does not exist (items are 1-{spec.item_count})", repr(key)
            )
    missing = [item.number for item in spec.items if item.number not in answers]
    if missing:
        raise InvalidAnswers(spec.instrument, "is missing", str(missing[0]))
    return tuple(_checked(spec, item, answers[item.number]) for item in spec.items)


def _checked(spec: InstrumentSpec, item: ItemSpec, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAnswers(spec.instrument, f"score must be a whole number, got {value!r}", item.key)
    if not item.min_score <= value <= item.max_score:
        raise InvalidAnswers(
            spec.instrument, f"score {value} is outside {item.min_score}-{item.max_score}", item.key
        )
    return value


def _total(kind: Instrument, items: tuple[int, ...]) -> tuple[int, tuple[DomainScore, ...]]:
    if kind is not Instrument.QIDS_SR16:
        return sum(items), ()
    domains = tuple(
        DomainScore(name, numbers, max(items[n - 1] for n in numbers)) for name, numbers in QIDS_DOMAINS
    )
    return sum(d.score for d in domains), domains


def _flags(
    kind: Instrument, items: tuple[int, ...], total: int, policy: ClinicPolicy, convention: BprsConvention
) -> set[Flag]:
    flags: set[Flag] = set()
    if kind is Instrument.PHQ9 and items[8] >= 1:
        flags.add(Flag.SUICIDAL_IDEATION)
    if kind is Instrument.QIDS_SR16 and items[11] >= 1:
        flags.add(Flag.SUICIDAL_IDEATION)
    if kind is Instrument.GAD7 and total >= 10:
        flags.add(Flag.PROBABLE_GAD)
    if kind is Instrument.MOAAS:
        flags |= _moaas_flags(total, policy)
    if kind is Instrument.CADSS and policy.cadss_alert_above is not None and total > policy.cadss_alert_above:
        flags.add(Flag.DISSOCIATION_ALERT)
    if kind is Instrument.BPRS_POSITIVE and max(items) > BPRS_ITEM_RANGE[convention][0]:
        flags.add(Flag.POSITIVE_SYMPTOMS_PRESENT)
    return flags


def _moaas_flags(level: int, policy: ClinicPolicy) -> set[Flag]:
    flags: set[Flag] = set()
    if level == 0:
        flags.add(Flag.LOSS_OF_CONSCIOUSNESS)
    threshold = policy.moaas_sedation_alert_at_or_below
    if threshold is not None and level <= threshold:
        flags.add(Flag.SEDATION_ALERT)
    return flags


# --- C-SSRS screener ---------------------------------------------------------------------------------------

_CSSRS_KEYS = tuple(key for key, _ in CSSRS_QUESTIONS)
_CSSRS = Instrument.CSSRS_SCREEN


def _score_cssrs(answers: object, policy: ClinicPolicy) -> ScaleResult:
    given = _cssrs_answers(answers)
    band = _cssrs_band(given, policy)
    flags: set[Flag] = set()
    if given["q1"] or given["q2"]:
        flags.add(Flag.SUICIDAL_IDEATION)
    if given["q6"]:
        flags.add(Flag.SUICIDAL_BEHAVIOUR)
    if band is CssrsBand.HIGH:
        flags.add(Flag.HIGH_SUICIDE_RISK)
    spec = INSTRUMENTS[_CSSRS]
    return ScaleResult(_CSSRS, None, band.value, frozenset(flags), spec.codes, sources=spec.sources)


def _cssrs_answers(answers: object) -> dict[str, bool]:
    if not isinstance(answers, Mapping):
        raise InvalidAnswers(_CSSRS, "answers must be a mapping of q1..q6 and q6_past_3_months to yes/no")
    for key, value in answers.items():
        if key not in _CSSRS_KEYS:
            raise InvalidAnswers(_CSSRS, "does not exist", repr(key))
        if not isinstance(value, bool):
            raise InvalidAnswers(_CSSRS, f"answer must be true or false, got {value!r}", str(key))
    given: dict[str, bool] = dict(answers)
    for key in ("q1", "q2", "q6"):
        if key not in given:
            raise InvalidAnswers(_CSSRS, "is missing", key)
    _check_skip(given, "q2", ("q3", "q4", "q5"))
    _check_skip(given, "q6", ("q6_past_3_months",))
    return {key: given.get(key, False) for key in _CSSRS_KEYS}


def _check_skip(given: dict[str, bool], gate: str, follow_ups: tuple[str, ...]) -> None:
    # The screener asks the follow-ups only after a yes; a yes to a question that was skipped is a data error.
    for key in follow_ups:
        if given[gate] and key not in given:
            raise InvalidAnswers(_CSSRS, f"is missing (it must be asked when {gate} is yes)", key)
        if not given[gate] and given.get(key, False):
            raise InvalidAnswers(_CSSRS, f"cannot be yes when {gate} is no (the screener skips it)", key)


def _cssrs_band(a: dict[str, bool], policy: ClinicPolicy) -> CssrsBand:
    if a["q4"] or a["q5"] or (a["q6"] and a["q6_past_3_months"]):
        return CssrsBand.HIGH
    levels = [CssrsBand.NONE]
    if a["q1"] or a["q2"]:
        levels.append(policy.cssrs_ideation_band)
    if a["q3"]:
        levels.append(policy.cssrs_method_band)
    if a["q6"]:
        levels.append(policy.cssrs_past_behaviour_band)
    return max(levels, key=CSSRS_BAND_ORDER.index)
