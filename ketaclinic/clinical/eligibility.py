"""Eligibility screening for one modality (reference 1.5-1.7, 2.5, 5.1-5.2 and 7).

`screen(facts, modality)` applies every rule whose scope includes the modality and returns the findings and a
decision: a label contraindication makes the patient `ineligible`; any finding that needs a clinician's
acknowledgement (including not meeting the TRD definition) makes it `needs_review`; otherwise `eligible`.

Esketamine rules come from the Spravato label and REMS. The other modalities use racemic ketamine, whose rules
come from the anaesthetic SmPCs and the psychiatric literature; where the reference gives only an esketamine
source for a warning that section 7 says every modality must acknowledge, the esketamine source is cited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from ketaclinic.clinical.common import (
    ALL_MODALITIES,
    ESKETAMINE,
    HOME,
    RACEMIC,
    Area,
    Level,
    Modality,
    Rule,
    parse_modality,
)
from ketaclinic.clinical.policy import DEFAULT_POLICY, BloodPressure, ClinicPolicy
from ketaclinic.clinical.trd import TRDAssessment, Trial, assess
from ketaclinic.clinical.vocab import CONDITIONS, MedicationClass, Sex


class Decision(StrEnum):
    ELIGIBLE = "eligible"
    NEEDS_REVIEW = "needs_review"
    INELIGIBLE = "ineligible"


SCREENING_LEVELS: tuple[Level, ...] = (Level.CONTRAINDICATED, Level.ACKNOWLEDGE, Level.CAUTION, Level.INFO)


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What screening needs to know. Codes come from `vocab`; unknown codes raise ValueError."""

    age: int
    sex: str
    conditions: frozenset[str] = frozenset()
    medication_classes: frozenset[str] = frozenset()
    trials: tuple[Trial, ...] = ()
    resting_systolic_mmhg: int | None = None
    resting_diastolic_mmhg: int | None = None
    pregnant: bool = False
    breastfeeding: bool = False
    resting_spo2_percent: int | None = None
    episode_months: int | None = None
    severity: str | None = None
    ect_failed: bool = False
    ect_used: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.age, bool) or not isinstance(self.age, int) or self.age < 0:
            raise ValueError(f"age must be a whole number of years, got {self.age!r}")
        try:
            object.__setattr__(self, "sex", Sex(self.sex))
        except ValueError:
            raise ValueError(f"unknown sex {self.sex!r}; expected one of {[s.value for s in Sex]}") from None
        object.__setattr__(self, "conditions", _known_conditions(self.conditions))
        object.__setattr__(self, "medication_classes", _known_classes(self.medication_classes))
        object.__setattr__(self, "trials", tuple(self.trials))
        _check_bp(self.resting_systolic_mmhg, self.resting_diastolic_mmhg)
        spo2 = self.resting_spo2_percent
        if spo2 is not None and (isinstance(spo2, bool) or not isinstance(spo2, int) or not 0 <= spo2 <= 100):
            raise ValueError(f"resting SpO2 must be a whole percentage 0-100, got {spo2!r}")
        for name in ("pregnant", "breastfeeding", "ect_failed", "ect_used"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be true or false")

    @property
    def resting_bp(self) -> tuple[int, int] | None:
        if self.resting_systolic_mmhg is None or self.resting_diastolic_mmhg is None:
            return None
        return self.resting_systolic_mmhg, self.resting_diastolic_mmhg


def _known_conditions(codes: Iterable[str]) -> frozenset[str]:
    if isinstance(codes, str):
        raise TypeError("conditions must be a collection of codes, not one string")
    codes = frozenset(codes)
    unknown = sorted(codes - CONDITIONS.keys())
    if unknown:
        raise ValueError(f"unknown condition code(s): {unknown}")
    return codes


def _known_classes(codes: Iterable[str]) -> frozenset[str]:
    if isinstance(codes, str):
        raise TypeError("medication_classes must be a collection of codes, not one string")
    classes: set[str] = set()
    for code in codes:
        try:
            classes.add(MedicationClass(code))
        except ValueError:
            raise ValueError(f"unknown medication class {code!r}") from None
    return frozenset(classes)


def _check_bp(systolic: int | None, diastolic: int | None) -> None:
    if (systolic is None) != (diastolic is None):
        raise ValueError("record both resting systolic and diastolic BP, or neither")
    if systolic is not None and diastolic is not None:
        BloodPressure(systolic, diastolic)  # validates: positive whole numbers
        if diastolic >= systolic:
            raise ValueError(f"diastolic {diastolic} must be below systolic {systolic}")


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    level: Level
    message: str
    sources: tuple[str, ...]
    escalated_by_policy: bool = False


@dataclass(frozen=True, slots=True)
class Screening:
    modality: Modality
    decision: Decision
    findings: tuple[Finding, ...]
    trd: TRDAssessment

    def at_level(self, level: Level) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level is level)

    @property
    def rule_ids(self) -> frozenset[str]:
        return frozenset(f.rule_id for f in self.findings)


