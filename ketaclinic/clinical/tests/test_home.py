"""At-home ketamine rules: the reference cases of the pre-dose blood pressure, the check-in window, the dose
interval, esketamine's refusal and the hold."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from ketaclinic.clinical import home
from ketaclinic.clinical.home import CheckIn, LastDose, Severity
from ketaclinic.clinical.policy import DEFAULT_POLICY, BloodPressure, ClinicPolicy
from ketaclinic.clinical.rules import rule

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
OK = CheckIn(120, 80, Severity.MILD, Severity.MODERATE)


def _dose(**changes: object) -> LastDose:
    values: dict[str, object] = {
        "day": T0.date(),
        "pre_dose_refused": "",
        "taken_at": T0,
        "prescribed_mg": Decimal(100),
        "taken_mg": Decimal(100),
        "checkin": OK,
    }
    values.update(changes)
    return LastDose(**values)  # type: ignore[arg-type]


def test_rules_are_registered_with_sources_and_policy() -> None:
    for rule_id in ("HOME-PRE-DOSE-BP", "HOME-CHECKIN-DUE", "HOME-HOLD", "HOME-NO-ESKETAMINE"):
        assert rule(rule_id).sources
    assert "home_bp_max" in rule("HOME-HOLD").policy_fields


def test_home_policy_defaults_are_the_reference_values() -> None:
    assert DEFAULT_POLICY.home_bp_max == BloodPressure(140, 90)
    assert DEFAULT_POLICY.home_checkin_after_hours == 2
    assert DEFAULT_POLICY.home_checkin_due_hours == 24
    assert DEFAULT_POLICY.home_fail_side_effect_level == Severity.SEVERE
    assert DEFAULT_POLICY.home_fail_dissociation_level == Severity.SEVERE


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("home_fail_dissociation_level", 4),
        ("home_checkin_after_hours", 24),
        ("home_fail_side_effect_level", 0),
    ],
)
def test_home_policy_refuses_values_out_of_range(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(DEFAULT_POLICY, **{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("systolic", "diastolic", "may"),
    [(140, 90, True), (141, 80, False), (120, 91, False), (110, 70, True)],
)
def test_pre_dose_bp_above_140_90_means_no_dose_today(systolic: int, diastolic: int, may: bool) -> None:
    found = home.pre_dose(systolic, diastolic, DEFAULT_POLICY)
    assert found.may_dose is may
    assert bool(found.reason) is not may


def test_pre_dose_threshold_is_policy() -> None:
    policy = dataclasses.replace(DEFAULT_POLICY, home_bp_max=BloodPressure(180, 100))
    assert home.pre_dose(170, 95, policy).may_dose


def test_checkin_window_opens_after_two_hours_and_is_missing_after_24() -> None:
    window = home.checkin_window(T0, DEFAULT_POLICY)
    assert window.state(T0 + dt.timedelta(hours=1, minutes=59)) == "not_open"
    assert window.state(T0 + dt.timedelta(hours=2)) == "open"
    assert window.state(T0 + dt.timedelta(hours=24)) == "open"
    assert window.state(T0 + dt.timedelta(hours=24, seconds=1)) == "missing"


def test_next_dose_waits_the_prescribed_days() -> None:
    assert home.next_dose_on(None, 3) is None
    assert home.next_dose_on(dt.date(2026, 11, 2), 3) == dt.date(2026, 11, 5)


@pytest.mark.parametrize("drug", ["esketamine", "Spravato", "ESKETAMINE "])
def test_esketamine_is_refused_by_name(drug: str) -> None:
    reason = home.refuse_esketamine(drug)
    assert reason is not None
    assert "esketamine" in reason


def test_ketamine_is_allowed() -> None:
    assert home.refuse_esketamine("ketamine") is None


def test_a_passed_checkin_does_not_hold() -> None:
    assert home.hold(_dose(), T0 + dt.timedelta(days=3), DEFAULT_POLICY) == home.NOT_HELD


def test_no_dose_yet_does_not_hold() -> None:
    assert not home.hold(None, T0, DEFAULT_POLICY).held


def test_a_checkin_still_within_its_window_does_not_hold() -> None:
    assert not home.hold(_dose(checkin=None), T0 + dt.timedelta(hours=23), DEFAULT_POLICY).held


def test_a_missing_checkin_past_due_holds_and_says_so() -> None:
    found = home.hold(_dose(checkin=None), T0 + dt.timedelta(hours=25), DEFAULT_POLICY)
    assert found.held and found.checkin_missing
    assert found.reasons == ("2026-11-02: check-in missing (due within 24 hours of the dose)",)


@pytest.mark.parametrize(
    ("checkin", "words"),
    [
        (
            CheckIn(150, 80, Severity.NONE, Severity.NONE),
            "blood pressure after the dose 150/80 was above 140/90",
        ),
        (CheckIn(120, 80, Severity.SEVERE, Severity.NONE), "side effects rated severe"),
        (CheckIn(120, 80, Severity.NONE, Severity.SEVERE), "dissociation rated severe"),
    ],
)
def test_a_failed_checkin_holds_with_its_reason(checkin: CheckIn, words: str) -> None:
    found = home.hold(_dose(checkin=checkin), T0 + dt.timedelta(hours=3), DEFAULT_POLICY)
    assert found.held and not found.checkin_missing
    assert found.reasons == (f"2026-11-02: check-in failed, {words}",)


def test_severity_cut_offs_are_policy() -> None:
    strict: ClinicPolicy = dataclasses.replace(DEFAULT_POLICY, home_fail_dissociation_level=2)
    assert home.hold(_dose(), T0 + dt.timedelta(hours=3), strict).held  # OK has moderate dissociation


def test_a_different_amount_taken_holds() -> None:
    found = home.hold(_dose(taken_mg=Decimal(150)), T0 + dt.timedelta(hours=3), DEFAULT_POLICY)
    assert found.reasons == ("2026-11-02: took 150 mg, prescribed 100 mg",)


def test_a_pre_dose_bp_refusal_holds_until_released() -> None:
    refused = _dose(pre_dose_refused="blood pressure before the dose 150/95 was above 140/90", taken_at=None)
    assert home.hold(refused, T0, DEFAULT_POLICY).held
    assert not home.hold(dataclasses.replace(refused, released=True), T0, DEFAULT_POLICY).held


def test_a_released_hold_is_not_held() -> None:
    last = _dose(checkin=None, released=True)
    assert not home.hold(last, T0 + dt.timedelta(days=2), DEFAULT_POLICY).held
