"""Treatment-resistant depression: adequate trials, the TRD definition and staging (reference section 4).

A trial counts as an adequate failure when the dose was adequate, it lasted at least the policy minimum of
weeks, and the outcome was no response or a partial one. Intolerance is not a failure of efficacy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ketaclinic.clinical.common import ALL_MODALITIES, Area, Level, Rule
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy

TRD_MIN_FAILURES = 2
"""Inadequate response to at least 2 antidepressants of adequate dose and duration [T5], [T6b], [S17]."""


class TrialOutcome(StrEnum):
    RESPONSE = "response"
    PARTIAL = "partial"
    NONE = "none"
    INTOLERANCE = "intolerance"


class Severity(StrEnum):
    """Symptom severity at baseline, as the Maudsley Staging Method scores it [T2]."""

    SUBSYNDROMAL = "subsyndromal"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE_WITHOUT_PSYCHOSIS = "severe_without_psychosis"
    SEVERE_WITH_PSYCHOSIS = "severe_with_psychosis"


@dataclass(frozen=True, slots=True)
class Trial:
    """One antidepressant trial as the prescriber recorded it."""

    drug: str
    adequate_dose: bool
    weeks: int | Decimal
    outcome: TrialOutcome
    current_episode: bool = True
    dose_optimised: bool = False
    augmented: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.drug, str) or not self.drug.strip():
            raise ValueError("a trial needs the drug it tried")
        if isinstance(self.weeks, bool) or not isinstance(self.weeks, int | Decimal):
            raise TypeError(f"trial weeks must be an int or Decimal, got {self.weeks!r}")
        if not Decimal(self.weeks).is_finite() or self.weeks < 0:
            raise ValueError(f"trial weeks must be zero or more, got {self.weeks!r}")
        for name in ("adequate_dose", "current_episode", "dose_optimised", "augmented"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"trial {name} must be true or false")
        try:
            # Accept the plain string ids forms post; store the enum so comparisons are exact.
            object.__setattr__(self, "outcome", TrialOutcome(self.outcome))
        except ValueError:
            raise ValueError(f"unknown trial outcome {self.outcome!r}") from None


@dataclass(frozen=True, slots=True)
class TRDAssessment:
    """TRD status and staging. Staging counts current-episode failures (the episode being staged).

    `maudsley_score` and `maudsley_band` are None when a dimension is missing; `maudsley_missing` says which.
    """

    adequate_failures: int
    current_episode_failures: int
    is_trd: bool
    mgh_score: Decimal
    maudsley_score: int | None
    maudsley_band: str | None
    maudsley_missing: tuple[str, ...]
    min_trial_weeks: int


def _rule(rule_id: str, description: str, sources: tuple[str, ...], *policy: str) -> Rule:
    return Rule(rule_id, Area.TRD, Level.DEFINITION, ALL_MODALITIES, description, sources, tuple(policy))


RULE_ADEQUATE_TRIAL = _rule(
    "TRD-ADEQUATE-TRIAL",
    "An adequate failed trial: adequate dose for at least the policy number of weeks (default 6), with no "
    "response or only a partial one. Intolerance does not count.",
    ("T1", "S28", "T5"),
    "trd_min_trial_weeks",
)
RULE_DEFINITION = _rule(
    "TRD-DEFINITION",
    "Treatment-resistant depression: at least 2 adequate failed antidepressant trials in the current "
    "episode.",
    ("T5", "T6b", "S17", "R15b"),
)
RULE_MGH = _rule(
    "TRD-MGH-S",
    "MGH staging: 1 point per adequate failed trial, +0.5 per such trial dose-optimised, +0.5 per such trial "
    "augmented, +3 for failed ECT.",
    ("T1",),
)
RULE_MSM = _rule(
    "TRD-MSM",
    "Maudsley Staging Method: episode duration (1-3) + baseline severity (1-5) + antidepressant failures "
    "(1-5) + augmentation (0-1) + ECT (0-1); total 3-15: mild 3-6, moderate 7-10, severe 11-15.",
    ("T2", "T1"),
)

RULES: tuple[Rule, ...] = (RULE_ADEQUATE_TRIAL, RULE_DEFINITION, RULE_MGH, RULE_MSM)

_MSM_SEVERITY: dict[Severity, int] = {
    Severity.SUBSYNDROMAL: 1,
    Severity.MILD: 2,
    Severity.MODERATE: 3,
    Severity.SEVERE_WITHOUT_PSYCHOSIS: 4,
    Severity.SEVERE_WITH_PSYCHOSIS: 5,
}
MSM_BANDS: tuple[tuple[str, int, int], ...] = (("mild", 3, 6), ("moderate", 7, 10), ("severe", 11, 15))


def is_adequate_failure(trial: Trial, policy: ClinicPolicy = DEFAULT_POLICY) -> bool:
    return (
        trial.adequate_dose
        and trial.weeks >= policy.trd_min_trial_weeks
        and trial.outcome in (TrialOutcome.NONE, TrialOutcome.PARTIAL)
    )


def assess(
    trials: Sequence[Trial],
    *,
    episode_months: int | None = None,
    severity: str | None = None,
    ect_failed: bool = False,
    ect_used: bool = False,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> TRDAssessment:
    """TRD status, MGH-s score and Maudsley stage for a treatment history [T1], [T2], [T5]."""
    failures = [t for t in trials if is_adequate_failure(t, policy)]
    current = [t for t in failures if t.current_episode]
    msm, missing = maudsley_score(
        current,
        episode_months=episode_months,
        severity=severity,
        ect_used=ect_used or ect_failed,
    )
    return TRDAssessment(
        adequate_failures=len(failures),
        current_episode_failures=len(current),
        is_trd=len(current) >= TRD_MIN_FAILURES,
        mgh_score=mgh_score(current, ect_failed=ect_failed),
        maudsley_score=msm,
        maudsley_band=None if msm is None else maudsley_band(msm),
        maudsley_missing=missing,
        min_trial_weeks=policy.trd_min_trial_weeks,
    )


def mgh_score(failed_trials: Sequence[Trial], *, ect_failed: bool = False) -> Decimal:
    """MGH-s: the continuous sum over adequate failed trials [T1]."""
    half = Decimal("0.5")
    total = Decimal(0)
    for trial in failed_trials:
        total += 1 + (half if trial.dose_optimised else 0) + (half if trial.augmented else 0)
    return total + (3 if ect_failed else 0)


def maudsley_score(
    failed_trials: Sequence[Trial],
    *,
    episode_months: int | None,
    severity: str | None,
    ect_used: bool,
) -> tuple[int | None, tuple[str, ...]]:
    """The MSM total, or None with the names of the missing dimensions [T2]."""
    missing = []
    if episode_months is None:
        missing.append("episode_months")
    if severity is None:
        missing.append("severity")
    if not failed_trials:
        # The MSM failure dimension starts at 1-2 failures; with none the method does not stage the patient.
        missing.append("antidepressant_failures")
    if missing or episode_months is None or severity is None:
        return None, tuple(missing)
    augmented = any(t.augmented for t in failed_trials)
    score = (
        _msm_duration(episode_months)
        + _msm_severity(severity)
        + _msm_failures(len(failed_trials))
        + (1 if augmented else 0)
        + (1 if ect_used else 0)
    )
    return score, ()


def maudsley_band(score: int) -> str:
    for band, low, high in MSM_BANDS:
        if low <= score <= high:
            return band
    raise ValueError(f"Maudsley score {score} is outside 3-15")


def _msm_duration(months: int) -> int:
    if isinstance(months, bool) or not isinstance(months, int) or months < 0:
        raise ValueError(f"episode_months must be a whole number of months, got {months!r}")
    # Acute <=12 months, sub-acute 13-24, chronic >24 [T2].
    if months <= 12:
        return 1
    return 2 if months <= 24 else 3


def _msm_severity(severity: str) -> int:
    try:
        return _MSM_SEVERITY[Severity(severity)]
    except ValueError:
        raise ValueError(f"unknown severity {severity!r}") from None


def _msm_failures(count: int) -> int:
    # 1-2 = 1; 3-4 = 2; 5-6 = 3; 7-10 = 4; >10 = 5 [T2].
    for points, upper in ((1, 2), (2, 4), (3, 6), (4, 10)):
        if count <= upper:
            return points
    return 5