@dataclass(frozen=True, slots=True)
class _Context:
    facts: PatientFacts
    policy: ClinicPolicy
    trd: TRDAssessment


# A check returns None when its rule does not fire, or the message to show when it does.
Check = Callable[[_Context], str | None]


@dataclass(frozen=True, slots=True)
class _Screen:
    """A rule, the check that fires it, and (for forms and tests) the codes that trigger it."""

    rule: Rule
    check: Check
    conditions: frozenset[str] = frozenset()
    medication: MedicationClass | None = None


def _display(codes: Iterable[str]) -> str:
    return ", ".join(CONDITIONS[c].display for c in sorted(codes))


def _on_conditions(codes: frozenset[str], description: str) -> Check:
    def check(ctx: _Context) -> str | None:
        found = codes & ctx.facts.conditions
        return f"{description} Recorded: {_display(found)}." if found else None

    return check


def _on_medication(cls: MedicationClass, description: str) -> Check:
    def check(ctx: _Context) -> str | None:
        return description if cls in ctx.facts.medication_classes else None

    return check


def _on(predicate: Callable[[_Context], bool], description: str) -> Check:
    def check(ctx: _Context) -> str | None:
        return description if predicate(ctx) else None

    return check


def _screen(
    rule_id: str,
    modalities: frozenset[Modality],
    level: Level,
    description: str,
    sources: tuple[str, ...],
    *,
    conditions: Iterable[str] = (),
    medication: MedicationClass | None = None,
    when: Callable[[_Context], bool] | None = None,
    check: Check | None = None,
    policy: tuple[str, ...] = (),
) -> _Screen:
    """A rule and the test that fires it: recorded conditions, a medication class, or a predicate."""
    rule = Rule(rule_id, Area.ELIGIBILITY, level, modalities, description, sources, policy)
    codes = frozenset(conditions)
    if codes - CONDITIONS.keys():
        raise ValueError(f"{rule_id}: unknown condition codes {sorted(codes - CONDITIONS.keys())}")
    if check is None and codes:
        check = _on_conditions(codes, description)
    elif check is None and medication is not None:
        check = _on_medication(medication, description)
    elif check is None and when is not None:
        check = _on(when, description)
    if check is None:
        raise ValueError(f"{rule_id}: no trigger")
    return _Screen(rule, check, codes, medication)


_ALL = ALL_MODALITIES
_ESK = ESKETAMINE
_KET = RACEMIC
_CI = Level.CONTRAINDICATED
_ACK = Level.ACKNOWLEDGE
_CAU = Level.CAUTION
_INFO = Level.INFO
_MC = MedicationClass

# --- Esketamine (Spravato label, REMS) ---------------------------------------------------------------------

