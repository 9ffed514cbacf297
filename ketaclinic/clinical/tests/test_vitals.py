"""Pre-dose BP gate, in-session alerts and discharge readiness: what the nurse sees at the chair."""

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.clinical.common import Modality
from ketaclinic.clinical.policy import DEFAULT_POLICY, BloodPressure
from ketaclinic.clinical.vitals import (
    BPReading,
    DischargeCheck,
    GateLevel,
    SessionReading,
    discharge_readiness,
    predose_bp,
    session_alerts,
)

T0 = datetime(2026, 11, 23, 9, 0)
ESK = "esketamine_nasal"

# --- Pre-dose gate -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bp", "level", "rule_id"),
    [
        ((120, 80), "proceed", "BP-PREDOSE-ESK-PROCEED"),
        ((140, 90), "proceed", "BP-PREDOSE-ESK-PROCEED"),
        ((141, 90), "acknowledge", "BP-PREDOSE-ESK-ACK"),
        ((140, 91), "acknowledge", "BP-PREDOSE-ESK-ACK"),
        ((200, 120), "acknowledge", "BP-PREDOSE-ESK-ACK"),
    ],
)
def test_esketamine_predose_bp(bp: tuple[int, int], level: str, rule_id: str) -> None:
    gate = predose_bp(*bp, ESK)
    assert (gate.level, gate.rule_id) == (level, rule_id)
    assert gate.sources and f"{bp[0]}/{bp[1]} mmHg" in gate.message


@pytest.mark.parametrize("modality", ["iv_ketamine", "im_ketamine", "oral_ketamine", "home_ketamine"])
@pytest.mark.parametrize(
    ("bp", "level", "rule_id"),
    [
        ((140, 90), "proceed", "BP-PREDOSE-KET-PROCEED"),
        ((141, 85), "acknowledge", "BP-PREDOSE-KET-ACK"),
        ((180, 100), "acknowledge", "BP-PREDOSE-KET-ACK"),
        ((181, 100), "defer", "BP-PREDOSE-KET-DEFER"),
        ((175, 101), "defer", "BP-PREDOSE-KET-DEFER"),
    ],
)
def test_racemic_predose_bp(modality: str, bp: tuple[int, int], level: str, rule_id: str) -> None:
    gate = predose_bp(*bp, modality)
    assert (gate.level, gate.rule_id) == (level, rule_id)


def test_racemic_deferral_cites_the_swiss_smpc() -> None:
    assert predose_bp(190, 100, "iv_ketamine").sources == ("K16",)


def test_thresholds_are_clinic_policy() -> None:
    policy = dataclasses.replace(
        DEFAULT_POLICY,
        esketamine_bp_defer=BloodPressure(180, 110),
        ketamine_bp_acknowledge=BloodPressure(160, 100),
        ketamine_bp_defer=BloodPressure(200, 110),
    )
    assert predose_bp(181, 100, ESK, policy).level is GateLevel.DEFER
    assert predose_bp(181, 100, ESK).level is GateLevel.ACKNOWLEDGE
    assert predose_bp(150, 95, "iv_ketamine", policy).level is GateLevel.PROCEED
    assert predose_bp(190, 105, "iv_ketamine", policy).level is GateLevel.ACKNOWLEDGE


@pytest.mark.parametrize(
    ("bp", "error"), [((0, 80), ValueError), ((120.5, 80), ValueError), ((True, 80), ValueError)]
)
def test_predose_bp_rejects_invalid_readings(bp: tuple[Any, int], error: type[Exception]) -> None:
    with pytest.raises(error):
        predose_bp(*bp, ESK)


def test_predose_bp_rejects_unknown_modality() -> None:
    with pytest.raises(ValueError, match="unknown modality"):
        predose_bp(120, 80, "spravato")


LEVEL_RANK = [GateLevel.PROCEED, GateLevel.ACKNOWLEDGE, GateLevel.DEFER]


@settings(deadline=None)
@given(
    st.integers(60, 260),
    st.integers(30, 150),
    st.integers(0, 40),
    st.integers(0, 40),
    st.sampled_from(list(Modality)),
)
def test_gate_is_monotone_in_blood_pressure(
    systolic: int, diastolic: int, more_s: int, more_d: int, modality: Modality
) -> None:
    lower = predose_bp(systolic, diastolic, modality)
    higher = predose_bp(systolic + more_s, diastolic + more_d, modality)
    assert LEVEL_RANK.index(higher.level) >= LEVEL_RANK.index(lower.level)
    above_140_90 = systolic > 140 or diastolic > 90
    assert (lower.level is not GateLevel.PROCEED) == above_140_90


