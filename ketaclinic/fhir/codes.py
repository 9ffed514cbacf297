"""Every code system, code and profile the FHIR mapping uses: one registry, so that a code is named once.

LOINC codes of the questionnaires come from the clinical library (clinical/scales.py, which cites them);
vital-sign codes and UCUM units from the R4 vital-signs value set and the US Core 6.1 profiles
(shared research notes, A1). QIDS-SR16, MADRS, MOAA/S, CADSS and the other instruments without a confirmed
LOINC code are local codes of KetaClinic's own CodeSystem, as are the clinic's condition, drug, adverse-event
and allergy-free-text vocabularies (no SNOMED, ICD-10 or RxNorm mapping is in the clinical reference yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ketaclinic.clinical.scales import FREQUENCY_ANSWER_CODES, INSTRUMENTS, ITEM_LOINC, Instrument

FHIR_VERSION = "4.0.1"

# --- Systems -------------------------------------------------------------------------------------------
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
ENCOUNTER_CLASS = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PROVENANCE_AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"
ADVERSE_EVENT_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
ADVERSE_EVENT_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
MEDREQUEST_CATEGORY = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

# KetaClinic's own systems: identifiers and the local code systems.
BASE = "https://ketaclinic.org/fhir"
MRN_SYSTEM = f"{BASE}/sid/mrn"
EXTERNAL_MRN_SYSTEM = f"{BASE}/sid/external-mrn"
SCALES = f"{BASE}/CodeSystem/scales"
CONDITIONS = f"{BASE}/CodeSystem/conditions"
DRUGS = f"{BASE}/CodeSystem/drugs"
ADVERSE_EVENTS = f"{BASE}/CodeSystem/adverse-events"
THERAPY_KINDS = f"{BASE}/CodeSystem/therapy-kinds"
QUESTIONNAIRE = f"{BASE}/Questionnaire"
TRIAL_OUTCOME_EXT = f"{BASE}/StructureDefinition/antidepressant-trial"

# --- Profiles ------------------------------------------------------------------------------------------
_US = "http://hl7.org/fhir/us/core/StructureDefinition"
PROFILE = {
    "Patient": f"{_US}/us-core-patient",
    "Condition": f"{_US}/us-core-condition-problems-health-concerns",
    "MedicationRequest": f"{_US}/us-core-medicationrequest",
    "AllergyIntolerance": f"{_US}/us-core-allergyintolerance",
    "Encounter": f"{_US}/us-core-encounter",
    "QuestionnaireResponse": f"{_US}/us-core-questionnaireresponse",
    "Provenance": f"{_US}/us-core-provenance",
    "screening": f"{_US}/us-core-observation-screening-assessment",
    "vital-signs": "http://hl7.org/fhir/StructureDefinition/vitalsigns",
    "blood-pressure": f"{_US}/us-core-blood-pressure",
    "heart-rate": f"{_US}/us-core-heart-rate",
    "pulse-oximetry": f"{_US}/us-core-pulse-oximetry",
    "body-weight": f"{_US}/us-core-body-weight",
    "body-height": f"{_US}/us-core-body-height",
}


@dataclass(frozen=True, slots=True)
class Code:
    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}

    def concept(self) -> dict[str, object]:
        return {"coding": [self.coding()], "text": self.display}

    @property
    def token(self) -> str:
        """The search token `system|code`."""
        return f"{self.system}|{self.code}"


# --- Vital signs (LOINC, with UCUM units) ---------------------------------------------------------------
VITAL_PANEL = Code(LOINC, "85353-1", "Vital signs panel")
BLOOD_PRESSURE = Code(LOINC, "85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = Code(LOINC, "8480-6", "Systolic blood pressure")
DIASTOLIC = Code(LOINC, "8462-4", "Diastolic blood pressure")
HEART_RATE = Code(LOINC, "8867-4", "Heart rate")
SPO2 = Code(LOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")
SPO2_ARTERIAL = Code(LOINC, "2708-6", "Oxygen saturation in Arterial blood")
BODY_WEIGHT = Code(LOINC, "29463-7", "Body weight")
BODY_HEIGHT = Code(LOINC, "8302-2", "Body height")

MMHG = {"unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}
PER_MIN = {"unit": "/min", "system": UCUM, "code": "/min"}
PERCENT = {"unit": "%", "system": UCUM, "code": "%"}
KG = {"unit": "kg", "system": UCUM, "code": "kg"}
CM = {"unit": "cm", "system": UCUM, "code": "cm"}
MG = {"unit": "mg", "system": UCUM, "code": "mg"}

VITAL_SIGNS_CATEGORY = Code(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")
SURVEY_CATEGORY = Code(OBSERVATION_CATEGORY, "survey", "Survey")
EXAM_CATEGORY = Code(OBSERVATION_CATEGORY, "exam", "Exam")
COGNITIVE_STATUS = Code(US_CORE_CATEGORY, "cognitive-status", "Cognitive Status")

# --- Questionnaires ---------------------------------------------------------------------------------------
# Display names of the local instrument codes (the instruments with no confirmed LOINC code).
_LOCAL_NAMES = {
    Instrument.QIDS_SR16: "QIDS-SR16 total score",
    Instrument.MADRS: "MADRS total score",
    Instrument.CADSS: "CADSS total score (dissociation)",
    Instrument.MOAAS: "MOAA/S score (sedation)",
    Instrument.CSSRS_SCREEN: "C-SSRS screener",
    Instrument.BPRS_POSITIVE: "BPRS positive symptoms total",
}


@cache
def instrument_name(instrument: str) -> str:
    return INSTRUMENTS[Instrument(instrument)].name


@cache
def total_code(instrument: str) -> Code:
    """The code of an instrument's total: LOINC where the clinical library gives one, else a local code."""
    kind = Instrument(instrument)
    loinc = INSTRUMENTS[kind].codes.total
    if loinc:
        return Code(LOINC, loinc, f"{INSTRUMENTS[kind].name} total score")
    return Code(SCALES, f"{kind.value}-total", _LOCAL_NAMES.get(kind, f"{kind.value} total"))


