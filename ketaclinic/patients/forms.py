"""Reading the intake and chart forms into the same input models the API uses."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from pydantic import ValidationError

from ketaclinic.errors import InvalidInput, field_errors
from ketaclinic.patients import inputs

ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "medications": ("drug", "other_name", "dose", "started_on"),
    "allergies": ("substance", "category", "reaction", "severity", "ketamine_related"),
    "substance_use": ("substance", "use_status", "use_disorder", "last_used_on", "note"),
    "trials": (
        "drug",
        "other_name",
        "max_daily_dose_mg",
        "weeks_at_dose",
        "adequate_dose",
        "dose_optimised",
        "augmented",
        "augmentation_agent",
        "outcome",
        "current_episode",
        "started_year",
    ),
}
CHECKBOXES = {
    "ketamine_related",
    "use_disorder",
    "dose_optimised",
    "augmented",
    "breastfeeding",
    "confirm_duplicate",
}
DEMOGRAPHICS = tuple(inputs.Demographics.model_fields)
MAX_ROWS = 50


def _value(data: QueryDict, name: str, field: str) -> Any:
    if field in CHECKBOXES:
        return name in data
    raw = data.get(name, "").strip()
    if raw in ("yes", "no") and field in {"adequate_dose", "current_episode"}:
        return raw == "yes"
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


SECTION_INPUTS: dict[str, type[inputs.Strict]] = {
    "conditions": inputs.ConditionIn,
    "medications": inputs.MedicationIn,
    "allergies": inputs.AllergyIn,
    "substance_use": inputs.SubstanceUseIn,
    "trials": inputs.TrialIn,
}
SECTION_FIELDS = {**ROW_FIELDS, "conditions": ("code", "onset_year", "note")}


def parse_entry(section: str, data: QueryDict) -> inputs.Strict:
    values = _clean({f: _value(data, f, f) for f in SECTION_FIELDS[section]})
    values.update({f: f in data for f in SECTION_FIELDS[section] if f in CHECKBOXES})
    try:
        return SECTION_INPUTS[section].model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


def parse_measurement(data: QueryDict) -> inputs.MeasurementIn:
    values = _clean({f: _value(data, f, f) for f in ("measured_on", "weight_kg", "height_cm")})
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
