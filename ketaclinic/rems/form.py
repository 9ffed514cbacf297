"""The SPRAVATO REMS Patient Monitoring Form of one session, as a pure builder (reference 1.8).

`build_form(FormInput)` gives the form as ordered sections of (label, value) fields, plus the list of what the
chart lacks (`missing`) and the notices the form must carry. No database here: `rems/queries.py` fills a
`FormInput` from a session, `rems/pdf.py` prints the result.

The fields follow the form version dated 11/2021 (copy posted 2024) as reference 1.8 lists them. Two parts of
that list are UNVERIFIED in the reference: the exact item list of the sedation / dissociation / respiratory
depression part, and the current (2025-2026) layout. The form says so on its face, and the outcome items are
configurable per setting (`OUTCOME_ITEMS`, `FormInput.outcome_items`); nothing beyond 1.8 is invented.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ketaclinic.clinical.rems import MONITORING_FORM_DAYS, REMS_FORM_MEDICATION_CLASSES
from ketaclinic.clinical.vitals import ESKETAMINE_MIN_OBSERVATION_MINUTES, POST_DOSE_BP_CHECK_MINUTES
from ketaclinic.clinical.vocab import MedicationClass

FORM_VERSION = "11/2021 (copy posted 2024)"
"""The form version whose field list reference 1.8 gives."""

# At least 2 hours of monitoring and the blood pressure at 40 minutes (reference 1.8): the clinical library's
# esketamine facts, named as the form speaks of them.
MINIMUM_MONITORING_MINUTES = ESKETAMINE_MIN_OBSERVATION_MINUTES
BP_AFTER_DOSING_MINUTES = POST_DOSE_BP_CHECK_MINUTES

LABELLED_DOSES_MG = (Decimal(56), Decimal(84))
"""The dose choices the form offers besides "other" (reference 1.8)."""


class OutcomeItem(StrEnum):
    """The items of the sedation / dissociation part named by reference 1.8 (its full list is UNVERIFIED)."""

    SEDATION = "sedation"
    DISSOCIATION = "dissociation"
    RESPIRATORY_DEPRESSION = "respiratory_depression"


OUTCOME_LABELS: dict[OutcomeItem, str] = {
    OutcomeItem.SEDATION: "Did the patient experience sedation?",
    OutcomeItem.DISSOCIATION: "Did the patient experience dissociation?",
    OutcomeItem.RESPIRATORY_DEPRESSION: "Did the patient experience respiratory depression?",
}

OUTCOME_ITEMS: tuple[OutcomeItem, ...] = tuple(OutcomeItem)
"""The default item list: all three items 1.8 names (respiratory depression is on the current form)."""

NOTICE_OUTCOME_ITEMS = (
    "UNVERIFIED: the exact item list of the sedation, dissociation and respiratory depression part of the "
    "form is not confirmed (reference 1.8). Check the live form at SPRAVATOrems.com; the items "
    "asked here are set per setting."
)
NOTICE_LAYOUT = (
    f"UNVERIFIED: fields follow the form version dated {FORM_VERSION}; the current layout is not confirmed "
    f"(reference 1.8). Submit within {MONITORING_FORM_DAYS} days online (SPRAVATOrems.com) or by fax "
    "(1-877-778-0091)."
)
NOTICE_MEDICATIONS = (
    "Opioids are asked as on the newer REMS walkthrough (reference 1.8); "
    "the 11/2021 form lists the other four."
)

CONCOMITANT_LABELS: dict[MedicationClass, str] = {
    MedicationClass.BENZODIAZEPINE: "Benzodiazepines",
    MedicationClass.NONBENZODIAZEPINE_HYPNOTIC: "Non-benzodiazepine sedative-hypnotics",
    MedicationClass.PSYCHOSTIMULANT: "Psychostimulants",
    MedicationClass.MAOI: "Monoamine oxidase inhibitors (MAOIs)",
    MedicationClass.OPIOID: "Opioids",
}
"""The form's wording of each medication class it asks about (reference 1.8)."""

YES, NO = "Yes", "No"


@dataclass(frozen=True, slots=True)
class BloodPressureReading:
    systolic_mmhg: int
    diastolic_mmhg: int

    def __str__(self) -> str:
        return f"{self.systolic_mmhg}/{self.diastolic_mmhg} mmHg"


