"""Outcomes: remission before response, MADRS cut from policy, relapse and loss of response over time."""

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.clinical.outcomes import (
    TOTAL_MAX,
    DatedScore,
    Outcome,
    OutcomeScale,
    classify,
    is_response,
    loss_of_response,
    relapse,
    relapse_criterion,
    remission_max,
    remission_rule,
)
from ketaclinic.clinical.policy import DEFAULT_POLICY

D0 = date(2026, 1, 5)


def series(*totals: int, step: int = 7) -> list[DatedScore]:
    return [DatedScore(D0 + timedelta(days=step * n), total) for n, total in enumerate(totals)]


@pytest.mark.parametrize(
    ("instrument", "baseline", "current", "outcome"),
    [
        ("phq9", 20, 4, "remission"),
        ("phq9", 20, 5, "response"),  # PHQ-9 remission is below 5, not at 5.
        ("phq9", 20, 10, "response"),  # exactly 50%
        ("phq9", 20, 11, "no_response"),
        ("phq9", 3, 3, "remission"),  # already below the cut
        ("qids_sr16", 18, 5, "remission"),
        ("qids_sr16", 18, 6, "response"),
        ("qids_sr16", 18, 9, "response"),
        ("qids_sr16", 18, 10, "no_response"),
        ("madrs", 34, 10, "remission"),
        ("madrs", 34, 11, "response"),
        ("madrs", 34, 17, "response"),
        ("madrs", 34, 18, "no_response"),
        ("madrs", 35, 17, "response"),  # 18 of 35 is more than half
        ("madrs", 35, 18, "no_response"),
        ("hamd17", 24, 7, "remission"),
        ("hamd17", 24, 12, "response"),
        ("madrs", 0, 0, "remission"),
    ],
)
def test_classify(instrument: str, baseline: int, current: int, outcome: str) -> None:
    assert classify(instrument, baseline, current) == outcome


def test_madrs_remission_cut_is_clinic_policy() -> None:
    esketamine_programme = dataclasses.replace(DEFAULT_POLICY, madrs_remission_max=12)
    assert classify("madrs", 34, 12) == Outcome.RESPONSE
    assert classify("madrs", 34, 12, esketamine_programme) == Outcome.REMISSION
    assert remission_max("madrs") == 10 and remission_max("madrs", esketamine_programme) == 12
    assert remission_rule("madrs").policy_fields == ("madrs_remission_max",)


def test_remission_cuts_and_rules() -> None:
    assert [remission_max(s) for s in ("phq9", "qids_sr16", "hamd17")] == [4, 5, 7]
    assert remission_rule("phq9").id == "OUT-REMISSION-PHQ9"
    assert remission_rule("qids_sr16").sources == ("R16",)
    assert remission_rule("hamd17").id == "OUT-REMISSION-HAMD17"


def test_response_needs_a_baseline() -> None:
    assert not is_response(0, 0)
    assert is_response(1, 0)
    assert not is_response(10, 6)