@cache
def panel_code(instrument: str) -> Code | None:
    kind = Instrument(instrument)
    loinc = INSTRUMENTS[kind].codes.panel
    return Code(LOINC, loinc, INSTRUMENTS[kind].name) if loinc else None


@cache
def item_code(instrument: str, index: int) -> Code:
    """The code of one item: its LOINC code where known, else `<instrument>-item-<n>` (1-based) locally."""
    kind = Instrument(instrument)
    items = INSTRUMENTS[kind].items
    label = items[index].label if index < len(items) else f"item {index + 1}"
    loinc = ITEM_LOINC.get(kind, ())
    if index < len(loinc):
        return Code(LOINC, loinc[index], label)
    return Code(SCALES, f"{kind.value}-item-{index + 1}", label)


@cache
def questionnaire_url(instrument: str) -> str:
    panel = panel_code(instrument)
    return f"http://loinc.org/q/{panel.code}" if panel else f"{QUESTIONNAIRE}/{instrument}"


# LOINC answer codes of the PHQ and GAD frequency items (answer list LL358-3).
FREQUENCY_ANSWERS: dict[int, Code] = {
    score: Code(LOINC, code, display) for score, code, display in FREQUENCY_ANSWER_CODES
}
FREQUENCY_INSTRUMENTS = frozenset({Instrument.PHQ9.value, Instrument.GAD7.value})

# --- Encounters ---------------------------------------------------------------------------------------------
AMBULATORY = Code(ENCOUNTER_CLASS, "AMB", "ambulatory")
VIRTUAL = Code(ENCOUNTER_CLASS, "VR", "virtual")
TREATMENT_SESSION = Code(f"{BASE}/CodeSystem/encounter-types", "treatment-session", "Treatment session")

# --- Consent ------------------------------------------------------------------------------------------------
CONSENT_TREATMENT = Code(CONSENT_SCOPE, "treatment", "Treatment")
CONSENT_DOCUMENT = Code(LOINC, "59284-0", "Consent Document")

PROVENANCE_AUTHOR = Code(PROVENANCE_AGENT_TYPE, "author", "Author")


def local(system: str, code: str, display: str) -> dict[str, object]:
    """A CodeableConcept in one of KetaClinic's local systems, with the text a reader needs."""
    return Code(system, code, display).concept()
