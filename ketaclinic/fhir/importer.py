"""Import of FHIR resources (an NDJSON file, a Bundle, or a transaction Bundle posted to /fhir/R4).

Patients are registered through the patients' own action (do_register_patient), with their conditions,
reported medications, antidepressant trials and allergies in the same call; their body measurements
(weight, height, blood pressure and heart rate measured outside a session) through do_record_measurement,
and their questionnaires and ratings (QuestionnaireResponse) through the assessments' do_record_assessment,
which scores them again under the receiving clinic's policy and raises the safety alerts any response
raises. One transaction per patient, so a refused patient leaves nothing behind. Resources are grouped by
the patient they belong to and loaded Patient first (dependency order), whatever order the file has;
responses are recorded in the order they were answered.

Duplicates are avoided by identifier: a Patient's KetaClinic MRN or external MRN (or the entry's
`ifNoneExist: identifier=system|value`) becomes the external MRN at the receiving location, and a patient
already holding it there is skipped, not registered twice. Everything not imported is reported with why,
resource by resource (SKIP_REASONS): a treatment session, a dose, a session's vitals and ratings, an adverse
event and a signed consent are charted in the clinic as they happen and are never recreated from a file.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from django.db import transaction
from pydantic import BaseModel, ValidationError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments import actions as assessment_actions
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import Source
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinical.scales import Instrument
from ketaclinic.errors import Forbidden, InvalidInput, NotFound, PossibleDuplicate, Refused
from ketaclinic.fhir import codes
from ketaclinic.patients import actions as patient_actions
from ketaclinic.patients import inputs
from ketaclinic.patients.models import EntryStatus, Patient

CREATED, SKIPPED, REFUSED = "created", "skipped", "refused"
# Types a patient's record is imported from (each resource of them is classified: `classify`); the others
# are reported as skipped, with the reason (SKIP_REASONS).
IMPORTED = (
    "Patient",
    "Condition",
    "MedicationRequest",
    "AllergyIntolerance",
    "Observation",
    "QuestionnaireResponse",
)
_CHARTED = "charted in the clinic as it happens, each step with its time and staff member"
SKIP_REASONS = {
    "Encounter": f"not imported: a treatment or therapy session is {_CHARTED}; it is not recreated from a "
    "file (the records that reference it are imported without it where they can be)",
    "MedicationAdministration": "not imported: a dose is recorded at its treatment session and dispensed "
    "from this clinic's controlled-substance ledger; a dose given elsewhere (lot {lot}) is not a dispensing "
    "of this clinic's stock",
    "AdverseEvent": "not imported: an adverse event is recorded at the treatment session it happened in, "
    "which is not imported",
    "Consent": "not imported: a consent is signed at this clinic, on the current version of its own "
    "document and in front of its witness; one signed elsewhere is not this clinic's consent",
    "Provenance": "not imported: the receiving clinic keeps its own provenance (the import's audit events)",
    "order": "not imported: orders (treatment plans) are prescribed in KetaClinic",
    "session": "not imported: recorded at a treatment session ({session}), which is not imported",
    "derived": "not imported: derived from {response}, which the import scores again (and checks the "
    "total against this one's)",
    "derived-alone": "not imported: derived from {response}, which is not in the file; scores are imported "
    "from their QuestionnaireResponse",
    "observation": "not imported: the Observations imported are weight, height, blood pressure and heart "
    "rate measured outside a session",
    "questionnaire": "not imported: {questionnaire} is not a questionnaire KetaClinic scores",
    "unfinished": "not imported: the response was not completed ({status})",
    "other": "not imported: KetaClinic does not import {type}",
}
# Kinds of member resources (`classify`): what each becomes, or SKIP (DERIVED: an Observation derived from a
# QuestionnaireResponse, skipped; its total is checked against the response's score here).
CONDITION, ALLERGY, HISTORY_MEDICATION, MEASUREMENT, RESPONSE, SKIP, DERIVED = (
    "condition",
    "allergy",
    "medication",
    "measurement",
    "response",
    "skip",
    "derived",
)


@dataclass
class EntryResult:
    index: int
    resource_type: str
    status: str
    reason: str = ""
    location: str = ""


@dataclass
class Report:
    entries: list[EntryResult] = field(default_factory=list)

    def count(self, status: str, resource_type: str | None = None) -> int:
        return sum(
            1
            for e in self.entries
            if e.status == status and (resource_type is None or e.resource_type == resource_type)
        )

    def summary(self) -> dict[str, int]:
        return {status: self.count(status) for status in (CREATED, SKIPPED, REFUSED)}


@dataclass
class _Item:
    index: int
    resource: dict[str, Any]
    if_none_exist: str = ""
    full_url: str = ""
    # What the resource becomes (`classify`), and why not when it is skipped.
    kind: str = ""
    reason: str = ""


@dataclass
class _Group:
    patient: _Item | None = None
    members: list[_Item] = field(default_factory=list)


def _r4b_problem(resource: dict[str, Any]) -> str:
    name = resource.get("resourceType")
    if not isinstance(name, str) or not name.isalpha():
        return "no resourceType"
    try:
        module = importlib.import_module(f"fhir.resources.R4B.{name.lower()}")
        getattr(module, name).model_validate(resource)
    except (ImportError, AttributeError):
        return f"unknown resource type {name}"
    except (ValidationError, ValueError) as exc:
        first = str(exc).splitlines()
        return "invalid FHIR: " + " ".join(first[1:3] if len(first) > 2 else first)[:200]
    return ""


def _patient_key(resource: dict[str, Any], full_url: str = "") -> set[str]:
    rid = resource.get("id")
    keys = {f"Patient/{rid}", f"urn:uuid:{rid}"} if rid else set()
    if full_url:
        keys.add(full_url)
    return keys


def _reference(holder: Any) -> str:
    return str(holder.get("reference", "")) if isinstance(holder, dict) else ""


def _owner_reference(resource: dict[str, Any]) -> str:
    return _reference(resource.get("subject") or resource.get("patient"))


# Observations measured outside a session (an intake measurement), by LOINC code, with the suffix of the id
# the export gives each (`bm-<row>-<suffix>`).
_MEASURED = {
    codes.BLOOD_PRESSURE.code: "bp",
    codes.HEART_RATE.code: "hr",
    codes.BODY_WEIGHT.code: "wt",
    codes.BODY_HEIGHT.code: "ht",
}
_QUESTIONNAIRES = {codes.questionnaire_url(i.value): i.value for i in Instrument}
_TOTALS = {codes.total_code(i.value).token for i in Instrument}


def _entered_in_error(resource: dict[str, Any]) -> bool:
    return "entered-in-error" in (
        resource.get("status"),
        _status_code(resource.get("verificationStatus")),
    )


def _classify_observation(resource: dict[str, Any]) -> tuple[str, str]:
    derived = [_reference(r) for r in resource.get("derivedFrom") or []]
    if any(r.startswith("QuestionnaireResponse/") or r.startswith("urn:") for r in derived):
        return DERIVED, SKIP_REASONS["derived"].format(response=derived[0])
    session = _reference(resource.get("encounter"))
    if session:
        return SKIP, SKIP_REASONS["session"].format(session=session)
    vital = any(
        _code_in(c, codes.OBSERVATION_CATEGORY) == codes.VITAL_SIGNS_CATEGORY.code
        for c in resource.get("category") or []
    )
    if vital and _code_in(resource.get("code"), codes.LOINC) in _MEASURED:
        return MEASUREMENT, ""
    return SKIP, SKIP_REASONS["observation"]


def classify(resource: dict[str, Any]) -> tuple[str, str]:
    """What a patient's resource becomes (CONDITION, ..., RESPONSE), or (SKIP, why not)."""
    kind = str(resource.get("resourceType") or "")
    if _entered_in_error(resource):
        return SKIP, "entered in error at the source"
    if kind == "Condition":
        return CONDITION, ""
    if kind == "AllergyIntolerance":
        return ALLERGY, ""
    if kind == "MedicationRequest":
        return (HISTORY_MEDICATION, "") if resource.get("intent") == "plan" else (SKIP, SKIP_REASONS["order"])
    if kind == "Observation":
        return _classify_observation(resource)
    if kind == "QuestionnaireResponse":
        questionnaire = str(resource.get("questionnaire") or "")
        if questionnaire not in _QUESTIONNAIRES:
            name = questionnaire or "a response without a questionnaire"
            return SKIP, SKIP_REASONS["questionnaire"].format(questionnaire=name)
        if resource.get("status") != "completed":
            return SKIP, SKIP_REASONS["unfinished"].format(status=resource.get("status") or "no status")
        return RESPONSE, ""
    if kind == "MedicationAdministration":
        lots = [
            str((c.get("batch") or {}).get("lotNumber") or "")
            for c in resource.get("contained") or []
            if isinstance(c, dict)
        ]
        return SKIP, SKIP_REASONS[kind].format(lot=next((lot for lot in lots if lot), "not given"))
    if kind in SKIP_REASONS:
        return SKIP, SKIP_REASONS[kind]
    return SKIP, SKIP_REASONS["other"].format(type=kind or "a resource without a resourceType")


