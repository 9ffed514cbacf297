"""Dose calculations: exact Decimal arithmetic, half-up rounding, and the limits that stop errors."""

import dataclasses
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.clinical.dosing import (
    DoseOutOfRange,
    EsketamineDose,
    esketamine,
    im_ketamine,
    iv_ketamine,
)
from ketaclinic.clinical.policy import DEFAULT_POLICY

D = Decimal


def test_standard_iv_dose_for_70_kg() -> None:
    dose = iv_ketamine(70, concentration_mg_per_ml=10)
    assert (dose.dose_mg, dose.volume_ml, dose.rate_ml_per_hour) == (D("35.0"), D("3.50"), D("5.3"))
    assert (dose.mg_per_kg, dose.infusion_minutes) == (D("0.5"), D(40))


def test_default_concentration_is_the_policy_value() -> None:
    dose = iv_ketamine(D("72.4"))
    assert dose.concentration_mg_per_ml == DEFAULT_POLICY.iv_concentration_mg_per_ml
    assert dose.dose_mg == D("36.2")
    assert dose.volume_ml == D("0.72")  # 36.2 / 50 = 0.724
    assert dose.rate_ml_per_hour == D("1.1")  # 0.72 x 60 / 40 = 1.08
    pharmacy = dataclasses.replace(DEFAULT_POLICY, iv_concentration_mg_per_ml=D(1))
    assert iv_ketamine(D("72.4"), policy=pharmacy).volume_ml == D("36.20")


def test_half_up_rounding_at_each_step() -> None:
    # 0.75 mg/kg x 60.1 kg = 45.075 -> 45.1 mg; /10 -> 4.51 mL; x60/45 = 6.0133 -> 6.0 mL/h
    dose = iv_ketamine(D("60.1"), D("0.75"), 45, 10)
    assert (dose.dose_mg, dose.volume_ml, dose.rate_ml_per_hour) == (D("45.1"), D("4.51"), D("6.0"))
    # 0.5 x 70.25 = 35.125 -> 35.1; half-up on the second decimal place: 35.15 -> 35.2
    assert iv_ketamine(D("70.3"), D("0.5"), 40, 10).dose_mg == D("35.2")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"weight_kg": D("19.9")}, "weight_kg"),
        ({"weight_kg": 401}, "weight_kg"),
        ({"mg_per_kg": D("0.09")}, "mg_per_kg"),
        ({"mg_per_kg": D("1.01")}, "mg_per_kg"),
        ({"infusion_minutes": 1}, "infusion_minutes"),
        ({"infusion_minutes": 101}, "infusion_minutes"),
        ({"concentration_mg_per_ml": 0}, "concentration"),
        ({"weight_kg": D("Infinity")}, "finite"),
    ],
)
def test_iv_limits(kwargs: dict[str, Any], fragment: str) -> None:
    args: dict[str, Any] = {"weight_kg": 70}
    args |= kwargs
    with pytest.raises(DoseOutOfRange, match=fragment):
        iv_ketamine(**args)


def test_iv_limits_are_inclusive() -> None:
    assert iv_ketamine(20, D("0.1"), 2).dose_mg == D("2.0")
    assert iv_ketamine(400, D("1.0"), 100).dose_mg == D("400.0")


def test_dose_out_of_range_is_a_value_error() -> None:
    assert issubclass(DoseOutOfRange, ValueError)


@pytest.mark.parametrize("bad", [70.0, True, "70", None])
def test_floats_and_other_types_are_refused(bad: Any) -> None:
    with pytest.raises(TypeError):
        iv_ketamine(bad)


def test_iv_mg_per_kg_range_is_policy() -> None:
    narrow = dataclasses.replace(DEFAULT_POLICY, iv_mg_per_kg_max=D("0.75"))
    with pytest.raises(DoseOutOfRange):
        iv_ketamine(70, D("0.8"), policy=narrow)
    assert iv_ketamine(70, D("0.8")).dose_mg == D("56.0")