_ESKETAMINE_SCREENS: tuple[_Screen, ...] = (
    _screen(
        "ELIG-ESK-CI-ANEURYSM",
        _ESK,
        _CI,
        "Aneurysmal vascular disease (thoracic and abdominal aorta, intracranial and peripheral arteries) "
        "is a label contraindication to esketamine.",
        ("S7", "S9", "S23"),
        conditions={"aneurysmal_vascular_disease"},
    ),
    _screen(
        "ELIG-ESK-CI-AVM",
        _ESK,
        _CI,
        "Arteriovenous malformation is a label contraindication to esketamine.",
        ("S7", "S9", "S23"),
        conditions={"arteriovenous_malformation"},
    ),
    _screen(
        "ELIG-ESK-CI-ICH",
        _ESK,
        _CI,
        "A history of intracerebral haemorrhage is a label contraindication to esketamine.",
        ("S7", "S9", "S23"),
        conditions={"intracerebral_hemorrhage_history"},
    ),
    _screen(
        "ELIG-ESK-CI-HYPERSENSITIVITY",
        _ESK,
        _CI,
        "Hypersensitivity to esketamine, ketamine or an excipient is a label contraindication.",
        ("S7", "S9", "S23"),
        conditions={"ketamine_hypersensitivity"},
    ),
    _screen(
        "ELIG-ESK-AGE-ADULT",
        _ESK,
        _CI,
        "Esketamine is indicated for adults only and is not approved in paediatric patients.",
        ("S17", "S8"),
        when=lambda ctx: ctx.facts.age < 18,
    ),
    _screen(
        "ELIG-ESK-CARDIAC",
        _ESK,
        _ACK,
        "Severe coronary or myocardial disease, recent myocardial infarction or heart failure: the label "
        "asks for careful assessment before prescribing, because esketamine raises blood pressure.",
        ("S8", "S12"),
        conditions={
            "severe_cardiac_disease",
            "unstable_angina",
            "recent_myocardial_infarction",
            "heart_failure",
        },
    ),
    _screen(
        "ELIG-ESK-CEREBROVASCULAR",
        _ESK,
        _ACK,
        "Cerebrovascular disease: the label asks for careful assessment before prescribing.",
        ("S12", "S8"),
        conditions={"cerebrovascular_accident_or_cerebral_trauma"},
    ),
    _screen(
        "ELIG-ESK-INTRACRANIAL-PRESSURE",
        _ESK,
        _ACK,
        "Raised intracranial pressure: do not dose when a rise in intracranial pressure would pose a serious "
        "risk. A clinician must judge this.",
        ("S5",),
        conditions={"raised_intracranial_pressure"},
    ),
    _screen(
        "ELIG-ESK-PRE-ECLAMPSIA",
        _ESK,
        _ACK,
        "Pre-eclampsia or eclampsia contraindicates racemic ketamine, and esketamine is not recommended in "
        "pregnancy.",
        ("K15", "K16", "S8"),
        conditions={"pre_eclampsia"},
    ),
    _screen(
        "ELIG-ESK-RESPIRATORY",
        _ESK,
        _ACK,
        "Compromised respiratory function: the phase 3 trials excluded SpO2 below 93% and significant "
        "pulmonary disease, and the boxed warning covers respiratory depression.",
        ("S25b", "S6"),
        conditions={"compromised_respiratory_function"},
    ),
    _screen(
        "ELIG-ESK-BREASTFEEDING",
        _ESK,
        _ACK,
        "Breastfeeding is not recommended during esketamine treatment.",
        ("S8", "S10"),
        when=lambda ctx: ctx.facts.breastfeeding,
    ),
    _screen(
        "ELIG-ESK-BIPOLAR",
        _ESK,
        _ACK,
        "Bipolar depression is outside the esketamine indication (major depressive disorder).",
        ("S17", "S18"),
        conditions={"bipolar_depression"},
    ),
    _screen(
        "ELIG-ESK-HEPATIC-MODERATE",
        _ESK,
        _CAU,
        "Moderate hepatic impairment (Child-Pugh B) may need longer monitoring for adverse reactions.",
        ("S8", "S12"),
        conditions={"hepatic_impairment_moderate"},
    ),
    _screen(
        "ELIG-ESK-CYSTITIS",
        _ESK,
        _CAU,
        "Ulcerative or interstitial cystitis: esketamine caused more lower urinary tract symptoms than "
        "placebo. Monitor urinary symptoms and refer if needed.",
        ("S8",),
        conditions={"interstitial_cystitis"},
    ),
    _screen(
        "ELIG-ESK-HYPERTHYROIDISM",
        _ESK,
        _CAU,
        "Untreated hyperthyroidism contraindicates racemic ketamine in the Swiss SmPC; the esketamine label "
        "summarised in the reference is silent. Consider the blood-pressure risk.",
        ("K16", "K22"),
        conditions={"hyperthyroidism_untreated"},
    ),
    _screen(
        "ELIG-ESK-HYPERTENSION",
        _ESK,
        _CAU,
        "Hypertension: esketamine raises blood pressure (peak about 40 minutes, lasting about 4 hours); a "
        "history of hypertension predicted surges with IV ketamine. Monitor BP closely.",
        ("S9", "K11"),
        conditions={"hypertension"},
    ),
    _screen(
        "ELIG-ESK-YOUNG-ADULT-SUICIDALITY",
        _ESK,
        _CAU,
        "Age 24 or under: the antidepressant class boxed warning on suicidal thoughts and behaviours "
        "applies. Monitor for worsening and emergent suicidality.",
        ("S8",),
        when=lambda ctx: 18 <= ctx.facts.age <= 24,
    ),
    _screen(
        "ELIG-ESK-DDI-XANTHINE",
        _ESK,
        _CAU,
        "Theophylline or aminophylline: contraindicated with IV esketamine in the Norwegian SmPC and lowers "
        "the seizure threshold with ketamine; the nasal label summarised in the reference does not list it.",
        ("K21", "K17"),
        medication=_MC.XANTHINE,
    ),
    _screen(
        "ELIG-ESK-AGE-65",
        _ESK,
        _INFO,
        "Age 65 or over: the Hong Kong label starts at 28 mg (US geriatric start UNVERIFIED; see the clinic "
        "policy on 28 mg), and the mean blood-pressure rise reported is larger.",
        ("S2", "S22", "R14c"),
        when=lambda ctx: ctx.facts.age >= 65,
        policy=("esketamine_allow_28mg",),
    ),
    _screen(
        "ELIG-ESK-ANTIDEPRESSANT",
        _ESK,
        _INFO,
        "Esketamine is indicated for TRD as monotherapy or together with an oral antidepressant.",
        ("S18", "S17"),
        medication=_MC.ANTIDEPRESSANT,
    ),
    _screen(
        "ELIG-ESK-REMS",
        _ESK,
        _INFO,
        "Spravato REMS: enrol the patient before the first treatment; a prescriber must be on site; monitor "
        "at least 2 hours with pulse oximetry until sedation, dissociation and respiratory depression "
        "resolve.",
        ("S13", "S16a", "S6"),
        when=lambda ctx: True,
    ),
)