def group(items: Iterable[tuple[_Item, str]], report: Report) -> list[_Group]:
    """Patients and the resources that reference them, each classified; a resource whose patient is not in
    the file is reported skipped (a kind not imported) or refused."""
    groups: dict[str, _Group] = {}
    ordered: list[_Group] = []
    members: list[_Item] = []
    for item, full_url in items:
        item.full_url = full_url
        resource = item.resource
        kind = resource.get("resourceType", "")
        if kind == "Patient":
            entry = _Group(patient=item)
            ordered.append(entry)
            for key in _patient_key(resource, full_url):
                groups[key] = entry
        else:
            members.append(item)
    for item in members:
        kind = str(item.resource.get("resourceType", ""))
        item.kind, item.reason = classify(item.resource)
        owner = groups.get(_owner_reference(item.resource))
        if owner is None:
            if item.kind in (SKIP, DERIVED):
                report.entries.append(EntryResult(item.index, kind, SKIPPED, item.reason))
            else:
                report.entries.append(
                    EntryResult(item.index, kind, REFUSED, "its patient is not in the file")
                )
            continue
        owner.members.append(item)
    return ordered


def _identifier(item: _Item) -> str:
    """The identifier a patient is known by elsewhere: ifNoneExist's value, else the external MRN it came
    with (shared beyond the sending clinic), else the sending clinic's MRN."""
    if item.if_none_exist.startswith("identifier="):
        return item.if_none_exist.removeprefix("identifier=").rpartition("|")[2].strip()
    for wanted in (codes.EXTERNAL_MRN_SYSTEM, codes.MRN_SYSTEM):
        for ident in item.resource.get("identifier") or []:
            if isinstance(ident, dict) and ident.get("system") == wanted and ident.get("value"):
                return str(ident["value"]).strip()
    return ""


