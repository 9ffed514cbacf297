"""Reading the intake and chart forms into the same input models the API uses."""

from __future__ import annotations

import re
from typing import Any, get_args

from django.http import QueryDict
from pydantic import ValidationError

from ketaclinic.errors import InvalidInput, field_errors
from ketaclinic.patients import inputs
from ketaclinic.patients.sections import SECTIONS, Section

# Intake's repeated rows: the sections it shows as rows (conditions are a pick list), with their inputs.
ROW_FIELDS: dict[str, tuple[str, ...]] = {key: s.form_fields for key, s in SECTIONS.items() if s.intake_rows}
CHECKBOXES = frozenset(
    {"breastfeeding", "confirm_duplicate"}.union(*(s.checkboxes for s in SECTIONS.values()))
)
# Booleans without a default are asked as yes/no (a missing answer is an error, not a "no").
YES_NO = frozenset(
    name
    for s in SECTIONS.values()
    for name, info in s.input.model_fields.items()
    if info.annotation is bool and info.is_required()
)
DEMOGRAPHICS = tuple(inputs.Demographics.model_fields)
# Whole numbers: the inputs take them only as numbers (as the API's JSON sends them), so a form's digits are
# read as one here; anything else goes on as typed and is refused by name.
_FORM_INPUTS: tuple[type[inputs.Strict], ...] = (inputs.MeasurementIn, *(s.input for s in SECTIONS.values()))
WHOLE_NUMBERS = frozenset(
    name
    for model in _FORM_INPUTS
    for name, info in model.model_fields.items()
    if int in (info.annotation, *get_args(info.annotation))
)

# Every input's label, as the forms show it and as an error summary names it.
FIELD_LABELS: dict[str, str] = {
    "location": "Location",
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "phone": "Phone",
    "email": "E-mail",
    "address": "Address",
    "emergency_contact_name": "Emergency contact",
    "emergency_contact_phone": "Emergency contact's phone",
    "emergency_contact_relationship": "Relationship",
    "pregnancy_status": "Pregnancy",
    "breastfeeding": "Breastfeeding",
    "weight_kg": "Weight (kg)",
    "height_cm": "Height (cm)",
    "measured_on": "Measured on",
    "systolic_mmhg": "Resting systolic (mmHg)",
    "diastolic_mmhg": "Resting diastolic (mmHg)",
    "heart_rate_bpm": "Heart rate (bpm)",
    "code": "Condition",
    "onset_year": "Since (year)",
    "note": "Note",
    "drug": "Medication",
    "antidepressant": "Antidepressant",
    "other_name": "Name if other",
    "dose": "Dose as taken",
    "started_on": "Started",
    "substance": "Substance",
    "category": "Kind",
    "reaction": "Reaction",
    "severity": "Severity",
    "ketamine_related": "To ketamine, esketamine or an excipient",
    "use_status": "Use",
    "use_disorder": "Meets criteria for a use disorder",
    "last_used_on": "Last used",
    "max_daily_dose_mg": "Max daily dose (mg)",
    "weeks_at_dose": "Weeks at that dose",
    "adequate_dose": "Adequate dose?",
    "dose_optimised": "Dose was optimised",
    "augmented": "Augmented",
    "augmentation_agent": "Augmented with",
    "outcome": "Outcome",
    "current_episode": "In the current episode?",
    "started_year": "Started (year)",
    "status": "New status",
    "reason": "Reason",
}


def labels_for(section: str = "") -> dict[str, str]:
    """Labels of the inputs, named as a section's form names them (a trial's drug is its antidepressant)."""
    if section == "antidepressant_trials":
        return {**FIELD_LABELS, "drug": FIELD_LABELS["antidepressant"]}
    return FIELD_LABELS


MAX_ROWS = 50


