"""The clinical picture at the top of a chart: TRD status, a decision per modality, and safety flags.

`clinical_picture()` maps what the chart has already loaded onto the clinical library's `PatientFacts`
and asks the library (`clinical.eligibility.screen_all`, `clinical.trd`) for everything it shows; it
issues no query and nothing is stored, so the picture always follows the record and the rule set in
force. Every finding carries its rule id and its sources with their full citations, so a clinician can
trace each cell and chip.

`flags_for_patients()` gives the same safety flags for a page of the patient list in a fixed number of
queries (three, whatever the page size), and `listed_flags()` from the facts the actions store per
patient (`list_facts`, patients/listfacts.py), for the search page.

Nothing here restates a clinical number: blood-pressure levels, TRD counts and trial lengths are the
library's and the clinic policy's. The flags are views of the screening findings, chosen by the codes that
trigger them (`eligibility.rules_triggered_by`) or by the policy fields their rules read.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

from ketaclinic import fastload
from ketaclinic.clinical import eligibility, trd
from ketaclinic.clinical.common import Level, Modality, Rule
from ketaclinic.clinical.eligibility import Decision, Finding, PatientFacts, Screening
from ketaclinic.clinical.policy import DEFAULT_POLICY, ClinicPolicy
from ketaclinic.clinical.rules import RULESET_VERSION
from ketaclinic.clinical.sources import SOURCES
from ketaclinic.clinical.vocab import CONDITIONS, DRUGS, MEDICATION_CLASS_LABELS, MedicationClass
from ketaclinic.patients.models import (
    Allergy,
    AntidepressantTrial,
    BodyMeasurement,
    Condition,
    EntryStatus,
    Medication,
    Patient,
    PatientEntry,
    PregnancyStatus,
    SubstanceUse,
)

ACTIVE = EntryStatus.ACTIVE
_E = TypeVar("_E", bound=PatientEntry)


class Tone(StrEnum):
    """How loudly the chart shows something: the design system's badge colours."""

    OK = "ok"
    DANGER = "danger"
    WARN = "warn"
    INFO = "info"
    MUTED = "muted"


MODALITY_LABELS: dict[Modality, str] = {
    Modality.IV_KETAMINE: "IV ketamine",
    Modality.IM_KETAMINE: "IM ketamine",
    Modality.ESKETAMINE_NASAL: "Esketamine nasal",
    Modality.ORAL_KETAMINE: "Oral ketamine",
    Modality.HOME_KETAMINE: "At-home ketamine",
}
DECISION_LABELS: dict[Decision, str] = {
    Decision.ELIGIBLE: "Eligible",
    Decision.NEEDS_REVIEW: "Needs review",
    Decision.INELIGIBLE: "Ineligible",
}
DECISION_TONES: dict[Decision, Tone] = {
    Decision.ELIGIBLE: Tone.OK,
    Decision.NEEDS_REVIEW: Tone.WARN,
    Decision.INELIGIBLE: Tone.DANGER,
}
LEVEL_TONES: dict[Level, Tone] = {
    Level.CONTRAINDICATED: Tone.DANGER,
    Level.ACKNOWLEDGE: Tone.WARN,
    Level.CAUTION: Tone.INFO,
    Level.INFO: Tone.MUTED,
}
LEVEL_LABELS: dict[Level, str] = {
    Level.CONTRAINDICATED: "Contraindicated",
    Level.ACKNOWLEDGE: "Acknowledge",
    Level.CAUTION: "Caution",
    Level.INFO: "Info",
}
_FLAG_ORDER = (Tone.DANGER, Tone.WARN, Tone.INFO)