def _text(concept: Any) -> str:
    return str(concept.get("text", "")) if isinstance(concept, dict) else ""


def _code_in(concept: Any, system: str) -> str:
    for coding in (concept or {}).get("coding", []) if isinstance(concept, dict) else []:
        if isinstance(coding, dict) and coding.get("system") == system:
            return str(coding.get("code", ""))
    return ""


def _status_code(concept: Any) -> str:
    for coding in (concept or {}).get("coding", []) if isinstance(concept, dict) else []:
        if isinstance(coding, dict):
            return str(coding.get("code", ""))
    return ""


def _demographics(resource: dict[str, Any], location: ClinicLocation, identifier: str) -> dict[str, Any]:
    name: dict[str, Any] = next(iter(resource.get("name") or []), {})
    telecom = {t.get("system"): t.get("value") for t in resource.get("telecom") or [] if isinstance(t, dict)}
    contact: dict[str, Any] = next(iter(resource.get("contact") or []), {})
    contact_phone = next(
        (t.get("value") for t in contact.get("telecom") or [] if t.get("system") == "phone"), ""
    )
    address: dict[str, Any] = next(iter(resource.get("address") or []), {})
    return {
        "location": location.slug,
        "given_name": " ".join(name.get("given") or []),
        "family_name": name.get("family", ""),
        "date_of_birth": resource.get("birthDate"),
        "sex": resource.get("gender", "unknown"),
        "external_mrn": identifier or None,
        "phone": telecom.get("phone") or None,
        "email": telecom.get("email") or None,
        "address": address.get("text") or None,
        "emergency_contact_name": (contact.get("name") or {}).get("text") or None,
        "emergency_contact_phone": contact_phone or None,
        "emergency_contact_relationship": _text(next(iter(contact.get("relationship") or []), {})) or None,
    }


