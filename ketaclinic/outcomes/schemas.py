"""The outcome report's answer (GET /api/v1/outcomes). Aggregates only: no patient id anywhere."""

from __future__ import annotations

from ketaclinic.patients.schemas import Out


class RateOut(Out):
    rate: float | None  # null when the denominator is below the small-cell minimum
    numerator: int
    denominator: int


class ConventionOut(Out):
    response: RateOut
    remission: RateOut


class PointOut(Out):
    key: str
    label: str
    day: int | None
    window: str
    assessed: int
    responders: int
    remitters: int
    completers: ConventionOut
    non_responder_imputation: ConventionOut


class FunnelOut(Out):
    step: str
    label: str
    patients: int


class CurvePointOut(Out):
    day: int
    survival: float


class LandmarkOut(Out):
    day: int
    survival: float | None


class AtRiskOut(Out):
    day: int
    patients: int


class DurabilityOut(Out):
    curve: list[CurvePointOut]
    responders: int
    events: int
    censored: int
    hidden: bool
    landmarks: list[LandmarkOut]
    at_risk: list[AtRiskOut]
    median_days: float | None
    censoring: str
    event: str


class BenchmarkOut(Out):
    study: str
    scale: str
    response_rate: float | None
    remission_rate: float | None
    definition: str
    modality: str
    time_point: str
    population: str
    imputation: str
    remission_max: int | None
    durability_landmarks: list[LandmarkOut]
    durability_note: str
    source: str


class LeftOutOut(Out):
    study: str
    reason: str


class ScopeOut(Out):
    label: str
    network: bool
    location: str
    policy_note: str


class OutcomesOut(Out):
    instrument: str
    scope: ScopeOut
    filters: dict[str, str]
    patients: int
    with_baseline: int
    with_follow_up: int
    response_rate: float | None
    remission_rate: float | None
    min_cell: int
    remission_max: int
    funnel: list[FunnelOut]
    end_of_induction: PointOut
    time_points: list[PointOut]
    durability: DurabilityOut
    benchmarks: list[BenchmarkOut]
    benchmarks_not_compared: list[LeftOutOut]
    definitions: dict[str, str]
