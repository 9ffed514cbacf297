"""TRD: adequate failures, the 2-failure definition, MGH-s and Maudsley staging."""

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinical.trd import Trial, TrialOutcome, assess, is_adequate_failure, maudsley_band


def failed(drug: str = "sertraline", **kw: Any) -> Trial:
    return Trial(drug, kw.pop("adequate_dose", True), kw.pop("weeks", 8), kw.pop("outcome", "none"), **kw)


def test_two_adequate_failures_in_the_current_episode_is_trd() -> None:
    result = assess([failed("sertraline"), failed("venlafaxine", outcome="partial")])
    assert (result.adequate_failures, result.current_episode_failures, result.is_trd) == (2, 2, True)


@pytest.mark.parametrize(
    "trial",
    [
        Trial("sertraline", False, 8, TrialOutcome.NONE),  # dose not adequate
        Trial("sertraline", True, 5, TrialOutcome.NONE),  # too short
        Trial("sertraline", True, Decimal("5.9"), TrialOutcome.NONE),
        Trial("sertraline", True, 8, TrialOutcome.RESPONSE),
        Trial("sertraline", True, 8, TrialOutcome.INTOLERANCE),  # intolerance is not an efficacy failure
    ],
)
def test_trials_that_are_not_adequate_failures(trial: Trial) -> None:
    assert not is_adequate_failure(trial)
    assert not assess([failed(), trial]).is_trd


def test_six_weeks_is_enough_and_the_minimum_is_policy() -> None:
    six = Trial("sertraline", True, 6, TrialOutcome.NONE)
    four = Trial("citalopram", True, 4, TrialOutcome.NONE)
    assert is_adequate_failure(six)
    assert not is_adequate_failure(four)
    karolinska = dataclasses.replace(DEFAULT_POLICY, trd_min_trial_weeks=4)
    result = assess([six, four], policy=karolinska)
    assert result.is_trd and result.min_trial_weeks == 4


def test_failures_in_an_earlier_episode_count_but_do_not_make_trd() -> None:
    result = assess([failed(), failed("venlafaxine", current_episode=False)])
    assert (result.adequate_failures, result.current_episode_failures, result.is_trd) == (2, 1, False)


def test_mgh_score() -> None:
    trials = [failed(dose_optimised=True), failed("venlafaxine", augmented=True, dose_optimised=True)]
    assert assess(trials).mgh_score == Decimal("3.5")
    assert assess(trials, ect_failed=True).mgh_score == Decimal("6.5")
    assert assess([]).mgh_score == 0


def test_maudsley_score_and_band() -> None:
    trials = [failed(), failed("venlafaxine"), failed("mirtazapine", augmented=True)]
    # duration 13-24 mo = 2, severe without psychosis = 4, 3 failures = 2, augmentation 1, no ECT.
    result = assess(trials, episode_months=18, severity="severe_without_psychosis")
    assert (result.maudsley_score, result.maudsley_band, result.maudsley_missing) == (9, "moderate", ())
    with_ect = assess(trials, episode_months=30, severity="severe_with_psychosis", ect_failed=True)
    assert (with_ect.maudsley_score, with_ect.maudsley_band) == (3 + 5 + 2 + 1 + 1, "severe")
    used = assess(trials, episode_months=30, severity="severe_with_psychosis", ect_used=True)
    assert used.maudsley_score == with_ect.maudsley_score and used.mgh_score < with_ect.mgh_score


@pytest.mark.parametrize(
    ("months", "severity", "failures", "expected"),
    [
        (12, "subsyndromal", 1, 1 + 1 + 1),
        (13, "mild", 2, 2 + 2 + 1),
        (24, "moderate", 4, 2 + 3 + 2),
        (25, "moderate", 5, 3 + 3 + 3),
        (0, "mild", 7, 1 + 2 + 4),
        (6, "mild", 10, 1 + 2 + 4),
        (6, "mild", 11, 1 + 2 + 5),
    ],
)
def test_maudsley_dimensions(months: int, severity: str, failures: int, expected: int) -> None:
    trials = [failed(f"drug{n}") for n in range(failures)]
    assert assess(trials, episode_months=months, severity=severity).maudsley_score == expected


def test_maudsley_is_none_when_data_is_missing() -> None:
    result = assess([failed()])
    assert result.maudsley_score is None and result.maudsley_band is None
    assert result.maudsley_missing == ("episode_months", "severity")
    none_failed = assess([], episode_months=6, severity="mild")
    assert none_failed.maudsley_missing == ("antidepressant_failures",)


@pytest.mark.parametrize(
    ("score", "band"), [(3, "mild"), (6, "mild"), (7, "moderate"), (10, "moderate"), (11, "severe")]
)
def test_maudsley_bands(score: int, band: str) -> None:
    assert maudsley_band(score) == band


def test_maudsley_band_out_of_range() -> None:
    with pytest.raises(ValueError, match="3-15"):
        maudsley_band(16)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"drug": " "}, ValueError),
        ({"weeks": 6.0}, TypeError),
        ({"weeks": True}, TypeError),
        ({"weeks": -1}, ValueError),
        ({"weeks": Decimal("NaN")}, ValueError),
        ({"outcome": "worse"}, ValueError),
        ({"augmented": "yes"}, TypeError),
    ],
)
def test_invalid_trials(kwargs: dict[str, Any], error: type[Exception]) -> None:
    fields: dict[str, Any] = {"drug": "sertraline", "adequate_dose": True, "weeks": 8, "outcome": "none"}
    fields |= kwargs
    with pytest.raises(error):
        Trial(**fields)


def test_trial_outcome_is_stored_as_enum() -> None:
    posted: Any = "partial"  # the plain id a form posts
    assert Trial("sertraline", True, 8, posted).outcome is TrialOutcome.PARTIAL


def test_invalid_staging_inputs() -> None:
    with pytest.raises(ValueError, match="severity"):
        assess([failed()], episode_months=6, severity="catastrophic")
    with pytest.raises(ValueError, match="episode_months"):
        assess([failed()], episode_months=-1, severity="mild")


trial_strategy = st.builds(
    Trial,
    drug=st.sampled_from(["sertraline", "venlafaxine", "bupropion"]),
    adequate_dose=st.booleans(),
    weeks=st.integers(0, 20),
    outcome=st.sampled_from(list(TrialOutcome)),
    current_episode=st.booleans(),
    dose_optimised=st.booleans(),
    augmented=st.booleans(),
)


@settings(deadline=None)
@given(
    st.lists(trial_strategy, max_size=14),
    st.integers(0, 60),
    st.sampled_from(
        ["subsyndromal", "mild", "moderate", "severe_without_psychosis", "severe_with_psychosis"]
    ),
    st.booleans(),
)
def test_staging_invariants(trials: list[Trial], months: int, severity: str, ect: bool) -> None:
    result = assess(trials, episode_months=months, severity=severity, ect_failed=ect)
    assert result.current_episode_failures <= result.adequate_failures <= len(trials)
    assert result.is_trd == (result.current_episode_failures >= 2)
    low = result.current_episode_failures + (3 if ect else 0)
    assert low <= result.mgh_score <= 2 * result.current_episode_failures + (3 if ect else 0)
    if result.current_episode_failures:
        assert result.maudsley_score is not None
        assert 3 <= result.maudsley_score <= 15
        assert result.maudsley_band == maudsley_band(result.maudsley_score)