def _condition(resource: dict[str, Any]) -> tuple[dict[str, Any], str]:
    code = _code_in(resource.get("code"), codes.CONDITIONS)
    if not code:
        raise InvalidInput({"code": "a condition needs a code of KetaClinic's condition system"})
    onset = str(resource.get("onsetDateTime") or "")[:4]
    first_note: dict[str, Any] = next(iter(resource.get("note") or []), {})
    note = first_note.get("text", "")
    body = {"code": code, "onset_year": int(onset) if onset.isdigit() else None, "note": note}
    return body, _status_code(resource.get("clinicalStatus"))


def _trial(resource: dict[str, Any], drug: str, other: str) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for ext in resource.get("extension") or []:
        if ext.get("url") == codes.TRIAL_OUTCOME_EXT:
            for part in ext.get("extension") or []:
                value = next((v for k, v in part.items() if k.startswith("value")), None)
                parts[part.get("url")] = value
    return {
        "drug": drug,
        "other_name": other,
        "max_daily_dose_mg": Decimal(str(parts.get("maxDailyDoseMg"))),
        "weeks_at_dose": Decimal(str(parts.get("weeksAtDose"))),
        "adequate_dose": parts.get("adequateDose"),
        "dose_optimised": bool(parts.get("doseOptimised", False)),
        "augmented": bool(parts.get("augmented", False)),
        "augmentation_agent": parts.get("augmentationAgent") or "",
        "outcome": parts.get("outcome"),
        "current_episode": parts.get("currentEpisode"),
        "started_year": parts.get("startedYear"),
    }


def _is_trial(resource: dict[str, Any]) -> bool:
    return any(e.get("url") == codes.TRIAL_OUTCOME_EXT for e in resource.get("extension") or [])


def _medication(resource: dict[str, Any]) -> dict[str, Any]:
    dosage: dict[str, Any] = next(iter(resource.get("dosageInstruction") or []), {})
    bounds = ((dosage.get("timing") or {}).get("repeat") or {}).get("boundsPeriod") or {}
    return {"dose": dosage.get("text", ""), "started_on": bounds.get("start")}


def _drug(resource: dict[str, Any]) -> tuple[str, str]:
    concept = resource.get("medicationCodeableConcept") or {}
    drug = _code_in(concept, codes.DRUGS)
    if not drug:
        raise InvalidInput({"medicationCodeableConcept": "needs a code of KetaClinic's drug system"})
    from ketaclinic.clinical.vocab import DRUGS, OTHER_DRUG

    other = _text(concept) if drug == OTHER_DRUG or drug not in DRUGS else ""
    return drug, other


def _allergy(resource: dict[str, Any]) -> tuple[dict[str, Any], str]:
    reaction: dict[str, Any] = next(iter(resource.get("reaction") or []), {})
    categories = resource.get("category") or ["other"]
    ketamine = any(
        e.get("url") == f"{codes.BASE}/StructureDefinition/ketamine-related" and e.get("valueBoolean")
        for e in resource.get("extension") or []
    )
    body = {
        "substance": _text(resource.get("code")),
        "category": categories[0],
        "reaction": _text(next(iter(reaction.get("manifestation") or []), {})),
        "severity": reaction.get("severity", "unknown"),
        "ketamine_related": ketamine,
    }
    return body, _status_code(resource.get("clinicalStatus"))