# --- Racemic ketamine (anaesthetic SmPCs, consensus) -------------------------------------------------------

_RACEMIC_SCREENS: tuple[_Screen, ...] = (
    _screen(
        "ELIG-KET-CI-ANEURYSM",
        _KET,
        _CI,
        "Aneurysmal vascular disease: a rise in blood pressure would be a serious hazard, which "
        "contraindicates ketamine.",
        ("K15",),
        conditions={"aneurysmal_vascular_disease"},
    ),
    _screen(
        "ELIG-KET-CI-AVM",
        _KET,
        _CI,
        "Arteriovenous malformation: a rise in blood pressure would be a serious hazard, which "
        "contraindicates ketamine.",
        ("K15",),
        conditions={"arteriovenous_malformation"},
    ),
    _screen(
        "ELIG-KET-CI-CEREBROVASCULAR",
        _KET,
        _CI,
        "Cerebrovascular accident (including intracerebral haemorrhage) or cerebral trauma contraindicates "
        "ketamine.",
        ("K15",),
        conditions={"intracerebral_hemorrhage_history", "cerebrovascular_accident_or_cerebral_trauma"},
    ),
    _screen(
        "ELIG-KET-CI-HYPERSENSITIVITY",
        _KET,
        _CI,
        "Hypersensitivity to ketamine contraindicates it.",
        ("K15",),
        conditions={"ketamine_hypersensitivity"},
    ),
    _screen(
        "ELIG-KET-CI-SEVERE-CARDIAC",
        _KET,
        _CI,
        "Severe coronary or myocardial disease contraindicates ketamine (UK SmPC).",
        ("K15",),
        conditions={"severe_cardiac_disease"},
    ),
    _screen(
        "ELIG-KET-CI-PRE-ECLAMPSIA",
        _KET,
        _CI,
        "Pre-eclampsia or eclampsia contraindicates ketamine.",
        ("K15", "K16"),
        conditions={"pre_eclampsia"},
    ),
    _screen(
        "ELIG-KET-CI-HYPERTHYROIDISM",
        _KET,
        _CI,
        "Untreated or inadequately treated hyperthyroidism contraindicates ketamine (Swiss SmPC).",
        ("K16",),
        conditions={"hyperthyroidism_untreated"},
    ),
    _screen(
        "ELIG-KET-CI-RESTING-BP",
        _KET,
        _CI,
        "Resting blood pressure above the deferral level (Swiss SmPC: poorly controlled or untreated "
        "hypertension, resting BP >180/100) contraindicates ketamine until it is controlled.",
        ("K16",),
        check=lambda ctx: _bp_above(ctx, ctx.policy.ketamine_bp_defer),
        policy=("ketamine_bp_defer",),
    ),
    _screen(
        "ELIG-KET-BP-ACKNOWLEDGE",
        _KET,
        _ACK,
        "Resting blood pressure above the acknowledgement level: address it before treating (APA consensus, "
        "unverified) and weigh the short-term BP rise against the benefit.",
        ("K1", "S5"),
        check=lambda ctx: _bp_between(ctx, ctx.policy.ketamine_bp_acknowledge, ctx.policy.ketamine_bp_defer),
        policy=("ketamine_bp_acknowledge",),
    ),
    _screen(
        "ELIG-KET-CARDIAC",
        _KET,
        _ACK,
        "Unstable angina, myocardial infarction within 6 months or heart failure: a caution in the German "
        "PIL, and severe coronary disease contraindicates ketamine in the UK SmPC. A clinician must assess.",
        ("K16b", "K15"),
        conditions={"unstable_angina", "recent_myocardial_infarction", "heart_failure"},
    ),
    _screen(
        "ELIG-KET-INTRACRANIAL-PRESSURE",
        _KET,
        _ACK,
        "Raised intracranial pressure: contraindicated with IV esketamine (Norway), a caution in the German "
        "PIL, and raised CSF pressure is a US Ketalar warning. A clinician must assess.",
        ("K21", "K16b", "K17"),
        conditions={"raised_intracranial_pressure"},
    ),
    _screen(
        "ELIG-KET-EYE",
        _KET,
        _CAU,
        "Raised intraocular pressure (glaucoma) or penetrating eye injury: a caution for ketamine, which can "
        "raise intraocular pressure slightly.",
        ("K16b", "K18b"),
        conditions={"raised_intraocular_pressure", "penetrating_eye_injury"},
    ),
    _screen(
        "ELIG-KET-HEPATIC-MODERATE",
        _KET,
        _CAU,
        "Moderate hepatic impairment: the US Ketalar label warns of drug-induced liver injury.",
        ("K17",),
        conditions={"hepatic_impairment_moderate"},
    ),
    _screen(
        "ELIG-KET-CYSTITIS",
        _KET,
        _CAU,
        "Ulcerative or interstitial cystitis: severe cystitis is reported with chronic ketamine use. Monitor "
        "urinary symptoms.",
        ("K18b",),
        conditions={"interstitial_cystitis"},
    ),
    _screen(
        "ELIG-KET-RESPIRATORY",
        _KET,
        _CAU,
        "Compromised respiratory function: respiratory depression is a US Ketalar warning.",
        ("K17",),
        conditions={"compromised_respiratory_function"},
    ),
    _screen(
        "ELIG-KET-HYPERTENSION",
        _KET,
        _CAU,
        "Hypertension: a history of hypertension and older age predicted blood-pressure surges during IV "
        "ketamine. Monitor BP closely, especially in the first 3 sessions.",
        ("K11",),
        conditions={"hypertension"},
    ),
    _screen(
        "ELIG-KET-BREASTFEEDING",
        _KET,
        _CAU,
        "Breastfeeding: the esketamine label advises against it; the reference has no racemic ketamine "
        "source.",
        ("S8",),
        when=lambda ctx: ctx.facts.breastfeeding,
    ),
    _screen(
        "ELIG-KET-AGE-MINIMUM",
        _KET,
        _ACK,
        "Younger than the clinic's minimum age: esketamine is approved only in adults, and the "
        "antidepressant class warning on suicidality is largest under 18.",
        ("S8",),
        when=lambda ctx: ctx.facts.age < ctx.policy.minimum_age_years,
        policy=("minimum_age_years",),
    ),
    _screen(
        "ELIG-KET-BIPOLAR",
        _KET,
        _INFO,
        "Bipolar depression: the strongest ketamine evidence is for major depressive episodes without "
        "psychotic features in MDD; data on other diagnoses are thin.",
        ("K2",),
        conditions={"bipolar_depression"},
    ),
    _screen(
        "ELIG-KET-DDI-LEVOTHYROXINE",
        _KET,
        _CAU,
        "Levothyroxine or thyroid hormone: two case reports of severe hypertension and tachycardia when "
        "ketamine was given. Monitor BP and heart rate.",
        ("K18", "K16", "K22"),
        medication=_MC.LEVOTHYROXINE,
    ),
    _screen(
        "ELIG-KET-DDI-XANTHINE",
        _KET,
        _ACK,
        "Theophylline or aminophylline lowers the seizure threshold with ketamine (US Ketalar) and is "
        "contraindicated with IV esketamine (Norwegian SmPC).",
        ("K17", "K21"),
        medication=_MC.XANTHINE,
    ),
    _screen(
        "ELIG-KET-DDI-NALTREXONE",
        _KET,
        _CAU,
        "Naltrexone pretreatment blocked ketamine's acute antidepressant effect in a small trial "
        "(replication disputed).",
        ("K20",),
        medication=_MC.NALTREXONE,
    ),
    _screen(
        "ELIG-KET-DDI-LAMOTRIGINE",
        _KET,
        _INFO,
        "Lamotrigine may reduce ketamine's psychotomimetic adverse effects; its effect on the antidepressant "
        "action is unknown.",
        ("K19b",),
        medication=_MC.LAMOTRIGINE,
    ),
    _screen(
        "ELIG-KET-DDI-ANTIDEPRESSANT",
        _KET,
        _INFO,
        "Conventional antidepressants are probably safe to combine with ketamine.",
        ("K19b",),
        medication=_MC.ANTIDEPRESSANT,
    ),
)

