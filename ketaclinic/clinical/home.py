"""At-home ketamine: the blood pressure before each home dose [HOME-PRE-DOSE-BP], the check-in after it
[HOME-CHECKIN-DUE], the interval between doses [HOME-DOSE-INTERVAL], when the next dose is held
[HOME-HOLD], and the drug a home program may use [HOME-NO-ESKETAMINE].

Pure: readings, times and the clinic policy in; findings with their reasons (plain words a prescriber reads,
and the patient too) out. The reference has no home-dosing numbers: every threshold is clinic policy
(`home_*`, clinical/policy.py), defaulting to the reference's in-clinic values where it has one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, StrEnum

from ketaclinic.clinical.common import HOME, Area, Level, Rule
from ketaclinic.clinical.policy import ClinicPolicy

RULE_NO_ESKETAMINE = Rule(
    "HOME-NO-ESKETAMINE",
    Area.HOME,
    Level.CONTRAINDICATED,
    HOME,
    "A home program is racemic ketamine only: esketamine (Spravato) must never be dispensed to a patient "
    "for home use (REMS).",
    ("S15",),
)
RULE_PRE_DOSE_BP = Rule(
    "HOME-PRE-DOSE-BP",
    Area.HOME,
    Level.DEFER,
    HOME,
    "Before each home dose the patient measures blood pressure; above the clinic's home maximum (140/90 by "
    "default) they do not dose today, and the clinic is told (the reading holds the next dose until a "
    "prescriber reviews it).",
    ("S5", "K1", "S4b"),
    ("home_bp_max",),
)
RULE_CHECKIN_DUE = Rule(
    "HOME-CHECKIN-DUE",
    Area.HOME,
    Level.SCHEDULE,
    HOME,
    "After a home dose the patient checks in (side effects, how dissociated, blood pressure after): the "
    "check-in opens a set number of hours after the dose (2 by default, the in-clinic monitoring time) and "
    "is missing after a second number of hours (24 by default).",
    ("S6", "S3a", "S13"),
    ("home_checkin_after_hours", "home_checkin_due_hours"),
)
RULE_DOSE_INTERVAL = Rule(
    "HOME-DOSE-INTERVAL",
    Area.HOME,
    Level.LIMIT,
    HOME,
    "A home dose is taken no sooner than the prescribed number of days after the previous one (the "
    "prescriber's choice; the sublingual series dosed every 2-3 days or weekly).",
    ("K5", "K4"),
)
RULE_HOLD = Rule(
    "HOME-HOLD",
    Area.HOME,
    Level.DEFER,
    HOME,
    "The next home dose is held, until a prescriber releases it with a reason, when the last dose's "
    "check-in is missing past its due time, or failed: blood pressure after above the home maximum, side "
    "effects rated at or above the clinic's level (severe by default), dissociation rated at or above the "
    "clinic's level (severe by default), or a dose taken other than the one prescribed; and when the "
    "blood pressure before a dose was above the home maximum.",
    ("S13", "K15", "S5", "K1"),
    ("home_bp_max", "home_checkin_due_hours", "home_fail_side_effect_level", "home_fail_dissociation_level"),
)
RULES: tuple[Rule, ...] = (
    RULE_NO_ESKETAMINE,
    RULE_PRE_DOSE_BP,
    RULE_CHECKIN_DUE,
    RULE_DOSE_INTERVAL,
    RULE_HOLD,
)


class Severity(IntEnum):
    """How the patient rates their side effects, or how dissociated they felt, in a check-in."""

    NONE = 0
    MILD = 1
    MODERATE = 2
    SEVERE = 3


SEVERITY_CODES: dict[str, Severity] = {s.name.lower(): s for s in Severity}


class Drug(StrEnum):
    KETAMINE = "ketamine"
    ESKETAMINE = "esketamine"


def refuse_esketamine(drug: str) -> str | None:
    """Why a home program may not use this drug [HOME-NO-ESKETAMINE]; None for racemic ketamine."""
    if drug.strip().lower() in {Drug.ESKETAMINE, "spravato"}:
        return "esketamine (Spravato) must never be dispensed for home use (REMS); prescribe racemic ketamine"
    if drug.strip().lower() != Drug.KETAMINE:
        return "a home program is racemic ketamine only"
    return None


@dataclass(frozen=True, slots=True)
class PreDose:
    may_dose: bool
    reason: str  # empty when the patient may dose


def pre_dose(systolic: int, diastolic: int, policy: ClinicPolicy) -> PreDose:
    """May the patient take today's dose at this blood pressure [HOME-PRE-DOSE-BP]?"""
    limit = policy.home_bp_max
    if limit.exceeded_by(systolic, diastolic):
        return PreDose(False, f"blood pressure before the dose {systolic}/{diastolic} was above {limit}")
    return PreDose(True, "")


