"""Clinic admins review who read or changed which record, filtered, sorted and exported."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import TYPE_CHECKING

from ketaclinic.audit.models import AuditEvent

if TYPE_CHECKING:
    from conftest import World


def test_admin_sees_reads_of_their_patients_and_not_other_locations(world: World) -> None:
    north, south = world.patient("north"), world.patient("south")
    world.client("nurse.north").get(f"/patients/{north.pk}/")
    world.client("nurse.south").get(f"/patients/{south.pk}/")
    response = world.client("admin.north").post("/audit/", {"action": "patient.read"})
    events = list(response.context["page"].object_list)
    assert response.status_code == 200
    assert [e.patient_id for e in events] == [north.pk]
    assert events[0].actor.username == "nurse.north"


def test_filters_by_patient_user_and_dates(world: World, today: dt.date) -> None:
    north = world.patient("north")
    world.client("therapist.north").get(f"/patients/{north.pk}/")
    admin = world.client("admin.north")
    by_patient = admin.post("/audit/", {"patient_mrn": north.mrn}).context["page"].object_list
    assert by_patient and all(e.patient_id == north.pk for e in by_patient)
    by_user = admin.post("/audit/", {"username": "therapist.north"}).context["page"].object_list
    assert by_user and all(e.actor.username == "therapist.north" for e in by_user)
    assert (
        admin.post("/audit/", {"date_from": today.isoformat(), "date_to": today.isoformat()})
        .context["page"]
        .paginator.count
        > 0
    )
    assert admin.post("/audit/", {"date_to": "2000-01-01"}).context["page"].paginator.count == 0


def test_sorting_by_each_column_and_bad_values_are_refused(world: World) -> None:
    admin = world.client("admin.north")
    for sort in ("time", "user", "action", "outcome", "patient", "location", "via"):
        for direction in ("asc", "desc"):
            assert admin.post("/audit/", {"sort": sort, "direction": direction}).status_code == 200
    users = [
        e.actor.username if e.actor else ""
        for e in admin.post("/audit/", {"sort": "user", "direction": "asc"}).context["page"].object_list
    ]
    assert users == sorted(users)
    bad = admin.post("/audit/", {"sort": "password", "date_from": "yesterday", "action": "drop"})
    assert bad.status_code == 422
    assert set(bad.context["errors"]) == {"sort", "date_from", "action"}


def test_csv_export_is_itself_audited(world: World) -> None:
    before = AuditEvent.objects.filter(action="audit.export").count()
    response = world.client("admin.north").post("/audit/", {"export": "csv"})
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["seq", "time_utc", "user", "action"] and len(rows) > 1
    assert AuditEvent.objects.filter(action="audit.export").count() == before + 1


def test_reviewing_the_trail_is_audited(world: World) -> None:
    world.client("admin.south").get("/audit/")
    assert AuditEvent.objects.filter(action="audit.read", actor__username="admin.south").exists()
