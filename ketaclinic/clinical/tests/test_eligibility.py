"""Eligibility screening: what a prescriber sees before the first session."""

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.clinical import eligibility
from ketaclinic.clinical.common import ALL_MODALITIES, ESKETAMINE, RACEMIC, Level, Modality
from ketaclinic.clinical.eligibility import (
    SCREENING_LEVELS,
    SCREENS,
    Decision,
    Finding,
    PatientFacts,
    Screening,
    _Screen,
    rules_triggered_by,
    screen,
)
from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinical.rules import RULES_BY_ID
from ketaclinic.clinical.trd import Trial, TrialOutcome
from ketaclinic.clinical.vocab import CONDITIONS, MedicationClass

TRD_HISTORY = (
    Trial("sertraline", True, 8, TrialOutcome.NONE),
    Trial("venlafaxine", True, 10, TrialOutcome.PARTIAL),
)
ESK = Modality.ESKETAMINE_NASAL
IN_CLINIC_RACEMIC = [Modality.IV_KETAMINE, Modality.IM_KETAMINE, Modality.ORAL_KETAMINE]


def patient(**kw: Any) -> PatientFacts:
    fields: dict[str, Any] = {"age": 40, "sex": "female", "trials": TRD_HISTORY}
    fields |= kw
    return PatientFacts(**fields)


def ids(result: Screening) -> set[str]:
    return {f.rule_id for f in result.findings}


def finding(result: Screening, rule_id: str) -> Finding:
    return next(f for f in result.findings if f.rule_id == rule_id)


# --- A patient with TRD and nothing else -------------------------------------------------------------------


@pytest.mark.parametrize("modality", list(Modality))
def test_uncomplicated_trd_patient_is_eligible_everywhere(modality: Modality) -> None:
    result = screen(patient(resting_systolic_mmhg=128, resting_diastolic_mmhg=82), modality)
    assert result.decision is Decision.ELIGIBLE
    assert result.trd.is_trd
    assert all(f.level is Level.INFO for f in result.findings)


def test_esketamine_screening_reminds_of_the_rems() -> None:
    result = screen(patient(), ESK)
    assert ids(result) == {"ELIG-ESK-REMS"}
    assert "enrol the patient before the first treatment" in result.findings[0].message


# --- Every trigger fires its rule in scope and only there --------------------------------------------------

TRIGGERS = [
    (s, code) for s in SCREENS for code in sorted(s.conditions) + ([s.medication] if s.medication else [])
]


@pytest.mark.parametrize(("s", "code"), TRIGGERS, ids=lambda v: getattr(getattr(v, "rule", None), "id", v))
@pytest.mark.parametrize("modality", list(Modality))
def test_each_condition_and_medication_fires_its_rule_only_in_scope(
    s: _Screen, code: str, modality: Modality
) -> None:
    facts = patient(medication_classes={code}) if code in set(MedicationClass) else patient(conditions={code})
    result = screen(facts, modality)
    if not s.rule.applies_to(modality):
        assert s.rule.id not in ids(result)
        return
    found = finding(result, s.rule.id)
    expected = s.rule.level
    if modality is Modality.HOME_KETAMINE and expected is Level.CAUTION:
        expected = Level.ACKNOWLEDGE
    assert found.level is expected
    assert found.sources == s.rule.sources
    assert found.message.startswith(s.rule.description)


# --- Label contraindications -------------------------------------------------------------------------------

ESK_CONTRAINDICATIONS = {
    "aneurysmal_vascular_disease": "ELIG-ESK-CI-ANEURYSM",
    "arteriovenous_malformation": "ELIG-ESK-CI-AVM",
    "intracerebral_hemorrhage_history": "ELIG-ESK-CI-ICH",
    "ketamine_hypersensitivity": "ELIG-ESK-CI-HYPERSENSITIVITY",
}
RACEMIC_CONTRAINDICATIONS = {
    "aneurysmal_vascular_disease": "ELIG-KET-CI-ANEURYSM",
    "arteriovenous_malformation": "ELIG-KET-CI-AVM",
    "intracerebral_hemorrhage_history": "ELIG-KET-CI-CEREBROVASCULAR",
    "cerebrovascular_accident_or_cerebral_trauma": "ELIG-KET-CI-CEREBROVASCULAR",
    "ketamine_hypersensitivity": "ELIG-KET-CI-HYPERSENSITIVITY",
    "severe_cardiac_disease": "ELIG-KET-CI-SEVERE-CARDIAC",
    "pre_eclampsia": "ELIG-KET-CI-PRE-ECLAMPSIA",
    "hyperthyroidism_untreated": "ELIG-KET-CI-HYPERTHYROIDISM",
}


