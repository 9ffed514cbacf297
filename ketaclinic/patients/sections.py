"""The registry of a patient's history sections: one entry per section, everything else derives from it.

A section has one key, used everywhere: the chart's anchor and form URLs (/patients/<id>/<key>/), the API's
paths (/api/v1/patients/<id>/<key>), the API's request and response fields, the model's related name on
Patient, the code and the docs. Actions, queries, form parsing, API routes, pages, the demo and the bench
seed all read this table; a new section is one entry here plus its model, input model, output schema and
row macro (patients/jinja2/patients/rows.html), and patients/tests/test_sections.py proves the entry
complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from ketaclinic.errors import InvalidInput
from ketaclinic.patients import inputs, schemas
from ketaclinic.patients.models import (
    Allergy,
    AntidepressantTrial,
    Condition,
    EntryStatus,
    Medication,
    Patient,
    PatientEntry,
    SubstanceUse,
)


def _no_duplicate_active_condition(patient: Patient, data: Any) -> None:
    if Condition.objects.filter(patient=patient, code=data.code, status=EntryStatus.ACTIVE).exists():
        raise InvalidInput({"code": "this condition is already recorded as active"})


def _stop_medication(entry: Any) -> list[str]:
    """A medication resolved is stopped: it gets a stop date (today) unless it has one."""
    if entry.stopped_on is None:
        entry.stopped_on = inputs.today()
        return ["stopped_on"]
    return []


@dataclass(frozen=True)
class Section:
    """One history section of the chart and the API."""

    key: str
    model: type[PatientEntry]
    input: type[inputs.Strict]
    output: type[schemas.Stamp]
    title: str  # the chart card's heading
    noun: str  # one entry, for the API's summaries: "add a <noun>"
    add_label: str
    empty: str = "None recorded."
    # What "resolved" is called for this section's entries (a medication is stopped).
    resolve_label: str = "Resolved"
    # The chart's table headings; none for the compact cards (one cell of text and the status).
    columns: tuple[str, ...] = ()
    note: str = ""  # beside the heading
    # Checks before an entry is added (raise InvalidInput), and what resolving also changes.
    before_add: Callable[[Patient, Any], None] | None = None
    on_resolve: Callable[[Any], list[str]] | None = None
    # At most this many entries of the section in one intake.
    intake_max: int = 50
    # Intake shows this many blank rows of the section to start with; 0: not a row section (a pick list).
    intake_rows: int = 1

    @property
    def related_name(self) -> str:
        """Patient.<key>: the model's reverse accessor is the section's key."""
        return self.key

    @property
    def row_macro(self) -> str:
        """The macro in patients/jinja2/patients/rows.html that draws one entry as a table row."""
        return self.key

    @property
    def form_template(self) -> str:
        """The chart's "add" form for the section."""
        return f"patients/forms/{self.key}.html"

    @property
    def form_fields(self) -> tuple[str, ...]:
        """The inputs of the section's forms, in order: the input model's fields."""
        return tuple(self.input.model_fields)

    @property
    def checkboxes(self) -> frozenset[str]:
        """Fields sent as a checkbox (present or absent): the input's booleans that have a default."""
        return frozenset(
            name
            for name, info in self.input.model_fields.items()
            if info.annotation is bool and not info.is_required()
        )

    def add(self, patient: Patient, data: Any, stamp: dict[str, Any]) -> PatientEntry:
        if self.before_add is not None:
            self.before_add(patient, data)
        entries = self.model._default_manager
        # Every section's model has `patient`; their abstract base, which mypy sees here, does not.
        return entries.create(patient=patient, **data.model_dump(), **stamp)  # type: ignore[misc]


SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section(
            key="conditions",
            model=Condition,
            input=inputs.ConditionIn,
            output=schemas.ConditionOut,
            title="Conditions",
            noun="condition",
            add_label="Add a condition",
            before_add=_no_duplicate_active_condition,
            intake_rows=0,
        ),
        Section(
            key="medications",
            model=Medication,
            input=inputs.MedicationIn,
            output=schemas.MedicationOut,
            title="Current medications",
            noun="medication",
            add_label="Add a medication",
            resolve_label="Stopped",
            columns=("Medication", "Dose", "Interaction class", "Started", "Status"),
            note="Interaction-relevant class shown for each",
            on_resolve=_stop_medication,
        ),
        Section(
            key="allergies",
            model=Allergy,
            input=inputs.AllergyIn,
            output=schemas.AllergyOut,
            title="Allergies",
            noun="allergy",
            add_label="Add an allergy",
            empty="No known allergies recorded.",
        ),
        Section(
            key="substance_use",
            model=SubstanceUse,
            input=inputs.SubstanceUseIn,
            output=schemas.SubstanceUseOut,
            title="Substance use",
            noun="substance use entry",
            add_label="Add substance use",
            intake_max=20,
        ),
        Section(
            key="antidepressant_trials",
            model=AntidepressantTrial,
            input=inputs.TrialIn,
            output=schemas.TrialOut,
            title="Antidepressant treatment history",
            noun="antidepressant trial",
            add_label="Add an antidepressant trial",
            empty="No antidepressant trials recorded.",
            columns=(
                "Antidepressant",
                "Max daily dose",
                "Weeks",
                "Adequate dose",
                "Augmented",
                "Outcome",
                "Episode",
                "Status",
            ),
            intake_rows=2,
        ),
    )
}

BY_INPUT: dict[type[inputs.Strict], Section] = {s.input: s for s in SECTIONS.values()}
BY_MODEL: dict[type[models.Model], Section] = {s.model: s for s in SECTIONS.values()}


def section(key: str) -> Section | None:
    return SECTIONS.get(key)


def for_input(data: inputs.Strict) -> Section:
    return BY_INPUT[type(data)]
