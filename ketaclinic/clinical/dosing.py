"""Dose calculations in Decimal: IV and IM racemic ketamine by weight, esketamine by device.

Rounding is half-up: dose to 0.1 mg, volume to 0.01 mL, pump rate to 0.1 mL/h. The volume is computed from
the rounded dose and the rate from the rounded volume, so what the nurse draws up and what the pump delivers
agree with the dose on the chart. Floats are refused: binary fractions cannot hold 0.1 mg/kg exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ketaclinic.clinical.common import ESKETAMINE, Area, Level, Modality, Rule
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy

MG_STEP = Decimal("0.1")
ML_STEP = Decimal("0.01")
RATE_STEP = Decimal("0.1")

IV_STANDARD_MG_PER_KG = Decimal("0.5")
"""The standard research dose: 0.5 mg/kg IV over 40 minutes [K3], [K7], [K9b]."""
IV_STANDARD_MINUTES = 40
IV_MINUTES_RANGE = (2, 100)
"""Infusion durations with reported safety and efficacy: 2 to 100 minutes [K3]."""

ESKETAMINE_DEVICE_MG = 28
"""One device holds 28 mg (2 sprays, 1 per nostril) [S21], [S2], [S3a]."""
ESKETAMINE_DEVICE_INTERVAL_MIN = 5
"""Wait 5 minutes after each device before the next [S3a], [S2], [S4b]."""

_IV = frozenset({Modality.IV_KETAMINE})
_IM = frozenset({Modality.IM_KETAMINE})


class DoseOutOfRange(ValueError):
    """A dose input or result outside what the rules allow."""


class EsketamineIndication(StrEnum):
    TRD = "trd"
    MDSI = "mdsi"


@dataclass(frozen=True, slots=True)
class IVDose:
    dose_mg: Decimal
    volume_ml: Decimal
    rate_ml_per_hour: Decimal
    weight_kg: Decimal
    mg_per_kg: Decimal
    infusion_minutes: Decimal
    concentration_mg_per_ml: Decimal


@dataclass(frozen=True, slots=True)
class IMDose:
    dose_mg: Decimal
    volume_ml: Decimal
    weight_kg: Decimal
    mg_per_kg: Decimal
    concentration_mg_per_ml: Decimal


@dataclass(frozen=True, slots=True)
class EsketamineDose:
    devices: int
    device_offsets_min: tuple[int, ...]
    dose_mg: int


def _rule(
    rule_id: str,
    modalities: frozenset[Modality],
    level: Level,
    text: str,
    sources: tuple[str, ...],
    *policy: str,
) -> Rule:
    return Rule(rule_id, Area.DOSING, level, modalities, text, sources, tuple(policy))


RULE_IV_STANDARD = _rule(
    "DOSE-IV-STANDARD",
    _IV,
    Level.DEFINITION,
    "Standard IV ketamine dose: 0.5 mg/kg over 40 minutes. Dose = weight x mg/kg (0.1 mg), volume = dose / "
    "concentration (0.01 mL), rate = volume / minutes x 60 (0.1 mL/h), rounded half-up.",
    ("K3", "K7", "K9b"),
    "iv_concentration_mg_per_ml",
)
RULE_IV_RANGE = _rule(
    "DOSE-IV-MG-PER-KG-RANGE",
    _IV,
    Level.LIMIT,
    "IV ketamine mg/kg must lie within the clinic's range (0.1-1.0 by default: Andrade 0.1-0.75, ASKP3 "
    "0.5-1).",
    ("K3", "K12a"),
    "iv_mg_per_kg_min",
    "iv_mg_per_kg_max",
    "dose_weight_min_kg",
    "dose_weight_max_kg",
)
RULE_IV_DURATION = _rule(
    "DOSE-IV-DURATION",
    _IV,
    Level.LIMIT,
    "IV infusion duration must be 2-100 minutes, the range with reported safety and efficacy (40 is "
    "conventional).",
    ("K3",),
)
RULE_IM_RANGE = _rule(
    "DOSE-IM-MG-PER-KG-RANGE",
    _IM,
    Level.LIMIT,
    "IM ketamine mg/kg must lie within the clinic's range (0.1-0.5 by default, the trial protocol range; "
    "clinic ranges up to 1 mg/kg are UNVERIFIED).",
    ("K13", "K3"),
    "im_mg_per_kg_min",
    "im_mg_per_kg_max",
    "im_concentration_mg_per_ml",
    "dose_weight_min_kg",
    "dose_weight_max_kg",
)
RULE_ESK_DEVICES = _rule(
    "DOSE-ESK-DEVICES",
    ESKETAMINE,
    Level.DEFINITION,
    "Esketamine 56 mg is 2 devices and 84 mg is 3 devices (28 mg each); wait 5 minutes after each device.",
    ("S21", "S3a", "S2", "S4b"),
)
RULE_ESK_FIRST_DOSE = _rule(
    "DOSE-ESK-FIRST-56",
    ESKETAMINE,
    Level.LIMIT,
    "TRD: the first esketamine dose is 56 mg; 84 mg may only follow an initial 56 mg dose.",
    ("S3a", "S2", "S4", "S4b"),
)
RULE_ESK_28 = _rule(
    "DOSE-ESK-28MG",
    ESKETAMINE,
    Level.LIMIT,
    "28 mg (one device) only where clinic policy allows it (Hong Kong label start for age 65+; US "
    "UNVERIFIED).",
    ("S2",),
    "esketamine_allow_28mg",
)
RULE_ESK_MDSI = _rule(
    "DOSE-ESK-MDSI-84",
    ESKETAMINE,
    Level.DEFINITION,
    "MDSI indication: 84 mg twice weekly for 4 weeks (from the first dose), reduced to 56 mg if not "
    "tolerated.",
    ("S4b", "S3c"),
)

RULES: tuple[Rule, ...] = (
    RULE_IV_STANDARD,
    RULE_IV_RANGE,
    RULE_IV_DURATION,
    RULE_IM_RANGE,
    RULE_ESK_DEVICES,
    RULE_ESK_FIRST_DOSE,
    RULE_ESK_28,
    RULE_ESK_MDSI,
)


def _decimal(name: str, value: object) -> Decimal:
    # bool is an int; a ticked checkbox must never become a 1 kg patient.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal or int, got {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise DoseOutOfRange(f"{name} must be a finite number, got {value}")
    return number


def _within(name: str, value: Decimal, low: Decimal | int, high: Decimal | int, rule: Rule) -> None:
    if not low <= value <= high:
        raise DoseOutOfRange(f"{name} {value} is outside {low}-{high} ({rule.id})")


def _round(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _weight(weight_kg: object, policy: ClinicPolicy) -> Decimal:
    weight = _decimal("weight_kg", weight_kg)
    low, high = policy.dose_weight_min_kg, policy.dose_weight_max_kg
    if not low <= weight <= high:
        raise DoseOutOfRange(
            f"weight_kg {weight} is outside {low}-{high} (clinic policy dose_weight_min/max_kg)"
        )
    return weight


def _concentration(value: object | None, default: Decimal) -> Decimal:
    concentration = default if value is None else _decimal("concentration_mg_per_ml", value)
    if concentration <= 0:
        raise DoseOutOfRange(f"concentration_mg_per_ml must be positive, got {concentration}")
    return concentration


def iv_ketamine(
    weight_kg: Decimal | int,
    mg_per_kg: Decimal | int = IV_STANDARD_MG_PER_KG,
    infusion_minutes: Decimal | int = IV_STANDARD_MINUTES,
    concentration_mg_per_ml: Decimal | int | None = None,
    *,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> IVDose:
    """An IV ketamine infusion: dose, volume at the concentration, and pump rate [K3], [K12a].

    `concentration_mg_per_ml` defaults to the clinic policy value (a pharmacy choice, not a clinical fact).
    """
    weight = _weight(weight_kg, policy)
    per_kg = _decimal("mg_per_kg", mg_per_kg)
    _within("mg_per_kg", per_kg, policy.iv_mg_per_kg_min, policy.iv_mg_per_kg_max, RULE_IV_RANGE)
    minutes = _decimal("infusion_minutes", infusion_minutes)
    _within("infusion_minutes", minutes, *IV_MINUTES_RANGE, RULE_IV_DURATION)
    concentration = _concentration(concentration_mg_per_ml, policy.iv_concentration_mg_per_ml)
    dose = _round(weight * per_kg, MG_STEP)
    volume = _round(dose / concentration, ML_STEP)
    rate = _round(volume * 60 / minutes, RATE_STEP)
    return IVDose(dose, volume, rate, weight, per_kg, minutes, concentration)


def im_ketamine(
    weight_kg: Decimal | int,
    mg_per_kg: Decimal | int = IV_STANDARD_MG_PER_KG,
    concentration_mg_per_ml: Decimal | int | None = None,
    *,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> IMDose:
    """An IM ketamine bolus: dose and injection volume [K13], [K3]."""
    weight = _weight(weight_kg, policy)
    per_kg = _decimal("mg_per_kg", mg_per_kg)
    _within("mg_per_kg", per_kg, policy.im_mg_per_kg_min, policy.im_mg_per_kg_max, RULE_IM_RANGE)
    concentration = _concentration(concentration_mg_per_ml, policy.im_concentration_mg_per_ml)
    dose = _round(weight * per_kg, MG_STEP)
    volume = _round(dose / concentration, ML_STEP)
    return IMDose(dose, volume, weight, per_kg, concentration)


def esketamine(
    dose_mg: Decimal | int,
    *,
    first_dose: bool,
    indication: str = EsketamineIndication.TRD,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> EsketamineDose:
    """The devices for an esketamine dose and when to use each (minutes after the first) [S3a], [S2]."""
    amount = _decimal("dose_mg", dose_mg)
    kind = EsketamineIndication(indication)
    allowed = {Decimal(56), Decimal(84)} | ({Decimal(28)} if policy.esketamine_allow_28mg else set())
    if amount not in allowed:
        rule = RULE_ESK_28 if amount == ESKETAMINE_DEVICE_MG else RULE_ESK_DEVICES
        permitted = ", ".join(str(a) for a in sorted(allowed))
        raise DoseOutOfRange(f"esketamine {amount} mg is not a permitted dose ({permitted} mg; {rule.id})")
    if first_dose and amount == 84 and kind is EsketamineIndication.TRD:
        raise DoseOutOfRange(f"84 mg may only follow an initial 56 mg dose ({RULE_ESK_FIRST_DOSE.id})")
    devices = int(amount) // ESKETAMINE_DEVICE_MG
    offsets = tuple(ESKETAMINE_DEVICE_INTERVAL_MIN * n for n in range(devices))
    return EsketamineDose(devices, offsets, int(amount))
