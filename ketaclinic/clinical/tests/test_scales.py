"""Rating scales: totals, bands, safety flags and the errors a form shows."""

import dataclasses
import itertools
from collections.abc import Set as AbstractSet
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.clinical.policy import DEFAULT_POLICY, CssrsBand
from ketaclinic.clinical.scales import (
    INSTRUMENTS,
    ITEM_LOINC,
    QIDS_DOMAINS,
    BprsConvention,
    Flag,
    Instrument,
    InvalidAnswers,
    band_for,
    instrument_spec,
    score,
)

SCORED = [i for i in Instrument if i is not Instrument.CSSRS_SCREEN]


def answers_for(instrument: Instrument) -> st.SearchStrategy[list[int]]:
    spec = INSTRUMENTS[instrument]
    return st.tuples(*(st.integers(item.min_score, item.max_score) for item in spec.items)).map(list)


# --- Metadata for forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "count", "low", "high"),
    [
        ("phq9", 9, 0, 3),
        ("gad7", 7, 0, 3),
        ("qids_sr16", 16, 0, 3),
        ("madrs", 10, 0, 6),
        ("cadss", 23, 0, 4),
        ("moaas", 1, 0, 5),
        ("bprs_positive", 4, 1, 7),
    ],
)
def test_item_metadata(instrument: str, count: int, low: int, high: int) -> None:
    spec = instrument_spec(instrument)
    assert spec.item_count == count
    assert {(i.min_score, i.max_score) for i in spec.items} == {(low, high)}
    assert [i.number for i in spec.items] == list(range(1, count + 1))


def test_loinc_codes_from_the_reference() -> None:
    assert INSTRUMENTS[Instrument.PHQ9].codes.panel == "44249-1"
    assert INSTRUMENTS[Instrument.PHQ9].codes.total == "44261-6"
    assert INSTRUMENTS[Instrument.GAD7].codes.panel == "69737-5"
    assert INSTRUMENTS[Instrument.GAD7].codes.total == "70274-6"
    assert ITEM_LOINC[Instrument.PHQ9][8] == "44260-8"
    # GAD-7 item 6 is 69689-8; public code wrongly uses 69689-6 (reference 3.1).
    assert ITEM_LOINC[Instrument.GAD7][5] == "69689-8"
    assert "75626-2" not in ITEM_LOINC[Instrument.GAD7]
    assert INSTRUMENTS[Instrument.MADRS].codes.total is None
    assert score("phq9", [0] * 9).codes.total == "44261-6"


def test_bprs_convention_changes_item_range_and_total_range() -> None:
    rebased = instrument_spec("bprs_positive", BprsConvention.ZERO_TO_SIX)
    assert (rebased.total_min, rebased.total_max) == (0, 24)
    assert {(i.min_score, i.max_score) for i in rebased.items} == {(0, 6)}
    assert (instrument_spec("bprs_positive").total_min, instrument_spec("bprs_positive").total_max) == (4, 28)


def test_cssrs_items_are_the_screener_questions() -> None:
    keys = [i.key for i in INSTRUMENTS[Instrument.CSSRS_SCREEN].items]
    assert keys == ["q1", "q2", "q3", "q4", "q5", "q6", "q6_past_3_months"]


# --- Bands -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "total", "band"),
    [
        ("phq9", 0, "minimal"),
        ("phq9", 4, "minimal"),
        ("phq9", 5, "mild"),
        ("phq9", 9, "mild"),
        ("phq9", 10, "moderate"),
        ("phq9", 14, "moderate"),
        ("phq9", 15, "moderately_severe"),
        ("phq9", 19, "moderately_severe"),
        ("phq9", 20, "severe"),
        ("phq9", 27, "severe"),
        ("gad7", 4, "minimal"),
        ("gad7", 5, "mild"),
        ("gad7", 10, "moderate"),
        ("gad7", 15, "severe"),
        ("gad7", 21, "severe"),
        ("qids_sr16", 5, "none"),
        ("qids_sr16", 6, "mild"),
        ("qids_sr16", 11, "moderate"),
        ("qids_sr16", 16, "severe"),
        ("qids_sr16", 20, "severe"),
        ("qids_sr16", 21, "very_severe"),
        ("madrs", 6, "normal"),
        ("madrs", 7, "mild"),
        ("madrs", 19, "mild"),
        ("madrs", 20, "moderate"),
        ("madrs", 34, "moderate"),
        ("madrs", 35, "severe"),
        ("madrs", 60, "severe"),
        ("cadss", 50, None),
    ],
)
def test_band_cut_points(instrument: str, total: int, band: str | None) -> None:
    assert band_for(instrument, total) == band


