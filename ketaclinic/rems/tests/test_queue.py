"""The queue of forms to submit: per location, due dates and days left at the location, overdue first."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from unittest import mock

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.rems import queries
from ketaclinic.rems.tests.sessions import charted_session, plan_for
from ketaclinic.treatment.models import SessionStatus, TreatmentSession

if TYPE_CHECKING:
    from conftest import World


def _at(world: World, location: str, days_ago: int, index: int = 0, **kw: Any) -> TreatmentSession:
    patient, nurse = world.patient(location, index), world.user(f"nurse.{location}")
    day = local_today(patient.location) - dt.timedelta(days=days_ago)
    return charted_session(plan_for(patient, nurse), nurse, day, **kw)


def test_overdue_forms_come_first_then_by_due_date(world: World) -> None:
    due_soon = _at(world, "north", 6, 0)
    fresh = _at(world, "north", 1, 1, status=SessionStatus.SIGNED)
    late = _at(world, "north", 10, 2)
    just_late = _at(world, "north", 8, 3)
    today_due = _at(world, "south", 7, 0)
    _at(world, "south", 3, 1, status=SessionStatus.CHECKED_IN, devices=0)  # not yet left: no form
    body = world.api("nurse.north").get("/api/v1/rems/queue").json()
    rows = [(i["session_id"], i["days_left"], i["status"]) for i in body]
    assert rows == [
        (str(late.pk), -3, "overdue"),
        (str(just_late.pk), -1, "overdue"),
        (str(due_soon.pk), 1, "due"),
        (str(fresh.pk), 6, "due"),
    ]
    first = body[0]
    assert first["patient_id"] == str(late.patient_id)
    assert first["due_on"] == (late.date + dt.timedelta(days=7)).isoformat()
    assert len(body) == 4 and set(first) == {"session_id", "patient_id", "due_on", "days_left", "status"}
    south = world.api("nurse.south").get("/api/v1/rems/queue").json()
    assert [(i["session_id"], i["days_left"], i["status"]) for i in south] == [(str(today_due.pk), 0, "due")]


def test_days_are_counted_at_the_location(world: World) -> None:
    """At 03:00 UTC it is still the evening before in Los Angeles: a form due that day is not yet late."""
    session = _at(world, "north", 7)
    due = session.date + dt.timedelta(days=7)
    evening_before_in_utc = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(3), tzinfo=dt.UTC)
    with mock.patch("django.utils.timezone.now", return_value=evening_before_in_utc):
        [item] = queries.queue(world.user("nurse.north"))
    assert (item.due_on, item.days_left, item.status) == (due, 0, "due")


def test_the_location_filter_and_an_unknown_location(world: World) -> None:
    north, south = _at(world, "north", 2), _at(world, "south", 2)
    api = world.api("nurse.north")
    assert [i["session_id"] for i in api.get("/api/v1/rems/queue?location=north").json()] == [str(north.pk)]
    assert api.get("/api/v1/rems/queue?location=south").status_code == 404
    assert api.get("/api/v1/rems/queue?location=nowhere").status_code == 404
    assert [i["session_id"] for i in world.api("nurse.south").get("/api/v1/rems/queue").json()] == [
        str(south.pk)
    ]


def test_the_page_marks_overdue_rows_and_names_patients_only_for_readers(world: World) -> None:
    late = _at(world, "north", 9)
    _at(world, "north", 2, 1)
    nurse_page = world.client("nurse.north").get("/rems/")
    html = nurse_page.content.decode()
    assert nurse_page.status_code == 200
    assert html.index('class="overdue"') < html.index('class="due"')
    assert late.patient.family_name in html and f"/rems/sessions/{late.pk}/" in html
    admin_page = world.client("admin.north").get("/rems/").content.decode()
    assert 'class="overdue"' in admin_page
    assert late.patient.family_name not in admin_page and f"/rems/sessions/{late.pk}/" not in admin_page
    assert AuditEvent.objects.filter(action=Action.PATIENT_LIST, changed_fields=["rems_queue"]).count() == 2


def test_the_queue_reads_a_fixed_number_of_queries(world: World, django_assert_num_queries: Any) -> None:
    """Flat as the queue grows: sign-in and grants, the sessions with their patients and locations, the
    list event (audit chain) and the page's navigation."""
    client = world.client("nurse.north")
    _at(world, "north", 9)
    client.get("/rems/")
    with django_assert_num_queries(7):
        assert client.get("/rems/").status_code == 200
    for n in range(1, 6):
        _at(world, "north", n, n % 4)
    with django_assert_num_queries(7):
        assert client.get("/rems/").status_code == 200