@pytest.mark.parametrize(("condition", "rule_id"), ESK_CONTRAINDICATIONS.items())
def test_esketamine_label_contraindications_make_the_patient_ineligible(condition: str, rule_id: str) -> None:
    result = screen(patient(conditions={condition}), ESK)
    assert result.decision is Decision.INELIGIBLE
    assert result.findings[0].rule_id == rule_id
    assert result.findings[0].level is Level.CONTRAINDICATED
    assert "S7" in result.findings[0].sources


@pytest.mark.parametrize(("condition", "rule_id"), RACEMIC_CONTRAINDICATIONS.items())
@pytest.mark.parametrize("modality", sorted(RACEMIC))
def test_racemic_ketamine_contraindications_make_the_patient_ineligible(
    condition: str, rule_id: str, modality: Modality
) -> None:
    result = screen(patient(conditions={condition}), modality)
    assert result.decision is Decision.INELIGIBLE
    assert finding(result, rule_id).level is Level.CONTRAINDICATED


def test_esketamine_does_not_treat_racemic_only_contraindications_as_label_ones() -> None:
    # Severe cardiac disease: "assess carefully" for esketamine, contraindicated in the UK ketamine SmPC.
    cardiac = patient(conditions={"severe_cardiac_disease"})
    assert screen(cardiac, ESK).decision is Decision.NEEDS_REVIEW
    assert screen(cardiac, "iv_ketamine").decision is Decision.INELIGIBLE
    thyroid = patient(conditions={"hyperthyroidism_untreated"})
    assert screen(thyroid, ESK).decision is Decision.ELIGIBLE
    assert finding(screen(thyroid, ESK), "ELIG-ESK-HYPERTHYROIDISM").level is Level.CAUTION


# --- Warnings every modality must acknowledge (reference 7) ------------------------------------------------

ACKNOWLEDGE_EVERYWHERE = [
    ({"pregnant": True}, "ELIG-ALL-ACK-PREGNANCY"),
    ({"conditions": {"psychosis_history"}}, "ELIG-ALL-ACK-PSYCHOSIS"),
    ({"conditions": {"substance_use_disorder"}}, "ELIG-ALL-ACK-SUBSTANCE-USE"),
    ({"conditions": {"uncontrolled_hypertension"}}, "ELIG-ALL-ACK-UNCONTROLLED-BP"),
    ({"conditions": {"hepatic_impairment_severe"}}, "ELIG-ALL-ACK-HEPATIC-SEVERE"),
    ({"conditions": {"hypertensive_encephalopathy_history"}}, "ELIG-ALL-ACK-HYPERTENSIVE-ENCEPHALOPATHY"),
]


@pytest.mark.parametrize(("facts", "rule_id"), ACKNOWLEDGE_EVERYWHERE)
@pytest.mark.parametrize("modality", list(Modality))
def test_section_7_warnings_need_acknowledgement_in_every_modality(
    facts: dict[str, Any], rule_id: str, modality: Modality
) -> None:
    result = screen(patient(**facts), modality)
    assert result.decision is Decision.NEEDS_REVIEW
    assert finding(result, rule_id).level is Level.ACKNOWLEDGE


def test_pregnancy_message_gives_the_registry() -> None:
    assert "1-844-405-6185" in finding(screen(patient(pregnant=True), ESK), "ELIG-ALL-ACK-PREGNANCY").message


# --- Drug interactions -------------------------------------------------------------------------------------

CAUTION_EVERYWHERE = ["benzodiazepine", "nonbenzodiazepine_hypnotic", "opioid", "psychostimulant", "maoi"]


@pytest.mark.parametrize("cls", CAUTION_EVERYWHERE)
@pytest.mark.parametrize("modality", [ESK, *IN_CLINIC_RACEMIC])
def test_rems_form_interactions_are_cautions(cls: str, modality: Modality) -> None:
    result = screen(patient(medication_classes={cls}), modality)
    cautions = [f for f in result.findings if f.level is Level.CAUTION]
    assert len(cautions) == 1 and cautions[0].rule_id.startswith("ELIG-ALL-DDI-")
    assert result.decision is Decision.ELIGIBLE