def test_band_for_rejects_totals_outside_the_scale() -> None:
    with pytest.raises(ValueError, match="outside 0-27"):
        band_for("phq9", 28)


@pytest.mark.parametrize("instrument", [i for i in SCORED if INSTRUMENTS[i].bands])
def test_bands_tile_the_total_range_without_gaps(instrument: Instrument) -> None:
    spec = INSTRUMENTS[instrument]
    bands = spec.bands
    assert bands[0].low == spec.total_min and bands[-1].high == spec.total_max
    assert all(b.low == a.high + 1 for a, b in itertools.pairwise(bands))


@settings(deadline=None)
@given(st.sampled_from(SCORED).flatmap(lambda i: st.tuples(st.just(i), answers_for(i))))
def test_totals_are_always_in_range(case: tuple[Instrument, list[int]]) -> None:
    instrument, answers = case
    result = score(instrument, answers)
    spec = INSTRUMENTS[instrument]
    assert spec.total_min is not None and spec.total_max is not None and result.total is not None
    assert spec.total_min <= result.total <= spec.total_max
    assert result.item_scores == tuple(answers)
    assert score(instrument, dict(enumerate(answers, 1))) == result


@settings(deadline=None)
@given(
    st.sampled_from([i for i in SCORED if INSTRUMENTS[i].bands]).flatmap(
        lambda i: st.tuples(st.just(i), st.integers(0, INSTRUMENTS[i].total_max), st.integers(0, 60))
    )
)
def test_bands_are_monotone_in_the_total(case: tuple[Instrument, int, int]) -> None:
    instrument, a, b = case
    total_max = INSTRUMENTS[instrument].total_max
    assert total_max is not None
    b = min(b, total_max)
    order = [band.id for band in INSTRUMENTS[instrument].bands]
    low, high = sorted((a, b))
    lower, higher = band_for(instrument, low), band_for(instrument, high)
    assert lower is not None and higher is not None
    assert order.index(lower) <= order.index(higher)


# --- Totals and flags --------------------------------------------------------------------------------------


def test_phq9_total_and_item9_flag() -> None:
    result = score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert (result.total, result.band) == (24, "severe")
    assert Flag.SUICIDAL_IDEATION not in result.flags
    flagged = score("phq9", {1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 1})
    assert (flagged.total, flagged.band) == (1, "minimal")
    assert flagged.flags == {"suicidal_ideation"}


def test_qids_total_uses_the_domain_maximum_rules() -> None:
    # Sleep items 1-4 all at 3 count once; appetite/weight 6-9 and psychomotor 15-16 likewise.
    answers = [3, 3, 3, 3, 0, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1]
    result = score("qids_sr16", answers)
    assert result.total == 3 + 2 + 1
    assert {d.domain: d.score for d in result.domains}["appetite_weight"] == 2
    assert sum(d.score for d in result.domains) == result.total
    assert [d.items for d in result.domains] == [items for _, items in QIDS_DOMAINS]


def test_qids_maximum_total_is_27_and_item12_flags_suicidal_ideation() -> None:
    assert score("qids_sr16", [3] * 16).total == 27
    answers = [0] * 16
    answers[11] = 1
    result = score("qids_sr16", answers)
    assert (result.total, result.band) == (1, "none")
    assert result.flags == {"suicidal_ideation"}


def test_gad7_probable_gad_from_10() -> None:
    assert Flag.PROBABLE_GAD not in score("gad7", [1, 1, 1, 1, 1, 1, 3]).flags
    assert Flag.PROBABLE_GAD in score("gad7", [1, 1, 1, 1, 1, 2, 3]).flags


def test_madrs_total() -> None:
    result = score("madrs", [6] * 10)
    assert (result.total, result.band) == (60, "severe")