def _measurement(resource: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(the id suffix, MeasurementIn's fields) of a weight, height, blood pressure or heart rate."""
    suffix = _MEASURED[_code_in(resource.get("code"), codes.LOINC)]
    when = str(resource.get("effectiveDateTime") or "")[:10]
    if not when:
        raise InvalidInput({"effectiveDateTime": "a measurement needs the day it was measured"})
    if suffix == "bp":
        parts = {
            _code_in(c.get("code"), codes.LOINC): c.get("valueQuantity")
            for c in resource.get("component") or []
            if isinstance(c, dict)
        }
        values = {
            "systolic_mmhg": _quantity(parts.get(codes.SYSTOLIC.code), codes.MMHG, "systolic", whole=True),
            "diastolic_mmhg": _quantity(parts.get(codes.DIASTOLIC.code), codes.MMHG, "diastolic", whole=True),
        }
    else:
        field_name, unit, whole = {
            "hr": ("heart_rate_bpm", codes.PER_MIN, True),
            "wt": ("weight_kg", codes.KG, False),
            "ht": ("height_cm", codes.CM, False),
        }[suffix]
        values = {field_name: _quantity(resource.get("valueQuantity"), unit, field_name, whole=whole)}
    return suffix, {"measured_on": when, **values}


def _quantity(quantity: Any, unit: dict[str, str], name: str, *, whole: bool) -> Any:
    """A valueQuantity's value in the unit KetaClinic keeps (no conversion: another unit is refused)."""
    if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), int | float):
        raise InvalidInput({"valueQuantity": f"the {name} needs a value in {unit['code']}"})
    if quantity.get("code", quantity.get("unit")) != unit["code"]:
        given = quantity.get("code") or quantity.get("unit") or "no unit"
        raise InvalidInput({"valueQuantity": f"the {name} is in {given}; KetaClinic takes {unit['code']}"})
    value = quantity["value"]
    if whole:
        if not float(value).is_integer():
            raise InvalidInput({"valueQuantity": f"the {name} must be a whole number"})
        return int(value)
    return Decimal(str(value))


