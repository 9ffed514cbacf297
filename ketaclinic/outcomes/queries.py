"""The report's extract: one indexed query per table (plans, sessions, scores) over a plain cursor, into
Polars frames, and the report computed from them (cohort.py).

The plan filters are one WHERE clause used by all three queries, so sessions and scores are joined to the
cohort inside the database (no id lists travel). Days are whole UTC days since 1970-01-01, computed by the
database (SQLite's julianday, PostgreSQL's date arithmetic), so no Python date object is made per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db import connection

from ketaclinic.assessments.models import Assessment
from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.outcomes.cohort import (
    DEFAULT_CONVENTIONS,
    PLAN_SCHEMA,
    SCORE_SCHEMA,
    Conventions,
    Report,
    compute,
)
from ketaclinic.outcomes.filters import DOSE_BANDS
from ketaclinic.treatment.models import SessionPhase, SessionStatus, TreatmentPlan, TreatmentSession

PLAN = TreatmentPlan._meta.db_table
SESSION = TreatmentSession._meta.db_table
SCORE = Assessment._meta.db_table
# A session counts as given once the patient is checked in.
GIVEN = (SessionStatus.CHECKED_IN, SessionStatus.DISCHARGED, SessionStatus.SIGNED)


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


def _where(cohort: Cohort) -> tuple[str, list[Any]]:
    ids = list(cohort.location_ids) or [-1]
    clauses = [f"p.location_id IN ({', '.join(['%s'] * len(ids))})", "p.approved_at IS NOT NULL"]
    params: list[Any] = list(ids)
    if cohort.modality:
        clauses.append("p.modality = %s")
        params.append(cohort.modality)
    if cohort.protocol:
        clauses.append("p.protocol = %s")
        params.append(cohort.protocol)
    if cohort.dose_band:
        clauses.append(DOSE_BANDS[cohort.dose_band].sql)
    if cohort.start_from:
        clauses.append("p.start_date >= %s")
        params.append(cohort.start_from)
    if cohort.start_to:
        clauses.append("p.start_date <= %s")
        params.append(cohort.start_to)
    return " AND ".join(clauses), params


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def extract(cohort: Cohort, instrument: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(plans, scores) as cohort.compute takes them: three queries."""
    where, params = _where(cohort)
    # The first approved plan of each patient in the cohort (by start day, then creation).
    plan_rows = _rows(
        f"SELECT {_text('p.patient_id')}, {_text('p.id')}, {_day('p.start_date')} FROM {PLAN} p "  # noqa: S608 - fixed text; values are parameters
        f"WHERE {where} ORDER BY p.patient_id, p.start_date, p.created_at",
        params,
    )
    given = ", ".join(["%s"] * len(GIVEN))
    session_rows = _rows(
        f"SELECT {_text('s.plan_id')}, "  # noqa: S608 - fixed text; values are parameters
        f"MAX(CASE WHEN s.phase = %s THEN {_day('s.date')} END), "
        f"MIN(CASE WHEN s.phase = %s THEN {_day('s.date')} END) "
        f"FROM {SESSION} s JOIN {PLAN} p ON p.id = s.plan_id "
        f"WHERE {where} AND s.status IN ({given}) GROUP BY s.plan_id",
        [SessionPhase.INDUCTION.value, SessionPhase.MAINTENANCE.value, *params, *GIVEN],
    )
    score_rows = _rows(
        f"SELECT {_text('a.patient_id')}, {_day('a.taken_at', moment=True)}, a.total FROM {SCORE} a "  # noqa: S608 - fixed text; values are parameters
        f"WHERE a.instrument = %s AND a.total IS NOT NULL "
        f"AND a.patient_id IN (SELECT p.patient_id FROM {PLAN} p WHERE {where})",
        [instrument, *params],
    )
    plans = pl.DataFrame(
        plan_rows, schema={"patient": pl.String, "plan": pl.String, "start": pl.Int64}, orient="row"
    ).unique("patient", keep="first", maintain_order=True)
    sessions = pl.DataFrame(
        session_rows, schema={"plan": pl.String, "eoi": pl.Int64, "maint": pl.Int64}, orient="row"
    )
    plans = plans.join(sessions, on="plan", how="left").select(list(PLAN_SCHEMA))
    scores = pl.DataFrame(score_rows, schema=SCORE_SCHEMA, orient="row")
    return plans, scores


def report(
    cohort: Cohort,
    instrument: str,
    policy: ClinicPolicy,
    conventions: Conventions = DEFAULT_CONVENTIONS,
) -> Report:
    plans, scores = extract(cohort, instrument)
    return compute(plans, scores, instrument=instrument, policy=policy, conventions=conventions)
