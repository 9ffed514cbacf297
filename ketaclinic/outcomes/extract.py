"""The network's outcome extract, kept in memory between reports and brought up to date incrementally.

Reading 2 million scores row by row through a database driver costs seconds on any machine (each row
becomes Python objects before Polars sees it), so a report does not read them each time. The process keeps
one extract per database: every approved plan (with the columns the filters need), the two session days a
report reads per plan, and every outcome score as (patient, instrument, day, total). Each report:

- asks for the highest assessment id and the number of plans (two index-only queries);
- appends the scores written since (assessments are appended, never edited: assessments/models.py), one
  range query on the primary key;
- re-reads plans and sessions when the plan count changed or the extract is older than
  OUTCOMES_CACHE_SECONDS (default 300; 0 re-reads everything every time, as the tests do), so an approval,
  a check-in or an ended plan shows within that time;
- filters plans in Polars and computes (cohort.py).

The rows are read in chunks (fetchmany) into Polars frames, so the cold read's memory stays flat.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.conf import settings
from django.db import connection

from ketaclinic.outcomes.filters import DOSE_BANDS, INSTRUMENTS

CHUNK = 100_000
PLAN_COLUMNS = {
    "patient": pl.String,
    "plan": pl.String,
    "location": pl.Int64,
    "modality": pl.String,
    "protocol": pl.String,
    "dose_mg": pl.Float64,
    "dose_mg_per_kg": pl.Float64,
    "start": pl.Int64,
    "created": pl.String,
}
SCORE_COLUMNS = {"patient": pl.String, "instrument": pl.String, "day": pl.Int64, "total": pl.Int64}
SESSION_COLUMNS = {"plan": pl.String, "eoi": pl.Int64, "maint": pl.Int64}


@dataclass
class Extract:
    """Patients are numbered (`pid`) on first sight: joins, sorts and counts on integers are several times
    faster than on 32-character ids, and the numbering lives only in this process."""

    ids: pl.DataFrame  # patient (str) -> pid
    plans: pl.DataFrame
    scores: pl.DataFrame  # sorted by pid, then day
    score_id: int  # the highest assessment id read
    plan_count: int
    read_at: float  # time.monotonic() of the plans' read


_CACHE: dict[str, Extract] = {}
_LOCK = threading.Lock()


def _frame(sql: str, params: list[Any], schema: dict[str, Any]) -> pl.DataFrame:
    frames = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            # Columns by zip (C speed) rather than Polars reading row tuples (several times slower).
            columns = zip(*rows, strict=True)
            frames.append(pl.DataFrame(dict(zip(schema, columns, strict=True)), schema=schema))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def _scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        found = cursor.fetchone()
    return int(found[0] or 0) if found else 0


def _sql() -> dict[str, str]:
    from ketaclinic.outcomes import queries as q

    text, day = q._text, q._day
    instruments = ", ".join(f"'{name}'" for name in INSTRUMENTS)  # fixed names, not input
    given = ", ".join(f"'{status}'" for status in q.GIVEN)
    real = "DOUBLE PRECISION" if connection.vendor == "postgresql" else "REAL"
    return {
        "plans": (
            f"SELECT {text('p.patient_id')}, {text('p.id')}, p.location_id, p.modality, p.protocol, "  # noqa: S608 - fixed text
            f"CAST(p.dose_mg AS {real}), CAST(p.dose_mg_per_kg AS {real}), {day('p.start_date')}, "
            f"CAST(p.created_at AS TEXT) "
            f"FROM {q.PLAN} p WHERE p.approved_at IS NOT NULL"
        ),
        "sessions": (
            f"SELECT {text('s.plan_id')}, "  # noqa: S608 - fixed text
            f"MAX(CASE WHEN s.phase = 'induction' THEN {day('s.date')} END), "
            f"MIN(CASE WHEN s.phase = 'maintenance' THEN {day('s.date')} END) "
            f"FROM {q.SESSION} s WHERE s.status IN ({given}) GROUP BY s.plan_id"
        ),
        "scores": (
            f"SELECT {text('a.patient_id')}, a.instrument, {day('a.taken_at', moment=True)}, a.total "  # noqa: S608 - fixed text
            f"FROM {q.SCORE} a WHERE a.id > %s AND a.id <= %s AND a.instrument IN ({instruments}) "
            f"AND a.total IS NOT NULL"
        ),
        "score_id": f"SELECT MAX(id) FROM {q.SCORE}",  # noqa: S608 - fixed text
        "plan_count": f"SELECT COUNT(*) FROM {q.PLAN}",  # noqa: S608 - fixed text
    }


def _encode(ids: pl.DataFrame, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(ids grown by the frame's new patients, the frame with `pid` in place of `patient`)."""
    new = frame.select("patient").unique().join(ids, on="patient", how="anti")
    if new.height:
        first = ids.height
        new = new.with_columns(pid=pl.int_range(first, first + new.height, dtype=pl.Int64))
        ids = pl.concat([ids, new])
    return ids, frame.join(ids, on="patient", how="left").drop("patient")


