"""The arithmetic of billing: units from documented infusion minutes, the esketamine code by dose, drug
units, the insurer's and patient's shares, and balances (payments, refunds, write-offs and credit notes
always sum to the balance). Unit tests for the edges the reference names, Hypothesis for the rest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.billing import codes, coding
from ketaclinic.billing.coding import Benefit, EntryKind

MIN_MINUTES, BEYOND = 16, 30  # the shipped rows of data/codes.toml (checked below)


def test_the_shipped_code_rules_hold_the_reference_thresholds() -> None:
    rows = {r["code"]: r for r in codes.read()}
    assert rows["96365"]["params"] == {"min_minutes": MIN_MINUTES}
    assert rows["96366"]["params"] == {"beyond_minutes": BEYOND}
    assert rows["G2082"]["params"] == {"max_dose_mg": "56"} and rows["G2083"]["params"] == {}
    assert rows["J0013"]["params"] == {"mg_per_unit": "1"}


@pytest.mark.parametrize(
    ("minutes", "initial", "additional"),
    [
        (0, 0, 0),
        (15, 0, 0),
        (16, 1, 0),
        (40, 1, 0),
        (60, 1, 0),
        (90, 1, 0),
        (91, 1, 1),
        (150, 1, 1),
        (151, 1, 2),
    ],
)
def test_infusion_units_at_the_edges(minutes: int, initial: int, additional: int) -> None:
    assert coding.initial_infusion_units(minutes, min_minutes=MIN_MINUTES) == initial
    assert coding.additional_infusion_units(minutes, beyond_minutes=BEYOND) == additional


@given(st.integers(min_value=0, max_value=24 * 60))
def test_additional_hours_are_counted_only_past_the_threshold(minutes: int) -> None:
    units = coding.additional_infusion_units(minutes, beyond_minutes=BEYOND)
    # Each counted hour k ran more than 30 minutes past hour k; the next did not.
    assert all(minutes > 60 * k + BEYOND for k in range(1, units + 1))
    assert not minutes > 60 * (units + 1) + BEYOND
    assert coding.additional_infusion_units(minutes + 1, beyond_minutes=BEYOND) >= units


@given(
    st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1)),
    st.integers(min_value=0, max_value=600),
    st.integers(min_value=0, max_value=59),
)
def test_documented_minutes_are_whole_minutes_between_the_times(
    start: dt.datetime, minutes: int, seconds: int
) -> None:
    started = start.replace(tzinfo=dt.UTC)
    ended = started + dt.timedelta(minutes=minutes, seconds=seconds)
    assert coding.documented_minutes(started, ended) == minutes
    assert coding.documented_minutes(started, None) is None


def test_esketamine_code_by_dose() -> None:
    bounds = [("G2083", None), ("G2082", Decimal(56))]
    assert coding.esketamine_medicare_code(Decimal(28), codes=bounds) == "G2082"
    assert coding.esketamine_medicare_code(Decimal(56), codes=bounds) == "G2082"
    assert coding.esketamine_medicare_code(Decimal(84), codes=bounds) == "G2083"


@given(st.decimals(min_value=Decimal("0.1"), max_value=Decimal(1000), places=1))
def test_drug_units_cover_the_dose(dose: Decimal) -> None:
    units = coding.drug_units(dose, mg_per_unit=Decimal(1))
    assert units - 1 < dose <= units


AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5000), places=2)
ENTRIES = st.lists(st.tuples(st.sampled_from(list(EntryKind)), AMOUNTS), max_size=30)


@given(AMOUNTS, ENTRIES)
def test_entries_always_sum_to_the_balance(total: Decimal, entries: list[tuple[EntryKind, Decimal]]) -> None:
    paid = sum((a for k, a in entries if k == EntryKind.PAYMENT), Decimal(0))
    refunded = sum((a for k, a in entries if k == EntryKind.REFUND), Decimal(0))
    written_off = sum((a for k, a in entries if k == EntryKind.WRITE_OFF), Decimal(0))
    credited = sum((a for k, a in entries if k == EntryKind.CREDIT_NOTE), Decimal(0))
    balance = coding.balance(total, entries)
    assert balance == total - paid + refunded - written_off - credited
    assert coding.refundable(entries) == paid - refunded
    assert coding.creditable(total, entries) == total - credited
    # The order the entries came in does not change the balance.
    assert coding.balance(total, list(reversed(entries))) == balance


@given(
    st.lists(AMOUNTS, min_size=1, max_size=20),
    st.booleans(),
    st.none() | st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=0),
    st.none() | st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2),
    st.none() | st.decimals(min_value=Decimal(0), max_value=Decimal(3000), places=2),
)
def test_each_session_splits_into_insurer_and_patient(
    charges: list[Decimal],
    covered: bool,
    coinsurance: Decimal | None,
    copay: Decimal | None,
    deductible: Decimal | None,
) -> None:
    splits = coding.split_sessions(charges, Benefit(covered, copay, coinsurance, deductible))
    for charge, split in zip(charges, splits, strict=True):
        assert split.insurer + split.patient == charge
        assert Decimal(0) <= split.insurer <= charge
        if not covered:
            assert split.insurer == 0
    assert coding.split_sessions(charges, None) == [coding.Split(Decimal(0), c) for c in charges]


def test_the_deductible_is_met_first_then_copay_and_coinsurance() -> None:
    benefit = Benefit(
        True, copay=Decimal(40), coinsurance_percent=Decimal(20), deductible_remaining=Decimal(300)
    )
    first, second = coding.split_sessions([Decimal(500), Decimal(500)], benefit)
    # 300 deductible, 40 copay, 20 % of the 160 left = 32: the patient pays 372 of the first.
    assert first == coding.Split(Decimal("128.00"), Decimal("372.00"))
    # 40 copay, 20 % of 460 = 92.
    assert second == coding.Split(Decimal("368.00"), Decimal("132.00"))
