"""The report of a cohort: the network's extract (extract.py, kept up to date in memory), filtered to the
cohort in Polars, and computed (cohort.py).

Days are whole UTC days since 1970-01-01, computed by the database (SQLite's julianday, PostgreSQL's date
arithmetic), so no Python date object is made per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from ketaclinic.assessments.models import Assessment
from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.outcomes import extract
from ketaclinic.outcomes.cohort import DEFAULT_CONVENTIONS, Conventions, Report, compute
from ketaclinic.treatment.models import SessionStatus, TreatmentPlan, TreatmentSession

PLAN = TreatmentPlan._meta.db_table
SESSION = TreatmentSession._meta.db_table
SCORE = Assessment._meta.db_table
# A session counts as given once the patient is checked in.
GIVEN = (SessionStatus.CHECKED_IN, SessionStatus.DISCHARGED, SessionStatus.SIGNED)
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Cohort:
    """Which plans are in the report: approved plans at these locations, filtered."""

    location_ids: Sequence[int]
    modality: str = ""
    protocol: str = ""
    dose_band: str = ""
    start_from: dt.date | None = None
    start_to: dt.date | None = None


def _day(column: str, *, moment: bool = False) -> str:
    if connection.vendor == "postgresql":
        if moment:
            return f"(({column} AT TIME ZONE 'UTC')::date - DATE '1970-01-01')"
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday(substr({column}, 1, 10)) - 2440587.5 AS INTEGER)"


def _text(column: str) -> str:
    return f"{column}::text" if connection.vendor == "postgresql" else column


def _epoch(day: dt.date | None) -> int | None:
    return None if day is None else (day - EPOCH).days


def report(
    cohort: Cohort,
    instrument: str,
    policy: ClinicPolicy,
    conventions: Conventions = DEFAULT_CONVENTIONS,
) -> Report:
    plans, scores = extract.cohort_frames(
        extract.current(),
        location_ids=list(cohort.location_ids),
        instrument=instrument,
        modality=cohort.modality,
        protocol=cohort.protocol,
        dose_band=cohort.dose_band,
        start_from=_epoch(cohort.start_from),
        start_to=_epoch(cohort.start_to),
    )
    return compute(plans, scores, instrument=instrument, policy=policy, conventions=conventions)