@dataclass(frozen=True, slots=True)
class FormInput:
    """Everything the form asks, as the chart knows it. None (or empty) means the chart does not say."""

    patient_first_name: str = ""
    patient_last_name: str = ""
    date_of_birth: dt.date | None = None
    sex: str = ""
    first_treatment: bool | None = None
    enrolled: bool | None = None
    rems_patient_id: str = ""
    # The chart's active medications by the classes the form asks about; None when no medication list exists.
    concomitant: Mapping[MedicationClass, bool] | None = None
    # Active medications whose class the chart cannot tell (a drug typed in as "other").
    unclassified_medications: Sequence[str] = ()
    hcp_name: str = ""
    hcp_phone: str = ""
    hcp_email: str = ""
    setting_name: str = ""
    setting_address: str = ""
    setting_certification_id: str = ""
    treatment_date: dt.date | None = None
    dose_mg: Decimal | None = None
    lot_numbers: Sequence[str] = ()
    total_monitoring_minutes: int | None = None
    ready_to_leave_minutes: int | None = None
    vitals_in_range_before_dosing: bool | None = None
    vitals_in_range_before_end: bool | None = None
    bp_before_dosing: BloodPressureReading | None = None
    bp_after_dosing: BloodPressureReading | None = None
    # When the "40 minutes" reading was in fact taken, in minutes after dosing (shown beside it).
    bp_after_dosing_minutes: int | None = None
    bp_before_end: BloodPressureReading | None = None
    outcomes: Mapping[OutcomeItem, bool] = field(default_factory=dict)
    adverse_events: Sequence[str] = ()
    # Whether adverse events were charted at all (a signed session with none recorded says "None").
    adverse_events_charted: bool = False
    outcome_items: Sequence[OutcomeItem] = OUTCOME_ITEMS
    # How the chart's answers were reached, printed with the notices.
    basis_notes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class FormField:
    key: str
    label: str
    value: str
    missing: bool = False


@dataclass(frozen=True, slots=True)
class FormSection:
    key: str
    title: str
    fields: tuple[FormField, ...]


@dataclass(frozen=True, slots=True)
class MonitoringForm:
    sections: tuple[FormSection, ...]
    missing: tuple[str, ...]
    notices: tuple[str, ...]
    warnings: tuple[str, ...]
    form_version: str = FORM_VERSION

    def fields(self) -> list[FormField]:
        return [f for s in self.sections for f in s.fields]

    def value(self, key: str) -> str:
        return next(f.value for f in self.fields() if f.key == key)


NOT_RECORDED = "Not recorded"


def _yes_no(value: bool | None) -> str | None:
    if value is None:
        return None
    return YES if value else NO


def dose_text(dose_mg: Decimal | None) -> str | None:
    """56 mg, 84 mg, or "Other: N mg" (the form's three choices)."""
    if dose_mg is None:
        return None
    normal = dose_mg.normalize()
    amount = f"{normal:f}"
    if dose_mg in LABELLED_DOSES_MG:
        return f"{amount} mg"
    return f"Other: {amount} mg"


def _after_dosing(data: FormInput) -> str | None:
    if data.bp_after_dosing is None:
        return None
    when = data.bp_after_dosing_minutes
    if when is None or when == BP_AFTER_DOSING_MINUTES:
        return str(data.bp_after_dosing)
    return f"{data.bp_after_dosing} (taken at {when} minutes)"


class _Builder:
    def __init__(self) -> None:
        self.missing: list[str] = []

    def field(self, key: str, label: str, value: str | None) -> FormField:
        if value is None or value == "":
            self.missing.append(label)
            return FormField(key, label, NOT_RECORDED, missing=True)
        return FormField(key, label, value)


