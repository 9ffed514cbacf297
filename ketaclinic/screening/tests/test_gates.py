"""The gates treatment asks before approving a plan: approval_blockers, consent_blockers, consent_is_current,
rems_enrolment. Each reason is proven by the case that makes it appear and the step that clears it."""

from __future__ import annotations

import pytest

from ketaclinic.consent.queries import consent_blockers, consent_is_current
from ketaclinic.screening.queries import approval_blockers, rems_enrolment
from ketaclinic.screening.tests import helpers as h


@pytest.mark.django_db
def test_no_screening_blocks(world: object) -> None:
    p = h.patient()
    reasons = approval_blockers(p, "iv_ketamine")
    assert reasons == ["No screening for IV ketamine: run one from the chart."]


@pytest.mark.django_db
def test_a_clean_screening_clears_the_gate(world: object) -> None:
    p = h.patient()
    s = h.screen(p, "iv_ketamine")
    h.acknowledge_all(s)
    assert approval_blockers(p, "iv_ketamine") == []


@pytest.mark.django_db
def test_each_unacknowledged_finding_is_a_reason_until_acknowledged(world: object) -> None:
    p = h.patient(conditions=("major_depressive_disorder", "psychosis_history"))
    s = h.screen(p, "iv_ketamine")
    to_ack = [f for f in s.findings if f["level"] == "acknowledge"]
    assert to_ack
    reasons = approval_blockers(p, "iv_ketamine")
    for f in to_ack:
        assert any(f["rule_id"] in r and r.startswith("Not yet acknowledged") for r in reasons)
    h.acknowledge_all(s)
    assert approval_blockers(p, "iv_ketamine") == []


@pytest.mark.django_db
def test_contraindication_blocks_and_names_the_rule(world: object) -> None:
    p = h.patient(conditions=("major_depressive_disorder", "aneurysmal_vascular_disease"))
    h.enrol(p)
    s = h.screen(p, "esketamine_nasal")
    assert s.decision == "ineligible"
    h.acknowledge_all(s)
    reasons = approval_blockers(p, "esketamine_nasal")
    assert any("ELIG-ESK-CI-ANEURYSM" in r and r.startswith("Contraindicated") for r in reasons)


@pytest.mark.django_db
def test_a_chart_change_makes_the_screening_stale(world: object) -> None:
    p = h.patient()
    s = h.screen(p, "iv_ketamine")
    h.acknowledge_all(s)
    assert approval_blockers(p, "iv_ketamine") == []
    h.add_condition(p, "hypertension")
    assert any("out of date" in r for r in approval_blockers(p, "iv_ketamine"))
    s2 = h.screen(p, "iv_ketamine")
    h.acknowledge_all(s2)
    assert approval_blockers(p, "iv_ketamine") == []


@pytest.mark.django_db
def test_esketamine_needs_rems_enrolment(world: object) -> None:
    p = h.patient()
    s = h.screen(p, "esketamine_nasal")
    h.acknowledge_all(s)
    assert rems_enrolment(p) is None
    reasons = approval_blockers(p, "esketamine_nasal")
    assert reasons == [
        "No Spravato REMS patient enrolment recorded: enrol the patient before the first session."
    ]
    h.enrol(p)
    enrolment = rems_enrolment(p)
    assert enrolment is not None and enrolment.rems_patient_id == "SPR-0001"
    assert approval_blockers(p, "esketamine_nasal") == []


@pytest.mark.django_db
def test_unknown_modality_is_a_reason_not_a_pass(world: object) -> None:
    p = h.patient()
    assert approval_blockers(p, "ketamine_lozenge")
    assert consent_blockers(p, "ketamine_lozenge")
    assert not consent_is_current(p, "ketamine_lozenge")


@pytest.mark.django_db
def test_consent_to_the_current_version(world: object) -> None:
    p = h.patient()
    assert consent_blockers(p, "iv_ketamine") == [
        "This location has no consent document for IV ketamine: a clinic admin publishes one first."
    ]
    v1 = h.document("north", "iv_ketamine")
    assert consent_blockers(p, "iv_ketamine") == [
        "No signed consent for IV ketamine: the patient signs version 1 first."
    ]
    assert not consent_is_current(p, "iv_ketamine")
    h.sign(p, v1)
    assert consent_is_current(p, "iv_ketamine")
    assert consent_blockers(p, "iv_ketamine") == []
    # Consent is per modality: IV consent is not esketamine consent.
    h.document("north", "esketamine_nasal")
    assert not consent_is_current(p, "esketamine_nasal")
    # A new version needs a new signature.
    v2 = h.document("north", "iv_ketamine")
    assert consent_blockers(p, "iv_ketamine") == [
        "Consent for IV ketamine was signed to version 1; the current version is 2: "
        "the patient signs it again."
    ]
    h.sign(p, v2)
    assert consent_is_current(p, "iv_ketamine")


@pytest.mark.django_db
def test_another_locations_document_does_not_count(world: object) -> None:
    p = h.patient("north")
    h.document("south", "iv_ketamine")
    assert not consent_is_current(p, "iv_ketamine")
