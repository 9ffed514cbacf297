"""KAP rules: preparation before the first dose and integration after each dose."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.clinical import kap
from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinical.protocol_files import DEFAULT_INTEGRATION_DUE_DAYS
from ketaclinic.clinical.protocols import PROTOCOLS, integration_due_within_days
from ketaclinic.clinical.rules import RULES_BY_ID

DOSE = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def test_rules_are_registered_with_sources_and_policy() -> None:
    for rule in kap.RULES:
        assert RULES_BY_ID[rule.id] is rule
        assert rule.sources == ("K12b",)
    assert kap.RULE_INTEGRATION_DUE.policy_fields == ("integration_due_within_days",)


def test_preparation_is_on_for_kap_plans_by_default_and_off_by_policy() -> None:
    assert kap.preparation_required(protocol_requires=False, kap_plan=True, policy=DEFAULT_POLICY)
    assert not kap.preparation_required(protocol_requires=False, kap_plan=False, policy=DEFAULT_POLICY)
    off = dataclasses.replace(DEFAULT_POLICY, kap_preparation_required=False)
    assert not kap.preparation_required(protocol_requires=False, kap_plan=True, policy=off)
    # A protocol file that requires preparation requires it for every plan of the protocol.
    assert kap.preparation_required(protocol_requires=True, kap_plan=False, policy=off)


def test_preparation_blocks_only_the_first_dose_until_prepared() -> None:
    [reason] = kap.preparation_blockers(required=True, first_dose=True, prepared=False)
    assert "preparation session" in reason and "KAP-PREPARATION-FIRST-DOSE" in reason
    assert kap.preparation_blockers(required=True, first_dose=True, prepared=True) == []
    assert kap.preparation_blockers(required=True, first_dose=False, prepared=False) == []
    assert kap.preparation_blockers(required=False, first_dose=True, prepared=False) == []


def test_integration_is_due_within_the_days_and_overdue_after() -> None:
    due = kap.integration_due(DOSE, integrated=False, due_within_days=7, now=DOSE + dt.timedelta(days=7))
    assert due == kap.IntegrationDue(DOSE + dt.timedelta(days=7), overdue=False)
    late = kap.integration_due(DOSE, integrated=False, due_within_days=7, now=DOSE + dt.timedelta(days=8))
    assert late is not None and late.overdue
    assert kap.integration_due(DOSE, integrated=True, due_within_days=7, now=DOSE) is None
    with pytest.raises(ValueError, match="at least 1"):
        kap.integration_due(DOSE, integrated=False, due_within_days=0, now=DOSE)


@given(days=st.integers(1, 60), after=st.integers(0, 24 * 90))
def test_overdue_exactly_when_past_the_due_time(days: int, after: int) -> None:
    now = DOSE + dt.timedelta(hours=after)
    due = kap.integration_due(DOSE, integrated=False, due_within_days=days, now=now)
    assert due is not None
    assert due.overdue == (after > days * 24)


def test_protocols_follow_the_clinic_policy_for_integration() -> None:
    assert DEFAULT_POLICY.integration_due_within_days == DEFAULT_INTEGRATION_DUE_DAYS
    ten = dataclasses.replace(DEFAULT_POLICY, integration_due_within_days=10)
    for protocol_id in PROTOCOLS:
        assert integration_due_within_days(protocol_id) == DEFAULT_INTEGRATION_DUE_DAYS
        assert integration_due_within_days(protocol_id, ten) == 10
