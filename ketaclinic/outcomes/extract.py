"""The network's outcome extract, kept in memory between reports and brought up to date incrementally.

Reading 2 million scores row by row through a database driver costs seconds on any machine (each row
becomes Python objects before Polars sees it), so a report does not read them each time. The process keeps
one extract per database: every approved plan (with the columns the filters need), the two session days a
report reads per plan, and every outcome score as (patient, instrument, day, total). Each report:

- asks for the highest assessment id and the number of plans (two index-only queries);
- appends the scores written since (assessments are appended, never edited nor deleted:
  assessments/models.py), one range query on the primary key, counting the range first;
- re-reads plans and sessions when the plan count changed or the extract is older than
  OUTCOMES_CACHE_SECONDS (default 300; 0 re-reads everything every time, as the tests do), so an approval,
  a check-in or an ended plan shows within that time; at that moment it also checks the scores it holds
  against the database (the number of rows up to its highest id, and that last row's fingerprint): a row
  committed late below that id (concurrent transactions on PostgreSQL), or another database behind the
  same name, makes it read everything again;
- filters plans in Polars and computes (cohort.py).

A process's first report starts from the extract's file in the data folder (snapshot.py) when there is
one for this database: its last row's fingerprint is checked at once, and the file is then a held extract
like any other (checked in full and its plans re-read when they are due), so it costs a file read instead
of the 2 million rows. The plans in it count as read when the file's plans were read (wall clock), so they
are re-read on the same schedule. The task runner checks the file in full and rewrites it every minute
when it changed (tasks.py); a process that had to read everything writes it too.

The rows are read in chunks (fetchmany) into Polars frames, so the cold read's memory stays flat.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.conf import settings
from django.db import connection

from ketaclinic.outcomes import snapshot
from ketaclinic.outcomes.filters import DOSE_BANDS, INSTRUMENTS

log = logging.getLogger(__name__)

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
    faster than on 32-character ids; the numbering is the extract's own (kept in its file with it)."""

    ids: pl.DataFrame  # patient (str) -> pid
    plans: pl.DataFrame
    scores: pl.DataFrame  # sorted by pid, then day
    score_id: int  # the highest assessment id read
    plan_count: int
    read_at: float  # time.monotonic() of the plans' read
    score_rows: int = 0  # assessment rows (of any instrument) with id <= score_id when read
    fingerprint: str = ""  # of the assessment row score_id


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


