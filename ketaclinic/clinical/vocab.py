"""Coded value sets: conditions, medication classes and the drug lexicon.

The codes are KetaClinic's own (code system ``CONDITION_SYSTEM`` / ``MEDICATION_CLASS_SYSTEM``); the
reference gives no SNOMED or RxNorm codes, so none are invented here. Each condition names the reference
sources that make it matter to ketamine care (empty for the psychiatric diagnoses the clinic treats).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CONDITION_SYSTEM = "https://ketaclinic.org/fhir/CodeSystem/condition"
MEDICATION_CLASS_SYSTEM = "https://ketaclinic.org/fhir/CodeSystem/medication-class"
DRUG_SYSTEM = "https://ketaclinic.org/fhir/CodeSystem/drug"


class ConditionCategory(StrEnum):
    PSYCHIATRIC = "psychiatric"
    CARDIOVASCULAR = "cardiovascular"
    NEUROLOGICAL = "neurological"
    OTHER_MEDICAL = "other_medical"


@dataclass(frozen=True, slots=True)
class ConditionCode:
    code: str
    display: str
    category: ConditionCategory
    sources: tuple[str, ...]


_C = ConditionCategory
CONDITIONS: dict[str, ConditionCode] = {
    c.code: c
    for c in (
        # Psychiatric diagnoses a ketamine clinic treats (brief: TRD main indication; off-label others).
        ConditionCode("major_depressive_disorder", "Major depressive disorder", _C.PSYCHIATRIC, ()),
        ConditionCode("bipolar_depression", "Bipolar depression", _C.PSYCHIATRIC, ()),
        ConditionCode("generalized_anxiety_disorder", "Anxiety disorder", _C.PSYCHIATRIC, ()),
        ConditionCode("obsessive_compulsive_disorder", "Obsessive-compulsive disorder", _C.PSYCHIATRIC, ()),
        ConditionCode("ptsd", "Post-traumatic stress disorder", _C.PSYCHIATRIC, ()),
        # Psychiatric history that changes the plan (reference 1.6, 5.2).
        ConditionCode(
            "psychosis_history", "Psychosis (current or history)", _C.PSYCHIATRIC, ("S6", "K16b", "K22")
        ),
        ConditionCode(
            "substance_use_disorder",
            "Substance use disorder (active or history)",
            _C.PSYCHIATRIC,
            ("S8", "S3a"),
        ),
        # Label contraindications (reference 1.5) and ketamine labelling (2.5).
        ConditionCode(
            "aneurysmal_vascular_disease", "Aneurysmal vascular disease", _C.CARDIOVASCULAR, ("S7", "K15")
        ),
        ConditionCode(
            "arteriovenous_malformation", "Arteriovenous malformation", _C.NEUROLOGICAL, ("S7", "K15")
        ),
        ConditionCode(
            "intracerebral_hemorrhage_history",
            "History of intracerebral haemorrhage",
            _C.NEUROLOGICAL,
            ("S7", "K15"),
        ),
        ConditionCode(
            "ketamine_hypersensitivity",
            "Hypersensitivity to ketamine, esketamine or an excipient",
            _C.OTHER_MEDICAL,
            ("S7", "K15"),
        ),
        ConditionCode(
            "cerebrovascular_accident_or_cerebral_trauma",
            "Cerebrovascular accident or cerebral trauma",
            _C.NEUROLOGICAL,
            ("K15",),
        ),
        # Blood pressure and the heart (reference 1.3, 2.5, 5.2).
        ConditionCode("hypertension", "Hypertension (controlled)", _C.CARDIOVASCULAR, ("K11",)),
        ConditionCode(
            "uncontrolled_hypertension",
            "Uncontrolled or untreated hypertension",
            _C.CARDIOVASCULAR,
            ("S5", "K16"),
        ),
        ConditionCode(
            "hypertensive_encephalopathy_history",
            "History of hypertensive encephalopathy",
            _C.CARDIOVASCULAR,
            ("S12",),
        ),
        ConditionCode(
            "severe_cardiac_disease",
            "Severe coronary or myocardial disease",
            _C.CARDIOVASCULAR,
            ("S8", "K15"),
        ),
        ConditionCode("unstable_angina", "Unstable angina", _C.CARDIOVASCULAR, ("K16b",)),
        ConditionCode(
            "recent_myocardial_infarction",
            "Myocardial infarction within 6 months",
            _C.CARDIOVASCULAR,
            ("K16b",),
        ),
        ConditionCode("heart_failure", "Heart failure", _C.CARDIOVASCULAR, ("K16b",)),
        # Pressure in the head and eye (reference 2.5, 5.2).
        ConditionCode(
            "raised_intracranial_pressure",
            "Raised intracranial pressure",
            _C.NEUROLOGICAL,
            ("S5", "K21", "K16b"),
        ),
        ConditionCode(
            "raised_intraocular_pressure",
            "Raised intraocular pressure or glaucoma",
            _C.OTHER_MEDICAL,
            ("K16b", "K18b"),
        ),
        ConditionCode("penetrating_eye_injury", "Penetrating eye injury", _C.OTHER_MEDICAL, ("K16b",)),
        # Other medical conditions (reference 1.6, 2.5, 5.2).
        ConditionCode(
            "hyperthyroidism_untreated",
            "Hyperthyroidism, untreated or inadequately treated",
            _C.OTHER_MEDICAL,
            ("K16",),
        ),
        ConditionCode(
            "interstitial_cystitis", "Ulcerative or interstitial cystitis", _C.OTHER_MEDICAL, ("S8", "K18b")
        ),
        ConditionCode("pre_eclampsia", "Pre-eclampsia or eclampsia", _C.OTHER_MEDICAL, ("K15", "K16")),
        ConditionCode(
            "compromised_respiratory_function",
            "Compromised respiratory function",
            _C.OTHER_MEDICAL,
            ("S25b",),
        ),
        ConditionCode(
            "hepatic_impairment_moderate",
            "Hepatic impairment, moderate (Child-Pugh B)",
            _C.OTHER_MEDICAL,
            ("S8", "S12"),
        ),
        ConditionCode(
            "hepatic_impairment_severe",
            "Hepatic impairment, severe (Child-Pugh C)",
            _C.OTHER_MEDICAL,
            ("S8", "S12", "K17"),
        ),
    )
}


class MedicationClass(StrEnum):
    """Drug classes the reference cares about (1.7, 5.1, 7) plus antidepressant classes for trials."""

    BENZODIAZEPINE = "benzodiazepine"
    NONBENZODIAZEPINE_HYPNOTIC = "nonbenzodiazepine_hypnotic"
    OPIOID = "opioid"
    PSYCHOSTIMULANT = "psychostimulant"
    MAOI = "maoi"
    LEVOTHYROXINE = "levothyroxine"
    XANTHINE = "xanthine"
    LAMOTRIGINE = "lamotrigine"
    NALTREXONE = "naltrexone"
    ANTIDEPRESSANT = "antidepressant"


MEDICATION_CLASS_LABELS: dict[MedicationClass, str] = {
    MedicationClass.BENZODIAZEPINE: "Benzodiazepine",
    MedicationClass.NONBENZODIAZEPINE_HYPNOTIC: "Non-benzodiazepine hypnotic",
    MedicationClass.OPIOID: "Opioid",
    MedicationClass.PSYCHOSTIMULANT: "Psychostimulant",
    MedicationClass.MAOI: "MAO inhibitor",
    MedicationClass.LEVOTHYROXINE: "Levothyroxine / thyroid hormone",
    MedicationClass.XANTHINE: "Xanthine (theophylline, aminophylline)",
    MedicationClass.LAMOTRIGINE: "Lamotrigine",
    MedicationClass.NALTREXONE: "Naltrexone (opioid antagonist)",
    MedicationClass.ANTIDEPRESSANT: "Antidepressant",
}


class AntidepressantClass(StrEnum):
    SSRI = "ssri"
    SNRI = "snri"
    TCA = "tca"
    MAOI = "maoi"
    NDRI = "ndri"
    NASSA = "nassa"
    SARI = "sari"
    SEROTONIN_MODULATOR = "serotonin_modulator"
    OTHER = "other_antidepressant"


ANTIDEPRESSANT_CLASS_LABELS: dict[AntidepressantClass, str] = {
    AntidepressantClass.SSRI: "SSRI",
    AntidepressantClass.SNRI: "SNRI",
    AntidepressantClass.TCA: "Tricyclic (TCA)",
    AntidepressantClass.MAOI: "MAOI",
    AntidepressantClass.NDRI: "NDRI (bupropion)",
    AntidepressantClass.NASSA: "NaSSA (mirtazapine)",
    AntidepressantClass.SARI: "SARI (trazodone, nefazodone)",
    AntidepressantClass.SEROTONIN_MODULATOR: "Serotonin modulator",
    AntidepressantClass.OTHER: "Other antidepressant",
}


@dataclass(frozen=True, slots=True)
class Drug:
    code: str
    display: str
    classes: frozenset[MedicationClass]
    antidepressant_class: AntidepressantClass | None = None

    @property
    def is_antidepressant(self) -> bool:
        return MedicationClass.ANTIDEPRESSANT in self.classes


OTHER_DRUG = "other"
_M = MedicationClass
_A = AntidepressantClass


def _ad(code: str, display: str, ad_class: AntidepressantClass) -> Drug:
    classes = {_M.ANTIDEPRESSANT} | ({_M.MAOI} if ad_class is _A.MAOI else set())
    return Drug(code, display, frozenset(classes), ad_class)


def _drug(code: str, display: str, *classes: MedicationClass) -> Drug:
    return Drug(code, display, frozenset(classes))


DRUGS: dict[str, Drug] = {
    d.code: d
    for d in (
        _ad("sertraline", "Sertraline", _A.SSRI),
        _ad("fluoxetine", "Fluoxetine", _A.SSRI),
        _ad("escitalopram", "Escitalopram", _A.SSRI),
        _ad("citalopram", "Citalopram", _A.SSRI),
        _ad("paroxetine", "Paroxetine", _A.SSRI),
        _ad("fluvoxamine", "Fluvoxamine", _A.SSRI),
        _ad("venlafaxine", "Venlafaxine", _A.SNRI),
        _ad("desvenlafaxine", "Desvenlafaxine", _A.SNRI),
        _ad("duloxetine", "Duloxetine", _A.SNRI),
        _ad("levomilnacipran", "Levomilnacipran", _A.SNRI),
        _ad("amitriptyline", "Amitriptyline", _A.TCA),
        _ad("nortriptyline", "Nortriptyline", _A.TCA),
        _ad("imipramine", "Imipramine", _A.TCA),
        _ad("clomipramine", "Clomipramine", _A.TCA),
        _ad("desipramine", "Desipramine", _A.TCA),
        _ad("phenelzine", "Phenelzine", _A.MAOI),
        _ad("tranylcypromine", "Tranylcypromine", _A.MAOI),
        _ad("isocarboxazid", "Isocarboxazid", _A.MAOI),
        _ad("selegiline_transdermal", "Selegiline (transdermal)", _A.MAOI),
        _ad("bupropion", "Bupropion", _A.NDRI),
        _ad("mirtazapine", "Mirtazapine", _A.NASSA),
        _ad("trazodone", "Trazodone", _A.SARI),
        _ad("nefazodone", "Nefazodone", _A.SARI),
        _ad("vortioxetine", "Vortioxetine", _A.SEROTONIN_MODULATOR),
        _ad("vilazodone", "Vilazodone", _A.SEROTONIN_MODULATOR),
        _ad("agomelatine", "Agomelatine", _A.OTHER),
        _drug("alprazolam", "Alprazolam", _M.BENZODIAZEPINE),
        _drug("clonazepam", "Clonazepam", _M.BENZODIAZEPINE),
        _drug("diazepam", "Diazepam", _M.BENZODIAZEPINE),
        _drug("lorazepam", "Lorazepam", _M.BENZODIAZEPINE),
        _drug("temazepam", "Temazepam", _M.BENZODIAZEPINE),
        _drug("chlordiazepoxide", "Chlordiazepoxide", _M.BENZODIAZEPINE),
        _drug("zolpidem", "Zolpidem", _M.NONBENZODIAZEPINE_HYPNOTIC),
        _drug("zopiclone", "Zopiclone", _M.NONBENZODIAZEPINE_HYPNOTIC),
        _drug("eszopiclone", "Eszopiclone", _M.NONBENZODIAZEPINE_HYPNOTIC),
        _drug("zaleplon", "Zaleplon", _M.NONBENZODIAZEPINE_HYPNOTIC),
        _drug("oxycodone", "Oxycodone", _M.OPIOID),
        _drug("hydrocodone", "Hydrocodone", _M.OPIOID),
        _drug("morphine", "Morphine", _M.OPIOID),
        _drug("tramadol", "Tramadol", _M.OPIOID),
        _drug("codeine", "Codeine", _M.OPIOID),
        _drug("buprenorphine", "Buprenorphine", _M.OPIOID),
        _drug("methadone", "Methadone", _M.OPIOID),
        _drug("fentanyl", "Fentanyl", _M.OPIOID),
        _drug("amphetamine", "Amphetamine (mixed salts)", _M.PSYCHOSTIMULANT),
        _drug("lisdexamfetamine", "Lisdexamfetamine", _M.PSYCHOSTIMULANT),
        _drug("methylphenidate", "Methylphenidate", _M.PSYCHOSTIMULANT),
        _drug("modafinil", "Modafinil", _M.PSYCHOSTIMULANT),
        _drug("armodafinil", "Armodafinil", _M.PSYCHOSTIMULANT),
        _drug("levothyroxine", "Levothyroxine", _M.LEVOTHYROXINE),
        _drug("liothyronine", "Liothyronine", _M.LEVOTHYROXINE),
        _drug("theophylline", "Theophylline", _M.XANTHINE),
        _drug("aminophylline", "Aminophylline", _M.XANTHINE),
        _drug("lamotrigine", "Lamotrigine", _M.LAMOTRIGINE),
        _drug("naltrexone", "Naltrexone", _M.NALTREXONE),
        _drug("lithium", "Lithium"),
        _drug("quetiapine", "Quetiapine"),
        _drug("aripiprazole", "Aripiprazole"),
        _drug("olanzapine", "Olanzapine"),
        _drug("lisinopril", "Lisinopril"),
        _drug("amlodipine", "Amlodipine"),
        _drug("metoprolol", "Metoprolol"),
        _drug("atorvastatin", "Atorvastatin"),
        _drug("metformin", "Metformin"),
        _drug("gabapentin", "Gabapentin"),
        _drug("memantine", "Memantine"),
        _drug(OTHER_DRUG, "Other (not in the lexicon)"),
    )
}

ANTIDEPRESSANTS: dict[str, Drug] = {code: d for code, d in DRUGS.items() if d.is_antidepressant}


def medication_classes(
    drug_codes: list[str] | tuple[str, ...] | frozenset[str],
) -> frozenset[MedicationClass]:
    """The interaction-relevant classes of a list of lexicon drugs; unknown codes raise ValueError."""
    classes: set[MedicationClass] = set()
    for code in drug_codes:
        if code not in DRUGS:
            raise ValueError(f"unknown drug code: {code!r}")
        classes |= DRUGS[code].classes
    return frozenset(classes)


class Sex(StrEnum):
    """Administrative sex as recorded (the FHIR administrative-gender codes)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"