# --- In-session alerts -------------------------------------------------------------------------------------


def alert_ids(reading: SessionReading, **kw: Any) -> list[str]:
    return [a.rule_id for a in session_alerts(reading, **kw)]


def test_a_calm_session_raises_no_alerts() -> None:
    reading = SessionReading(
        systolic=135, diastolic=85, heart_rate=80, spo2_percent=97, moaas=5, cadss_total=2
    )
    assert session_alerts(reading, predose=BloodPressure(125, 80)) == ()


def test_alerts_in_order_of_urgency() -> None:
    reading = SessionReading(
        systolic=190, diastolic=105, heart_rate=120, spo2_percent=90, moaas=0, cadss_total=30
    )
    assert alert_ids(reading, predose=BloodPressure(130, 80)) == [
        "VITALS-SESSION-LOC",
        "VITALS-SESSION-SPO2-LOW",
        "VITALS-SESSION-BP-HIGH",
        "VITALS-SESSION-BP-RISE",
        "VITALS-SESSION-HR-HIGH",
        "VITALS-SESSION-SEDATION",
        "VITALS-SESSION-DISSOCIATION",
    ]


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (SessionReading(systolic=180, diastolic=100), []),
        (SessionReading(systolic=181, diastolic=100), ["VITALS-SESSION-BP-HIGH"]),
        (SessionReading(heart_rate=110), []),
        (SessionReading(heart_rate=111), ["VITALS-SESSION-HR-HIGH"]),
        (SessionReading(spo2_percent=93), []),
        (SessionReading(spo2_percent=92), ["VITALS-SESSION-SPO2-LOW"]),
        (SessionReading(moaas=4), []),
        (SessionReading(moaas=3), ["VITALS-SESSION-SEDATION"]),
        (SessionReading(cadss_total=4), []),
        (SessionReading(cadss_total=5), ["VITALS-SESSION-DISSOCIATION"]),
    ],
)
def test_alert_thresholds(reading: SessionReading, expected: list[str]) -> None:
    assert alert_ids(reading) == expected


@pytest.mark.parametrize(
    ("reading", "fires"),
    [
        (SessionReading(systolic=169, diastolic=104), False),  # +39 / +24
        (SessionReading(systolic=170, diastolic=90), True),  # +40
        (SessionReading(systolic=140, diastolic=105), True),  # +25
    ],
)
def test_bp_rise_over_predose(reading: SessionReading, fires: bool) -> None:
    assert ("VITALS-SESSION-BP-RISE" in alert_ids(reading, predose=BloodPressure(130, 80))) == fires
    assert "VITALS-SESSION-BP-RISE" not in alert_ids(reading)


def test_loss_of_consciousness_is_a_hard_alert_even_with_sedation_alerts_off() -> None:
    off = dataclasses.replace(DEFAULT_POLICY, moaas_sedation_alert_at_or_below=None, cadss_alert_above=None)
    alerts = session_alerts(SessionReading(moaas=0, cadss_total=90), policy=off)
    assert [a.rule_id for a in alerts] == ["VITALS-SESSION-LOC"]
    assert not alerts[0].clinic_policy
    assert session_alerts(SessionReading(moaas=2))[0].clinic_policy


@pytest.mark.parametrize(
    "kwargs", [{"systolic": 120}, {"heart_rate": -1}, {"moaas": True}, {"spo2_percent": 95.5}]
)
def test_session_reading_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SessionReading(**kwargs)


# --- Discharge ---------------------------------------------------------------------------------------------


def bp(minutes: int, systolic: int, diastolic: int) -> BPReading:
    return BPReading(T0 + timedelta(minutes=minutes), systolic, diastolic)


GOOD_BP = (bp(-5, 130, 80), bp(40, 150, 92), bp(115, 134, 84))


def check(
    modality: str = ESK,
    minutes: int = 125,
    readings: Sequence[BPReading] = GOOD_BP,
    moaas: int | None = 5,
    **kw: Any,
) -> DischargeCheck:
    flags = {"dissociation_resolved": True, "respiratory_depression_resolved": True, "escort_arranged": True}
    return discharge_readiness(
        modality,
        first_dose_at=T0,
        now=T0 + timedelta(minutes=minutes),
        bp_readings=readings,
        moaas=moaas,
        **(flags | kw),
    )