def _scalar(sql: str, params: list[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
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
        "score_rows": f"SELECT COUNT(*) FROM {q.SCORE} WHERE id > %s AND id <= %s",  # noqa: S608 - fixed text
        # Rows up to an id, as all rows less those above it: one statement (one snapshot on PostgreSQL), and
        # counting all rows uses the smallest index, where a range on the primary key walks the table.
        "score_rows_upto": (
            f"SELECT (SELECT COUNT(*) FROM {q.SCORE}) - (SELECT COUNT(*) FROM {q.SCORE} WHERE id > %s)"  # noqa: S608 - fixed text
        ),
        "fingerprint": (
            f"SELECT {text('patient_id')}, instrument, CAST(taken_at AS TEXT), total "  # noqa: S608 - fixed text
            f"FROM {q.SCORE} WHERE id = %s"
        ),
    }


def _fingerprint(sql: dict[str, str], score_id: int) -> str:
    """A digest of assessment row `score_id` (empty for none): the same id holding another row means the
    extract was read from another database, or from rows since rolled back."""
    if not score_id:
        return ""
    with connection.cursor() as cursor:
        cursor.execute(sql["fingerprint"], [score_id])
        found = cursor.fetchone()
    return hashlib.sha256(repr(tuple(found)).encode()).hexdigest() if found else "missing"


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
_FILE_SCHEMAS = {
    "ids": NO_IDS.schema,
    "plans": pl.Schema(
        {
            **{k: v for k, v in PLAN_COLUMNS.items() if k != "patient"},
            "eoi": pl.Int64,
            "maint": pl.Int64,
            "pid": pl.Int64,
        }
    ),
    "scores": _EMPTY.schema,
}


def _ttl() -> float:
    return float(getattr(settings, "OUTCOMES_CACHE_SECONDS", 300))


def _key() -> str:
    db = connection.settings_dict
    return f"{connection.vendor}:{db.get('HOST') or ''}:{db.get('PORT') or ''}:{db['NAME']}"


def _file_enabled(ttl: float) -> bool:
    """The file is a held extract that outlives the process: used only when extracts are held (ttl > 0)."""
    return ttl > 0 and bool(getattr(settings, "OUTCOMES_EXTRACT_FILE", True))


def _update(
    held: Extract | None, sql: dict[str, str], ttl: float, *, check: bool = False, count: bool = False
) -> tuple[Extract, str]:
    """`held` brought up to date (or a new extract), and what was read: "all", "plans", "scores" or "".
    Its scores are checked against the database when its plans are due; the last row's fingerprint also when
    `check` (an extract from the file), and the row count also when `count` (the task runner)."""
    score_id, plan_count = _scalar(sql["score_id"]), _scalar(sql["plan_count"])
    fresh = held is not None and ttl > 0 and time.monotonic() - held.read_at < ttl
    if held is not None and (
        held.score_id > score_id
        or ((check or not fresh) and _fingerprint(sql, held.score_id) != held.fingerprint)
        # Counting every row is a scan on PostgreSQL (about 0.1 s per 400,000 rows): done when plans are
        # due, which costs more anyway, and by the task runner each minute, never on a fresh extract.
        or ((count or not fresh) and _scalar(sql["score_rows_upto"], [held.score_id]) != held.score_rows)
    ):
        held = None  # rows rolled back, committed late below the mark, or another database: read it all
    read = ""
    if held is None:
        ids, plans = _plans(sql, NO_IDS)
        held = Extract(ids, plans, _EMPTY, 0, plan_count, time.monotonic())
        read = "all"
    elif not fresh or held.plan_count != plan_count:
        held.ids, held.plans = _plans(sql, held.ids)
        held.plan_count, held.read_at = plan_count, time.monotonic()
        read = "plans"
    if score_id > held.score_id:
        # Counted before read: a row committed between the two is read but not counted, so the next check
        # finds the count short and reads everything, never the other way round.
        rows = _scalar(sql["score_rows"], [held.score_id, score_id])
        new = _frame(sql["scores"], [held.score_id, score_id], SCORE_COLUMNS)
        fingerprint = _fingerprint(sql, score_id)
        held.ids, new = _encode(held.ids, new)
        new = new.select("pid", "instrument", "day", "total")
        held.scores = (pl.concat([held.scores, new]) if held.scores.height else new).sort("pid", "day")
        held.score_id, held.score_rows, held.fingerprint = score_id, held.score_rows + rows, fingerprint
        read = read or "scores"
    return held, read


def _from_file(key: str) -> Extract | None:
    found = snapshot.load(key)
    if found is None:
        return None
    marks, frames = found
    if any(frames[name].schema != schema for name, schema in _FILE_SCHEMAS.items()):
        return None  # written by a version whose columns differ: read the database
    try:
        # The plans are as old as the file's plans: their age carries over onto this process's clock.
        age = time.time() - float(marks["plans_at"])
        return Extract(
            ids=frames["ids"],
            plans=frames["plans"],
            scores=frames["scores"],
            score_id=int(marks["score_id"]),
            plan_count=int(marks["plan_count"]),
            read_at=time.monotonic() - age if age >= 0 else float("-inf"),
            score_rows=int(marks["score_rows"]),
            fingerprint=str(marks["fingerprint"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _to_file(key: str, extract: Extract) -> None:
    marks = {
        "score_id": extract.score_id,
        "plan_count": extract.plan_count,
        "score_rows": extract.score_rows,
        "fingerprint": extract.fingerprint,
        "plans_at": time.time() - (time.monotonic() - extract.read_at),
    }
    try:
        snapshot.save(key, marks, {"ids": extract.ids, "plans": extract.plans, "scores": extract.scores})
    except OSError as exc:  # a full disk costs the next process its cold read, not this report
        log.warning("outcome extract file not written (%s)", exc.strerror)


def current() -> Extract:
    """The up-to-date extract of this database (see the module's docstring for what is re-read when)."""
    ttl = _ttl()
    sql = _sql()
    key = _key()
    with _LOCK:
        held = _CACHE.get(key)
        check = False
        if held is None and _file_enabled(ttl):
            held = _from_file(key)
            check = True
        held, read = _update(held, sql, ttl, check=check)
        if ttl > 0:
            _CACHE[key] = held
        if read == "all" and _file_enabled(ttl):
            _to_file(key, held)  # the next process starts from it
        return held


def refresh_file() -> str:
    """Bring this database's extract file up to date (the task runner, every minute): "" when it was
    current, else what was read. Plans are re-read at half the report's interval, so a process starting
    from the file finds them young. Nothing is held in this process."""
    ttl = _ttl()
    if not _file_enabled(ttl):
        return ""
    key = _key()
    held, read = _update(_from_file(key), _sql(), ttl / 2, check=True, count=True)
    if read:
        _to_file(key, held)
    return read


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