# The screening rules each flag rests on, found from what triggers them rather than listed by hand.
_HYPERSENSITIVITY_RULES = frozenset(r.id for r in eligibility.rules_triggered_by("ketamine_hypersensitivity"))
_PSYCHOSIS_RULES = frozenset(r.id for r in eligibility.rules_triggered_by("psychosis_history"))
_BP_POLICY_FIELDS = frozenset(
    {"esketamine_bp_acknowledge", "esketamine_bp_defer", "ketamine_bp_acknowledge", "ketamine_bp_defer"}
)
_BP_RULES = frozenset(
    r.id for r in eligibility.RULES if _BP_POLICY_FIELDS & set(r.policy_fields)
) | frozenset(r.id for r in eligibility.rules_triggered_by("uncontrolled_hypertension"))
# Pregnancy and breastfeeding are facts, not codes; their rules are named by their stable ids.
PREGNANCY_RULES = frozenset({"ELIG-ALL-ACK-PREGNANCY"})
BREASTFEEDING_RULES = frozenset({"ELIG-ESK-BREASTFEEDING", "ELIG-KET-BREASTFEEDING"})
# "Antidepressant" is a trial class, not an interaction (as in queries.interaction_classes).
_INTERACTION_CLASSES = tuple(c for c in MedicationClass if c is not MedicationClass.ANTIDEPRESSANT)


# --- What the picture holds ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    tag: str
    citation: str


