"""The Patient Monitoring Form built from hand-made inputs, checked field by field against reference 1.8."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from ketaclinic.clinical.vocab import MedicationClass as MC
from ketaclinic.rems.form import (
    NOT_RECORDED,
    NOTICE_LAYOUT,
    NOTICE_OUTCOME_ITEMS,
    BloodPressureReading,
    FormInput,
    OutcomeItem,
    build_form,
    dose_text,
    form_json,
)

# Reference 1.8, "Fields recorded" (form version dated 11/2021), each bullet with the form keys that carry it.
REFERENCE_1_8: list[tuple[str, tuple[str, ...]]] = [
    (
        "Patient first/last name, DOB, sex.",
        ("patient_first_name", "patient_last_name", "date_of_birth", "sex"),
    ),
    ("First treatment? If so, is the patient enrolled?", ("first_treatment", "enrolled")),
    (
        "Concomitant meds ... each Y/N: benzodiazepines, non-benzodiazepine sedative-hypnotics, "
        "psychostimulants, MAOIs. The newer J&J walkthrough also lists opioids",
        (
            "concomitant_benzodiazepine",
            "concomitant_nonbenzodiazepine_hypnotic",
            "concomitant_psychostimulant",
            "concomitant_maoi",
            "concomitant_opioid",
        ),
    ),
    (
        "HCP doing the monitoring (name, phone, email); setting name and address.",
        ("hcp_name", "hcp_phone", "hcp_email", "setting_name", "setting_address"),
    ),
    (
        "Treatment date; dose given (56 mg / 84 mg / other); lot number.",
        ("treatment_date", "dose", "lot_numbers"),
    ),
    (
        "Total duration in minutes, from the first device to the end of monitoring",
        ("total_monitoring_minutes",),
    ),
    ("REMS evaluation question: ... ready to leave?", ("ready_to_leave_minutes",)),
    (
        "Vital signs in acceptable range before dosing (Y/N) and before the end of the session (Y/N).",
        ("vitals_in_range_before_dosing", "vitals_in_range_before_end"),
    ),
    (
        "BP at three times: before dosing; 40 min after dosing; before the end",
        ("bp_before_dosing", "bp_after_dosing", "bp_before_end"),
    ),
    (
        "Whether the patient had sedation, dissociation (and respiratory depression) and related AE items",
        ("outcome_sedation", "outcome_dissociation", "outcome_respiratory_depression", "adverse_events"),
    ),
]
FORM_KEYS = [key for _, keys in REFERENCE_1_8 for key in keys]

FULL = FormInput(
    patient_first_name="Ana",
    patient_last_name="Quintero",
    date_of_birth=dt.date(1979, 4, 2),
    sex="Female",
    first_treatment=True,
    enrolled=True,
    rems_patient_id="RP-1001",
    concomitant={MC.BENZODIAZEPINE: True, MC.OPIOID: False},
    hcp_name="Nia Nurse",
    hcp_phone="555-0100",
    hcp_email="nia@example.org",
    setting_name="KetaClinic North",
    setting_address="1 Main St, Portland OR",
    setting_certification_id="SET-77",
    treatment_date=dt.date(2026, 11, 20),
    dose_mg=Decimal("56"),
    lot_numbers=("L1", "L2"),
    total_monitoring_minutes=125,
    ready_to_leave_minutes=90,
    vitals_in_range_before_dosing=True,
    vitals_in_range_before_end=True,
    bp_before_dosing=BloodPressureReading(128, 82),
    bp_after_dosing=BloodPressureReading(141, 88),
    bp_before_end=BloodPressureReading(126, 80),
    outcomes={
        OutcomeItem.SEDATION: True,
        OutcomeItem.DISSOCIATION: True,
        OutcomeItem.RESPIRATORY_DEPRESSION: False,
    },
    adverse_events=("Nausea (mild)",),
    adverse_events_charted=True,
)


def test_every_field_of_reference_1_8_is_on_the_form_in_its_order() -> None:
    form = build_form(FULL)
    keys = [f.key for f in form.fields()]
    for bullet, wanted in REFERENCE_1_8:
        for key in wanted:
            assert key in keys, f"{key} ({bullet}) is not on the form"
    on_form = [k for k in keys if k in FORM_KEYS]
    assert on_form == FORM_KEYS, "the fields are not in the form's order"


def test_a_complete_chart_misses_nothing_and_says_what_it_recorded() -> None:
    form = build_form(FULL)
    assert form.missing == ()
    assert form.warnings == ()
    expected = {
        "patient_first_name": "Ana",
        "patient_last_name": "Quintero",
        "date_of_birth": "1979-04-02",
        "sex": "Female",
        "first_treatment": "Yes",
        "enrolled": "Yes",
        "concomitant_benzodiazepine": "Yes",
        "concomitant_nonbenzodiazepine_hypnotic": "No",
        "concomitant_psychostimulant": "No",
        "concomitant_maoi": "No",
        "concomitant_opioid": "No",
        "hcp_name": "Nia Nurse",
        "hcp_phone": "555-0100",
        "hcp_email": "nia@example.org",
        "setting_name": "KetaClinic North",
        "setting_address": "1 Main St, Portland OR",
        "treatment_date": "2026-11-20",
        "dose": "56 mg",
        "lot_numbers": "L1, L2",
        "total_monitoring_minutes": "125",
        "ready_to_leave_minutes": "90",
        "vitals_in_range_before_dosing": "Yes",
        "vitals_in_range_before_end": "Yes",
        "bp_before_dosing": "128/82 mmHg",
        "bp_after_dosing": "141/88 mmHg",
        "bp_before_end": "126/80 mmHg",
        "outcome_sedation": "Yes",
        "outcome_dissociation": "Yes",
        "outcome_respiratory_depression": "No",
        "adverse_events": "Nausea (mild)",
        "rems_patient_id": "RP-1001",
        "setting_certification_id": "SET-77",
    }
    assert {k: form.value(k) for k in expected} == expected


def test_an_empty_chart_names_every_form_field_missing() -> None:
    form = build_form(FormInput())
    labels = {f.key: f.label for f in form.fields()}
    assert set(form.missing) == {labels[k] for k in FORM_KEYS}
    assert all(form.value(k) == NOT_RECORDED for k in FORM_KEYS)
    # The clinic's own identifiers are shown, never counted as missing fields of the form.
    assert labels["rems_patient_id"] not in form.missing


def test_enrolment_is_asked_only_of_a_first_treatment() -> None:
    later = build_form(dataclasses.replace(FULL, first_treatment=False, enrolled=None))
    assert later.value("enrolled") == "Not applicable"
    assert later.missing == ()
    unenrolled = build_form(dataclasses.replace(FULL, enrolled=False))
    assert unenrolled.value("enrolled") == "No"
    assert any("enrolled" in w for w in unenrolled.warnings)


def test_no_medication_list_is_missing_but_an_empty_one_is_all_no() -> None:
    unknown = build_form(dataclasses.replace(FULL, concomitant=None))
    assert unknown.value("concomitant_maoi") == NOT_RECORDED
    assert "Monoamine oxidase inhibitors (MAOIs)" in unknown.missing
    none = build_form(dataclasses.replace(FULL, concomitant={}))
    assert none.value("concomitant_benzodiazepine") == "No"
    flagged = build_form(dataclasses.replace(FULL, unclassified_medications=("Herbal tea X",)))
    assert any("Herbal tea X" in w for w in flagged.warnings)


@pytest.mark.parametrize(
    ("dose", "text"),
    [(Decimal("56"), "56 mg"), (Decimal("84.00"), "84 mg"), (Decimal("28"), "Other: 28 mg"), (None, None)],
)
def test_dose_is_one_of_the_forms_three_choices(dose: Decimal | None, text: str | None) -> None:
    assert dose_text(dose) == text


def test_monitoring_under_two_hours_is_flagged() -> None:
    short = build_form(dataclasses.replace(FULL, total_monitoring_minutes=119))
    assert any("119 minutes" in w for w in short.warnings)
    assert build_form(dataclasses.replace(FULL, total_monitoring_minutes=120)).warnings == ()


def test_no_adverse_events_charted_reads_none_and_uncharted_is_missing() -> None:
    assert build_form(dataclasses.replace(FULL, adverse_events=())).value("adverse_events") == "None"
    uncharted = dataclasses.replace(FULL, adverse_events=(), adverse_events_charted=False)
    assert build_form(uncharted).value("adverse_events") == NOT_RECORDED


def test_the_unverified_parts_say_so_and_the_outcome_items_are_configurable() -> None:
    form = build_form(FULL)
    assert NOTICE_LAYOUT in form.notices and NOTICE_OUTCOME_ITEMS in form.notices
    assert "UNVERIFIED" in NOTICE_LAYOUT and "UNVERIFIED" in NOTICE_OUTCOME_ITEMS
    two = build_form(
        dataclasses.replace(FULL, outcome_items=(OutcomeItem.SEDATION, OutcomeItem.DISSOCIATION))
    )
    keys = [f.key for f in two.fields()]
    assert "outcome_respiratory_depression" not in keys and "outcome_sedation" in keys


def test_json_keeps_sections_fields_and_lists() -> None:
    data = form_json(build_form(FormInput(patient_first_name="Ana")))
    assert [s["key"] for s in data["sections"]] == [
        "patient",
        "concomitant_medications",
        "monitoring",
        "treatment",
        "vital_signs",
        "outcomes",
        "records",
    ]
    first = data["sections"][0]["fields"][0]
    assert first == {
        "key": "patient_first_name",
        "label": "Patient first name",
        "value": "Ana",
        "missing": False,
    }
    assert "Sex" in data["missing"]