def _value(data: QueryDict, name: str, field: str) -> Any:
    if field in CHECKBOXES:
        return name in data
    raw = data.get(name, "").strip()
    if raw in ("yes", "no") and field in YES_NO:
        return raw == "yes"
    if field in WHOLE_NUMBERS and re.fullmatch(r"-?[0-9]{1,9}", raw):
        return int(raw)
    return raw or None


def _rows(data: QueryDict, section: str) -> list[dict[str, Any]]:
    rows = []
    for index in range(MAX_ROWS):
        prefix = f"{section}-{index}-"
        if not any(key.startswith(prefix) for key in data):
            continue
        row = {f: _value(data, prefix + f, f) for f in ROW_FIELDS[section]}
        # A row left blank is no entry; a checkbox alone does not make one.
        if any(v not in (None, False) for k, v in row.items() if k not in CHECKBOXES):
            rows.append({"_index": index, **{k: v for k, v in row.items() if v is not None}})
    return rows


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def parse_intake(data: QueryDict) -> inputs.PatientCreate:
    """Build a PatientCreate; errors are keyed by the form's input names (trials-0-drug)."""
    fields = _clean({f: _value(data, f, f) for f in ("location", *DEMOGRAPHICS)})
    fields["breastfeeding"] = "breastfeeding" in data
    fields["confirm_duplicate"] = "confirm_duplicate" in data
    measurement = _clean({f: _value(data, f, f) for f in ("weight_kg", "height_cm")})
    if measurement:
        fields["measurement"] = measurement
    fields["conditions"] = [{"code": code} for code in data.getlist("conditions")]
    indexes: dict[str, list[int]] = {}
    for section in ROW_FIELDS:
        rows = _rows(data, section)
        indexes[section] = [row.pop("_index") for row in rows]
        fields[section] = rows
    try:
        return inputs.PatientCreate.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(_renumber(field_errors(exc), indexes)) from exc


def _renumber(errors: dict[str, str], indexes: dict[str, list[int]]) -> dict[str, str]:
    """Errors name list positions; the form's rows may have gaps. Point each error at its row's inputs."""
    out = {}
    for path, message in errors.items():
        parts = path.split(".")
        if parts[0] in indexes and len(parts) > 1 and parts[1].isdigit():
            parts[1] = str(indexes[parts[0]][int(parts[1])])
        if parts[0] == "conditions":
            parts = ["conditions"]
        out[".".join(parts)] = message
    return out


def parse_update(data: QueryDict) -> inputs.PatientUpdate:
    fields = {f: _value(data, f, f) for f in DEMOGRAPHICS}
    fields["breastfeeding"] = "breastfeeding" in data
    # Optional text fields sent empty are cleared; required ones sent empty are errors.
    for name in ("given_name", "family_name", "date_of_birth", "sex", "pregnancy_status"):
        if fields[name] is None:
            fields[name] = ""
    for name in (
        "external_mrn",
        "phone",
        "email",
        "address",
        "emergency_contact_name",
        "emergency_contact_phone",
        "emergency_contact_relationship",
    ):
        fields[name] = fields[name] or ""
    try:
        return inputs.PatientUpdate.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


def parse_entry(section: Section, data: QueryDict) -> inputs.Strict:
    """One entry of a history section from the chart's "add" form."""
    values = _clean({f: _value(data, f, f) for f in section.form_fields})
    values.update({f: f in data for f in section.form_fields if f in section.checkboxes})
    try:
        return section.input.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


def parse_measurement(data: QueryDict) -> inputs.MeasurementIn:
    values = _clean({f: _value(data, f, f) for f in inputs.MeasurementIn.model_fields})
    try:
        return inputs.MeasurementIn.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


def parse_status(data: QueryDict) -> inputs.StatusChange:
    try:
        return inputs.StatusChange.model_validate(
            _clean({"status": data.get("status"), "reason": data.get("reason")})
        )
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


def parse_entered_in_error(data: QueryDict) -> inputs.EnteredInError:
    try:
        return inputs.EnteredInError.model_validate({"reason": data.get("reason", "")})
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc
