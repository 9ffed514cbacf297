"""Protocols as data: the shipped files, their validation, and a protocol added by a file alone."""

import dataclasses
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from ketaclinic.clinical.common import Modality
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy
from ketaclinic.clinical.protocol_files import DATA_DIR, ProtocolFileError, load_protocol, load_protocols
from ketaclinic.clinical.protocols import (
    PROTOCOLS,
    RULES,
    Phase,
    ProtocolId,
    integration_due_within_days,
    monitoring,
    plan,
    plan_for,
    preparation_required,
    scheduled_readings,
)
from ketaclinic.clinical.rules import RULES_BY_ID
from ketaclinic.clinical.vitals import scheduled_vital_points

EXAMPLES = Path(__file__).parent / "fixtures" / "protocols_example"
MONDAY = date(2026, 11, 23)
TAPER = (DATA_DIR / "iv_induction_taper.toml").read_text(encoding="utf-8")


# --- The shipped protocols ---------------------------------------------------------------------------------


def test_every_shipped_protocol_is_a_file() -> None:
    assert list(PROTOCOLS)[:4] == [p.value for p in ProtocolId]  # the order of the plan form's choices
    assert sorted(path.stem for path in DATA_DIR.glob("*.toml")) == sorted(PROTOCOLS)
    for protocol_id, spec in PROTOCOLS.items():
        assert spec.file == f"{protocol_id}.toml"
        assert RULES_BY_ID[spec.rule.id] is spec.rule
        assert spec.rule in RULES
        assert not spec.jurisdiction_dependent


def test_the_shipped_rules_read_as_before() -> None:
    esketamine = PROTOCOLS[ProtocolId.ESKETAMINE_TRD].rule
    assert esketamine.description.startswith(
        "Esketamine for TRD: twice weekly in weeks 1-4 (induction), once"
    )
    assert "every 2 weeks or weekly from week 9" in esketamine.description
    assert esketamine.modalities == {Modality.ESKETAMINE_NASAL}
    assert PROTOCOLS[ProtocolId.IV_INDUCTION_TAPER].rule.sources == ("K3", "K9")
    assert PROTOCOLS[ProtocolId.IV_INDUCTION_TAPER].rule.policy_fields == ("iv_maintenance_interval_weeks",)


def test_preparation_and_integration_accessors() -> None:
    for protocol_id in PROTOCOLS:
        assert preparation_required(protocol_id) is False
        assert integration_due_within_days(protocol_id) == 7
    with pytest.raises(ValueError, match="unknown protocol"):
        preparation_required("ect")


@pytest.mark.parametrize("protocol_id", list(ProtocolId))
@pytest.mark.parametrize("infusion_minutes", [40, 25, 100])
@pytest.mark.parametrize("observation", [None, 30, 90, 240])
def test_declared_monitoring_is_what_the_session_charts(
    protocol_id: ProtocolId, infusion_minutes: int, observation: int | None
) -> None:
    """The time points in each file give the readings vitals.scheduled_vital_points asks for."""
    policy = dataclasses.replace(DEFAULT_POLICY, ketamine_min_observation_minutes=observation)
    spec = PROTOCOLS[protocol_id]
    dosed = datetime(2026, 11, 23, 9, 0)
    iv = spec.modality is Modality.IV_KETAMINE
    ended = dosed + timedelta(minutes=infusion_minutes) if iv else None
    expected = [
        (point, None if due is None else int((due - dosed).total_seconds() // 60))
        for point, _label, due in scheduled_vital_points(
            spec.modality, dosed, infusion_ended_at=ended, policy=policy
        )
    ]
    declared = scheduled_readings(spec, infusion_minutes=infusion_minutes if iv else None, policy=policy)
    assert declared == expected
    assert monitoring(protocol_id) == spec.monitoring


def test_monitoring_follows_the_policy() -> None:
    quick = dataclasses.replace(
        DEFAULT_POLICY, ketamine_vitals_during_infusion_minutes=5, ketamine_vitals_after_dose_minutes=30
    )
    readings = scheduled_readings(PROTOCOLS["iv_twice_weekly_3w"], infusion_minutes=20, policy=quick)
    assert readings == [
        ("pre_dose", None),
        ("during_infusion", 5),
        ("during_infusion", 10),
        ("during_infusion", 15),
        ("post_dose", 50),
        ("post_dose", 80),
    ]


# --- A new protocol is a file ------------------------------------------------------------------------------


def test_a_new_protocol_is_added_by_a_data_file_alone() -> None:
    found = load_protocols(EXAMPLES)
    example = found["psilocybin_assisted_example"]
    assert example.jurisdiction_dependent
    assert example.requires_preparation(DEFAULT_POLICY)
    assert example.integration_due_within_days(DEFAULT_POLICY) == 3
    assert example.rule.id == "PROTO-PSILOCYBIN-EXAMPLE"
    sessions = plan_for(example, MONDAY, maintenance_sessions=1)
    assert [(s.date, s.phase, s.week) for s in sessions] == [
        (MONDAY, Phase.INDUCTION, 1),
        (MONDAY + timedelta(days=14), Phase.INDUCTION, 3),
        (MONDAY + timedelta(days=98), Phase.MAINTENANCE, 15),
    ]
    # A clinic open only at weekends moves the second dose to its nearest open day.
    saturday = MONDAY + timedelta(days=5)
    weekend = plan_for(example, saturday, clinic_days={5, 6})
    assert [s.date for s in weekend] == [saturday, saturday + timedelta(days=14)]
    readings = scheduled_readings(example)
    assert readings[0] == ("pre_dose", None) and readings[-1] == ("pre_discharge", 420)
    # The example is a test fixture, never a shipped protocol.
    assert "psilocybin_assisted_example" not in PROTOCOLS
    with pytest.raises(ValueError, match="unknown protocol"):
        plan("psilocybin_assisted_example", MONDAY)


def test_preparation_and_integration_may_read_the_clinic_policy(tmp_path: Path) -> None:
    text = TAPER.replace(
        'modality = "iv_ketamine"',
        'modality = "iv_ketamine"\npreparation_required = { policy = "assessment_madrs" }\n'
        'integration_due_within_days = { policy = "non_response_review_after_days" }',
    )
    spec = load_protocol(_write(tmp_path, "iv_induction_taper", text))
    policy: ClinicPolicy = dataclasses.replace(
        DEFAULT_POLICY, assessment_madrs=True, non_response_review_after_days=5
    )
    assert spec.requires_preparation(policy) is True
    assert spec.requires_preparation(dataclasses.replace(policy, assessment_madrs=False)) is False
    assert spec.integration_due_within_days(policy) == 5
    assert spec.rule.policy_fields == (
        "iv_maintenance_interval_weeks",
        "assessment_madrs",
        "non_response_review_after_days",
    )


# --- Bad files fail naming the file and the field ----------------------------------------------------------


def _write(directory: Path, stem: str, text: str) -> Path:
    path = directory / f"{stem}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _replace(old: str, new: str) -> str:
    assert old in TAPER, old
    return TAPER.replace(old, new, 1)


BAD_FILES = [
    pytest.param(
        re.sub(r'text = """.*?"""', 'text = "  "', TAPER, count=1, flags=re.DOTALL),
        "rule.text",
        "must be non-empty text",
        id="rule-text",
    ),
    pytest.param(
        _replace('"iv_ketamine"', '"psilocybin"'), "modality", "unknown modality 'psilocybin'", id="modality"
    ),
    pytest.param(
        _replace('["K3", "K9"]', '["K3", "X99"]'), "rule.sources", "unknown source tags ['X99']", id="source"
    ),
    pytest.param(
        _replace("iv_maintenance_interval_weeks", "iv_maintenance_every"),
        "maintenance.interval_weeks",
        "'iv_maintenance_every' is not a clinic policy field",
        id="policy-field",
    ),
    pytest.param(
        _replace('{ policy = "iv_maintenance_interval_weeks" }', '{ policy = "esketamine_allow_28mg" }'),
        "maintenance.interval_weeks",
        "'esketamine_allow_28mg' is bool, not int",
        id="policy-field-type",
    ),
    pytest.param(
        _replace("weeks = [2, 2]", "weeks = [1, 2]"),
        "blocks.1.weeks",
        "overlaps the block before it, which runs to day 6",
        id="overlap",
    ),
    pytest.param(
        _replace("ideal = [0, 2, 4]\nmin_gap = 1", "ideal = [0, 4, 8]\nmin_gap = 4"),
        "blocks.0.min_gap",
        "3 sessions at least 4 days apart cannot fit in 7 days",
        id="gap-impossible",
    ),
    pytest.param(
        _replace("ideal = [0, 3]\nmin_gap = 2", "ideal = [0, 1]\nmin_gap = 2"),
        "blocks.1.ideal",
        "days 0 and 1 are closer than min_gap (2)",
        id="ideal-gap",
    ),
    pytest.param(
        _replace("sessions = 3", "sessions = 4"), "blocks.0.ideal", "lists 3 days for 4 sessions", id="count"
    ),
    pytest.param(
        _replace('phase = "induction"', 'phase = "loading"'), "blocks.0.phase", "must be one of", id="phase"
    ),
    pytest.param(
        _replace("weeks = [1, 1]", "days = [1, 6]"), "blocks.0", "must start on day 0", id="first-day"
    ),
    pytest.param(
        _replace("weeks = [3, 3]", "weeks = [3, 3]\ndays = [14, 20]"), "blocks.2.weeks", "either", id="both"
    ),
    pytest.param(
        _replace('id = "iv_induction_taper"', 'id = "taper"'), "id", "must match the file name", id="id"
    ),
    pytest.param(
        _replace("order = 2", "order = 2\ncolour = 3"), "colour", "is not a field", id="unknown-key"
    ),
    pytest.param(
        _replace('sources = ["K3", "K9"]', ""), "rule.sources", "is required", id="rule-sources-missing"
    ),
    pytest.param(
        _replace('id = "PROTO-IV-INDUCTION-TAPER"', 'id = "proto taper"'),
        "rule.id",
        "upper-case",
        id="rule-id",
    ),
    pytest.param(
        _replace(
            'point = "pre_discharge"\nat_minutes = { policy = "ketamine_min_observation_minutes" }',
            'point = "pre_discharge"\nat_minutes = 60',
        ),
        "monitoring.3.sources",
        "a fixed number needs the sources it rests on",
        id="monitoring-unsourced",
    ),
    pytest.param(
        _replace('point = "pre_dose"', 'point = "pre_dose"\nat_minutes = 5'),
        "monitoring.0.at_minutes",
        "a pre_dose reading does not take at_minutes",
        id="monitoring-pre-dose-minutes",
    ),
    pytest.param(
        _replace('for_minutes = { policy = "ketamine_vitals_after_dose_for_minutes" }\n', ""),
        "monitoring.2.for_minutes",
        "needs for_minutes",
        id="monitoring-for",
    ),
    pytest.param(
        _replace('point = "pre_dose"', 'point = "hourly"'), "monitoring.0.point", "must be one of", id="point"
    ),
    pytest.param(_replace("[maintenance]", "[maintenance"), "(file)", "not valid TOML", id="toml"),
]


@pytest.mark.parametrize(("text", "field", "problem"), BAD_FILES)
def test_a_bad_file_fails_naming_the_file_and_field(
    tmp_path: Path, text: str, field: str, problem: str
) -> None:
    path = _write(tmp_path, "iv_induction_taper", text)
    with pytest.raises(ProtocolFileError) as refused:
        load_protocols(tmp_path)
    assert refused.value.file == "iv_induction_taper.toml"
    assert refused.value.field == field
    assert str(refused.value).startswith(f"iv_induction_taper.toml: {field}: ")
    assert re.search(re.escape(problem), refused.value.problem), refused.value.problem
    assert path.exists()


def test_the_unchanged_file_loads(tmp_path: Path) -> None:
    spec = load_protocol(_write(tmp_path, "iv_induction_taper", TAPER))
    assert spec == PROTOCOLS["iv_induction_taper"]


def test_two_files_cannot_share_a_rule_id(tmp_path: Path) -> None:
    _write(tmp_path, "iv_induction_taper", TAPER)
    _write(tmp_path, "iv_taper_copy", TAPER.replace('id = "iv_induction_taper"', 'id = "iv_taper_copy"'))
    with pytest.raises(
        ProtocolFileError, match=r"iv_taper_copy.toml: rule.id: PROTO-IV-INDUCTION-TAPER is already"
    ):
        load_protocols(tmp_path)