# --- Every modality (reference 7: warnings that need a clinician's acknowledgement) ------------------------

_ALL_SCREENS: tuple[_Screen, ...] = (
    _screen(
        "ELIG-ALL-ACK-PREGNANCY",
        _ALL,
        _ACK,
        "Pregnancy: animal ketamine data suggest possible fetal harm; not recommended in pregnancy. Counsel "
        "on pregnancy planning; National Pregnancy Registry for Antidepressants 1-844-405-6185.",
        ("S8", "S10", "S26"),
        when=lambda ctx: ctx.facts.pregnant,
    ),
    _screen(
        "ELIG-ALL-ACK-PSYCHOSIS",
        _ALL,
        _ACK,
        "Psychosis (current or history): assess carefully and start only if the benefit outweighs the risk "
        "of dissociation and psychotomimetic effects.",
        ("S6", "K16b", "K22"),
        conditions={"psychosis_history"},
    ),
    _screen(
        "ELIG-ALL-ACK-SUBSTANCE-USE",
        _ALL,
        _ACK,
        "Substance use disorder (including alcohol): assess the risk of abuse and misuse before prescribing "
        "and monitor for it.",
        ("S8", "S3a", "K12a"),
        conditions={"substance_use_disorder"},
    ),
    _screen(
        "ELIG-ALL-ACK-UNCONTROLLED-BP",
        _ALL,
        _ACK,
        "Uncontrolled or untreated hypertension: do not dose when a rise in blood pressure would pose a "
        "serious risk; weigh the short-term rise against the benefit.",
        ("S5", "K16"),
        conditions={"uncontrolled_hypertension"},
    ),
    _screen(
        "ELIG-ALL-ACK-HEPATIC-SEVERE",
        _ALL,
        _ACK,
        "Severe hepatic impairment (Child-Pugh C): not studied and not recommended with esketamine; the US "
        "Ketalar label warns of drug-induced liver injury.",
        ("S8", "S12", "K17"),
        conditions={"hepatic_impairment_severe"},
    ),
    _screen(
        "ELIG-ALL-ACK-HYPERTENSIVE-ENCEPHALOPATHY",
        _ALL,
        _ACK,
        "History of hypertensive encephalopathy: monitor blood pressure more often.",
        ("S12",),
        conditions={"hypertensive_encephalopathy_history"},
    ),
    _screen(
        "ELIG-ALL-SPO2-LOW",
        _ALL,
        _ACK,
        "Resting SpO2 below the screening level: the esketamine phase 3 trials excluded SpO2 below 93%, and "
        "respiratory depression is a boxed warning.",
        ("S25b", "S6"),
        when=lambda ctx: _spo2_low(ctx),
        policy=("screening_spo2_min",),
    ),
    _screen(
        "ELIG-ALL-DDI-BENZODIAZEPINE",
        _ALL,
        _CAU,
        "Benzodiazepine: more sedation (monitor closely), and it may blunt the antidepressant effect "
        "(observational: daily doses above 8 mg diazepam-equivalent separated non-responders).",
        ("S10", "S6", "K19a", "K19b"),
        medication=_MC.BENZODIAZEPINE,
    ),
    _screen(
        "ELIG-ALL-DDI-HYPNOTIC",
        _ALL,
        _CAU,
        "Non-benzodiazepine hypnotic: a CNS depressant, so more sedation. Monitor sedation closely.",
        ("S10", "S6", "S14"),
        medication=_MC.NONBENZODIAZEPINE_HYPNOTIC,
    ),
    _screen(
        "ELIG-ALL-DDI-OPIOID",
        _ALL,
        _CAU,
        "Opioid: more sedation and respiratory depression. Monitor sedation and breathing closely.",
        ("S10", "S6"),
        medication=_MC.OPIOID,
    ),
    _screen(
        "ELIG-ALL-DDI-PSYCHOSTIMULANT",
        _ALL,
        _CAU,
        "Psychostimulant: higher blood pressure. Monitor BP closely.",
        ("S10",),
        medication=_MC.PSYCHOSTIMULANT,
    ),
    _screen(
        "ELIG-ALL-DDI-MAOI",
        _ALL,
        _CAU,
        "MAO inhibitor: higher blood pressure (one patient on phenelzine reached 200/99 mmHg 2 hours after "
        "56 mg esketamine). Monitor BP closely.",
        ("S10", "S11"),
        medication=_MC.MAOI,
    ),
)