def test_racemic_only_interactions() -> None:
    iv = "iv_ketamine"
    assert finding(screen(patient(medication_classes={"levothyroxine"}), iv), "ELIG-KET-DDI-LEVOTHYROXINE")
    assert finding(screen(patient(medication_classes={"naltrexone"}), iv), "ELIG-KET-DDI-NALTREXONE")
    assert (
        finding(screen(patient(medication_classes={"lamotrigine"}), iv), "ELIG-KET-DDI-LAMOTRIGINE").level
        == "info"
    )
    assert screen(
        patient(medication_classes={"levothyroxine", "naltrexone", "lamotrigine"}), ESK
    ).rule_ids == {"ELIG-ESK-REMS"}


def test_xanthines_need_acknowledgement_with_racemic_ketamine() -> None:
    # Contraindicated with IV esketamine (Norway) and lowers the seizure threshold: more than a caution.
    result = screen(patient(medication_classes={"xanthine"}), "iv_ketamine")
    assert finding(result, "ELIG-KET-DDI-XANTHINE").level is Level.ACKNOWLEDGE
    assert result.decision is Decision.NEEDS_REVIEW
    assert (
        finding(screen(patient(medication_classes={"xanthine"}), ESK), "ELIG-ESK-DDI-XANTHINE").level
        == "caution"
    )


def test_antidepressants_are_compatible() -> None:
    for modality in (ESK, "iv_ketamine"):
        result = screen(patient(medication_classes={"antidepressant"}), modality)
        assert result.decision is Decision.ELIGIBLE


# --- TRD ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("modality", "rule_id"), [(ESK, "ELIG-ESK-TRD-NOT-MET"), ("iv_ketamine", "ELIG-KET-TRD-NOT-MET")]
)
def test_not_meeting_trd_needs_review(modality: str, rule_id: str) -> None:
    result = screen(patient(trials=(TRD_HISTORY[0],)), modality)
    assert result.decision is Decision.NEEDS_REVIEW
    assert finding(result, rule_id).level is Level.ACKNOWLEDGE
    assert not result.trd.is_trd and result.trd.adequate_failures == 1


def test_screening_carries_the_staging() -> None:
    facts = patient(episode_months=30, severity="severe_without_psychosis", ect_failed=True)
    result = screen(facts, "iv_ketamine")
    assert result.trd.maudsley_score == 3 + 4 + 1 + 0 + 1
    assert result.trd.mgh_score == 5


def test_trd_minimum_weeks_is_policy() -> None:
    short = (
        Trial("sertraline", True, 4, TrialOutcome.NONE),
        Trial("venlafaxine", True, 5, TrialOutcome.NONE),
    )
    assert screen(patient(trials=short), ESK).decision is Decision.NEEDS_REVIEW
    four_weeks = dataclasses.replace(DEFAULT_POLICY, trd_min_trial_weeks=4)
    assert screen(patient(trials=short), ESK, four_weeks).decision is Decision.ELIGIBLE


# --- Measured values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bp", "rules"),
    [
        ((140, 90), set()),
        ((141, 90), {"ELIG-ESK-BP-ACKNOWLEDGE"}),
        ((130, 91), {"ELIG-ESK-BP-ACKNOWLEDGE"}),
        ((200, 120), {"ELIG-ESK-BP-ACKNOWLEDGE"}),
    ],
)
def test_esketamine_resting_bp(bp: tuple[int, int], rules: set[str]) -> None:
    result = screen(patient(resting_systolic_mmhg=bp[0], resting_diastolic_mmhg=bp[1]), ESK)
    assert ids(result) - {"ELIG-ESK-REMS"} == rules
    if rules:
        assert f"Resting BP {bp[0]}/{bp[1]} mmHg is above 140/90." in result.findings[0].message