def build_form(data: FormInput) -> MonitoringForm:
    """The Patient Monitoring Form of one session, fields in the form's order (reference 1.8)."""
    b = _Builder()
    warnings: list[str] = []
    first = data.first_treatment
    patient = FormSection(
        "patient",
        "Patient",
        (
            b.field("patient_first_name", "Patient first name", data.patient_first_name),
            b.field("patient_last_name", "Patient last name", data.patient_last_name),
            b.field(
                "date_of_birth",
                "Date of birth",
                data.date_of_birth.isoformat() if data.date_of_birth else None,
            ),
            b.field("sex", "Sex", data.sex),
            b.field("first_treatment", "Is this the patient's first treatment?", _yes_no(first)),
            # Asked only of a first treatment; otherwise not applicable, never missing.
            b.field(
                "enrolled",
                "If first treatment, is the patient enrolled in the SPRAVATO REMS?",
                _yes_no(data.enrolled) if first else ("Not applicable" if first is False else None),
            ),
        ),
    )
    if first and data.enrolled is False:
        warnings.append("The patient must be enrolled in the SPRAVATO REMS before the first treatment.")
    concomitant = data.concomitant
    meds = FormSection(
        "concomitant_medications",
        "Concomitant medications that may cause sedation or blood pressure changes",
        tuple(
            b.field(
                f"concomitant_{cls.value}",
                CONCOMITANT_LABELS[cls],
                None if concomitant is None else _yes_no(concomitant.get(cls, False)),
            )
            for cls in REMS_FORM_MEDICATION_CLASSES
        ),
    )
    if data.unclassified_medications:
        warnings.append(
            "Check by hand: the chart lists medications without a known class ("
            + ", ".join(data.unclassified_medications)
            + ")."
        )
    hcp = FormSection(
        "monitoring",
        "Healthcare provider monitoring the patient, and setting",
        (
            b.field("hcp_name", "Monitoring HCP name", data.hcp_name),
            b.field("hcp_phone", "Monitoring HCP phone", data.hcp_phone),
            b.field("hcp_email", "Monitoring HCP email", data.hcp_email),
            b.field("setting_name", "Healthcare setting name", data.setting_name),
            b.field("setting_address", "Healthcare setting address", data.setting_address),
        ),
    )
    total = data.total_monitoring_minutes
    if total is not None and total < MINIMUM_MONITORING_MINUTES:
        warnings.append(
            f"Total monitoring was {total} minutes; the REMS requires at least {MINIMUM_MONITORING_MINUTES}."
        )
    treatment = FormSection(
        "treatment",
        "Treatment",
        (
            b.field(
                "treatment_date",
                "Treatment date",
                data.treatment_date.isoformat() if data.treatment_date else None,
            ),
            b.field("dose", "Dose given (56 mg / 84 mg / other)", dose_text(data.dose_mg)),
            b.field("lot_numbers", "Lot number(s)", ", ".join(data.lot_numbers)),
            b.field(
                "total_monitoring_minutes",
                "Total duration (minutes) from the first device to the end of monitoring",
                None if total is None else str(total),
            ),
            b.field(
                "ready_to_leave_minutes",
                "REMS evaluation question: without the 2-hour minimum, how many minutes after the start of "
                "dosing would the patient have been ready to leave?",
                None if data.ready_to_leave_minutes is None else str(data.ready_to_leave_minutes),
            ),
        ),
    )
    vitals = FormSection(
        "vital_signs",
        "Vital signs and blood pressure",
        (
            b.field(
                "vitals_in_range_before_dosing",
                "Vital signs in acceptable range before dosing?",
                _yes_no(data.vitals_in_range_before_dosing),
            ),
            b.field(
                "vitals_in_range_before_end",
                "Vital signs in acceptable range before the end of the session?",
                _yes_no(data.vitals_in_range_before_end),
            ),
            b.field(
                "bp_before_dosing",
                "Blood pressure before dosing",
                str(data.bp_before_dosing) if data.bp_before_dosing else None,
            ),
            b.field(
                "bp_after_dosing",
                f"Blood pressure {BP_AFTER_DOSING_MINUTES} minutes after dosing",
                _after_dosing(data),
            ),
            b.field(
                "bp_before_end",
                "Blood pressure before the end of the session",
                str(data.bp_before_end) if data.bp_before_end else None,
            ),
        ),
    )
    outcome_fields = [
        b.field(f"outcome_{item.value}", OUTCOME_LABELS[item], _yes_no(data.outcomes.get(item)))
        for item in data.outcome_items
    ]
    events = (
        ", ".join(data.adverse_events)
        if data.adverse_events
        else ("None" if data.adverse_events_charted else None)
    )
    outcome_fields.append(b.field("adverse_events", "Adverse events during the session", events))
    outcomes = FormSection("outcomes", "Sedation, dissociation and adverse events", tuple(outcome_fields))
    # Identifiers the clinic needs when it submits; reference 1.8 does not list them as fields of the form.
    records = FormSection(
        "records",
        "For the clinic's records (not fields of the form)",
        (
            FormField("rems_patient_id", "REMS patient ID", data.rems_patient_id or NOT_RECORDED),
            FormField(
                "setting_certification_id",
                "Setting REMS certification / enrolment ID",
                data.setting_certification_id or NOT_RECORDED,
            ),
        ),
    )
    notices = (NOTICE_LAYOUT, NOTICE_OUTCOME_ITEMS, NOTICE_MEDICATIONS, *data.basis_notes)
    return MonitoringForm(
        sections=(patient, meds, hcp, treatment, vitals, outcomes, records),
        missing=tuple(b.missing),
        notices=notices,
        warnings=tuple(warnings),
    )


def form_json(form: MonitoringForm) -> dict[str, Any]:
    """The form as plain JSON values (the API's answer body, less the session's ids)."""
    return {
        "form_version": form.form_version,
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "fields": [
                    {"key": f.key, "label": f.label, "value": f.value, "missing": f.missing} for f in s.fields
                ],
            }
            for s in form.sections
        ],
        "missing": list(form.missing),
        "notices": list(form.notices),
        "warnings": list(form.warnings),
    }