_ESK_BP_SCREEN = _screen(
    "ELIG-ESK-BP-ACKNOWLEDGE",
    _ESK,
    _ACK,
    "Resting blood pressure above the label's example level: weigh the short-term BP rise against the "
    "benefit, and consider delaying therapy.",
    ("S5", "S4b"),
    check=lambda ctx: _bp_above(ctx, ctx.policy.esketamine_bp_acknowledge),
    policy=("esketamine_bp_acknowledge",),
)

_HOME_SCREENS: tuple[_Screen, ...] = (
    _screen(
        "ELIG-HOME-POLICY-EXCLUDED",
        HOME,
        _CI,
        "Clinic policy excludes this condition from home ketamine, where nobody qualified is in the room to "
        "monitor.",
        ("S13", "K15"),
        check=lambda ctx: _home_excluded(ctx),
        policy=("home_ineligible_conditions",),
    ),
)

_TRD_SCREENS: tuple[_Screen, ...] = (
    _screen(
        "ELIG-ESK-TRD-NOT-MET",
        _ESK,
        _ACK,
        "The TRD indication is not met: the label indication is inadequate response to at least 2 oral "
        "antidepressants (adequate dose and duration in the current episode).",
        ("S17", "T5"),
        when=lambda ctx: not ctx.trd.is_trd,
        policy=("trd_min_trial_weeks",),
    ),
    _screen(
        "ELIG-KET-TRD-NOT-MET",
        _KET,
        _ACK,
        "Treatment-resistant depression is not established: fewer than 2 adequate failed antidepressant "
        "trials in the current episode. Ketamine for depression is off-label.",
        ("T5", "T6b", "R15b"),
        when=lambda ctx: not ctx.trd.is_trd,
        policy=("trd_min_trial_weeks",),
    ),
)

