"""Vital signs: the pre-dose blood-pressure gate, in-session alerts and discharge readiness.

Reference 1.3-1.4 (esketamine label and REMS), 2.3-2.5 (racemic ketamine) and 7 (session state machine).
"Above 140/90" means systolic above 140 or diastolic above 90. Times are parameters; nothing reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ketaclinic.clinical.common import (
    ALL_MODALITIES,
    ESKETAMINE,
    RACEMIC,
    Area,
    Level,
    Modality,
    Rule,
    parse_modality,
)
from ketaclinic.clinical.policy import DEFAULT_POLICY, BloodPressure, ClinicPolicy
from ketaclinic.clinical.scales import MOAAS_ALERT

ESKETAMINE_MIN_OBSERVATION_MINUTES = 120
"""A healthcare provider monitors for at least 2 hours at every esketamine session [S6], [S3a], [S13]."""

POST_DOSE_BP_CHECK_MINUTES = 40
"""Re-check BP about 40 minutes after esketamine dosing, when the rise peaks [S5], [S3d], [S9]."""


class GateLevel(StrEnum):
    PROCEED = "proceed"
    ACKNOWLEDGE = "acknowledge"
    DEFER = "defer"


@dataclass(frozen=True, slots=True)
class Gate:
    level: GateLevel
    rule_id: str
    sources: tuple[str, ...]
    message: str


# --- Rules -------------------------------------------------------------------------------------------------

RULE_PREDOSE_ESK_PROCEED = Rule(
    "BP-PREDOSE-ESK-PROCEED",
    Area.VITALS,
    Level.PROCEED,
    ESKETAMINE,
    "Measure blood pressure before each esketamine dose; at or below the acknowledgement level, proceed.",
    ("S5", "S2", "S3d"),
    ("esketamine_bp_acknowledge",),
)
RULE_PREDOSE_ESK_ACK = Rule(
    "BP-PREDOSE-ESK-ACK",
    Area.VITALS,
    Level.ACKNOWLEDGE,
    ESKETAMINE,
    "Esketamine pre-dose BP above the label's example (140/90 by default): weigh the short-term BP rise "
    "against the benefit; the clinician acknowledges before dosing or delays therapy.",
    ("S5", "S4b"),
    ("esketamine_bp_acknowledge",),
)
RULE_PREDOSE_ESK_DEFER = Rule(
    "BP-PREDOSE-ESK-DEFER",
    Area.VITALS,
    Level.DEFER,
    ESKETAMINE,
    "Esketamine pre-dose BP above the clinic's deferral level (not set by default; the label says do not "
    "dose when a BP rise would pose a serious risk, without a number): defer the dose.",
    ("S5",),
    ("esketamine_bp_defer",),
)
RULE_PREDOSE_KET_PROCEED = Rule(
    "BP-PREDOSE-KET-PROCEED",
    Area.VITALS,
    Level.PROCEED,
    RACEMIC,
    "Monitor vital signs before racemic ketamine; at or below the acknowledgement level, proceed.",
    ("K12a", "K1"),
    ("ketamine_bp_acknowledge",),
)
RULE_PREDOSE_KET_ACK = Rule(
    "BP-PREDOSE-KET-ACK",
    Area.VITALS,
    Level.ACKNOWLEDGE,
    RACEMIC,
    "Racemic ketamine pre-dose BP above the acknowledgement level (140/90 by default): address it before "
    "treating; the clinician acknowledges before dosing.",
    ("K1", "S5"),
    ("ketamine_bp_acknowledge",),
)
RULE_PREDOSE_KET_DEFER = Rule(
    "BP-PREDOSE-KET-DEFER",
    Area.VITALS,
    Level.DEFER,
    RACEMIC,
    "Racemic ketamine at resting BP above the deferral level (180/100 by default; the Swiss SmPC "
    "contraindicates resting BP >180/100): defer the dose.",
    ("K16",),
    ("ketamine_bp_defer",),
)
RULE_POSTDOSE_BP = Rule(
    "BP-POSTDOSE-ESK-40MIN",
    Area.VITALS,
    Level.SCHEDULE,
    ESKETAMINE,
    "Re-check blood pressure about 40 minutes after esketamine dosing (the peak), then as clinically "
    "warranted until it is steady at a safe level.",
    ("S5", "S3d", "S9"),
)

RULE_KET_IV_SCHEDULE = Rule(
    "VITALS-KET-IV-SCHEDULE",
    Area.VITALS,
    Level.SCHEDULE,
    frozenset({Modality.IV_KETAMINE}),
    "IV ketamine: vital signs before dosing, at the clinic's interval while the infusion runs (10 minutes by "
    "default) and after it ends (every 15 minutes for 60 minutes by default), then until recovery as the "
    "clinician judges; before discharge when the clinic sets a minimum observation time.",
    ("K10", "K1", "K11"),
    (
        "ketamine_vitals_during_infusion_minutes",
        "ketamine_vitals_after_dose_minutes",
        "ketamine_vitals_after_dose_for_minutes",
        "ketamine_min_observation_minutes",
    ),
)
RULE_KET_IM_SCHEDULE = Rule(
    "VITALS-KET-IM-SCHEDULE",
    Area.VITALS,
    Level.SCHEDULE,
    frozenset({Modality.IM_KETAMINE}),
    "IM ketamine: vital signs before dosing and at the clinic's after-dose interval from the injection "
    "(every 15 minutes for 60 minutes by default), then until recovery as the clinician judges; before "
    "discharge when the clinic sets a minimum observation time.",
    ("K10", "K1", "K3"),
    (
        "ketamine_vitals_after_dose_minutes",
        "ketamine_vitals_after_dose_for_minutes",
        "ketamine_min_observation_minutes",
    ),
)

RULE_ALERT_BP_HIGH = Rule(
    "VITALS-SESSION-BP-HIGH",
    Area.VITALS,
    Level.ALERT,
    ALL_MODALITIES,
    "In-session blood pressure above the clinic's alert level (180/100 by default; APA consensus, "
    "unverified).",
    ("K1", "K14"),
    ("session_bp_alert",),
)
RULE_ALERT_BP_RISE = Rule(
    "VITALS-SESSION-BP-RISE",
    Area.VITALS,
    Level.ALERT,
    ALL_MODALITIES,
    "In-session rise over the pre-dose reading of at least the policy amounts (systolic 40 / diastolic 25 "
    "mmHg by default: the rise the esketamine safety information counts).",
    ("S9",),
    ("session_bp_rise_alert",),
)
RULE_ALERT_HEART_RATE = Rule(
    "VITALS-SESSION-HR-HIGH",
    Area.VITALS,
    Level.ALERT,
    ALL_MODALITIES,
    "In-session heart rate above the clinic's alert level (110/min by default; APA consensus, unverified).",
    ("K1",),
    ("session_heart_rate_alert_above",),
)
RULE_ALERT_SPO2 = Rule(
    "VITALS-SESSION-SPO2-LOW",
    Area.VITALS,
    Level.ALERT,
    ALL_MODALITIES,
    "Pulse oximetry below the clinic's alert level (93% by default). Respiratory depression is a boxed "
    "warning; watch respiratory status with pulse oximetry at each session.",
    ("S3d", "S13", "S6", "S25b"),
    ("spo2_alert_below",),
)
RULE_ALERT_LOC = Rule(
    "VITALS-SESSION-LOC",
    Area.VITALS,
    Level.ALERT,
    ALL_MODALITIES,
    "MOAA/S 0: loss of consciousness.",
    ("S6", "R9"),
)
RULE_ALERT_SEDATION = Rule(
    "VITALS-SESSION-SEDATION",
    Area.VITALS,
    Level.ALERT,
    ALL_MODALITIES,
    "MOAA/S at or below the clinic's sedation alert level (3 by default; UNVERIFIED).",
    ("R9", "S20", "S6"),
    ("moaas_sedation_alert_at_or_below",),
)
RULE_ALERT_DISSOCIATION = Rule(
    "VITALS-SESSION-DISSOCIATION",
    Area.VITALS,
    Level.ALERT,
    ALL_MODALITIES,
    "CADSS total above the clinic's dissociation alert level (4 by default; UNVERIFIED).",
    ("R10a", "R10b", "S6"),
    ("cadss_alert_above",),
)

_IN_CLINIC = ALL_MODALITIES - frozenset({Modality.HOME_KETAMINE})


def _discharge_rule(
    rule_id: str, modalities: frozenset[Modality], text: str, sources: tuple[str, ...], *policy: str
) -> Rule:
    return Rule(rule_id, Area.DISCHARGE, Level.BLOCKS_DISCHARGE, modalities, text, sources, tuple(policy))


RULE_DISCHARGE_ESK_TIME = _discharge_rule(
    "DISCHARGE-ESK-MIN-120",
    ESKETAMINE,
    "At least 120 minutes from the first esketamine device before discharge.",
    ("S6", "S3a", "S13"),
)
RULE_DISCHARGE_KET_TIME = _discharge_rule(
    "DISCHARGE-KET-MIN-OBSERVATION",
    RACEMIC - frozenset({Modality.HOME_KETAMINE}),
    "At least the clinic's minimum observation time from the start of racemic ketamine (not set by default: "
    "discharge when recovery is complete).",
    ("K15", "K1"),
    "ketamine_min_observation_minutes",
)
RULE_DISCHARGE_BP_TREND = _discharge_rule(
    "DISCHARGE-BP-STABLE",
    _IN_CLINIC,
    "Blood pressure falling or stable: the latest post-dose reading is not above the one before (within the "
    "clinic's tolerance, 0 mmHg by default).",
    ("S5", "K15"),
    "discharge_bp_tolerance_mmhg",
)
RULE_DISCHARGE_BP_LEVEL = _discharge_rule(
    "DISCHARGE-BP-SAFE-LEVEL",
    _IN_CLINIC,
    "The latest blood pressure is not above the clinic's in-session alert level (steady at a safe level).",
    ("S5", "S3d"),
    "session_bp_alert",
)
RULE_DISCHARGE_SEDATION = _discharge_rule(
    "DISCHARGE-SEDATION-RESOLVED",
    _IN_CLINIC,
    "Sedation resolved: the latest MOAA/S is 5 (responds readily to name in a normal tone).",
    ("S13", "R9", "K15"),
)
RULE_DISCHARGE_DISSOCIATION = _discharge_rule(
    "DISCHARGE-DISSOCIATION-RESOLVED",
    _IN_CLINIC,
    "Dissociation resolved, as judged by the monitoring clinician.",
    ("S13", "K15"),
)
RULE_DISCHARGE_RESPIRATORY = _discharge_rule(
    "DISCHARGE-RESPIRATORY-RESOLVED",
    _IN_CLINIC,
    "Any respiratory depression resolved, as judged by the monitoring clinician with pulse oximetry.",
    ("S13", "S3d"),
)
RULE_DISCHARGE_ESCORT = _discharge_rule(
    "DISCHARGE-ESCORT",
    _IN_CLINIC,
    "Transport home arranged with a responsible adult; no driving until the next day after restful sleep.",
    ("S3a", "S8", "K15"),
)

RULES: tuple[Rule, ...] = (
    RULE_PREDOSE_ESK_PROCEED,
    RULE_PREDOSE_ESK_ACK,
    RULE_PREDOSE_ESK_DEFER,
    RULE_PREDOSE_KET_PROCEED,
    RULE_PREDOSE_KET_ACK,
    RULE_PREDOSE_KET_DEFER,
    RULE_POSTDOSE_BP,
    RULE_KET_IV_SCHEDULE,
    RULE_KET_IM_SCHEDULE,
    RULE_ALERT_BP_HIGH,
    RULE_ALERT_BP_RISE,
    RULE_ALERT_HEART_RATE,
    RULE_ALERT_SPO2,
    RULE_ALERT_LOC,
    RULE_ALERT_SEDATION,
    RULE_ALERT_DISSOCIATION,
    RULE_DISCHARGE_ESK_TIME,
    RULE_DISCHARGE_KET_TIME,
    RULE_DISCHARGE_BP_TREND,
    RULE_DISCHARGE_BP_LEVEL,
    RULE_DISCHARGE_SEDATION,
    RULE_DISCHARGE_DISSOCIATION,
    RULE_DISCHARGE_RESPIRATORY,
    RULE_DISCHARGE_ESCORT,
)

# --- Pre-dose gate -----------------------------------------------------------------------------------------


def predose_bp(systolic: int, diastolic: int, modality: str, policy: ClinicPolicy = DEFAULT_POLICY) -> Gate:
    """Whether to dose at this pre-dose blood pressure [S5], [S4b], [K16], [K1]."""
    BloodPressure(systolic, diastolic)  # validates the reading
    kind = parse_modality(modality)
    if kind is Modality.ESKETAMINE_NASAL:
        steps = (
            (policy.esketamine_bp_defer, GateLevel.DEFER, RULE_PREDOSE_ESK_DEFER),
            (policy.esketamine_bp_acknowledge, GateLevel.ACKNOWLEDGE, RULE_PREDOSE_ESK_ACK),
        )
        proceed = RULE_PREDOSE_ESK_PROCEED
    else:
        steps = (
            (policy.ketamine_bp_defer, GateLevel.DEFER, RULE_PREDOSE_KET_DEFER),
            (policy.ketamine_bp_acknowledge, GateLevel.ACKNOWLEDGE, RULE_PREDOSE_KET_ACK),
        )
        proceed = RULE_PREDOSE_KET_PROCEED
    reading = f"{systolic}/{diastolic} mmHg"
    for limit, level, rule in steps:
        if limit is not None and limit.exceeded_by(systolic, diastolic):
            return Gate(
                level, rule.id, rule.sources, f"Pre-dose BP {reading} is above {limit}. {rule.description}"
            )
    return Gate(
        GateLevel.PROCEED, proceed.id, proceed.sources, f"Pre-dose BP {reading}. {proceed.description}"
    )


# --- In-session alerts -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionReading:
    """One set of in-session observations; any may be missing."""

    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2_percent: int | None = None
    moaas: int | None = None
    cadss_total: int | None = None

    def __post_init__(self) -> None:
        for name in ("systolic", "diastolic", "heart_rate", "spo2_percent", "moaas", "cadss_total"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be a whole number of zero or more, got {value!r}")
        if (self.systolic is None) != (self.diastolic is None):
            raise ValueError("record systolic and diastolic together")


@dataclass(frozen=True, slots=True)
class Alert:
    rule_id: str
    message: str
    sources: tuple[str, ...]
    clinic_policy: bool


def session_alerts(
    reading: SessionReading,
    *,
    predose: BloodPressure | None = None,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> tuple[Alert, ...]:
    """Every alert the reading raises, most urgent first; `predose` enables the rise alert."""
    alerts: list[Alert | None] = [
        _loc_alert(reading),
        _spo2_alert(reading, policy),
        _bp_high_alert(reading, policy),
        _bp_rise_alert(reading, predose, policy),
        _heart_rate_alert(reading, policy),
        _sedation_alert(reading, policy),
        _dissociation_alert(reading, policy),
    ]
    return tuple(a for a in alerts if a is not None)


def _alert(rule: Rule, detail: str) -> Alert:
    return Alert(rule.id, f"{detail} {rule.description}", rule.sources, bool(rule.policy_fields))


def _loc_alert(r: SessionReading) -> Alert | None:
    return _alert(RULE_ALERT_LOC, "MOAA/S 0.") if r.moaas == 0 else None


def _spo2_alert(r: SessionReading, policy: ClinicPolicy) -> Alert | None:
    if r.spo2_percent is None or r.spo2_percent >= policy.spo2_alert_below:
        return None
    return _alert(RULE_ALERT_SPO2, f"SpO2 {r.spo2_percent}%.")


def _bp_high_alert(r: SessionReading, policy: ClinicPolicy) -> Alert | None:
    if (
        r.systolic is None
        or r.diastolic is None
        or not policy.session_bp_alert.exceeded_by(r.systolic, r.diastolic)
    ):
        return None
    return _alert(RULE_ALERT_BP_HIGH, f"BP {r.systolic}/{r.diastolic} mmHg.")


def _bp_rise_alert(r: SessionReading, predose: BloodPressure | None, policy: ClinicPolicy) -> Alert | None:
    if predose is None or r.systolic is None or r.diastolic is None:
        return None
    rise_s, rise_d = r.systolic - predose.systolic, r.diastolic - predose.diastolic
    limit = policy.session_bp_rise_alert
    # The safety information counts a rise of "at least" 40/25, so the limit itself alerts [S9].
    if rise_s < limit.systolic and rise_d < limit.diastolic:
        return None
    return _alert(RULE_ALERT_BP_RISE, f"BP rose by {rise_s}/{rise_d} mmHg over the pre-dose {predose}.")


def _heart_rate_alert(r: SessionReading, policy: ClinicPolicy) -> Alert | None:
    if r.heart_rate is None or r.heart_rate <= policy.session_heart_rate_alert_above:
        return None
    return _alert(RULE_ALERT_HEART_RATE, f"Heart rate {r.heart_rate}/min.")


def _sedation_alert(r: SessionReading, policy: ClinicPolicy) -> Alert | None:
    level = policy.moaas_sedation_alert_at_or_below
    if r.moaas is None or level is None or r.moaas > level:
        return None
    return _alert(RULE_ALERT_SEDATION, f"MOAA/S {r.moaas}.")


def _dissociation_alert(r: SessionReading, policy: ClinicPolicy) -> Alert | None:
    level = policy.cadss_alert_above
    if r.cadss_total is None or level is None or r.cadss_total <= level:
        return None
    return _alert(RULE_ALERT_DISSOCIATION, f"CADSS total {r.cadss_total}.")


# --- Discharge ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BPReading:
    at: datetime
    systolic: int
    diastolic: int


@dataclass(frozen=True, slots=True)
class NotYet:
    """One discharge criterion not yet met."""

    rule_id: str
    reason: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DischargeCheck:
    """`ready` means the criteria are met; the monitoring clinician still decides and signs off [S6], [S5]."""

    ready: bool
    not_yet: tuple[NotYet, ...]
    minutes_observed: int


def discharge_readiness(
    modality: str,
    *,
    first_dose_at: datetime,
    now: datetime,
    bp_readings: Sequence[BPReading],
    moaas: int | None,
    dissociation_resolved: bool,
    respiratory_depression_resolved: bool,
    escort_arranged: bool,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> DischargeCheck:
    """Whether a patient may leave, with the reasons it is not yet met.

    For esketamine `first_dose_at` is the first device. Home ketamine has no discharge and raises ValueError.
    """
    kind = parse_modality(modality)
    if kind is Modality.HOME_KETAMINE:
        raise ValueError("home ketamine has no clinic discharge")
    if now < first_dose_at:
        raise ValueError("now is before the first dose")
    minutes = int((now - first_dose_at).total_seconds() // 60)
    checks = (
        _time_check(kind, minutes, policy),
        _bp_trend_check(bp_readings, first_dose_at, policy),
        _bp_level_check(bp_readings, policy),
        _flag_check(moaas == MOAAS_ALERT, RULE_DISCHARGE_SEDATION, _moaas_reason(moaas)),
        _flag_check(dissociation_resolved, RULE_DISCHARGE_DISSOCIATION, "Dissociation has not resolved."),
        _flag_check(
            respiratory_depression_resolved,
            RULE_DISCHARGE_RESPIRATORY,
            "Respiratory depression has not resolved.",
        ),
        _flag_check(escort_arranged, RULE_DISCHARGE_ESCORT, "No transport home with a responsible adult."),
    )
    not_yet = tuple(c for c in checks if c is not None)
    return DischargeCheck(not not_yet, not_yet, minutes)


def _not_yet(rule: Rule, reason: str) -> NotYet:
    return NotYet(rule.id, reason, rule.sources)


def _time_check(kind: Modality, minutes: int, policy: ClinicPolicy) -> NotYet | None:
    needed = minimum_observation_minutes(kind, policy)
    rule = RULE_DISCHARGE_ESK_TIME if kind is Modality.ESKETAMINE_NASAL else RULE_DISCHARGE_KET_TIME
    if needed is None or minutes >= needed:
        return None
    return _not_yet(rule, f"{minutes} of at least {needed} minutes observed.")


def _bp_trend_check(
    readings: Sequence[BPReading], first_dose_at: datetime, policy: ClinicPolicy
) -> NotYet | None:
    ordered = sorted(readings, key=lambda r: r.at)
    if len(ordered) < 2 or ordered[-1].at < first_dose_at:
        return _not_yet(
            RULE_DISCHARGE_BP_TREND, "Need a post-dose BP reading and one before it to see the trend."
        )
    previous, latest = ordered[-2], ordered[-1]
    slack = policy.discharge_bp_tolerance_mmhg
    if latest.systolic > previous.systolic + slack or latest.diastolic > previous.diastolic + slack:
        now_bp, before = f"{latest.systolic}/{latest.diastolic}", f"{previous.systolic}/{previous.diastolic}"
        return _not_yet(RULE_DISCHARGE_BP_TREND, f"BP is rising: {now_bp} after {before} mmHg.")
    return None


def _bp_level_check(readings: Sequence[BPReading], policy: ClinicPolicy) -> NotYet | None:
    if not readings:
        return None  # The trend check already asks for readings.
    latest = max(readings, key=lambda r: r.at)
    if not policy.session_bp_alert.exceeded_by(latest.systolic, latest.diastolic):
        return None
    reason = f"Latest BP {latest.systolic}/{latest.diastolic} mmHg is above {policy.session_bp_alert}."
    return _not_yet(RULE_DISCHARGE_BP_LEVEL, reason)


def _moaas_reason(moaas: int | None) -> str:
    if moaas is None:
        return "No MOAA/S recorded."
    return f"MOAA/S is {moaas}; sedation has resolved at {MOAAS_ALERT}."


def _flag_check(met: bool, rule: Rule, reason: str) -> NotYet | None:
    return None if met else _not_yet(rule, reason)


VitalPoint = tuple[str, str, datetime | None]
"""(time point, label, due time) of one scheduled reading; the due time is None for "before dosing".