@pytest.mark.parametrize(
    ("level", "flags"),
    [
        (5, set()),
        (4, set()),
        (3, {"sedation_alert"}),
        (1, {"sedation_alert"}),
        (0, {"loss_of_consciousness", "sedation_alert"}),
    ],
)
def test_moaas_flags(level: int, flags: set[str]) -> None:
    result = score("moaas", [level])
    assert result.total == level and result.band is None
    assert result.flags == flags


def test_moaas_sedation_alert_is_clinic_policy() -> None:
    off = dataclasses.replace(DEFAULT_POLICY, moaas_sedation_alert_at_or_below=None)
    assert score("moaas", [0], policy=off).flags == {"loss_of_consciousness"}
    stricter = dataclasses.replace(DEFAULT_POLICY, moaas_sedation_alert_at_or_below=4)
    assert score("moaas", [4], policy=stricter).flags == {"sedation_alert"}


def test_cadss_dissociation_alert_is_clinic_policy() -> None:
    assert score("cadss", [1, 1, 1, 1] + [0] * 19).flags == frozenset()
    assert score("cadss", [1, 1, 1, 1, 1] + [0] * 18).flags == {"dissociation_alert"}
    assert score("cadss", [4] * 23).total == 92
    off = dataclasses.replace(DEFAULT_POLICY, cadss_alert_above=None)
    assert score("cadss", [4] * 23, policy=off).flags == frozenset()


def test_bprs_positive_keeps_its_convention() -> None:
    default = score("bprs_positive", [1, 1, 1, 1])
    assert (default.total, default.convention, default.flags) == (4, BprsConvention.ONE_TO_SEVEN, frozenset())
    present = score("bprs_positive", [1, 1, 2, 1])
    assert present.flags == {"positive_symptoms_present"}
    rebased = score("bprs_positive", [0, 0, 0, 0], bprs_convention=BprsConvention.ZERO_TO_SIX)
    assert (rebased.total, rebased.convention, rebased.flags) == (0, "0-6", frozenset())
    assert score("bprs_positive", [6, 6, 6, 6], bprs_convention=BprsConvention.ZERO_TO_SIX).total == 24
    assert score("phq9", [0] * 9).convention is None


# --- Errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "answers", "item", "fragment"),
    [
        ("phq9", [0] * 8, "9", "missing"),
        ("phq9", [0] * 10, "10", "does not exist"),
        ("phq9", [0] * 8 + [4], "9", "outside 0-3"),
        ("phq9", [0] * 8 + [-1], "9", "outside 0-3"),
        ("phq9", [True] + [0] * 8, "1", "whole number"),
        ("phq9", [0.0] + [0] * 8, "1", "whole number"),
        ("phq9", ["1"] + [0] * 8, "1", "whole number"),
        ("phq9", dict.fromkeys(range(1, 9), 0), "9", "missing"),
        ("phq9", {**dict.fromkeys(range(1, 10), 0), 10: 0}, "10", "does not exist"),
        ("phq9", {**dict.fromkeys(range(2, 10), 0), True: 0}, "True", "does not exist"),
        ("phq9", dict.fromkeys([*range(2, 10), "1"], 0), "'1'", "does not exist"),
        ("madrs", [7] + [0] * 9, "1", "outside 0-6"),
        ("moaas", [6], "1", "outside 0-5"),
        ("moaas", [], "1", "missing"),
        ("bprs_positive", [0, 1, 1, 1], "1", "outside 1-7"),
    ],
)
def test_invalid_answers_name_the_item(instrument: str, answers: Any, item: str, fragment: str) -> None:
    with pytest.raises(InvalidAnswers, match=fragment) as caught:
        score(instrument, answers)
    assert caught.value.item == item
    assert f"item {item}" in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("answers", ["012345678", 5, None])
def test_answers_must_be_a_sequence_or_mapping(answers: Any) -> None:
    with pytest.raises(InvalidAnswers, match="sequence"):
        score("phq9", answers)


def test_unknown_instrument_and_convention() -> None:
    with pytest.raises(InvalidAnswers, match="unknown instrument"):
        score("hamd17", [0] * 17)
    with pytest.raises(InvalidAnswers, match="unknown instrument"):
        instrument_spec("beck")
    with pytest.raises(InvalidAnswers, match="convention"):
        unknown: Any = "1-8"  # as a form might post it
        score("bprs_positive", [1, 1, 1, 1], bprs_convention=unknown)