SCREENS: tuple[_Screen, ...] = (
    *_ESKETAMINE_SCREENS,
    _ESK_BP_SCREEN,
    *_RACEMIC_SCREENS,
    *_ALL_SCREENS,
    *_HOME_SCREENS,
    *_TRD_SCREENS,
)
RULE_HOME_ESCALATION = Rule(
    "ELIG-HOME-CAUTIONS-ACKNOWLEDGE",
    Area.ELIGIBILITY,
    Level.ACKNOWLEDGE,
    HOME,
    "Clinic policy for home ketamine: every 'caution' finding needs a clinician's acknowledgement, because "
    "nobody qualified is in the room to monitor. Escalated findings keep their own rule id.",
    ("S13", "K15"),
    ("home_cautions_require_acknowledgement",),
)
RULES: tuple[Rule, ...] = (*(s.rule for s in SCREENS), RULE_HOME_ESCALATION)


def rules_triggered_by(code: str) -> tuple[Rule, ...]:
    """The screening rules a condition code or medication class triggers (for forms that explain why)."""
    return tuple(s.rule for s in SCREENS if code in s.conditions or code == s.medication)


def _bp_above(ctx: _Context, limit: BloodPressure) -> str | None:
    bp = ctx.facts.resting_bp
    if bp is None or not limit.exceeded_by(*bp):
        return None
    return f"Resting BP {bp[0]}/{bp[1]} mmHg is above {limit}."