@dataclass
class _Measured:
    """Observations recorded as one measurement (the export's `bm-<row>-*` of one row; others alone)."""

    items: list[tuple[_Item, str]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Response:
    item: _Item
    data: AssessmentIn
    source: str
    # The total the source derived from this response (its `-total` Observation), checked after scoring.
    source_total: int | None = None
    note: str = ""


_FREQUENCY_SCORES = {code.code: score for score, code in codes.FREQUENCY_ANSWERS.items()}


def _answer(item: dict[str, Any]) -> Any:
    answer: dict[str, Any] = next(iter(item.get("answer") or []), {})
    if "valueCoding" in answer:
        code = str((answer.get("valueCoding") or {}).get("code", ""))
        if code not in _FREQUENCY_SCORES:
            raise InvalidInput({f"item.{item.get('linkId')}": f"answer code {code or '(none)'} is not known"})
        return _FREQUENCY_SCORES[code]
    for key in ("valueInteger", "valueBoolean", "valueDecimal"):
        if key in answer:
            return answer[key]
    raise InvalidInput({f"item.{item.get('linkId')}": "an item without an answer"})


def _response(item: _Item, patient_keys: set[str]) -> _Response:
    resource = item.resource
    instrument = _QUESTIONNAIRES[str(resource["questionnaire"])]
    if not resource.get("authored"):
        raise InvalidInput({"authored": "a response needs the moment it was answered"})
    answers: dict[str, Any] = {}
    for entry in resource.get("item") or []:
        link = str(entry.get("linkId", "")) if isinstance(entry, dict) else ""
        # The C-SSRS screener's answers are its questions' yes/no (q1...); the others' are item scores.
        if instrument == Instrument.CSSRS_SCREEN.value and link.isdigit():
            continue
        answers[link] = _answer(entry)
    data = AssessmentIn.model_validate(
        {"instrument": instrument, "answers": answers, "taken_at": resource["authored"]}
    )
    # A response the patient authored (self-report link or portal) stays the patient's own; any other was
    # entered in a clinic, and is entered here by the importing user.
    own = _reference(resource.get("author")) in patient_keys
    session = _reference(resource.get("encounter"))
    note = f"recorded without its session ({session}), which is not imported" if session else ""
    return _Response(item, data, Source.SELF_REPORT if own else Source.CLINIC, note=note)


class _Bad(Exception):
    """A member resource that cannot be imported as it is: its patient is refused, naming it."""

    def __init__(self, item: _Item, cause: Exception) -> None:
        super().__init__(str(cause))
        self.item, self.cause = item, cause


@dataclass
class _Plan:
    sections: dict[str, list[Any]]
    resolve: list[tuple[str, int, str]]
    measurements: list[_Measured]
    responses: list[_Response]


def _plan_members(grouped: _Group, report: Report) -> _Plan:
    """The registration's sections, the entries to resolve after ((section, position, clinical status)),
    the measurements and the responses to record; skipped members are reported as such."""
    assert grouped.patient is not None
    patient_keys = _patient_key(grouped.patient.resource, grouped.patient.full_url)
    sections: dict[str, list[Any]] = {
        "conditions": [],
        "medications": [],
        "allergies": [],
        "antidepressant_trials": [],
    }
    resolve: list[tuple[str, int, str]] = []
    measured: dict[str, _Measured] = {}
    responses: dict[str, _Response] = {}
    derived: list[_Item] = []
    for item in grouped.members:
        resource = item.resource
        kind = resource["resourceType"]
        try:
            if item.kind == SKIP:
                report.entries.append(EntryResult(item.index, kind, SKIPPED, item.reason))
                continue
            if item.kind == DERIVED:
                derived.append(item)
                continue
            if item.kind == MEASUREMENT:
                suffix, values = _measurement(resource)
                inputs.MeasurementIn.model_validate(values)  # each alone, so that a refusal names it
                match = re.match(r"^(bm-\d+)-", str(resource.get("id") or ""))
                key = match.group(1) if match else f"#{item.index}"
                group_ = measured.setdefault(key, _Measured())
                group_.items.append((item, suffix))
                group_.values.update(values)
                continue
            if item.kind == RESPONSE:
                response = _response(item, patient_keys)
                for key in _resource_keys(resource, item.full_url):
                    responses[key] = response
                continue
            made: BaseModel
            if item.kind == CONDITION:
                body, clinical = _condition(resource)
                key, made = "conditions", inputs.ConditionIn.model_validate(body)
            elif item.kind == ALLERGY:
                body, clinical = _allergy(resource)
                key, made = "allergies", inputs.AllergyIn.model_validate(body)
            else:
                drug, other = _drug(resource)
                if _is_trial(resource):
                    key, made = (
                        "antidepressant_trials",
                        inputs.TrialIn.model_validate(_trial(resource, drug, other)),
                    )
                    clinical = "active"
                else:
                    body = {"drug": drug, "other_name": other, **_medication(resource)}
                    key, made = "medications", inputs.MedicationIn.model_validate(body)
                    clinical = "resolved" if resource.get("status") in {"stopped", "completed"} else "active"
        except (InvalidInput, ValidationError, ValueError, TypeError, KeyError) as exc:
            raise _Bad(item, exc) from exc
        if clinical in {"resolved", "inactive"}:
            resolve.append((key, len(sections[key]), clinical))
        sections[key].append((made, item))
    for item in derived:
        response_key = _reference(next(iter(item.resource.get("derivedFrom") or []), {}))
        reason = item.reason
        if response_key not in responses:
            reason = SKIP_REASONS["derived-alone"].format(response=response_key)
        elif _is_total(item.resource) and isinstance(item.resource.get("valueInteger"), int):
            responses[response_key].source_total = item.resource["valueInteger"]
        report.entries.append(EntryResult(item.index, "Observation", SKIPPED, reason))
    unique = {id(r): r for r in responses.values()}.values()
    ordered = sorted(
        unique, key=lambda r: (r.data.taken_at or dt.datetime.min.replace(tzinfo=dt.UTC), r.item.index)
    )
    return _Plan(sections, resolve, list(measured.values()), ordered)


def _is_total(resource: dict[str, Any]) -> bool:
    concept = resource.get("code")
    found = concept.get("coding") if isinstance(concept, dict) else None
    return any(isinstance(c, dict) and f"{c.get('system')}|{c.get('code')}" in _TOTALS for c in found or [])


def _resource_keys(resource: dict[str, Any], full_url: str) -> set[str]:
    rid = resource.get("id")
    keys = {f"{resource['resourceType']}/{rid}", f"urn:uuid:{rid}"} if rid else set()
    return keys | ({full_url} if full_url else set())


RELATED = {
    "conditions": "conditions",
    "medications": "medications",
    "allergies": "allergies",
    "antidepressant_trials": "antidepressant_trials",
}
SECTION_OF = {
    "conditions": ("Condition", "cond-"),
    "medications": ("MedicationRequest", "med-"),
    "allergies": ("AllergyIntolerance", "allergy-"),
    "antidepressant_trials": ("MedicationRequest", "trial-"),
}


def _record_treatment_history(
    patient: Patient, plan: _Plan, *, actor: Any, origin: Origin, created: list[EntryResult]
) -> None:
    """Measurements and responses, through their own actions, in the registration's transaction."""
    for measured in plan.measurements:
        first = measured.items[0][0]
        try:
            data = inputs.MeasurementIn.model_validate(measured.values)
            row = patient_actions.do_record_measurement(patient, data, actor=actor, origin=origin)
        except (InvalidInput, ValidationError, Refused) as exc:
            raise _Bad(first, exc) from exc
        for item, suffix in measured.items:
            created.append(
                EntryResult(item.index, "Observation", CREATED, location=f"Observation/bm-{row.pk}-{suffix}")
            )
    for response in plan.responses:
        try:
            assessment = assessment_actions.do_record_assessment(
                patient, response.data, actor=actor, origin=origin, source=response.source
            )
        except (InvalidInput, ValidationError, Refused) as exc:
            raise _Bad(response.item, exc) from exc
        if response.source_total is not None and assessment.total != response.source_total:
            problem = f"scored {assessment.total} here, {response.source_total} at the source"
            raise _Bad(response.item, InvalidInput({"total": problem}))
        created.append(
            EntryResult(
                response.item.index,
                "QuestionnaireResponse",
                CREATED,
                response.note,
                location=f"QuestionnaireResponse/qr-{assessment.pk}",
            )
        )


def _import_patient(
    grouped: _Group, *, actor: Any, location: ClinicLocation, origin: Origin, report: Report
) -> None:
    assert grouped.patient is not None
    head = grouped.patient
    identifier = _identifier(head)
    if (
        identifier
        and Patient.objects.filter(
            location=location, external_mrn_key=patient_actions.external_mrn_key(identifier)
        ).exists()
    ):
        reason = f"a patient with identifier {identifier} is already registered here"
        report.entries.append(EntryResult(head.index, "Patient", SKIPPED, reason))
        for item in grouped.members:
            report.entries.append(
                EntryResult(item.index, item.resource["resourceType"], SKIPPED, "its patient exists")
            )
        return
    pending = Report()
    created: list[EntryResult] = []
    culprit: _Item | None = None
    try:
        # What is imported must be valid FHIR; what is skipped is only reported.
        for item in (head, *(m for m in grouped.members if m.kind != SKIP)):
            problem = _r4b_problem(item.resource)
            if problem:
                culprit = item
                raise InvalidInput({"resource": problem})
        plan = _plan_members(grouped, pending)
        if plan.responses and not can(actor, Perm.ASSESSMENT_RECORD, location.pk):
            culprit = plan.responses[0].item
            who = f"the importing user may not record questionnaires at {location.slug}"
            raise InvalidInput({"QuestionnaireResponse": who})
        body = _demographics(head.resource, location, identifier)
        data = inputs.PatientCreate.model_validate(
            {k: v for k, v in body.items() if v is not None}
            | {key: [made for made, _ in values] for key, values in plan.sections.items()}
        )
        with transaction.atomic():
            patient = patient_actions.do_register_patient(data, actor=actor, origin=origin)
            for key, position, _status in plan.resolve:
                entry = list(getattr(patient, RELATED[key]).order_by("id"))[position]
                change = inputs.StatusChange(status=EntryStatus.RESOLVED, reason="Imported as resolved")
                patient_actions.do_change_entry_status(entry, change, actor=actor, origin=origin)
            _record_treatment_history(patient, plan, actor=actor, origin=origin, created=created)
    except _Bad as bad:
        _refuse(grouped, report, _reason(bad.cause), bad.item)
        return
    except (
        InvalidInput,
        ValidationError,
        PossibleDuplicate,
        Refused,
        ValueError,
        TypeError,
        KeyError,
    ) as exc:
        _refuse(grouped, report, _reason(exc), culprit)
        return
    report.entries.extend(pending.entries)
    report.entries.append(EntryResult(head.index, "Patient", CREATED, location=f"Patient/{patient.pk}"))
    for key, values in plan.sections.items():
        made_rows = list(getattr(patient, RELATED[key]).order_by("id").values_list("id", flat=True))
        kind, prefix = SECTION_OF[key]
        for (_, item), row_id in zip(values, made_rows, strict=False):
            report.entries.append(
                EntryResult(
                    item.index, item.resource["resourceType"], CREATED, location=f"{kind}/{prefix}{row_id}"
                )
            )
    report.entries.extend(created)


def _refuse(grouped: _Group, report: Report, reason: str, culprit: _Item | None) -> None:
    """The patient and every resource of theirs refused: the one at fault with the reason, the others as
    refused with their patient."""
    assert grouped.patient is not None
    head = grouped.patient
    report.entries.append(EntryResult(head.index, "Patient", REFUSED, reason))
    for item in grouped.members:
        why = reason if item is culprit else "its patient was refused"
        report.entries.append(EntryResult(item.index, item.resource["resourceType"], REFUSED, why))


def _reason(exc: Exception) -> str:
    if isinstance(exc, Refused):
        return str(exc)[:300]
    if isinstance(exc, PossibleDuplicate):
        return "a patient with this name and date of birth is already registered (possible duplicate)"
    if isinstance(exc, InvalidInput):
        return "; ".join(f"{k}: {v}" for k, v in exc.errors.items())[:300]
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])[:300]
    return f"unreadable: {type(exc).__name__}"