# --- C-SSRS screener ---------------------------------------------------------------------------------------

NO = {"q1": False, "q2": False, "q6": False}


@pytest.mark.parametrize(
    ("answers", "band", "flags"),
    [
        (NO, "none", set()),
        ({**NO, "q1": True}, "low", {"suicidal_ideation"}),
        ({**NO, "q2": True, "q3": False, "q4": False, "q5": False}, "low", {"suicidal_ideation"}),
        ({**NO, "q2": True, "q3": True, "q4": False, "q5": False}, "moderate", {"suicidal_ideation"}),
        (
            {**NO, "q2": True, "q3": False, "q4": True, "q5": False},
            "high",
            {"suicidal_ideation", "high_suicide_risk"},
        ),
        (
            {**NO, "q2": True, "q3": True, "q4": False, "q5": True},
            "high",
            {"suicidal_ideation", "high_suicide_risk"},
        ),
        ({**NO, "q6": True, "q6_past_3_months": False}, "moderate", {"suicidal_behaviour"}),
        (
            {**NO, "q6": True, "q6_past_3_months": True},
            "high",
            {"suicidal_behaviour", "high_suicide_risk"},
        ),
        ({**NO, "q3": False, "q4": False, "q5": False, "q6_past_3_months": False}, "none", set()),
    ],
)
def test_cssrs_triage(answers: dict[str, bool], band: str, flags: AbstractSet[str]) -> None:
    result = score("cssrs_screen", answers)
    assert (result.total, result.band, result.flags) == (None, band, flags)


def test_cssrs_lower_bands_are_clinic_policy() -> None:
    policy = dataclasses.replace(
        DEFAULT_POLICY, cssrs_ideation_band=CssrsBand.MODERATE, cssrs_past_behaviour_band=CssrsBand.HIGH
    )
    assert score("cssrs_screen", {**NO, "q1": True}, policy=policy).band == "moderate"
    past = score("cssrs_screen", {**NO, "q6": True, "q6_past_3_months": False}, policy=policy)
    assert past.band == "high" and Flag.HIGH_SUICIDE_RISK in past.flags


@settings(deadline=None)
@given(
    q1=st.booleans(),
    q2=st.booleans(),
    follow_ups=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    q6=st.booleans(),
    recent=st.booleans(),
)
def test_cssrs_high_exactly_when_intent_plan_or_recent_behaviour(
    q1: bool, q2: bool, follow_ups: tuple[bool, bool, bool], q6: bool, recent: bool
) -> None:
    answers = {"q1": q1, "q2": q2, "q6": q6}
    q3, q4, q5 = follow_ups if q2 else (False, False, False)
    if q2:
        answers |= {"q3": q3, "q4": q4, "q5": q5}
    if q6:
        answers["q6_past_3_months"] = recent
    result = score("cssrs_screen", answers)
    high = q4 or q5 or (q6 and recent)
    assert (result.band == "high") == high
    assert (result.band == "none") == (not (q1 or q2 or q3 or q6))


@pytest.mark.parametrize(
    ("answers", "item", "fragment"),
    [
        ({"q1": False, "q6": False}, "q2", "missing"),
        ({"q1": False, "q2": False}, "q6", "missing"),
        ({**NO, "q2": True}, "q3", "must be asked"),
        ({**NO, "q3": True}, "q3", "cannot be yes"),
        ({**NO, "q6": True}, "q6_past_3_months", "must be asked"),
        ({**NO, "q6_past_3_months": True}, "q6_past_3_months", "cannot be yes"),
        ({**NO, "q7": False}, "'q7'", "does not exist"),
        ({**NO, "q1": 1}, "q1", "true or false"),
    ],
)
def test_cssrs_invalid_answers(answers: Any, item: str, fragment: str) -> None:
    with pytest.raises(InvalidAnswers, match=fragment) as caught:
        score("cssrs_screen", answers)
    assert caught.value.item == item


def test_cssrs_needs_a_mapping() -> None:
    with pytest.raises(InvalidAnswers, match="mapping"):
        score("cssrs_screen", [False] * 7)
