"""Treatment outcomes: remission, response, relapse and loss of response (reference 3.1-3.5 and 3.10).

`classify` compares one score with the baseline. `relapse` and `loss_of_response` read a dated series of
totals on one instrument. The thresholds that sources disagree on, or that the reference leaves
unverified, come from `ClinicPolicy`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from itertools import pairwise

from ketaclinic.clinical.common import ALL_MODALITIES, Area, Level, Rule
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy


class Outcome(StrEnum):
    REMISSION = "remission"
    RESPONSE = "response"
    NO_RESPONSE = "no_response"


class OutcomeScale(StrEnum):
    """Scales with outcome definitions in the reference. HAM-D17 is classified from its total only."""

    PHQ9 = "phq9"
    QIDS_SR16 = "qids_sr16"
    MADRS = "madrs"
    HAMD17 = "hamd17"


TOTAL_MAX: dict[OutcomeScale, int] = {
    OutcomeScale.PHQ9: 27,
    OutcomeScale.QIDS_SR16: 27,
    OutcomeScale.MADRS: 60,
    OutcomeScale.HAMD17: 52,
}


def _rule(rule_id: str, description: str, sources: tuple[str, ...], *policy: str) -> Rule:
    return Rule(rule_id, Area.OUTCOMES, Level.DEFINITION, ALL_MODALITIES, description, sources, tuple(policy))


RULE_RESPONSE = _rule(
    "OUT-RESPONSE-50",
    "Response: the total fell by at least 50% from baseline on the primary scale (MADRS, QIDS-SR16, PHQ-9, "
    "HAM-D17).",
    ("R14b", "K7", "K9"),
)
RULE_REMISSION_PHQ9 = _rule("OUT-REMISSION-PHQ9", "PHQ-9 remission: total below 5.", ("K9", "R13c"))
RULE_REMISSION_QIDS = _rule(
    "OUT-REMISSION-QIDS-SR16", "QIDS-SR16 remission: total 5 or less (STAR*D).", ("R16",)
)
RULE_REMISSION_MADRS = _rule(
    "OUT-REMISSION-MADRS",
    "MADRS remission: total at or below the clinic-policy cut (<=12 in the esketamine programme, <=10 in "
    "KetECT and ESCAPE-TRD).",
    ("R14b", "R13c", "K8", "R15"),
    "madrs_remission_max",
)
RULE_REMISSION_HAMD = _rule("OUT-REMISSION-HAMD17", "HAM-D17 remission: total 7 or less.", ("R8b", "R16"))
RULE_RELAPSE_QIDS = _rule(
    "OUT-RELAPSE-QIDS-SR16",
    "QIDS-SR16 relapse (STAR*D): after remission or response, a total at or above the policy level (11).",
    ("R16",),
    "qids_sr16_relapse_min",
)
RULE_RELAPSE_MADRS = _rule(
    "OUT-RELAPSE-MADRS",
    "MADRS relapse (SUSTAIN-1, UNVERIFIED): after remission or response, a total at or above "
    "the policy level (22) at the policy number of consecutive assessments (2), the policy number of days "
    "apart (5-15). Hospitalisation, a suicide attempt or another clinically relevant event also counts "
    "and must be recorded by the clinician.",
    ("R13a",),
    "madrs_relapse_min",
    "madrs_relapse_consecutive",
    "madrs_relapse_gap_min_days",
    "madrs_relapse_gap_max_days",
)
RULE_RELAPSE_PHQ9 = _rule(
    "OUT-RELAPSE-PHQ9",
    "PHQ-9 relapse: the reference gives no definition; assessed only when the clinic sets a policy total.",
    ("K9", "R13c"),
    "phq9_relapse_min",
)
RULE_LOSS_OF_RESPONSE = _rule(
    "OUT-LOSS-OF-RESPONSE",
    "Loss of response: after a response, the policy number of consecutive assessments that no longer meet "
    "the response definition (a fall of at least 50% from baseline, or remission).",
    ("R14b", "K9"),
    "loss_of_response_consecutive",
)

RULE_WORSENING = Rule(
    "OUT-WORSENING",
    Area.OUTCOMES,
    Level.ALERT,
    ALL_MODALITIES,
    "Clinic policy: a PHQ-9, QIDS-SR16 or MADRS total at least the policy's percentage above the patient's "
    "baseline on the same scale flags the patient as worsening for a prescriber's review. The reference "
    "defines no worsening; the default (25%) is a clinic choice, not a validated cut-off.",
    ("R14b", "K9"),
    ("worsening_rise_percent",),
)
RULE_NON_RESPONSE = _rule(
    "OUT-NON-RESPONSE-REVIEW",
    "Clinic policy: a patient whose active plan started at least the policy's number of days ago and whose "
    "latest score does not meet the response definition (a 50% fall from baseline, or remission) is listed "
    "for review as not responding. The reference says to check benefit at the end of induction but gives no "
    "day.",
    ("S2", "K9", "R14b"),
    "non_response_review_after_days",
)

RULES: tuple[Rule, ...] = (
    RULE_RESPONSE,
    RULE_REMISSION_PHQ9,
    RULE_REMISSION_QIDS,
    RULE_REMISSION_MADRS,
    RULE_REMISSION_HAMD,
    RULE_RELAPSE_QIDS,
    RULE_RELAPSE_MADRS,
    RULE_RELAPSE_PHQ9,
    RULE_LOSS_OF_RESPONSE,
    RULE_WORSENING,
    RULE_NON_RESPONSE,
)


def parse_scale(instrument: str) -> OutcomeScale:
    try:
        return OutcomeScale(instrument)
    except ValueError:
        known = ", ".join(s.value for s in OutcomeScale)
        raise ValueError(f"no outcome definitions for {instrument!r}; expected one of: {known}") from None


def remission_max(instrument: str, policy: ClinicPolicy = DEFAULT_POLICY) -> int:
    """The highest total that counts as remission on `instrument`."""
    scale = parse_scale(instrument)
    cuts = {
        OutcomeScale.PHQ9: 4,  # PHQ-9 remission is "< 5" [K9], [R13c].
        OutcomeScale.QIDS_SR16: 5,
        OutcomeScale.MADRS: policy.madrs_remission_max,
        OutcomeScale.HAMD17: 7,
    }
    return cuts[scale]


def remission_rule(instrument: str) -> Rule:
    return {
        OutcomeScale.PHQ9: RULE_REMISSION_PHQ9,
        OutcomeScale.QIDS_SR16: RULE_REMISSION_QIDS,
        OutcomeScale.MADRS: RULE_REMISSION_MADRS,
        OutcomeScale.HAMD17: RULE_REMISSION_HAMD,
    }[parse_scale(instrument)]


def is_response(baseline_total: int, current_total: int) -> bool:
    """A fall of at least 50% of a non-zero baseline, in whole numbers so no rounding can creep in."""
    return baseline_total > 0 and 2 * (baseline_total - current_total) >= baseline_total


def classify(
    instrument: str, baseline_total: int, current_total: int, policy: ClinicPolicy = DEFAULT_POLICY
) -> Outcome:
    """`remission` if the current total meets the instrument's remission cut, else `response` if it fell by
    at least 50% of baseline, else `no_response` [R14b], [K9], [R16], [K8]."""
    scale = parse_scale(instrument)
    _check_total(scale, baseline_total, "baseline")
    _check_total(scale, current_total, "current")
    if current_total <= remission_max(scale, policy):
        return Outcome.REMISSION
    if is_response(baseline_total, current_total):
        return Outcome.RESPONSE
    return Outcome.NO_RESPONSE


def worsened(
    instrument: str, baseline_total: int, current_total: int, policy: ClinicPolicy = DEFAULT_POLICY
) -> bool:
    """True when `current_total` is above the baseline by at least the policy's percentage of it (a rise
    from a baseline of 0 counts), in whole numbers; False when the policy turns the flag off [OUT-WORSENING].
    """
    scale = parse_scale(instrument)
    _check_total(scale, baseline_total, "baseline")
    _check_total(scale, current_total, "current")
    rise = policy.worsening_rise_percent
    if rise is None or current_total <= baseline_total:
        return False
    return 100 * (current_total - baseline_total) >= rise * baseline_total


def _check_total(scale: OutcomeScale, total: object, what: str) -> None:
    if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= TOTAL_MAX[scale]:
        raise ValueError(f"{what} {scale} total must be a whole number 0-{TOTAL_MAX[scale]}, got {total!r}")


# --- Series ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DatedScore:
    on: date
    total: int


@dataclass(frozen=True, slots=True)
class SeriesFinding:
    """The result of reading a series for one event (relapse or loss of response).

    `qualified_on` is the first date response or remission was reached (None if never, in which case the
    event cannot occur). `onset` and `confirmed_on` are the first and last assessments of the run that met
    the definition.
    """

    event: bool
    qualified_on: date | None
    onset: date | None
    confirmed_on: date | None
    rule_id: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RelapseCriterion:
    """A relapse definition: `consecutive` assessments at or above `min_total`, `gap_days` apart."""

    min_total: int
    consecutive: int
    gap_days: tuple[int, int] | None
    rule: Rule


def relapse_criterion(instrument: str, policy: ClinicPolicy = DEFAULT_POLICY) -> RelapseCriterion | None:
    """The relapse definition in force for `instrument`, or None when there is none (PHQ-9 by default)."""
    scale = parse_scale(instrument)
    if scale is OutcomeScale.QIDS_SR16:
        return RelapseCriterion(policy.qids_sr16_relapse_min, 1, None, RULE_RELAPSE_QIDS)
    if scale is OutcomeScale.MADRS:
        gaps = (policy.madrs_relapse_gap_min_days, policy.madrs_relapse_gap_max_days)
        return RelapseCriterion(
            policy.madrs_relapse_min, policy.madrs_relapse_consecutive, gaps, RULE_RELAPSE_MADRS
        )
    if scale is OutcomeScale.PHQ9 and policy.phq9_relapse_min is not None:
        return RelapseCriterion(policy.phq9_relapse_min, 1, None, RULE_RELAPSE_PHQ9)
    return None


def relapse(
    instrument: str,
    baseline_total: int,
    series: Sequence[DatedScore],
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> SeriesFinding:
    """The first relapse after the series reached response or remission.

    Raises ValueError when no relapse definition is in force for the instrument (see `relapse_criterion`).
    """
    criterion = relapse_criterion(instrument, policy)
    if criterion is None:
        raise ValueError(f"no relapse definition for {instrument}; set it in ClinicPolicy first")
    scale = parse_scale(instrument)
    _check_series(scale, baseline_total, series)
    start = _first_qualifying(scale, baseline_total, series, policy)
    rule = criterion.rule
    if start is None:
        return SeriesFinding(False, None, None, None, rule.id, rule.sources)
    later = series[start + 1 :]
    run = _first_run(
        later, criterion.consecutive, lambda s: s.total >= criterion.min_total, criterion.gap_days
    )
    return _finding(series[start].on, run, rule)


def loss_of_response(
    instrument: str,
    baseline_total: int,
    series: Sequence[DatedScore],
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> SeriesFinding:
    """The first loss of response after the series reached response or remission."""
    scale = parse_scale(instrument)
    _check_series(scale, baseline_total, series)
    start = _first_qualifying(scale, baseline_total, series, policy)
    rule = RULE_LOSS_OF_RESPONSE
    if start is None:
        return SeriesFinding(False, None, None, None, rule.id, rule.sources)

    def lost(s: DatedScore) -> bool:
        return classify(scale, baseline_total, s.total, policy) is Outcome.NO_RESPONSE

    run = _first_run(series[start + 1 :], policy.loss_of_response_consecutive, lost, None)
    return _finding(series[start].on, run, rule)


def _check_series(scale: OutcomeScale, baseline_total: int, series: Sequence[DatedScore]) -> None:
    _check_total(scale, baseline_total, "baseline")
    for earlier, later in pairwise(series):
        if later.on <= earlier.on:
            raise ValueError(
                f"scores must be in date order with one per day: {later.on} follows {earlier.on}"
            )
    for s in series:
        _check_total(scale, s.total, f"score on {s.on}:")


def _first_qualifying(
    scale: OutcomeScale, baseline_total: int, series: Sequence[DatedScore], policy: ClinicPolicy
) -> int | None:
    for index, s in enumerate(series):
        if classify(scale, baseline_total, s.total, policy) is not Outcome.NO_RESPONSE:
            return index
    return None


def _first_run(
    series: Sequence[DatedScore],
    length: int,
    meets: Callable[[DatedScore], bool],
    gap_days: tuple[int, int] | None,
) -> Sequence[DatedScore] | None:
    """The first `length` adjacent assessments that all meet the definition, with allowed gaps."""
    for start in range(len(series) - length + 1):
        window = series[start : start + length]
        if all(meets(s) for s in window) and _gaps_ok(window, gap_days):
            return window
    return None


def _gaps_ok(window: Sequence[DatedScore], gap_days: tuple[int, int] | None) -> bool:
    if gap_days is None:
        return True
    low, high = gap_days
    return all(low <= (b.on - a.on).days <= high for a, b in pairwise(window))


def _finding(qualified_on: date, run: Sequence[DatedScore] | None, rule: Rule) -> SeriesFinding:
    if run is None:
        return SeriesFinding(False, qualified_on, None, None, rule.id, rule.sources)
    return SeriesFinding(True, qualified_on, run[0].on, run[-1].on, rule.id, rule.sources)