def _plans(sql: dict[str, str], ids: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    plans = _frame(sql["plans"], [], PLAN_COLUMNS)
    sessions = _frame(sql["sessions"], [], SESSION_COLUMNS)
    ids, plans = _encode(ids, plans.join(sessions, on="plan", how="left"))
    return ids, plans.sort("pid", "start", "created")


_EMPTY = pl.DataFrame(schema={"pid": pl.Int64, "instrument": pl.String, "day": pl.Int64, "total": pl.Int64})
NO_IDS = pl.DataFrame(schema={"patient": pl.String, "pid": pl.Int64})


def current() -> Extract:
    """The up-to-date extract of this database (see the module's docstring for what is re-read when)."""
    ttl = float(getattr(settings, "OUTCOMES_CACHE_SECONDS", 300))
    sql = _sql()
    key = f"{connection.vendor}:{connection.settings_dict['NAME']}"
    with _LOCK:
        score_id, plan_count = _scalar(sql["score_id"]), _scalar(sql["plan_count"])
        held = _CACHE.get(key)
        fresh = held is not None and ttl > 0 and time.monotonic() - held.read_at < ttl
        if held is None or not fresh or held.plan_count != plan_count or held.score_id > score_id:
            keep = held is not None and fresh and held.score_id <= score_id
            ids = held.ids if held is not None and keep else NO_IDS
            ids, plans = _plans(sql, ids)
            scores = held.scores if held is not None and keep else None
            start_id = held.score_id if held is not None and keep else 0
            held = Extract(
                ids, plans, scores if scores is not None else _EMPTY, start_id, plan_count, time.monotonic()
            )
        if score_id > held.score_id:
            new = _frame(sql["scores"], [held.score_id, score_id], SCORE_COLUMNS)
            held.ids, new = _encode(held.ids, new)
            new = new.select("pid", "instrument", "day", "total")
            held.scores = (pl.concat([held.scores, new]) if held.scores.height else new).sort("pid", "day")
            held.score_id = score_id
        if ttl > 0:
            _CACHE[key] = held
        return held


def forget() -> None:
    with _LOCK:
        _CACHE.clear()


def cohort_frames(
    extract: Extract,
    *,
    location_ids: list[int],
    instrument: str,
    modality: str = "",
    protocol: str = "",
    dose_band: str = "",
    start_from: int | None = None,
    start_to: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(plans, scores) of one cohort as cohort.compute takes them: the first matching plan per patient."""
    plans = extract.plans.filter(pl.col("location").is_in(location_ids))
    if modality:
        plans = plans.filter(pl.col("modality") == modality)
    if protocol:
        plans = plans.filter(pl.col("protocol") == protocol)
    if dose_band:
        plans = plans.filter(DOSE_BANDS[dose_band].expr)
    if start_from is not None:
        plans = plans.filter(pl.col("start") >= start_from)
    if start_to is not None:
        plans = plans.filter(pl.col("start") <= start_to)
    plans = plans.unique("pid", keep="first", maintain_order=True).select(
        patient="pid", start="start", eoi="eoi", maint="maint"
    )
    scores = extract.scores.filter(pl.col("instrument") == instrument).select(
        patient="pid", day="day", total="total"
    )
    scores = scores.join(plans.select("patient"), on="patient", how="semi")
    return plans, scores