def test_esketamine_patient_ready_after_two_hours() -> None:
    result = check()
    assert result.ready and result.not_yet == () and result.minutes_observed == 125


def test_esketamine_needs_120_minutes_from_the_first_device() -> None:
    assert check(minutes=120).ready
    result = check(minutes=119)
    assert not result.ready
    assert [n.rule_id for n in result.not_yet] == ["DISCHARGE-ESK-MIN-120"]
    assert "119 of at least 120 minutes" in result.not_yet[0].reason


def test_rising_bp_blocks_discharge() -> None:
    rising = (bp(-5, 130, 80), bp(40, 150, 92), bp(115, 152, 90))
    result = check(readings=rising)
    assert [n.rule_id for n in result.not_yet] == ["DISCHARGE-BP-STABLE"]
    assert "rising: 152/90 after 150/92" in result.not_yet[0].reason
    tolerant = dataclasses.replace(DEFAULT_POLICY, discharge_bp_tolerance_mmhg=2)
    assert check(readings=rising, policy=tolerant).ready


def test_stable_bp_allows_discharge() -> None:
    assert check(readings=(bp(40, 150, 92), bp(110, 150, 92))).ready


def test_bp_trend_needs_a_post_dose_reading_and_one_before() -> None:
    assert [n.rule_id for n in check(readings=(bp(110, 130, 80),)).not_yet] == ["DISCHARGE-BP-STABLE"]
    assert [n.rule_id for n in check(readings=()).not_yet] == ["DISCHARGE-BP-STABLE"]
    only_before = (bp(-20, 130, 80), bp(-5, 128, 80))
    assert [n.rule_id for n in check(readings=only_before).not_yet] == ["DISCHARGE-BP-STABLE"]


def test_falling_but_still_high_bp_blocks_discharge() -> None:
    high = (bp(40, 200, 110), bp(110, 185, 100))
    assert [n.rule_id for n in check(readings=high).not_yet] == ["DISCHARGE-BP-SAFE-LEVEL"]


@pytest.mark.parametrize(
    ("kwargs", "rule_id", "reason"),
    [
        ({"moaas": 4}, "DISCHARGE-SEDATION-RESOLVED", "MOAA/S is 4"),
        ({"moaas": None}, "DISCHARGE-SEDATION-RESOLVED", "No MOAA/S recorded"),
        ({"dissociation_resolved": False}, "DISCHARGE-DISSOCIATION-RESOLVED", "Dissociation"),
        ({"respiratory_depression_resolved": False}, "DISCHARGE-RESPIRATORY-RESOLVED", "Respiratory"),
        ({"escort_arranged": False}, "DISCHARGE-ESCORT", "responsible adult"),
    ],
)
def test_each_unresolved_criterion_is_named(kwargs: dict[str, Any], rule_id: str, reason: str) -> None:
    result = check(**kwargs)
    assert not result.ready
    assert [n.rule_id for n in result.not_yet] == [rule_id]
    assert reason in result.not_yet[0].reason and result.not_yet[0].sources


def test_all_reasons_are_listed_together() -> None:
    result = check(minutes=60, moaas=3, escort_arranged=False, readings=())
    assert len(result.not_yet) == 4


def test_racemic_ketamine_has_no_fixed_minimum_unless_policy_sets_one() -> None:
    assert check("iv_ketamine", minutes=50).ready
    policy = dataclasses.replace(DEFAULT_POLICY, ketamine_min_observation_minutes=60)
    result = check("iv_ketamine", minutes=50, policy=policy)
    assert [n.rule_id for n in result.not_yet] == ["DISCHARGE-KET-MIN-OBSERVATION"]


def test_discharge_input_errors() -> None:
    with pytest.raises(ValueError, match="home"):
        check("home_ketamine")
    with pytest.raises(ValueError, match="before the first dose"):
        check(minutes=-1)


def test_the_scheduled_readings_of_esketamine_and_of_racemic_ketamine() -> None:
    from datetime import UTC, datetime, timedelta

    from ketaclinic.clinical.vitals import minimum_observation_minutes, scheduled_vital_points

    dosed = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert scheduled_vital_points("esketamine_nasal", dosed) == [
        ("pre_dose", "Before dosing", None),
        ("post_dose", "40 minutes after dosing", dosed + timedelta(minutes=40)),
        ("pre_discharge", "Before discharge", dosed + timedelta(minutes=120)),
    ]
    assert scheduled_vital_points("esketamine_nasal", None) == [("pre_dose", "Before dosing", None)]
    assert scheduled_vital_points("oral_ketamine", dosed) == [("pre_dose", "Before dosing", None)]
    assert minimum_observation_minutes("esketamine_nasal") == 120
    assert minimum_observation_minutes("iv_ketamine") == DEFAULT_POLICY.ketamine_min_observation_minutes