def test_im_dose() -> None:
    dose = im_ketamine(80)
    assert (dose.dose_mg, dose.volume_ml) == (D("40.0"), D("0.80"))
    assert im_ketamine(D("63.3"), D("0.25"), 10).dose_mg == D("15.8")  # 15.825 -> 15.8
    with pytest.raises(DoseOutOfRange, match="mg_per_kg"):
        im_ketamine(80, D("0.75"))  # above the 0.5 mg/kg trial range by default
    wider = dataclasses.replace(DEFAULT_POLICY, im_mg_per_kg_max=D("1.0"))
    assert im_ketamine(80, D("0.75"), policy=wider).dose_mg == D("60.0")
    with pytest.raises(DoseOutOfRange, match="weight"):
        im_ketamine(10)


def step(value: Decimal) -> Decimal:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: not NaN or infinity
    return D(1).scaleb(exponent)


@settings(deadline=None)
@given(
    weight=st.decimals(min_value=20, max_value=400, places=2),
    per_kg=st.decimals(min_value=D("0.1"), max_value=D("1.0"), places=3),
    minutes=st.integers(2, 100),
    concentration=st.sampled_from([D(1), D(10), D(50), D(100), D("2.5")]),
)
def test_iv_rounding_invariants(
    weight: Decimal, per_kg: Decimal, minutes: int, concentration: Decimal
) -> None:
    dose = iv_ketamine(weight, per_kg, minutes, concentration)
    assert (step(dose.dose_mg), step(dose.volume_ml), step(dose.rate_ml_per_hour)) == (
        D("0.1"),
        D("0.01"),
        D("0.1"),
    )
    assert abs(dose.dose_mg - weight * per_kg) <= D("0.05")
    # Volume from the rounded dose, rate from the rounded volume.
    assert dose.volume_ml == (dose.dose_mg / concentration).quantize(D("0.01"), ROUND_HALF_UP)
    assert dose.rate_ml_per_hour == (dose.volume_ml * 60 / minutes).quantize(D("0.1"), ROUND_HALF_UP)
    assert abs(dose.volume_ml * concentration - dose.dose_mg) <= D("0.005") * concentration
    assert D(2) <= dose.dose_mg <= D(400)


@settings(deadline=None)
@given(st.decimals(min_value=20, max_value=400, places=1), st.decimals(min_value=20, max_value=400, places=1))
def test_heavier_patients_never_get_less(a: Decimal, b: Decimal) -> None:
    light, heavy = sorted((a, b))
    assert iv_ketamine(light).dose_mg <= iv_ketamine(heavy).dose_mg


# --- Esketamine --------------------------------------------------------------------------------------------


def test_esketamine_devices_and_timing() -> None:
    assert esketamine(56, first_dose=True) == EsketamineDose(2, (0, 5), 56)
    assert esketamine(84, first_dose=False) == EsketamineDose(3, (0, 5, 10), 84)
    assert esketamine(D("56.0"), first_dose=False).devices == 2


def test_84_mg_only_after_an_initial_56_mg_dose() -> None:
    with pytest.raises(DoseOutOfRange, match="84 mg may only follow an initial 56 mg"):
        esketamine(84, first_dose=True)


def test_mdsi_starts_at_84_mg() -> None:
    assert esketamine(84, first_dose=True, indication="mdsi").devices == 3


@pytest.mark.parametrize("amount", [0, 28, 42, 57, 112, D("56.5")])
def test_other_amounts_are_refused(amount: int | Decimal) -> None:
    with pytest.raises(DoseOutOfRange, match="not a permitted dose"):
        esketamine(amount, first_dose=False)


def test_28_mg_only_where_policy_allows() -> None:
    with pytest.raises(DoseOutOfRange, match="DOSE-ESK-28MG"):
        esketamine(28, first_dose=True)
    allowed = dataclasses.replace(DEFAULT_POLICY, esketamine_allow_28mg=True)
    assert esketamine(28, first_dose=True, policy=allowed) == EsketamineDose(1, (0,), 28)


def test_esketamine_input_errors() -> None:
    with pytest.raises(TypeError):
        a_float: Any = 56.0
        esketamine(a_float, first_dose=True)
    with pytest.raises(ValueError):
        esketamine(56, first_dose=True, indication="ptsd")
