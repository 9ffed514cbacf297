"""Clinic policy: documented defaults, validation, and the table staff see."""

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from ketaclinic.clinical.policy import (
    DEFAULT_POLICY,
    BloodPressure,
    ClinicPolicy,
    CssrsBand,
    PolicyBasis,
    format_value,
    policy_fields,
)


def _with(**changes: Any) -> ClinicPolicy:
    return dataclasses.replace(DEFAULT_POLICY, **changes)


def test_defaults_follow_the_reference_and_the_issue() -> None:
    p = DEFAULT_POLICY
    assert p.madrs_remission_max == 10
    assert p.trd_min_trial_weeks == 6
    assert (p.esketamine_bp_acknowledge, p.ketamine_bp_acknowledge) == (BloodPressure(140, 90),) * 2
    assert p.ketamine_bp_defer == BloodPressure(180, 100)
    assert p.esketamine_bp_defer is None
    assert (p.iv_mg_per_kg_min, p.iv_mg_per_kg_max) == (Decimal("0.1"), Decimal("1.0"))
    assert (p.dose_weight_min_kg, p.dose_weight_max_kg) == (Decimal(20), Decimal(400))
    assert p.esketamine_allow_28mg is False
    assert p.home_cautions_require_acknowledgement is True


def test_every_field_is_documented_with_basis_and_sources() -> None:
    rows = policy_fields()
    assert [r.name for r in rows] == [f.name for f in dataclasses.fields(ClinicPolicy)]
    for row in rows:
        assert row.description.strip(), row.name
        assert isinstance(row.basis, PolicyBasis)
        # Every number that rests on the literature names its sources; only data-entry bounds, the
        # self-report link's and the home check-in's operational settings (hours, attempts) and the
        # calendar's lengths of visits no source measures (IM, consultation, preparation, integration)
        # have none.
        operational = (
            "dose_weight_",
            "self_report_",
            "home_checkin_due_hours",
            "im_visit_",
            "consultation_visit_",
            "preparation_visit_",
            "integration_visit_",
            # The calendar's notice, hold, reminder and flag times: the clinic's operations, not medicine.
            "late_cancel_hours",
            "waitlist_hold_minutes",
            "visit_reminder_hours",
            "unconfirmed_flag_hours",
        )
        assert row.sources or row.name.startswith(operational), row.name
        assert row.is_default


def test_unverified_and_sources_differ_are_flagged() -> None:
    by_name = {r.name: r for r in policy_fields()}
    assert by_name["madrs_remission_max"].sources_differ and not by_name["madrs_remission_max"].unverified
    assert by_name["cadss_alert_above"].unverified
    assert by_name["madrs_relapse_min"].unverified
    assert by_name["ketamine_bp_defer"].sources_differ
    assert not by_name["qids_sr16_relapse_min"].unverified


def test_policy_table_reports_values_in_force() -> None:
    rows = {r.name: r for r in policy_fields(_with(madrs_remission_max=12))}
    assert rows["madrs_remission_max"].value == 12
    assert rows["madrs_remission_max"].default == 10
    assert not rows["madrs_remission_max"].is_default


def test_format_value() -> None:
    assert format_value(None) == "not set"
    assert format_value(True) == "yes"
    assert format_value(False) == "no"
    assert format_value(frozenset()) == "none"
    assert format_value(frozenset({"b", "a"})) == "a, b"
    assert format_value(BloodPressure(140, 90)) == "140/90"
    assert format_value(Decimal("0.5")) == "0.5"


def test_blood_pressure_is_exceeded_when_either_part_is_above() -> None:
    limit = BloodPressure(140, 90)
    assert not limit.exceeded_by(140, 90)
    assert limit.exceeded_by(141, 80)
    assert limit.exceeded_by(120, 91)
    bad_values: tuple[Any, ...] = (0, -1, True, 140.0)
    for bad in bad_values:
        with pytest.raises(ValueError):
            BloodPressure(bad, 90)


@pytest.mark.parametrize(
    "changes",
    [
        {"madrs_remission_max": -1},
        {"madrs_remission_max": True},
        {"phq9_relapse_min": 0},
        {"madrs_relapse_consecutive": 0},
        {"trd_min_trial_weeks": 0},
        {"iv_mg_per_kg_min": Decimal("1.5")},
        {"iv_mg_per_kg_min": Decimal(0)},
        {"im_mg_per_kg_min": Decimal("0.6")},
        {"dose_weight_min_kg": Decimal(500)},
        {"iv_concentration_mg_per_ml": Decimal(0)},
        {"iv_concentration_mg_per_ml": 50.0},
        {"iv_mg_per_kg_max": Decimal("NaN")},
        {"madrs_relapse_gap_min_days": 20},
        {"esketamine_maintenance_interval_weeks": 3},
        {"cssrs_ideation_band": CssrsBand.NONE},
        {"cssrs_method_band": "moderate"},
        {"home_ineligible_conditions": frozenset({"not_a_condition"})},
        {"home_ineligible_conditions": {"psychosis_history"}},
        {"ketamine_bp_defer": (180, 100)},
        {"esketamine_bp_defer": (150, 95)},
        {"esketamine_allow_28mg": 1},
    ],
)
def test_invalid_policies_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _with(**changes)


def test_valid_custom_policy() -> None:
    custom = _with(
        madrs_remission_max=12,
        phq9_relapse_min=10,
        cadss_alert_above=None,
        esketamine_bp_defer=BloodPressure(180, 110),
        home_ineligible_conditions=frozenset({"psychosis_history"}),
    )
    assert custom.phq9_relapse_min == 10
    assert custom.home_ineligible_conditions == {"psychosis_history"}


def test_a_policy_survives_its_json_form() -> None:
    import json

    from ketaclinic.clinical.policy import BloodPressure, policy_from_json, policy_to_json

    changed = dataclasses.replace(
        DEFAULT_POLICY,
        madrs_remission_max=12,
        esketamine_bp_defer=None,
        session_bp_alert=BloodPressure(170, 100),
        iv_mg_per_kg_max=Decimal("0.75"),
        home_ineligible_conditions=frozenset({"psychosis_history"}),
    )
    as_json = json.loads(json.dumps(policy_to_json(changed)))
    assert policy_from_json(as_json) == changed
    assert policy_from_json({}) == DEFAULT_POLICY


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"no_such_value": 1}, "no_such_value"),
        ({"madrs_remission_max": -1}, "madrs_remission_max"),
        ({"iv_mg_per_kg_max": "lots"}, "iv_mg_per_kg_max"),
        ({"session_bp_alert": {"systolic": 170}}, "session_bp_alert"),
        ({"cssrs_ideation_band": "extreme"}, "cssrs_ideation_band"),
    ],
)
def test_a_bad_json_value_is_refused_naming_its_field(values: dict[str, object], field: str) -> None:
    from ketaclinic.clinical.policy import policy_from_json

    with pytest.raises(ValueError, match=field):
        policy_from_json(values)
