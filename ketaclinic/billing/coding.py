"""The arithmetic of billing: pure functions, no Django, no I/O, every threshold passed in.

Codes and their rules (which code, its thresholds, its unit size) are versioned data with effective dates
(`data/codes.toml`, loaded into `CodeRule` rows that a clinic admin may update); this module only applies the
numbers it is given. The rules it applies are those of the clinical reference, section 8 ([B1]-[B3]):

- BILL-INFUSION-INITIAL: 96365, one unit for the first hour of an infusion with at least `min_minutes`
  (16) documented between its start and stop times [B3];
- BILL-INFUSION-ADDITIONAL: 96366, one unit for each additional hour, counted when the infusion runs more
  than `beyond_minutes` (30) past the hour [B3];
- BILL-ESKETAMINE-MEDICARE: G2082 up to `max_dose_mg` (56) mg, G2083 above it, for Medicare [B1];
- BILL-ESKETAMINE-DRUG: J0013, one unit per `mg_per_unit` (1) mg of esketamine given [B2].

Money is Decimal with its currency; a balance is the invoice total less what was paid, written off and
credited, plus what was refunded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

CENT = Decimal("0.01")


def documented_minutes(started_at: dt.datetime, ended_at: dt.datetime | None) -> int | None:
    """Whole minutes between the documented start and stop of an infusion; None without a stop time."""
    if ended_at is None or ended_at < started_at:
        return None
    return int((ended_at - started_at).total_seconds() // 60)


def initial_infusion_units(minutes: int, *, min_minutes: int) -> int:
    """BILL-INFUSION-INITIAL: one unit when at least `min_minutes` are documented, else none."""
    return 1 if minutes >= min_minutes else 0


def additional_infusion_units(minutes: int, *, hour_minutes: int = 60, beyond_minutes: int) -> int:
    """BILL-INFUSION-ADDITIONAL: one unit per hour after the first, each counted only when the infusion runs
    more than `beyond_minutes` past the hour before it (91 minutes: one; 150: one; 151: two)."""
    past_first = minutes - hour_minutes - beyond_minutes
    if past_first <= 0:
        return 0
    return (past_first - 1) // hour_minutes + 1


def esketamine_medicare_code(dose_mg: Decimal, *, codes: Iterable[tuple[str, Decimal | None]]) -> str:
    """BILL-ESKETAMINE-MEDICARE: the first code (in order of its `max_dose_mg`, None last) whose upper bound
    the dose does not exceed."""
    ordered = sorted(codes, key=lambda c: (c[1] is None, c[1] or Decimal(0)))
    for code, max_dose_mg in ordered:
        if max_dose_mg is None or dose_mg <= max_dose_mg:
            return code
    raise ValueError(f"no esketamine code covers {dose_mg} mg")


def drug_units(amount_mg: Decimal, *, mg_per_unit: Decimal) -> int:
    """BILL-ESKETAMINE-DRUG: units of a drug code billed per `mg_per_unit` mg, rounded up (a part unit is
    billed as a unit)."""
    if mg_per_unit <= 0:
        raise ValueError("mg_per_unit must be above 0")
    whole, part = divmod(amount_mg, mg_per_unit)
    return int(whole) + (1 if part else 0)


def money(value: Decimal) -> Decimal:
    """An amount to the cent, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(unit_amount: Decimal, units: int) -> Decimal:
    return money(unit_amount * units)


class EntryKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    WRITE_OFF = "write_off"
    CREDIT_NOTE = "credit_note"


# How each kind of entry moves an invoice's balance.
SIGN = {
    EntryKind.PAYMENT: -1,
    EntryKind.REFUND: 1,
    EntryKind.WRITE_OFF: -1,
    EntryKind.CREDIT_NOTE: -1,
}


def balance(total: Decimal, entries: Iterable[tuple[str, Decimal]]) -> Decimal:
    """The invoice's balance: its total, less payments, write-offs and credit notes, plus refunds. Below
    zero is the patient's credit."""
    return total + sum((SIGN[EntryKind(kind)] * amount for kind, amount in entries), Decimal(0))


def refundable(entries: Iterable[tuple[str, Decimal]]) -> Decimal:
    """What may still be refunded: payments less refunds already made."""
    paid = Decimal(0)
    for kind, amount in entries:
        if kind == EntryKind.PAYMENT:
            paid += amount
        elif kind == EntryKind.REFUND:
            paid -= amount
    return paid


def creditable(total: Decimal, entries: Iterable[tuple[str, Decimal]]) -> Decimal:
    """What credit notes may still take off: the total less the credit notes already issued."""
    return total - sum((a for k, a in entries if k == EntryKind.CREDIT_NOTE), Decimal(0))


@dataclass(frozen=True)
class Benefit:
    """A benefits check for the modality: covered or not, copay per session, coinsurance percent, deductible
    left (each None when the check did not record it)."""

    covered: bool
    copay: Decimal | None
    coinsurance_percent: Decimal | None
    deductible_remaining: Decimal | None


@dataclass(frozen=True)
class Split:
    insurer: Decimal
    patient: Decimal


def split_sessions(charges: Iterable[Decimal], benefit: Benefit | None) -> list[Split]:
    """What the insurer is expected to pay and what the patient pays, per session, in order: the deductible
    left is the patient's first, then the copay, then the coinsurance of what remains. Not covered (or no
    check): the patient pays it all."""
    out: list[Split] = []
    deductible = (benefit.deductible_remaining or Decimal(0)) if benefit else Decimal(0)
    for charge in charges:
        if benefit is None or not benefit.covered:
            out.append(Split(Decimal(0), charge))
            continue
        patient = min(deductible, charge)
        deductible -= patient
        rest = charge - patient
        copay = min(benefit.copay or Decimal(0), rest)
        patient += copay
        rest -= copay
        coinsurance = money(rest * (benefit.coinsurance_percent or Decimal(0)) / 100)
        patient += coinsurance
        out.append(Split(money(charge - patient), money(patient)))
    return out