@pytest.mark.parametrize(
    ("bp", "rules", "decision"),
    [
        ((140, 90), set(), Decision.ELIGIBLE),
        ((150, 95), {"ELIG-KET-BP-ACKNOWLEDGE"}, Decision.NEEDS_REVIEW),
        ((180, 100), {"ELIG-KET-BP-ACKNOWLEDGE"}, Decision.NEEDS_REVIEW),
        ((181, 100), {"ELIG-KET-CI-RESTING-BP"}, Decision.INELIGIBLE),
        ((170, 101), {"ELIG-KET-CI-RESTING-BP"}, Decision.INELIGIBLE),
    ],
)
def test_racemic_resting_bp(bp: tuple[int, int], rules: set[str], decision: Decision) -> None:
    result = screen(patient(resting_systolic_mmhg=bp[0], resting_diastolic_mmhg=bp[1]), "iv_ketamine")
    assert (ids(result), result.decision) == (rules, decision)


def test_no_bp_recorded_raises_no_bp_finding() -> None:
    assert screen(patient(), "iv_ketamine").findings == ()


@pytest.mark.parametrize(("spo2", "fires"), [(None, False), (93, False), (92, True)])
def test_low_resting_spo2(spo2: int | None, fires: bool) -> None:
    result = screen(patient(resting_spo2_percent=spo2), "im_ketamine")
    assert ("ELIG-ALL-SPO2-LOW" in ids(result)) == fires


@pytest.mark.parametrize(
    ("age", "esk_rules", "esk_decision"),
    [
        (17, {"ELIG-ESK-AGE-ADULT"}, Decision.INELIGIBLE),
        (18, {"ELIG-ESK-YOUNG-ADULT-SUICIDALITY"}, Decision.ELIGIBLE),
        (24, {"ELIG-ESK-YOUNG-ADULT-SUICIDALITY"}, Decision.ELIGIBLE),
        (25, set(), Decision.ELIGIBLE),
        (64, set(), Decision.ELIGIBLE),
        (65, {"ELIG-ESK-AGE-65"}, Decision.ELIGIBLE),
    ],
)
def test_esketamine_age_rules(age: int, esk_rules: set[str], esk_decision: Decision) -> None:
    result = screen(patient(age=age), ESK)
    assert ids(result) - {"ELIG-ESK-REMS"} == esk_rules
    assert result.decision is esk_decision


def test_racemic_minimum_age_is_policy() -> None:
    assert screen(patient(age=17), "iv_ketamine").decision is Decision.NEEDS_REVIEW
    assert screen(patient(age=18), "iv_ketamine").decision is Decision.ELIGIBLE
    sixteen = dataclasses.replace(DEFAULT_POLICY, minimum_age_years=16)
    assert screen(patient(age=17), "iv_ketamine", sixteen).decision is Decision.ELIGIBLE


def test_breastfeeding() -> None:
    assert (
        finding(screen(patient(breastfeeding=True), ESK), "ELIG-ESK-BREASTFEEDING").level is Level.ACKNOWLEDGE
    )
    racemic = finding(screen(patient(breastfeeding=True), "oral_ketamine"), "ELIG-KET-BREASTFEEDING")
    assert racemic.level is Level.CAUTION


# --- Home ketamine -----------------------------------------------------------------------------------------


def test_home_ketamine_escalates_cautions_to_acknowledgement() -> None:
    facts = patient(medication_classes={"opioid"}, conditions={"interstitial_cystitis"})
    clinic = screen(facts, "oral_ketamine")
    home = screen(facts, "home_ketamine")
    assert clinic.decision is Decision.ELIGIBLE
    assert home.decision is Decision.NEEDS_REVIEW
    assert all(f.level is Level.ACKNOWLEDGE and f.escalated_by_policy for f in home.findings)
    assert all("Clinic policy for home ketamine" in f.message for f in home.findings)
    assert {f.rule_id for f in home.findings} == {f.rule_id for f in clinic.findings}


def test_home_escalation_can_be_switched_off() -> None:
    relaxed = dataclasses.replace(DEFAULT_POLICY, home_cautions_require_acknowledgement=False)
    result = screen(patient(medication_classes={"opioid"}), "home_ketamine", relaxed)
    assert result.decision is Decision.ELIGIBLE and not result.findings[0].escalated_by_policy


