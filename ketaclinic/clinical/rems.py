"""SPRAVATO REMS duties and the per-session medication screen (reference 1.8 and 7).

The exact current Patient Monitoring Form layout is UNVERIFIED in the reference, so only the duties it states
are encoded here; the submission schema belongs with whoever checks the live form.
"""

from __future__ import annotations

from datetime import date, timedelta

from ketaclinic.clinical.common import ESKETAMINE, RACEMIC, Area, Level, Modality, Rule, parse_modality
from ketaclinic.clinical.vocab import MedicationClass

MONITORING_FORM_DAYS = 7
"""Submit the Patient Monitoring Form within 7 days of the session [S14], [S15]."""

_MC = MedicationClass
REMS_FORM_MEDICATION_CLASSES: tuple[MedicationClass, ...] = (
    _MC.BENZODIAZEPINE,
    _MC.NONBENZODIAZEPINE_HYPNOTIC,
    _MC.PSYCHOSTIMULANT,
    _MC.MAOI,
    _MC.OPIOID,
)
"""The concomitant medications the form asks about (opioids on the newer walkthrough) [S14], [S15]."""

RACEMIC_EXTRA_MEDICATION_CLASSES: tuple[MedicationClass, ...] = (
    _MC.LEVOTHYROXINE,
    _MC.XANTHINE,
    _MC.LAMOTRIGINE,
    _MC.NALTREXONE,
)
"""The further classes section 7 of the reference asks to screen for with racemic ketamine."""


def _rule(rule_id: str, level: Level, text: str, sources: tuple[str, ...]) -> Rule:
    return Rule(rule_id, Area.REMS, level, ESKETAMINE, text, sources)


RULE_ENROL = _rule(
    "REMS-ENROL-BEFORE-FIRST",
    Level.LIMIT,
    "Outpatient settings enrol each patient in the SPRAVATO REMS before the first treatment.",
    ("S16a", "S15"),
)
RULE_FORM = _rule(
    "REMS-MONITORING-FORM-7D",
    Level.SCHEDULE,
    "Outpatient settings submit a Patient Monitoring Form after every session, within 7 days (the form says "
    "'within 7 days'; a vendor guide reads it as calendar days). Inpatient settings do not, but report all "
    "suspected adverse events.",
    ("S14", "S15", "S16a", "S16b", "S27"),
)
RULE_NO_HOME = _rule(
    "REMS-NO-HOME-USE",
    Level.LIMIT,
    "Esketamine is never dispensed to a patient for home use.",
    ("S15",),
)
RULE_SETTING = _rule(
    "REMS-SETTING",
    Level.LIMIT,
    "A certified setting has a prescriber on site during administration and monitoring, healthcare "
    "provider(s) and a pulse oximeter on site.",
    ("S13",),
)
RULE_MED_SCREEN = Rule(
    "SESSION-MEDICATION-SCREEN",
    Area.REMS,
    Level.SCHEDULE,
    ESKETAMINE | RACEMIC,
    "Screen medications at each session: benzodiazepines, non-benzodiazepine hypnotics, opioids, "
    "psychostimulants and MAOIs (REMS form fields), plus levothyroxine, xanthines, lamotrigine and "
    "naltrexone for racemic ketamine.",
    ("S14", "S15", "K18", "K17", "K19b", "K20"),
)

RULES: tuple[Rule, ...] = (RULE_ENROL, RULE_FORM, RULE_NO_HOME, RULE_SETTING, RULE_MED_SCREEN)


def monitoring_form_due(session_date: date) -> date:
    """The last day to submit the session's Patient Monitoring Form (calendar days) [S14], [S27]."""
    return session_date + timedelta(days=MONITORING_FORM_DAYS)


def session_medication_screen(modality: str) -> tuple[MedicationClass, ...]:
    """The medication classes to ask about before each session of `modality`."""
    if parse_modality(modality) is Modality.ESKETAMINE_NASAL:
        return REMS_FORM_MEDICATION_CLASSES
    return REMS_FORM_MEDICATION_CLASSES + RACEMIC_EXTRA_MEDICATION_CLASSES