def test_iv_ketamine_readings_run_at_the_policy_intervals_during_and_after_the_infusion() -> None:
    from datetime import UTC, datetime, timedelta

    from ketaclinic.clinical.vitals import scheduled_vital_points

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    end = start + timedelta(minutes=40)
    points = scheduled_vital_points("iv_ketamine", start, infusion_ended_at=end)
    at = [(p, (due - start) // timedelta(minutes=1) if due else None) for p, _, due in points]
    assert at == [
        ("pre_dose", None),
        ("during_infusion", 10),
        ("during_infusion", 20),
        ("during_infusion", 30),
        ("post_dose", 55),
        ("post_dose", 70),
        ("post_dose", 85),
        ("post_dose", 100),
    ]
    assert points[1][1] == "10 minutes into the infusion"
    assert points[4][1] == "15 minutes after the infusion"
    policy = dataclasses.replace(
        DEFAULT_POLICY,
        ketamine_vitals_during_infusion_minutes=20,
        ketamine_vitals_after_dose_minutes=30,
        ketamine_vitals_after_dose_for_minutes=30,
        ketamine_min_observation_minutes=90,
    )
    points = scheduled_vital_points("iv_ketamine", start, infusion_ended_at=end, policy=policy)
    assert [(p, due) for p, _, due in points] == [
        ("pre_dose", None),
        ("during_infusion", start + timedelta(minutes=20)),
        ("post_dose", end + timedelta(minutes=30)),
        ("pre_discharge", start + timedelta(minutes=90)),
    ]


def test_a_running_infusion_schedules_readings_up_to_the_next_one_after_now() -> None:
    from datetime import UTC, datetime, timedelta

    from ketaclinic.clinical.vitals import scheduled_vital_points

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    first = scheduled_vital_points("iv_ketamine", start)
    assert [due for _, _, due in first] == [None, start + timedelta(minutes=10)]
    later = scheduled_vital_points("iv_ketamine", start, now=start + timedelta(minutes=25))
    assert [due for _, _, due in later][1:] == [start + timedelta(minutes=m) for m in (10, 20, 30)]


def test_im_ketamine_readings_follow_the_injection_and_stop_at_the_minimum_observation() -> None:
    from datetime import UTC, datetime, timedelta

    from ketaclinic.clinical.vitals import scheduled_vital_points

    given = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    points = scheduled_vital_points("im_ketamine", given)
    assert [(p, due) for p, _, due in points] == [("pre_dose", None)] + [
        ("post_dose", given + timedelta(minutes=m)) for m in (15, 30, 45, 60)
    ]
    assert points[1][1] == "15 minutes after the injection"
    policy = dataclasses.replace(DEFAULT_POLICY, ketamine_min_observation_minutes=40)
    points = scheduled_vital_points("im_ketamine", given, policy=policy)
    assert [(p, due) for p, _, due in points] == [
        ("pre_dose", None),
        ("post_dose", given + timedelta(minutes=15)),
        ("post_dose", given + timedelta(minutes=30)),
        ("pre_discharge", given + timedelta(minutes=40)),
    ]
    assert scheduled_vital_points("oral_ketamine", given) == [("pre_dose", "Before dosing", None)]


def test_each_reading_at_a_time_point_answers_the_earliest_open_one() -> None:
    from datetime import UTC, datetime

    from ketaclinic.clinical.vitals import outstanding_vital_points, scheduled_vital_points

    given = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    points = scheduled_vital_points("im_ketamine", given)
    left = outstanding_vital_points(points, ["pre_dose", "post_dose", "any_time"])
    assert [label for _, label, _ in left] == [
        "30 minutes after the injection",
        "45 minutes after the injection",
        "60 minutes after the injection",
    ]


def test_the_schedule_intervals_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ketamine_vitals_during_infusion_minutes"):
        dataclasses.replace(DEFAULT_POLICY, ketamine_vitals_during_infusion_minutes=0)
    with pytest.raises(ValueError, match="ketamine_vitals_after_dose_minutes"):
        dataclasses.replace(DEFAULT_POLICY, ketamine_vitals_after_dose_minutes=0)