def import_items(
    items: Iterable[tuple[_Item, str]], *, actor: Any, location: ClinicLocation, origin: Origin = SYSTEM
) -> Report:
    report = Report()
    for grouped in group(items, report):
        _import_patient(grouped, actor=actor, location=location, origin=origin, report=report)
    report.entries.sort(key=lambda e: e.index)
    record(
        Action.FHIR_IMPORT,
        actor=actor,
        origin=origin,
        location_id=location.pk,
        changed_fields=[f"{k}:{v}" for k, v in report.summary().items()],
    )
    return report


def bundle_items(bundle: dict[str, Any], report_bad: list[EntryResult]) -> Iterator[tuple[_Item, str]]:
    for index, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            report_bad.append(EntryResult(index, "", REFUSED, "an entry without a resource"))
            continue
        request = entry.get("request") or {}
        yield _Item(index, resource, str(request.get("ifNoneExist") or "")), str(entry.get("fullUrl") or "")


def import_bundle(
    bundle: dict[str, Any], *, actor: Any, location: ClinicLocation, origin: Origin = SYSTEM
) -> Report:
    bad: list[EntryResult] = []
    report = import_items(list(bundle_items(bundle, bad)), actor=actor, location=location, origin=origin)
    report.entries = sorted([*report.entries, *bad], key=lambda e: e.index)
    return report


def ndjson_items(lines: Iterable[bytes]) -> Iterator[tuple[_Item, str]]:
    for index, line in enumerate(lines):
        if line.strip():
            resource = orjson.loads(line)
            if resource.get("resourceType") == "Bundle":
                yield from bundle_items(resource, [])
            else:
                yield _Item(index, resource), ""


_HTTP = {CREATED: "201 Created", SKIPPED: "200 OK", REFUSED: "422 Unprocessable Entity"}


def response_bundle(report: Report) -> dict[str, Any]:
    entries = []
    for e in report.entries:
        response: dict[str, Any] = {"status": _HTTP[e.status]}
        if e.location:
            response["location"] = e.location
        if e.reason:
            severity = "error" if e.status == REFUSED else "information"
            response["outcome"] = {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": severity, "code": "processing", "diagnostics": e.reason}],
            }
        entries.append({"response": response})
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}


__all__ = [
    "Forbidden",
    "NotFound",
    "Report",
    "import_bundle",
    "import_items",
    "ndjson_items",
    "response_bundle",
]
