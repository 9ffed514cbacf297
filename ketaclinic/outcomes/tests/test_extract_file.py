"""The extract's file in the data folder: a process's first report starts from it, and shows exactly what a
report read from the database shows (new scores, new plans, plans past their interval, a damaged file, a
file that no longer matches the database)."""

from __future__ import annotations

import os
import random
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.outcomes import demo, extract, snapshot
from ketaclinic.treatment.models import TreatmentPlan

if TYPE_CHECKING:
    import datetime as dt

    from django.test import Client

    from conftest import World

API = "/api/v1/outcomes"
PLANS = "SELECT p.patient_id"
SCORES = "SELECT a.patient_id"


@pytest.fixture
def held(world: World, today: dt.date, settings: Any, tmp_path: Path) -> Any:
    """Forty past courses at each location; extracts held (600 s) with a data folder of the test's own."""
    demo.load(list(ClinicLocation.objects.order_by("slug")), today, random.Random(5), per_location=40)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    settings.KETACLINIC_DATA_DIR = data
    settings.OUTCOMES_CACHE_SECONDS = 600
    extract.forget()
    yield settings
    extract.forget()


def report(api: Client) -> dict[str, Any]:
    response = api.get(API, {"instrument": "phq9"})
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def from_database(api: Client, settings: Any) -> dict[str, Any]:
    """The report as read straight from the database (nothing held, no file)."""
    ttl, settings.OUTCOMES_CACHE_SECONDS = settings.OUTCOMES_CACHE_SECONDS, 0
    try:
        return report(api)
    finally:
        settings.OUTCOMES_CACHE_SECONDS = ttl


def first_report(api: Client) -> tuple[dict[str, Any], list[str]]:
    """A new process's first report (nothing held), with the statements it ran."""
    extract.forget()
    with CaptureQueriesContext(connection) as queries:
        body = report(api)
    return body, [q["sql"] for q in queries]


def file_of() -> Path:
    return snapshot.path_for(extract._key())


def rewrite_marks(**changes: Any) -> None:
    found = snapshot.load(extract._key())
    assert found is not None
    marks, frames = found
    snapshot.save(extract._key(), {**marks, **changes}, frames)


def full_read(statements: list[str]) -> bool:
    return any(s.startswith(SCORES) and "a.id > 0 " in s for s in statements)


def test_a_report_from_the_file_equals_one_from_the_database(held: Any, world: World) -> None:
    api = world.api("admin.north")
    assert not file_of().exists()
    written = report(api)  # no file yet: read from the database, then written for the next process
    assert file_of().exists()
    body, statements = first_report(api)
    assert not any(s.startswith((PLANS, SCORES)) for s in statements)  # nothing read but the checks
    assert body == written == from_database(api, held)
    assert body["patients"] > 0


def test_a_file_from_before_new_scores_and_plans_is_caught_up(
    held: Any, world: World, today: dt.date
) -> None:
    api = world.api("admin.north")
    report(api)
    extract.forget()
    plan = TreatmentPlan.objects.filter(location__slug="north", approved_at__isnull=False).first()
    assert plan is not None
    score = do_record_assessment(
        plan.patient,
        AssessmentIn(instrument="phq9", answers=[0] * 9),
        actor=world.user("nurse.north"),
    )
    body, statements = first_report(api)
    new = [s for s in statements if s.startswith(SCORES)]
    assert len(new) == 1 and not full_read(statements)  # only the scores after the file's mark
    assert not any(s.startswith(PLANS) for s in statements)
    assert extract.current().score_id == score.pk
    assert body == from_database(api, held)

    demo.load(list(ClinicLocation.objects.filter(slug="north")), today, random.Random(8), per_location=20)
    body, statements = first_report(api)  # the file is the first report's: before the new courses
    assert any(s.startswith(PLANS) for s in statements) and not full_read(statements)
    assert body == from_database(api, held)
    assert body["patients"] == (
        TreatmentPlan.objects.filter(location__slug="north", approved_at__isnull=False)
        .values("patient")
        .distinct()
        .count()
    )


def test_the_files_plans_are_as_old_as_when_they_were_read(held: Any, world: World) -> None:
    """Plans change in place (an approval, a check-in): the file's are re-read when their interval is over,
    as a held extract's are, and the scores are kept."""
    api = world.api("admin.north")
    report(api)
    rewrite_marks(plans_at=time.time() - 601)
    body, statements = first_report(api)
    assert any(s.startswith(PLANS) for s in statements) and not full_read(statements)
    assert body == from_database(api, held)
    rewrite_marks(plans_at=time.time() - 500)
    _, statements = first_report(api)
    assert not any(s.startswith(PLANS) for s in statements)


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped byte":
        path.write_bytes(data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:])
    elif how == "not an extract":
        path.write_bytes(b"\x00" * 4096)
    elif how == "empty":
        path.write_bytes(b"")


@pytest.mark.parametrize("how", ["missing", "truncated", "flipped byte", "not an extract", "empty"])
def test_a_missing_or_damaged_file_falls_back_to_the_database(held: Any, world: World, how: str) -> None:
    api = world.api("admin.north")
    written = report(api)
    damage(file_of(), how)
    body, statements = first_report(api)
    assert full_read(statements)
    assert body == written == from_database(api, held)
    assert snapshot.load(extract._key()) is not None  # the process that read everything wrote it again


