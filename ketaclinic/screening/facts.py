"""The chart facts a screening reads, and their fingerprint.

A screening stores the sha256 of the facts it judged; the chart is the same for screening purposes as long
as the facts it yields today have the same fingerprint. A new condition, medication, trial, allergy, resting
blood pressure, pregnancy status or birthday changes it; a change the rules never read (an address, a note)
does not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from decimal import Decimal
from typing import Any

from ketaclinic.clinical.eligibility import PatientFacts
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.patients import queries
from ketaclinic.patients.models import Patient


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(str(v) for v in value)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def fingerprint(facts: PatientFacts) -> str:
    text = json.dumps(dataclasses.asdict(facts), default=_plain, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def current_facts(patient: Patient) -> PatientFacts:
    """The patient's facts as the chart stands, with their age on today's date at their location."""
    return queries.facts(patient, local_today(patient.location))