A time point may repeat (IV and IM ketamine have a reading every few minutes): the n-th reading charted at a
time point answers its n-th scheduled reading (`outstanding_vital_points`)."""

PRE_DOSE_POINT = "pre_dose"
DURING_INFUSION_POINT = "during_infusion"
POST_DOSE_POINT = "post_dose"
PRE_DISCHARGE_POINT = "pre_discharge"


def minimum_observation_minutes(modality: str, policy: ClinicPolicy = DEFAULT_POLICY) -> int | None:
    """Fewest minutes from the first dose before discharge: 120 for esketamine [S6]; for racemic ketamine the
    clinic policy's value (None: no minimum, discharge when recovery is complete)."""
    if parse_modality(modality) is Modality.ESKETAMINE_NASAL:
        return ESKETAMINE_MIN_OBSERVATION_MINUTES
    return policy.ketamine_min_observation_minutes


def scheduled_vital_points(
    modality: str,
    first_dose_at: datetime | None,
    *,
    infusion_ended_at: datetime | None = None,
    now: datetime | None = None,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> list[VitalPoint]:
    """The scheduled readings of a session, in the order they fall due.

    Esketamine (rule BP-POSTDOSE-ESK-40MIN): before dosing, 40 minutes after dosing [S5], before discharge at
    the 2-hour minimum [S6]. IV ketamine (rule VITALS-KET-IV-SCHEDULE): before dosing, every
    `ketamine_vitals_during_infusion_minutes` while the infusion runs, then every
    `ketamine_vitals_after_dose_minutes` for `ketamine_vitals_after_dose_for_minutes` after it ends [K10],
    [K1]. While the infusion has no end time the during-infusion readings run on: the list holds them up to
    the first one after `now` (or just the first without `now`). IM ketamine (rule VITALS-KET-IM-SCHEDULE):
    the after-dose readings from the injection. IV and IM add a reading before discharge when the policy sets
    a minimum observation time. Other racemic modalities: before dosing only; later readings as the
    clinician judges.
    """
    points: list[VitalPoint] = [(PRE_DOSE_POINT, "Before dosing", None)]
    if first_dose_at is None:
        return points
    kind = parse_modality(modality)
    if kind is Modality.ESKETAMINE_NASAL:
        post = first_dose_at + timedelta(minutes=POST_DOSE_BP_CHECK_MINUTES)
        discharge = first_dose_at + timedelta(minutes=ESKETAMINE_MIN_OBSERVATION_MINUTES)
        points.append((POST_DOSE_POINT, f"{POST_DOSE_BP_CHECK_MINUTES} minutes after dosing", post))
        points.append((PRE_DISCHARGE_POINT, "Before discharge", discharge))
        return points
    if kind is Modality.IV_KETAMINE:
        points.extend(_during_infusion(first_dose_at, infusion_ended_at, now, policy))
        if infusion_ended_at is None:
            return points
        after_from, after_label = infusion_ended_at, "after the infusion"
    elif kind is Modality.IM_KETAMINE:
        after_from, after_label = first_dose_at, "after the injection"
    else:
        return points
    minimum = policy.ketamine_min_observation_minutes
    discharge_at = None if minimum is None else first_dose_at + timedelta(minutes=minimum)
    step, span = policy.ketamine_vitals_after_dose_minutes, policy.ketamine_vitals_after_dose_for_minutes
    for minutes in range(step, span + 1, step):
        due = after_from + timedelta(minutes=minutes)
        if discharge_at is not None and due >= discharge_at:
            break
        points.append((POST_DOSE_POINT, f"{minutes} minutes {after_label}", due))
    if discharge_at is not None:
        points.append((PRE_DISCHARGE_POINT, "Before discharge", max(discharge_at, after_from)))
    return points


def _during_infusion(
    started: datetime, ended: datetime | None, now: datetime | None, policy: ClinicPolicy
) -> list[VitalPoint]:
    step = timedelta(minutes=policy.ketamine_vitals_during_infusion_minutes)
    points: list[VitalPoint] = []
    due = started + step
    while ended is None or due < ended:
        minutes = int((due - started).total_seconds() // 60)
        points.append((DURING_INFUSION_POINT, f"{minutes} minutes into the infusion", due))
        if ended is None and (now is None or due > now):
            break
        due += step
    return points


def outstanding_vital_points(points: Sequence[VitalPoint], taken: Iterable[str]) -> list[VitalPoint]:
    """The scheduled readings not yet answered: each reading charted at a time point answers the earliest
    scheduled reading of that point still open."""
    left = list(taken)
    out: list[VitalPoint] = []
    for point in points:
        if point[0] in left:
            left.remove(point[0])
        else:
            out.append(point)
    return out