@dataclass(frozen=True, slots=True)
class Window:
    opens_at: dt.datetime
    due_at: dt.datetime

    def state(self, now: dt.datetime) -> str:
        """`not_open`, `open` or `missing` at `now` (the check-in not yet sent)."""
        if now < self.opens_at:
            return "not_open"
        return "open" if now <= self.due_at else "missing"


def checkin_window(taken_at: dt.datetime, policy: ClinicPolicy) -> Window:
    """When the check-in after a dose taken at `taken_at` opens and when it is missing [HOME-CHECKIN-DUE]."""
    return Window(
        taken_at + dt.timedelta(hours=policy.home_checkin_after_hours),
        taken_at + dt.timedelta(hours=policy.home_checkin_due_hours),
    )


def next_dose_on(last_taken: dt.date | None, min_days_between: int) -> dt.date | None:
    """The first day the next dose may be taken [HOME-DOSE-INTERVAL]; None when there was no dose yet."""
    if last_taken is None:
        return None
    return last_taken + dt.timedelta(days=min_days_between)


@dataclass(frozen=True, slots=True)
class CheckIn:
    systolic_after: int
    diastolic_after: int
    side_effects: Severity
    dissociation: Severity


def checkin_failures(checkin: CheckIn, policy: ClinicPolicy) -> tuple[str, ...]:
    """The answers that make a check-in fail [HOME-HOLD]; empty when it passed."""
    reasons = []
    if policy.home_bp_max.exceeded_by(checkin.systolic_after, checkin.diastolic_after):
        reasons.append(
            f"blood pressure after the dose {checkin.systolic_after}/{checkin.diastolic_after} was above "
            f"{policy.home_bp_max}"
        )
    if checkin.side_effects >= policy.home_fail_side_effect_level:
        reasons.append(f"side effects rated {checkin.side_effects.name.lower()}")
    if checkin.dissociation >= policy.home_fail_dissociation_level:
        reasons.append(f"dissociation rated {checkin.dissociation.name.lower()}")
    return tuple(reasons)


@dataclass(frozen=True, slots=True)
class LastDose:
    """The patient's last home dose, or last attempt refused for blood pressure, as the hold rule reads it.

    `taken_at` is None when the dose was not taken (`pre_dose_refused` says why); `checkin` None while none
    was sent; `released` when a prescriber released a hold on this dose.
    """

    day: dt.date
    pre_dose_refused: str
    taken_at: dt.datetime | None
    prescribed_mg: Decimal
    taken_mg: Decimal | None
    checkin: CheckIn | None
    released: bool = False


@dataclass(frozen=True, slots=True)
class Hold:
    held: bool
    reasons: tuple[str, ...]
    checkin_missing: bool = False

    @property
    def text(self) -> str:
        return "; ".join(self.reasons)


NOT_HELD = Hold(False, ())


def hold(last: LastDose | None, now: dt.datetime, policy: ClinicPolicy) -> Hold:
    """Is the next home dose held, and why [HOME-HOLD]? Reasons are sentences a prescriber reads."""
    if last is None or last.released:
        return NOT_HELD
    day = last.day.isoformat()
    if last.pre_dose_refused:
        return Hold(True, (f"{day}: not dosed, {last.pre_dose_refused}",))
    if last.taken_at is None:
        return NOT_HELD
    reasons = []
    if last.taken_mg is not None and last.taken_mg != last.prescribed_mg:
        reasons.append(f"{day}: took {_mg(last.taken_mg)} mg, prescribed {_mg(last.prescribed_mg)} mg")
    missing = False
    if last.checkin is None:
        window = checkin_window(last.taken_at, policy)
        if window.state(now) == "missing":
            missing = True
            reasons.append(
                f"{day}: check-in missing (due within {policy.home_checkin_due_hours} hours of the dose)"
            )
    else:
        reasons += [f"{day}: check-in failed, {r}" for r in checkin_failures(last.checkin, policy)]
    return Hold(bool(reasons), tuple(reasons), missing)


def _mg(value: Decimal) -> str:
    return format(value.normalize(), "f")
