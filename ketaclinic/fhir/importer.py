"""Import of FHIR resources (an NDJSON file, a Bundle, or a transaction Bundle posted to /fhir/R4).

Patients are registered through the patients' own action (do_register_patient), with their conditions,
reported medications, antidepressant trials and allergies in the same call: one transaction per patient,
so a refused patient leaves nothing behind. Resources are grouped by the patient they belong to and loaded
Patient first (dependency order), whatever order the file has.

Duplicates are avoided by identifier: a Patient's KetaClinic MRN or external MRN (or the entry's
`ifNoneExist: identifier=system|value`) becomes the external MRN at the receiving location, and a patient
already holding it there is skipped, not registered twice. Everything not imported is reported with why:
treatment records (sessions, doses, scores, consents) are charted in KetaClinic, never created from a file.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from django.db import transaction
from pydantic import BaseModel, ValidationError

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.errors import Forbidden, InvalidInput, NotFound, PossibleDuplicate
from ketaclinic.fhir import codes
from ketaclinic.patients import actions as patient_actions
from ketaclinic.patients import inputs
from ketaclinic.patients.models import EntryStatus, Patient

CREATED, SKIPPED, REFUSED = "created", "skipped", "refused"
# Types a patient's record is imported from; the others are reported as skipped, with the reason.
IMPORTED = ("Patient", "Condition", "MedicationRequest", "AllergyIntolerance")
NOT_IMPORTED_REASON = "not imported: treatment records are charted in KetaClinic, not created from a file"


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


def _owner_reference(resource: dict[str, Any]) -> str:
    holder = resource.get("subject") or resource.get("patient") or {}
    return str(holder.get("reference", "")) if isinstance(holder, dict) else ""


def group(items: Iterable[tuple[_Item, str]], report: Report) -> list[_Group]:
    """Patients and the resources that reference them; anything else is reported skipped or refused."""
    groups: dict[str, _Group] = {}
    ordered: list[_Group] = []
    members: list[_Item] = []
    for item, full_url in items:
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
        if kind not in IMPORTED:
            report.entries.append(EntryResult(item.index, kind, SKIPPED, NOT_IMPORTED_REASON))
            continue
        owner = groups.get(_owner_reference(item.resource))
        if owner is None:
            report.entries.append(EntryResult(item.index, kind, REFUSED, "its patient is not in the file"))
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


SECTION_OF = {
    "conditions": "Condition",
    "medications": "MedicationRequest",
    "allergies": "AllergyIntolerance",
}


def _plan_members(grouped: _Group, report: Report) -> tuple[dict[str, list[Any]], list[tuple[str, int, str]]]:
    """The registration's sections, and (section, position, clinical status) of entries to resolve after."""
    sections: dict[str, list[Any]] = {
        "conditions": [],
        "medications": [],
        "allergies": [],
        "antidepressant_trials": [],
    }
    resolve: list[tuple[str, int, str]] = []
    for item in grouped.members:
        resource = item.resource
        kind = resource["resourceType"]
        status = resource.get("status") or _status_code(resource.get("verificationStatus"))
        if status == "entered-in-error":
            report.entries.append(EntryResult(item.index, kind, SKIPPED, "entered in error at the source"))
            continue
        made: BaseModel
        if kind == "Condition":
            body, clinical = _condition(resource)
            key, made = "conditions", inputs.ConditionIn.model_validate(body)
        elif kind == "AllergyIntolerance":
            body, clinical = _allergy(resource)
            key, made = "allergies", inputs.AllergyIn.model_validate(body)
        elif resource.get("intent") != "plan":
            report.entries.append(
                EntryResult(item.index, kind, SKIPPED, "orders are prescribed in KetaClinic, not imported")
            )
            continue
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
        if clinical in {"resolved", "inactive"}:
            resolve.append((key, len(sections[key]), clinical))
        sections[key].append((made, item))
    return sections, resolve


RELATED = {
    "conditions": "conditions",
    "medications": "medications",
    "allergies": "allergies",
    "antidepressant_trials": "antidepressant_trials",
}


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
    problem = _r4b_problem(head.resource) or next(
        (p for p in (_r4b_problem(i.resource) for i in grouped.members) if p), ""
    )
    pending = Report()
    try:
        if problem:
            raise InvalidInput({"resource": problem})
        sections, resolve = _plan_members(grouped, pending)
        body = _demographics(head.resource, location, identifier)
        data = inputs.PatientCreate.model_validate(
            {k: v for k, v in body.items() if v is not None}
            | {key: [made for made, _ in values] for key, values in sections.items()}
        )
        with transaction.atomic():
            patient = patient_actions.do_register_patient(data, actor=actor, origin=origin)
            for key, position, _status in resolve:
                entry = list(getattr(patient, RELATED[key]).order_by("id"))[position]
                change = inputs.StatusChange(status=EntryStatus.RESOLVED, reason="Imported as resolved")
                patient_actions.do_change_entry_status(entry, change, actor=actor, origin=origin)
    except (InvalidInput, ValidationError, PossibleDuplicate, ValueError, TypeError, KeyError) as exc:
        reason = _reason(exc)
        report.entries.append(EntryResult(head.index, "Patient", REFUSED, reason))
        for item in grouped.members:
            report.entries.append(
                EntryResult(item.index, item.resource["resourceType"], REFUSED, "its patient was refused")
            )
        return
    report.entries.extend(pending.entries)
    report.entries.append(EntryResult(head.index, "Patient", CREATED, location=f"Patient/{patient.pk}"))
    for key, values in sections.items():
        made_rows = list(getattr(patient, RELATED[key]).order_by("id").values_list("id", flat=True))
        prefix = {
            "conditions": "cond-",
            "medications": "med-",
            "allergies": "allergy-",
            "antidepressant_trials": "trial-",
        }[key]
        for (_, item), row_id in zip(values, made_rows, strict=False):
            report.entries.append(
                EntryResult(
                    item.index,
                    item.resource["resourceType"],
                    CREATED,
                    location=f"{SECTION_OF.get(key, 'MedicationRequest')}/{prefix}{row_id}",
                )
            )


def _reason(exc: Exception) -> str:
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