def test_home_ketamine_can_exclude_conditions_by_policy() -> None:
    strict = dataclasses.replace(DEFAULT_POLICY, home_ineligible_conditions=frozenset({"psychosis_history"}))
    facts = patient(conditions={"psychosis_history"})
    home = screen(facts, "home_ketamine", strict)
    assert home.decision is Decision.INELIGIBLE
    assert "Psychosis (current or history)" in finding(home, "ELIG-HOME-POLICY-EXCLUDED").message
    assert screen(facts, "iv_ketamine", strict).decision is Decision.NEEDS_REVIEW
    assert screen(facts, "home_ketamine").decision is Decision.NEEDS_REVIEW


# --- Facts and ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"conditions": {"migraine"}}, ValueError, "unknown condition"),
        ({"conditions": "psychosis_history"}, TypeError, "collection"),
        ({"medication_classes": {"ssri"}}, ValueError, "unknown medication class"),
        ({"medication_classes": "opioid"}, TypeError, "collection"),
        ({"sex": "f"}, ValueError, "unknown sex"),
        ({"age": -1}, ValueError, "age"),
        ({"age": True}, ValueError, "age"),
        ({"resting_systolic_mmhg": 150}, ValueError, "both"),
        ({"resting_systolic_mmhg": 80, "resting_diastolic_mmhg": 90}, ValueError, "below systolic"),
        ({"resting_systolic_mmhg": 0, "resting_diastolic_mmhg": 0}, ValueError, "positive"),
        ({"resting_spo2_percent": 101}, ValueError, "SpO2"),
        ({"pregnant": "no"}, TypeError, "pregnant"),
    ],
)
def test_invalid_facts(kwargs: dict[str, Any], error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        patient(**kwargs)


def test_unknown_modality() -> None:
    with pytest.raises(ValueError, match="unknown modality"):
        screen(patient(), "intranasal_racemic")


def test_every_vocab_condition_and_class_is_accepted() -> None:
    facts = patient(conditions=set(CONDITIONS), medication_classes=set(MedicationClass))
    for modality in Modality:
        assert screen(facts, modality).decision is Decision.INELIGIBLE
    assert facts.medication_classes == set(MedicationClass)


def test_rules_triggered_by_explains_codes() -> None:
    assert {r.id for r in rules_triggered_by("arteriovenous_malformation")} == {
        "ELIG-ESK-CI-AVM",
        "ELIG-KET-CI-AVM",
    }
    assert {r.id for r in rules_triggered_by("maoi")} == {"ELIG-ALL-DDI-MAOI"}
    assert rules_triggered_by("ptsd") == ()


# --- Properties over any patient ---------------------------------------------------------------------------

facts_strategy = st.builds(
    PatientFacts,
    age=st.integers(0, 100),
    sex=st.sampled_from(["female", "male", "other", "unknown"]),
    conditions=st.frozensets(st.sampled_from(sorted(CONDITIONS)), max_size=5),
    medication_classes=st.frozensets(st.sampled_from(list(MedicationClass)), max_size=4),
    trials=st.lists(
        st.builds(
            Trial,
            drug=st.just("sertraline"),
            adequate_dose=st.booleans(),
            weeks=st.integers(0, 12),
            outcome=st.sampled_from(["response", "partial", "none", "intolerance"]),
        ),
        max_size=4,
    ).map(tuple),
    pregnant=st.booleans(),
    breastfeeding=st.booleans(),
    resting_spo2_percent=st.none() | st.integers(85, 100),
)


@settings(deadline=None)
@given(facts_strategy, st.sampled_from(list(Modality)))
def test_decision_follows_the_most_serious_finding(facts: PatientFacts, modality: Modality) -> None:
    result = screen(facts, modality)
    levels = [f.level for f in result.findings]
    assert levels == sorted(levels, key=SCREENING_LEVELS.index)
    if Level.CONTRAINDICATED in levels:
        assert result.decision is Decision.INELIGIBLE
    elif Level.ACKNOWLEDGE in levels:
        assert result.decision is Decision.NEEDS_REVIEW
    else:
        assert result.decision is Decision.ELIGIBLE
    if not result.trd.is_trd:
        assert result.decision is not Decision.ELIGIBLE
    for f in result.findings:
        assert f.sources and f.message
        assert RULES_BY_ID[f.rule_id].applies_to(modality)
    if modality is Modality.HOME_KETAMINE:
        assert Level.CAUTION not in levels


@settings(deadline=None)
@given(facts_strategy)
def test_esketamine_and_racemic_rules_never_mix(facts: PatientFacts) -> None:
    esk = screen(facts, ESK)
    iv = screen(facts, "iv_ketamine")
    assert all(RULES_BY_ID[i].modalities & ESKETAMINE for i in esk.rule_ids)
    assert all(RULES_BY_ID[i].modalities & RACEMIC for i in iv.rule_ids)
    assert ALL_MODALITIES == ESKETAMINE | RACEMIC


def test_findings_by_level() -> None:
    result = screen(patient(conditions={"psychosis_history"}, medication_classes={"opioid"}), "iv_ketamine")
    assert [f.rule_id for f in result.at_level(Level.ACKNOWLEDGE)] == ["ELIG-ALL-ACK-PSYCHOSIS"]
    assert [f.rule_id for f in result.at_level(Level.CAUTION)] == ["ELIG-ALL-DDI-OPIOID"]
    assert result.at_level(Level.CONTRAINDICATED) == ()


def test_rule_table_refuses_unknown_codes_and_rules_without_a_trigger() -> None:
    from ketaclinic.clinical.eligibility import _screen

    with pytest.raises(ValueError, match="unknown condition codes"):
        _screen("ELIG-X-Y", ALL_MODALITIES, Level.INFO, "x", ("S7",), conditions={"gout"})
    with pytest.raises(ValueError, match="no trigger"):
        _screen("ELIG-X-Y", ALL_MODALITIES, Level.INFO, "x", ("S7",))


def test_drug_lexicon_feeds_the_screen() -> None:
    from ketaclinic.clinical.vocab import medication_classes

    classes = medication_classes(["phenelzine", "clonazepam", "lisinopril"])
    assert classes == {"maoi", "antidepressant", "benzodiazepine"}
    result = screen(patient(medication_classes=classes), ESK)
    assert {"ELIG-ALL-DDI-MAOI", "ELIG-ALL-DDI-BENZODIAZEPINE"} <= result.rule_ids
    with pytest.raises(ValueError, match="unknown drug"):
        medication_classes(["snake_oil"])


ISSUE_CONDITIONS = {
    "aneurysmal_vascular_disease",
    "arteriovenous_malformation",
    "intracerebral_hemorrhage_history",
    "ketamine_hypersensitivity",
    "psychosis_history",
    "substance_use_disorder",
    "uncontrolled_hypertension",
    "hypertensive_encephalopathy_history",
    "severe_cardiac_disease",
    "raised_intracranial_pressure",
    "raised_intraocular_pressure",
    "hyperthyroidism_untreated",
    "interstitial_cystitis",
    "pre_eclampsia",
    "compromised_respiratory_function",
    "hepatic_impairment_moderate",
    "hepatic_impairment_severe",
}


def test_every_medical_condition_in_the_vocabulary_has_a_rule() -> None:
    assert set(CONDITIONS) >= ISSUE_CONDITIONS
    medical = {c.code for c in CONDITIONS.values() if c.category != "psychiatric"} | {
        "psychosis_history",
        "substance_use_disorder",
    }
    assert all(rules_triggered_by(code) for code in medical), [
        c for c in medical if not rules_triggered_by(c)
    ]
    assert all(rules_triggered_by(str(cls)) for cls in MedicationClass)


@given(
    age=st.integers(min_value=0, max_value=99),
    conditions=st.frozensets(st.sampled_from(sorted(CONDITIONS)), max_size=4),
    classes=st.frozensets(st.sampled_from([c.value for c in MedicationClass]), max_size=3),
    pregnant=st.booleans(),
    bp=st.one_of(st.none(), st.tuples(st.integers(100, 220), st.integers(50, 95))),
)
def test_screen_all_gives_what_screen_gives_for_each_modality(
    age: int,
    conditions: frozenset[str],
    classes: frozenset[str],
    pregnant: bool,
    bp: tuple[int, int] | None,
) -> None:
    facts = PatientFacts(
        age=age,
        sex="female",
        conditions=conditions,
        medication_classes=classes,
        pregnant=pregnant,
        resting_systolic_mmhg=bp[0] if bp else None,
        resting_diastolic_mmhg=bp[1] if bp else None,
    )
    assert eligibility.screen_all(facts) == tuple(eligibility.screen(facts, m) for m in Modality)