@dataclass(frozen=True, slots=True)
class PictureFinding:
    """One screening finding, ready to show: level and tone, the message, and sources with citations."""

    rule_id: str
    level: Level
    level_label: str
    tone: Tone
    message: str
    sources: tuple[Source, ...]
    escalated_by_policy: bool = False


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A definition rule the TRD status rests on."""

    rule_id: str
    description: str
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class TRDStatus:
    meets_definition: bool
    current_episode_failures: int
    adequate_failures: int
    min_trial_weeks: int
    mgh_score: Decimal
    maudsley_score: int | None
    maudsley_band: str | None
    maudsley_missing: tuple[str, ...]
    rules: tuple[RuleRef, ...]


@dataclass(frozen=True, slots=True)
class ModalityCell:
    """The screening decision for one modality, its first reason and every finding behind it."""

    modality: Modality
    label: str
    decision: Decision
    decision_label: str
    tone: Tone
    first_reason: str
    findings: tuple[PictureFinding, ...]


@dataclass(frozen=True, slots=True)
class Flag:
    """A safety chip: what it is, how loud, a one-line detail, and the findings it rests on."""

    key: str
    label: str
    level: Tone
    detail: str
    findings: tuple[PictureFinding, ...]


@dataclass(frozen=True, slots=True)
class RestingVitals:
    """The latest resting blood pressure screening read, and the heart rate taken with it."""

    systolic_mmhg: int
    diastolic_mmhg: int
    heart_rate_bpm: int | None
    measured_on: dt.date


@dataclass(frozen=True, slots=True)
class Picture:
    age: int
    resting: RestingVitals | None
    trd: TRDStatus
    modalities: tuple[ModalityCell, ...]
    flags: tuple[Flag, ...]
    ruleset_version: str


# --- Building it -------------------------------------------------------------------------------------------


def age_on(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def latest_resting_bp(measurements: Iterable[BodyMeasurement]) -> BodyMeasurement | None:
    """The most recent measurement with a blood pressure (by day measured, then when entered)."""
    with_bp = [m for m in measurements if m.systolic_mmhg is not None and m.diastolic_mmhg is not None]
    return max(with_bp, key=lambda m: (m.measured_on, m.created_at, m.pk or 0), default=None)


def _active(entries: Iterable[_E]) -> list[_E]:
    return [e for e in entries if e.status == ACTIVE]


def _trial(t: AntidepressantTrial) -> trd.Trial:
    return trd.Trial(
        drug=t.drug,
        adequate_dose=t.adequate_dose,
        weeks=Decimal(t.weeks_at_dose),
        outcome=trd.TrialOutcome(t.outcome),
        current_episode=t.current_episode,
        dose_optimised=t.dose_optimised,
        augmented=t.augmented,
    )


def patient_facts(
    patient: Patient,
    *,
    conditions: Iterable[Condition],
    medications: Iterable[Medication],
    allergies: Iterable[Allergy],
    trials: Iterable[AntidepressantTrial],
    measurements: Iterable[BodyMeasurement],
    substance_uses: Iterable[SubstanceUse] = (),
    today: dt.date,
) -> PatientFacts:
    """The chart's data as the clinical library's facts. Only active entries count.

    An active ketamine-related allergy is recorded hypersensitivity [S7], and a substance-use entry that
    meets criteria for a use disorder is a substance use disorder, so screening sees both even when no
    condition was coded for them. Trials keep their episode; staging counts the current episode's.
    """
    bp = latest_resting_bp(measurements)
    return _facts(
        age=age_on(patient.date_of_birth, today),
        sex=patient.sex,
        codes=frozenset(c.code for c in _active(conditions)),
        ketamine_allergy=any(a.ketamine_related for a in _active(allergies)),
        use_disorder=any(s.use_disorder for s in _active(substance_uses)),
        drugs=frozenset(m.drug for m in _active(medications)),
        trials=tuple(_trial(t) for t in _active(trials)),
        resting=(bp.systolic_mmhg, bp.diastolic_mmhg) if bp else None,
        pregnant=patient.pregnancy_status == PregnancyStatus.PREGNANT,
        breastfeeding=bool(patient.breastfeeding),
    )


def _facts(
    *,
    age: int,
    sex: str,
    codes: frozenset[str],
    ketamine_allergy: bool,
    use_disorder: bool,
    drugs: frozenset[str],
    trials: tuple[trd.Trial, ...],
    resting: tuple[int | None, int | None] | None,
    pregnant: bool,
    breastfeeding: bool,
) -> PatientFacts:
    """PatientFacts from active entries already reduced to what screening reads (patient_facts, and the
    list's flags, which load only these columns)."""
    conditions = {c for c in codes if c in CONDITIONS}
    if ketamine_allergy:
        conditions.add("ketamine_hypersensitivity")
    if use_disorder:
        conditions.add("substance_use_disorder")
    classes: set[str] = set()
    for drug in drugs:
        if drug in DRUGS:
            classes |= DRUGS[drug].classes
    return PatientFacts(
        age=age,
        sex=sex,
        conditions=frozenset(conditions),
        medication_classes=frozenset(classes),
        trials=trials,
        resting_systolic_mmhg=resting[0] if resting else None,
        resting_diastolic_mmhg=resting[1] if resting else None,
        pregnant=pregnant,
        breastfeeding=breastfeeding,
    )


def clinical_picture(
    patient: Patient,
    *,
    conditions: Sequence[Condition],
    medications: Sequence[Medication],
    allergies: Sequence[Allergy],
    trials: Sequence[AntidepressantTrial],
    measurements: Sequence[BodyMeasurement],
    substance_uses: Sequence[SubstanceUse] = (),
    today: dt.date,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> Picture:
    """The picture from entries already loaded (any status; only active ones count). Issues no query."""
    facts = patient_facts(
        patient,
        conditions=conditions,
        medications=medications,
        allergies=allergies,
        trials=trials,
        measurements=measurements,
        substance_uses=substance_uses,
        today=today,
    )
    resting = _resting(measurements)
    ketamine_allergies = tuple(_allergy_text(a) for a in _active(allergies) if a.ketamine_related)
    drugs = frozenset(m.drug for m in _active(medications))
    trd_status, cells, flags = _judged(facts, policy, ketamine_allergies, drugs, resting)
    return Picture(
        age=facts.age,
        resting=resting,
        trd=trd_status,
        modalities=cells,
        flags=flags,
        ruleset_version=RULESET_VERSION,
    )


@lru_cache(maxsize=4096)
def _judged(
    facts: PatientFacts,
    policy: ClinicPolicy,
    ketamine_allergies: tuple[str, ...],
    drugs: frozenset[str],
    resting: RestingVitals | None,
) -> tuple[TRDStatus, tuple[ModalityCell, ...], tuple[Flag, ...]]:
    """The picture's staging, cells and flags: a pure function of its (frozen) arguments, so made once per
    distinct chart and policy (screenings are cached already; building the five cells of findings with
    their sources and the flags cost 66-77 us of a chart, against 21-25 us for the whole picture now)."""
    screenings = _screenings(facts, policy)
    return (
        _trd_status(screenings[0].trd),
        tuple(_cell(s) for s in screenings),
        _flags(facts, screenings, ketamine_allergies, drugs, resting),
    )


@lru_cache(maxsize=4096)
def _screenings(facts: PatientFacts, policy: ClinicPolicy) -> tuple[Screening, ...]:
    """`eligibility.screen_all`, cached by its arguments: it is a pure function of the facts and the
    policy (both frozen), and the same patients are screened again each time a list page or a chart is
    shown. Screening 25 patients cost the search page about 6 ms a request (docs/performance.md)."""
    return eligibility.screen_all(facts, policy)


def _resting(measurements: Iterable[BodyMeasurement]) -> RestingVitals | None:
    bp = latest_resting_bp(measurements)
    if bp is None or bp.systolic_mmhg is None or bp.diastolic_mmhg is None:
        return None
    return RestingVitals(bp.systolic_mmhg, bp.diastolic_mmhg, bp.heart_rate_bpm, bp.measured_on)


def _sources(tags: Iterable[str]) -> tuple[Source, ...]:
    return tuple(Source(tag, SOURCES.get(tag, "")) for tag in tags)


def _finding(f: Finding) -> PictureFinding:
    return PictureFinding(
        rule_id=f.rule_id,
        level=f.level,
        level_label=LEVEL_LABELS.get(f.level, str(f.level)),
        tone=LEVEL_TONES.get(f.level, Tone.MUTED),
        message=f.message,
        sources=_sources(f.sources),
        escalated_by_policy=f.escalated_by_policy,
    )


def _rule_ref(rule: Rule) -> RuleRef:
    return RuleRef(rule.id, rule.description, _sources(rule.sources))


def _trd_status(a: trd.TRDAssessment) -> TRDStatus:
    return TRDStatus(
        meets_definition=a.is_trd,
        current_episode_failures=a.current_episode_failures,
        adequate_failures=a.adequate_failures,
        min_trial_weeks=a.min_trial_weeks,
        mgh_score=a.mgh_score,
        maudsley_score=a.maudsley_score,
        maudsley_band=a.maudsley_band,
        maudsley_missing=a.maudsley_missing,
        rules=tuple(_rule_ref(r) for r in trd.RULES),
    )


def _cell(s: Screening) -> ModalityCell:
    findings = tuple(_finding(f) for f in s.findings)  # the library sorts them, highest level first
    return ModalityCell(
        modality=s.modality,
        label=MODALITY_LABELS[s.modality],
        decision=s.decision,
        decision_label=DECISION_LABELS[s.decision],
        tone=DECISION_TONES[s.decision],
        first_reason=findings[0].message if findings else "No screening rule fired.",
        findings=findings,
    )


def _matching(screenings: Sequence[Screening], wanted: frozenset[str] | None = None) -> list[Finding]:
    """Findings across modalities, each rule once (its highest level), in the library's order."""
    best: dict[str, Finding] = {}
    for s in screenings:
        for f in s.findings:
            if wanted is not None and f.rule_id not in wanted:
                continue
            kept = best.get(f.rule_id)
            if kept is None or _rank(f.level) < _rank(kept.level):
                best[f.rule_id] = f
    return sorted(best.values(), key=lambda f: (_rank(f.level), f.rule_id))


def _rank(level: Level) -> int:
    levels = eligibility.SCREENING_LEVELS
    return levels.index(level) if level in levels else len(levels)


def _loudest(findings: Sequence[Finding], floor: Tone = Tone.INFO) -> Tone:
    tones = [LEVEL_TONES.get(f.level, Tone.MUTED) for f in findings]
    for tone in (Tone.DANGER, Tone.WARN):
        if tone in tones:
            return tone
    if Tone.INFO in tones:  # a caution: worth a chip that says "watch"
        return Tone.WARN
    return floor


def _flag(key: str, label: str, level: Tone, detail: str, findings: Sequence[Finding]) -> Flag:
    return Flag(key, label, level, detail, tuple(_finding(f) for f in findings))


def _flags(
    facts: PatientFacts,
    screenings: Sequence[Screening],
    ketamine_allergies: Sequence[str],
    drugs: Iterable[str],
    resting: RestingVitals | None,
) -> tuple[Flag, ...]:
    """The safety flags. `ketamine_allergies`: each active ketamine-related allergy as the chip's detail
    names it; `drugs`: the codes of the active medications."""
    flags: list[Flag] = []
    contraindicated = [f for f in _matching(screenings) if f.level is Level.CONTRAINDICATED]
    if contraindicated:
        where = [MODALITY_LABELS[s.modality] for s in screenings if s.decision is Decision.INELIGIBLE]
        flags.append(
            _flag(
                "contraindication",
                "Contraindicated",
                Tone.DANGER,
                "Ineligible for " + ", ".join(where) + ".",
                contraindicated,
            )
        )
    if "ketamine_hypersensitivity" in facts.conditions:
        detail = "; ".join(ketamine_allergies) or CONDITIONS["ketamine_hypersensitivity"].display
        flags.append(
            _flag(
                "ketamine_allergy",
                "Ketamine allergy",
                Tone.DANGER,
                detail,
                _matching(screenings, _HYPERSENSITIVITY_RULES),
            )
        )
    if facts.pregnant:
        flags.append(
            _flag(
                "pregnancy",
                "Pregnant",
                Tone.DANGER,
                "Pregnancy recorded.",
                _matching(screenings, PREGNANCY_RULES),
            )
        )
    bp = _matching(screenings, _BP_RULES)
    if bp:
        reading = (
            f"Resting BP {resting.systolic_mmhg}/{resting.diastolic_mmhg} mmHg "
            f"on {resting.measured_on.isoformat()}."
            if resting is not None
            else ""
        )
        coded = CONDITIONS["uncontrolled_hypertension"].display + " recorded."
        detail = " ".join(
            part
            for part in (reading, coded if "uncontrolled_hypertension" in facts.conditions else "")
            if part
        )
        flags.append(_flag("blood_pressure", "Blood pressure", _loudest(bp), detail, bp))
    if "psychosis_history" in facts.conditions:
        flags.append(
            _flag(
                "psychosis_history",
                "Psychosis history",
                Tone.WARN,
                CONDITIONS["psychosis_history"].display + " recorded.",
                _matching(screenings, _PSYCHOSIS_RULES),
            )
        )
    if facts.breastfeeding:
        found = _matching(screenings, BREASTFEEDING_RULES)
        flags.append(_flag("breastfeeding", "Breastfeeding", Tone.WARN, "Breastfeeding recorded.", found))
    for cls in _INTERACTION_CLASSES:
        if cls not in facts.medication_classes:
            continue
        found = _matching(screenings, frozenset(r.id for r in eligibility.rules_triggered_by(cls)))
        if not found:
            continue
        names = sorted({DRUGS[d].display for d in drugs if d in DRUGS and cls in DRUGS[d].classes})
        flags.append(
            _flag(
                f"medication:{cls}",
                MEDICATION_CLASS_LABELS[cls],
                _loudest(found),
                ", ".join(names) + ".",
                found,
            )
        )
    return tuple(sorted(flags, key=lambda f: _FLAG_ORDER.index(f.level)))


def _allergy_text(a: Allergy) -> str:
    parts = [a.substance]
    if a.reaction:
        parts.append(a.reaction)
    return ": ".join(parts)


# --- The patient list ---------------------------------------------------------------------------------------

FLAGS_QUERIES = 3
"""Queries `flags_for_patients` issues for any page: the patients; their active conditions, medications,
ketamine-related allergies and substance use disorders (one UNION ALL); their resting blood pressures.
The last two are `list_facts`, which the actions also store per patient (patients/listfacts.py) for the
search page to read with its rows (`listed_flags`)."""

_PATIENT_TABLE = Patient._meta.db_table
# (kind, model, first column, second column, extra condition): what each entry contributes to the flags.
_LISTED: tuple[tuple[str, type[Model], str, str, str], ...] = (
    ("condition", Condition, "code", "''", ""),
    ("medication", Medication, "drug", "''", ""),
    ("allergy", Allergy, "substance", "reaction", " AND ketamine_related = %s"),
    ("disorder", SubstanceUse, "''", "''", " AND use_disorder = %s"),
)


@lru_cache(maxsize=4)
def _flag_sql(size: int) -> tuple[str, str, str]:
    """The three SELECTs for `size` patients (a page is almost always 25, a stored refresh 1: cached for
    the last few sizes). Tables and columns come from the models; every value is a parameter."""
    marks = ", ".join(["%s"] * size)
    patients = (
        f"SELECT id, date_of_birth, sex, pregnancy_status, breastfeeding FROM {_PATIENT_TABLE} "  # noqa: S608
        f"WHERE id IN ({marks})"
    )
    entries = " UNION ALL ".join(
        f"SELECT patient_id, '{kind}', {first}, {second}, created_at, id "  # noqa: S608 - from the models
        f"FROM {model._meta.db_table} WHERE patient_id IN ({marks}) AND status = %s{extra}"
        for kind, model, first, second, extra in _LISTED
    )
    pressures = (
        "SELECT patient_id, systolic_mmhg, diastolic_mmhg, heart_rate_bpm, measured_on "  # noqa: S608
        f"FROM {BodyMeasurement._meta.db_table} WHERE patient_id IN ({marks}) "
        "AND systolic_mmhg IS NOT NULL AND diastolic_mmhg IS NOT NULL "
        "ORDER BY patient_id, measured_on DESC, created_at DESC, id DESC"
    )
    return patients, entries + " ORDER BY 5, 6", pressures


def list_facts(patient_ids: Iterable[str | uuid.UUID]) -> dict[str, str]:
    """What each patient's list flags are computed from besides the patient row, keyed by str(patient
    id), as the canonical JSON text that PatientListFacts stores: the active condition codes and
    medication drugs (sorted), the active ketamine-related allergies as a chip names them (in chart
    order), whether an active substance use is a use disorder, and the latest resting blood pressure.
    Two queries whatever the number of patients; every patient given has facts, empty ones included."""
    given = list(patient_ids)
    if not given:
        return {}
    ids = [str(i) for i in given]
    # Once, for both queries; from the ids as given (a UUID is prepared without parsing its text again).
    prepared = fastload.params(Patient, "id", given)
    key_of = dict(zip(prepared, ids, strict=True))
    _, entries_sql, pressures_sql = _flag_sql(len(ids))
    extra = {"allergy": [True], "disorder": [True]}
    entry_params = [v for kind, *_ in _LISTED for v in (*prepared, ACTIVE, *extra.get(kind, []))]
    with connection.cursor() as cursor:
        cursor.execute(entries_sql, entry_params)
        entries = cursor.fetchall()
        cursor.execute(pressures_sql, prepared)
        pressures = cursor.fetchall()
    codes: dict[str, set[str]] = defaultdict(set)
    drugs: dict[str, set[str]] = defaultdict(set)
    allergies: dict[str, list[str]] = defaultdict(list)
    disorders: set[str] = set()
    for pid, kind, first, second, _created, _id in entries:
        key = key_of[pid]
        if kind == "condition":
            codes[key].add(first)
        elif kind == "medication":
            drugs[key].add(first)
        elif kind == "allergy":
            allergies[key].append(f"{first}: {second}" if second else first)
        else:
            disorders.add(key)
    resting: dict[str, list[Any]] = {}
    for pid, systolic, diastolic, heart_rate, measured_on in pressures:  # each patient's latest first
        resting.setdefault(key_of[pid], [systolic, diastolic, heart_rate, _day(measured_on).isoformat()])
    return {
        key: json.dumps(
            {
                "codes": sorted(codes.get(key, ())),
                "drugs": sorted(drugs.get(key, ())),
                "ketamine_allergies": allergies.get(key, []),
                "use_disorder": key in disorders,
                "resting_bp": resting.get(key),
            },
            separators=(",", ":"),
        )
        for key in ids
    }


@lru_cache(maxsize=8192)
def _decoded(
    facts: str,
) -> tuple[frozenset[str], frozenset[str], tuple[str, ...], bool, RestingVitals | None]:
    """`list_facts` text as the flags read it, decoded once per distinct text (most patients share a few)."""
    found = json.loads(facts)
    bp = found["resting_bp"]
    return (
        frozenset(found["codes"]),
        frozenset(found["drugs"]),
        tuple(found["ketamine_allergies"]),
        bool(found["use_disorder"]),
        RestingVitals(bp[0], bp[1], bp[2], dt.date.fromisoformat(bp[3])) if bp else None,
    )


def listed_flags(
    facts: str,
    *,
    date_of_birth: dt.date | str,
    sex: str,
    pregnancy_status: str,
    breastfeeding: bool,
    today: dt.date,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> tuple[Flag, ...]:
    """A listed patient's safety flags from its `list_facts` text and its own row: no query. The same
    flags as `clinical_picture`'s (the age and the policy are applied now, never stored)."""
    codes, drugs, ketamine_allergies, use_disorder, resting = _decoded(facts)
    shown = _ListedPatient(
        age=age_on(_day(date_of_birth), today),
        sex=sex,
        pregnant=pregnancy_status == PregnancyStatus.PREGNANT,
        breastfeeding=bool(breastfeeding),
        codes=codes,
        drugs=drugs,
        ketamine_allergies=ketamine_allergies,
        use_disorder=use_disorder,
        resting=resting,
    )
    return _list_flags(shown, policy)


def flags_for_patients(
    patient_ids: Iterable[str | uuid.UUID],
    *,
    today: dt.date,
    policy: ClinicPolicy = DEFAULT_POLICY,
) -> dict[str, list[Flag]]:
    """Safety flags for a page of patients the caller may already see, keyed by str(patient id), read
    from the entries themselves (the search page reads the stored `list_facts` instead).

    Three queries whatever the page size (FLAGS_QUERIES). The flags are those of `clinical_picture`: none
    of them depends on the treatment history, so trials are not loaded.

    Only the columns the flags read are loaded, as plain rows, and the flags are cached by what they are
    computed from (`_list_flags`): through model instances and the flags built afresh, a page of 25
    patients cost about 4 ms, and the same patients are listed again all day (docs/performance.md).
    """
    given = list(patient_ids)
    if not given:
        return {}
    prepared = fastload.params(Patient, "id", given)
    key_of = dict(zip(prepared, (str(i) for i in given), strict=True))
    patients_sql, _, _ = _flag_sql(len(given))
    with connection.cursor() as cursor:
        cursor.execute(patients_sql, prepared)
        patients = cursor.fetchall()
    facts = list_facts(given)
    out: dict[str, list[Flag]] = {}
    for pid, born, sex, pregnancy_status, breastfeeding in patients:
        key = key_of[pid]
        out[key] = list(
            listed_flags(
                facts[key],
                date_of_birth=born,
                sex=sex,
                pregnancy_status=pregnancy_status,
                breastfeeding=breastfeeding,
                today=today,
                policy=policy,
            )
        )
    return out


def _day(value: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # SQLite gives text


@dataclass(frozen=True, slots=True)
class _ListedPatient:
    """Everything a patient's list flags are computed from: the cache key of `_list_flags`."""

    age: int
    sex: str
    pregnant: bool
    breastfeeding: bool
    codes: frozenset[str]
    drugs: frozenset[str]
    ketamine_allergies: tuple[str, ...]
    use_disorder: bool
    resting: RestingVitals | None


@lru_cache(maxsize=8192)
def _list_flags(shown: _ListedPatient, policy: ClinicPolicy) -> tuple[Flag, ...]:
    """A listed patient's flags: a pure function of what it is given (frozen), so cached. Many patients
    share the same inputs (no entries that flag anything), and a list is shown again and again."""
    rest = shown.resting
    facts = _facts(
        age=shown.age,
        sex=shown.sex,
        codes=shown.codes,
        ketamine_allergy=bool(shown.ketamine_allergies),
        use_disorder=shown.use_disorder,
        drugs=shown.drugs,
        trials=(),
        resting=(rest.systolic_mmhg, rest.diastolic_mmhg) if rest else None,
        pregnant=shown.pregnant,
        breastfeeding=shown.breastfeeding,
    )
    return _flags(facts, _screenings(facts, policy), shown.ketamine_allergies, shown.drugs, rest)
