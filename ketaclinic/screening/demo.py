"""Demo screenings: some patients of each location screened for IV ketamine and esketamine, their findings
acknowledged and enrolled in the Spravato REMS, so that plans can be approved in the demo."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ketaclinic.accounts.models import User
from ketaclinic.clinical.eligibility import Decision
from ketaclinic.patients.models import Patient
from ketaclinic.screening.actions import do_acknowledge, do_record_rems_enrolment, do_run_screening
from ketaclinic.screening.inputs import AcknowledgementIn, RemsEnrolmentIn, ScreeningIn

MODALITIES = ("iv_ketamine", "esketamine_nasal")
REASON = "Reviewed with the patient; benefit judged to outweigh the risk, with monitoring as planned."


def chosen(network: Any) -> list[Patient]:
    """Every other patient of each location in MRN order, from the second: the first stays unscreened and
    without consent, so the demo shows both. The consent demo signs for the same patients."""
    rows = Patient.objects.filter(network=network).select_related("location").order_by("location_id", "mrn")
    by_location: dict[int, list[Patient]] = {}
    for p in rows:
        by_location.setdefault(p.location_id, []).append(p)
    return [p for patients in by_location.values() for i, p in enumerate(patients) if i % 2 == 1]


def load(network: Any, today: dt.date) -> None:
    """Screen the chosen patients for IV ketamine and esketamine, acknowledge what needs it, and enrol them
    in the Spravato REMS, each by a prescriber of their location."""
    for number, patient in enumerate(chosen(network)):
        prescriber = User.objects.get(username=f"prescriber.{patient.location.slug}")
        for modality in MODALITIES:
            screening = do_run_screening(patient, ScreeningIn(modality=modality), actor=prescriber)
            if screening.decision == Decision.INELIGIBLE:
                continue
            for finding in screening.findings:
                if finding["level"] == "acknowledge":
                    data = AcknowledgementIn(rule_id=finding["rule_id"], reason=REASON)
                    do_acknowledge(screening, data, actor=prescriber)
        enrolled_on = today - dt.timedelta(days=7 + number)
        do_record_rems_enrolment(
            patient,
            RemsEnrolmentIn(enrolled_on=enrolled_on, rems_patient_id=f"SPR-{4100000 + number}"),
            actor=prescriber,
        )