@pytest.mark.parametrize(
    "marks",
    [
        {"score_rows": -1},  # a row committed late below the mark (concurrent writers), or one rolled back
        {"fingerprint": "0" * 64},  # another row under the same id: another database, or rows reused
        {"score_id": 10**9},  # a mark above the database's highest id
    ],
    ids=["row count", "fingerprint", "mark"],
)
def test_a_file_that_no_longer_matches_the_database_is_not_used(
    held: Any, world: World, marks: dict[str, Any]
) -> None:
    api = world.api("admin.north")
    report(api)
    found = snapshot.load(extract._key())
    assert found is not None
    if marks.get("score_rows") == -1:
        # Counted when the plans are due (a count is a scan on PostgreSQL), as for an extract held in memory.
        marks = {"score_rows": found[0]["score_rows"] - 1, "plans_at": time.time() - 601}
    rewrite_marks(**marks)
    body, statements = first_report(api)
    assert full_read(statements)
    assert body == from_database(api, held)


def test_a_file_of_another_database_is_not_used(held: Any, world: World) -> None:
    api = world.api("admin.north")
    report(api)
    found = snapshot.load(extract._key())
    assert found is not None
    snapshot.save("sqlite:::elsewhere", *found)
    file_of().unlink()
    snapshot.path_for("sqlite:::elsewhere").rename(file_of())
    _, statements = first_report(api)
    assert full_read(statements)


def test_the_file_is_private_and_in_the_data_folder(held: Any, world: World) -> None:
    report(world.api("admin.north"))
    path = file_of()
    assert path.parent == Path(held.KETACLINIC_DATA_DIR) / "outcomes"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    left = path.parent / f".{path.name}.0123456789ab.tmp"  # a writer killed an hour ago
    left.write_bytes(b"")
    os.utime(left, (time.time() - 3601, time.time() - 3601))
    report(world.api("admin.north"))  # read from the file, nothing written
    assert left.exists()
    extract.forget()
    path.unlink()
    report(world.api("admin.north"))  # read from the database, the file written: leftovers swept
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_without_held_extracts_there_is_no_file(held: Any, world: World) -> None:
    held.OUTCOMES_CACHE_SECONDS = 0
    report(world.api("admin.north"))
    assert not (Path(held.KETACLINIC_DATA_DIR) / "outcomes").exists()
    assert extract.refresh_file() == ""


def test_the_task_runner_keeps_the_file_current(held: Any, world: World, today: dt.date) -> None:
    from ketaclinic.outcomes.tasks import refresh_extract_file

    api = world.api("admin.north")
    refresh_extract_file()  # immediate mode in the tests: runs now, as the consumer would
    assert file_of().exists()
    written = file_of().stat().st_mtime_ns
    assert extract.refresh_file() == ""  # nothing changed: nothing written
    assert file_of().stat().st_mtime_ns == written
    demo.load(list(ClinicLocation.objects.filter(slug="north")), today, random.Random(8), per_location=20)
    assert extract.refresh_file() == "plans"
    rewrite_marks(plans_at=time.time() - 301)  # half the report's interval: plans re-read for the next start
    assert extract.refresh_file() == "plans"
    body, statements = first_report(api)
    assert not any(s.startswith((PLANS, SCORES)) for s in statements)
    assert body == from_database(api, held)


def test_a_held_extract_past_its_interval_re_reads_plans_and_checks_its_scores(
    held: Any, world: World
) -> None:
    """In memory as from the file: plans re-read when due, scores kept once the database confirms them."""
    api = world.api("admin.north")
    report(api)
    extract.current().read_at -= 601
    with CaptureQueriesContext(connection) as queries:
        body = report(api)
    statements = [q["sql"] for q in queries]
    assert any(s.startswith(PLANS) for s in statements) and not full_read(statements)
    assert body == from_database(api, held)
    held_now = extract.current()
    held_now.read_at -= 601
    held_now.score_rows += 1
    with CaptureQueriesContext(connection) as queries:
        assert report(api) == body
    assert full_read([q["sql"] for q in queries])


def test_a_file_with_other_columns_is_not_used(held: Any, world: World) -> None:
    """A file written by a version whose extract had other columns is read as no file."""
    api = world.api("admin.north")
    report(api)
    found = snapshot.load(extract._key())
    assert found is not None
    marks, frames = found
    snapshot.save(extract._key(), marks, {**frames, "plans": frames["plans"].drop("maint")})
    body, statements = first_report(api)
    assert full_read(statements)
    assert body == from_database(api, held)


def test_the_task_runner_checks_the_files_rows_each_run(held: Any, world: World) -> None:
    """A row committed late below the file's mark is found by the next run, which reads everything."""
    report(world.api("admin.north"))
    found = snapshot.load(extract._key())
    assert found is not None
    rewrite_marks(score_rows=found[0]["score_rows"] - 1)
    assert extract.refresh_file() == "all"
    fixed = snapshot.load(extract._key())
    assert fixed is not None and fixed[0]["score_rows"] == found[0]["score_rows"]