@pytest.mark.parametrize(
    ("instrument", "baseline", "current", "fragment"),
    [
        ("gad7", 10, 5, "no outcome definitions"),
        ("phq9", 28, 5, "baseline"),
        ("phq9", 20, -1, "current"),
        ("madrs", 61, 5, "0-60"),
        ("phq9", True, 5, "baseline"),
        ("phq9", 20, 5.0, "current"),
    ],
)
def test_classify_rejects_invalid_input(instrument: str, baseline: Any, current: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        classify(instrument, baseline, current)


@settings(deadline=None)
@given(
    st.sampled_from(list(OutcomeScale)).flatmap(
        lambda s: st.tuples(st.just(s), st.integers(0, TOTAL_MAX[s]), st.integers(0, TOTAL_MAX[s]))
    ),
    st.integers(0, 60),
)
def test_a_lower_current_total_is_never_a_worse_outcome(
    case: tuple[OutcomeScale, int, int], other: int
) -> None:
    scale, baseline, current = case
    lower = min(other, current)
    rank = [Outcome.NO_RESPONSE, Outcome.RESPONSE, Outcome.REMISSION]
    assert rank.index(classify(scale, baseline, lower)) >= rank.index(classify(scale, baseline, current))
    if current <= remission_max(scale):
        assert classify(scale, baseline, current) is Outcome.REMISSION


# --- Relapse -----------------------------------------------------------------------------------------------


def test_qids_relapse_after_remission_star_d() -> None:
    result = relapse("qids_sr16", 18, series(12, 5, 7, 11, 4))
    assert result.event
    assert result.qualified_on == D0 + timedelta(days=7)
    assert result.onset == result.confirmed_on == D0 + timedelta(days=21)
    assert result.rule_id == "OUT-RELAPSE-QIDS-SR16"


def test_no_relapse_before_response_or_remission() -> None:
    never = relapse("qids_sr16", 18, series(14, 12, 11))
    assert not never.event and never.qualified_on is None
    kept = relapse("qids_sr16", 18, series(8, 10, 9))
    assert not kept.event and kept.qualified_on == D0


def test_madrs_relapse_needs_two_assessments_5_to_15_days_apart() -> None:
    # Remission, then 22+ twice: 7 days apart counts.
    confirmed = relapse("madrs", 34, series(9, 23, 25))
    assert confirmed.event
    assert (confirmed.onset, confirmed.confirmed_on) == (D0 + timedelta(days=7), D0 + timedelta(days=14))
    # One high score between good ones is not a relapse.
    assert not relapse("madrs", 34, series(9, 23, 12, 24)).event
    # Too close together (3 days) or too far apart (21 days) does not count.
    assert not relapse("madrs", 34, series(9, 23, 25, step=3)).event
    assert not relapse("madrs", 34, series(9, 23, 25, step=21)).event


def test_madrs_relapse_thresholds_are_policy() -> None:
    loose = dataclasses.replace(DEFAULT_POLICY, madrs_relapse_consecutive=1, madrs_relapse_min=20)
    result = relapse("madrs", 34, series(9, 20), loose)
    assert result.event and result.onset == result.confirmed_on
    criterion = relapse_criterion("madrs")
    assert criterion is not None
    assert (criterion.min_total, criterion.consecutive, criterion.gap_days) == (22, 2, (5, 15))


def test_phq9_relapse_only_when_the_clinic_defines_it() -> None:
    assert relapse_criterion("phq9") is None
    with pytest.raises(ValueError, match="no relapse definition"):
        relapse("phq9", 20, series(4, 15))
    defined = dataclasses.replace(DEFAULT_POLICY, phq9_relapse_min=10)
    assert relapse("phq9", 20, series(4, 15), defined).event
    assert relapse_criterion("hamd17") is None


def test_series_must_be_in_date_order_with_valid_totals() -> None:
    with pytest.raises(ValueError, match="date order"):
        relapse("qids_sr16", 18, list(reversed(series(5, 12))))
    with pytest.raises(ValueError, match="date order"):
        relapse("qids_sr16", 18, series(5, 12, step=0))
    with pytest.raises(ValueError, match="0-27"):
        relapse("qids_sr16", 18, series(5, 30))


# --- Loss of response --------------------------------------------------------------------------------------


def test_loss_of_response_after_response() -> None:
    result = loss_of_response("phq9", 20, series(15, 9, 8, 12))
    assert result.event
    assert result.qualified_on == D0 + timedelta(days=7)
    assert result.onset == D0 + timedelta(days=21)
    assert result.rule_id == "OUT-LOSS-OF-RESPONSE"


def test_no_loss_of_response_without_a_response_or_while_it_holds() -> None:
    assert not loss_of_response("phq9", 20, series(15, 14)).event
    assert loss_of_response("phq9", 20, series(15, 14)).qualified_on is None
    held = loss_of_response("madrs", 30, series(14, 15, 9))
    assert not held.event and held.qualified_on == D0


def test_loss_of_response_consecutive_is_policy() -> None:
    two = dataclasses.replace(DEFAULT_POLICY, loss_of_response_consecutive=2)
    assert not loss_of_response("phq9", 20, series(9, 12, 9, 12), two).event
    result = loss_of_response("phq9", 20, series(9, 12, 13), two)
    assert result.event and result.confirmed_on == D0 + timedelta(days=14)


@settings(deadline=None)
@given(st.lists(st.integers(0, 27), max_size=12), st.integers(1, 27))
def test_series_events_only_follow_a_qualifying_score(totals: list[int], baseline: int) -> None:
    points = series(*totals)
    for finding in (relapse("qids_sr16", baseline, points), loss_of_response("qids_sr16", baseline, points)):
        if finding.event:
            assert finding.qualified_on is not None and finding.onset is not None
            assert finding.confirmed_on is not None
            assert finding.qualified_on < finding.onset <= finding.confirmed_on


# --- Worsening (clinic policy) ---------------------------------------------------------------------------


def test_worsening_is_a_rise_of_the_policy_percentage_over_baseline() -> None:
    from ketaclinic.clinical.outcomes import worsened

    assert worsened("phq9", 12, 15)  # 25% of 12 is 3
    assert not worsened("phq9", 12, 14)
    assert not worsened("phq9", 12, 12)
    assert not worsened("phq9", 12, 3)
    assert worsened("phq9", 0, 1)
    assert worsened("madrs", 20, 25)
    assert not worsened("madrs", 20, 24)


def test_worsening_threshold_is_policy_and_can_be_turned_off() -> None:
    from ketaclinic.clinical.outcomes import worsened

    stricter = dataclasses.replace(DEFAULT_POLICY, worsening_rise_percent=50)
    assert not worsened("phq9", 12, 15, stricter)
    assert worsened("phq9", 12, 18, stricter)
    off = dataclasses.replace(DEFAULT_POLICY, worsening_rise_percent=None)
    assert not worsened("phq9", 5, 27, off)


def test_worsening_refuses_totals_out_of_range_and_unknown_scales() -> None:
    from ketaclinic.clinical.outcomes import worsened

    with pytest.raises(ValueError, match="current"):
        worsened("phq9", 10, 28)
    with pytest.raises(ValueError, match="no outcome definitions"):
        worsened("gad7", 10, 15)


def test_worsening_and_non_response_policy_fields_are_documented_clinic_choices() -> None:
    from ketaclinic.clinical.policy import PolicyBasis, policy_fields

    rows = {f.name: f for f in policy_fields()}
    for name in ("worsening_rise_percent", "non_response_review_after_days"):
        assert rows[name].basis is PolicyBasis.CLINIC_CHOICE
        assert rows[name].sources
        assert "reference" in rows[name].description
    with pytest.raises(ValueError, match="worsening_rise_percent"):
        dataclasses.replace(DEFAULT_POLICY, worsening_rise_percent=0)