def _bp_between(ctx: _Context, lower: BloodPressure, upper: BloodPressure) -> str | None:
    bp = ctx.facts.resting_bp
    if bp is None or upper.exceeded_by(*bp):
        return None  # Above the deferral level the contraindication rule speaks instead.
    return _bp_above(ctx, lower)


def _spo2_low(ctx: _Context) -> bool:
    spo2 = ctx.facts.resting_spo2_percent
    return spo2 is not None and spo2 < ctx.policy.screening_spo2_min


def _home_excluded(ctx: _Context) -> str | None:
    found = ctx.facts.conditions & ctx.policy.home_ineligible_conditions
    return f"Excluded from home ketamine by clinic policy: {_display(found)}." if found else None


def screen(facts: PatientFacts, modality: str, policy: ClinicPolicy = DEFAULT_POLICY) -> Screening:
    """Screen a patient for one modality: findings, decision and the TRD assessment.

    Label contraindications [S7], [K15], [K16] make the patient ineligible; section 7 warnings and a history
    short of TRD [T5], [S17] need review.
    """
    return screen_all(facts, policy, (parse_modality(modality),))[0]


def screen_all(
    facts: PatientFacts,
    policy: ClinicPolicy = DEFAULT_POLICY,
    modalities: Iterable[Modality] = tuple(Modality),
) -> tuple[Screening, ...]:
    """`screen` for several modalities at once, each rule checked once however many modalities share it.

    Most rules apply to every modality; checking them once per modality cost five times the work for a
    chart's five decisions. The result is the same as calling `screen` for each modality, in order.
    """
    kinds = tuple(modalities)
    trd = assess(
        facts.trials,
        episode_months=facts.episode_months,
        severity=facts.severity,
        ect_failed=facts.ect_failed,
        ect_used=facts.ect_used,
        policy=policy,
    )
    ctx = _Context(facts, policy, trd)
    applicable = [s for s in SCREENS if any(s.rule.applies_to(kind) for kind in kinds)]
    found = [(s, f) for s in applicable if (f := _finding(s, ctx)) is not None]
    out = []
    for kind in kinds:
        fired = [f for s, f in found if s.rule.applies_to(kind)]
        if kind is Modality.HOME_KETAMINE and policy.home_cautions_require_acknowledgement:
            fired = [_escalate(f) for f in fired]
        fired.sort(key=lambda f: (SCREENING_LEVELS.index(f.level), f.rule_id))
        out.append(Screening(kind, _decide(fired), tuple(fired), trd))
    return tuple(out)


def _finding(s: _Screen, ctx: _Context) -> Finding | None:
    message = s.check(ctx)
    if message is None:
        return None
    if message != s.rule.description and not message.startswith(s.rule.description):
        # Computed checks return only the measured detail; lead with the rule's plain-language text.
        message = f"{s.rule.description} {message}"
    return Finding(s.rule.id, s.rule.level, message, s.rule.sources)


def _escalate(f: Finding) -> Finding:
    if f.level is not Level.CAUTION:
        return f
    note = " Clinic policy for home ketamine: a clinician must acknowledge this."
    return Finding(f.rule_id, Level.ACKNOWLEDGE, f.message + note, f.sources, escalated_by_policy=True)


def _decide(findings: Iterable[Finding]) -> Decision:
    levels = {f.level for f in findings}
    if Level.CONTRAINDICATED in levels:
        return Decision.INELIGIBLE
    if Level.ACKNOWLEDGE in levels:
        return Decision.NEEDS_REVIEW
    return Decision.ELIGIBLE
