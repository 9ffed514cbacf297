"""The calendar's pages: the day and week lists, booking from the form with refusals shown and an override,
the course page with what could not be booked, the resources page; bad input names the field, saves
nothing. (Allowed and denied for every page: patients/tests/test_access_matrix.py.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import AuditEvent
from ketaclinic.scheduling.models import Appointment, Closure, OpeningHours, Shift
from ketaclinic.scheduling.tests.helpers import at, book, future_plan, holiday_ahead, local_day, room

if TYPE_CHECKING:
    from conftest import World


def form(world: World, north: ClinicLocation, **changes: str) -> dict[str, str]:
    patient = world.patient("north")
    values = {
        "location": str(north.pk),
        "patient_mrn": patient.mrn,
        "kind": "consultation",
        "date": local_day(north, 2).isoformat(),
        "time": "10:00",
    }
    values.update(changes)
    return values


def test_the_day_lists_every_chair_and_the_visits(world: World, north: ClinicLocation) -> None:
    patient = world.patient("north")
    book(patient, at(north, 2), chair=room(north).pk)
    page = world.client("nurse.north").get(f"/schedule/?location={north.pk}&start={local_day(north, 2)}")
    assert page.status_code == 200
    html = page.content.decode()
    assert patient.family_name in html and "Chair 6" in html and "10:00" in html
    assert "Book a visit" not in html  # nurses read the calendar; front desk books
    week = world.client("frontdesk.north").get(
        f"/schedule/?location={north.pk}&start={local_day(north, 2)}&days=7"
    )
    assert week.status_code == 200 and "Book a visit" in week.content.decode()
    assert "Staff training day" in week.content.decode()  # the demo's holiday, a week ahead


def test_book_from_the_form(world: World, north: ClinicLocation) -> None:
    response = world.client("frontdesk.north").post("/schedule/book/", form(world, north))
    assert response.status_code == 302
    made = Appointment.objects.get()
    assert made.patient == world.patient("north") and made.kind == "consultation"


def test_a_refused_booking_shows_its_rules_then_books_with_an_override(
    world: World, north: ClinicLocation
) -> None:
    client = world.client("frontdesk.north")
    refused = client.post(
        "/schedule/book/", form(world, north, date=local_day(north, holiday_ahead(north)).isoformat())
    )
    assert refused.status_code == 409
    html = refused.content.decode()
    assert "SCHED-CLOSURE" in html and "override reason" in html.lower()
    assert not Appointment.objects.exists()
    overridden = client.post(
        "/schedule/book/",
        form(
            world,
            north,
            date=local_day(north, holiday_ahead(north)).isoformat(),
            override_reason="Seen by the director",
        ),
    )
    assert overridden.status_code == 302
    assert Appointment.objects.get().overridden_rules == ["SCHED-CLOSURE"]
    assert AuditEvent.objects.filter(action="schedule.override").count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "massage"}, "kind"),
        ({"date": "someday"}, "date"),
        ({"patient_mrn": "KC-999999"}, "patient_mrn"),
        ({"override_reason": "x" * 301}, "override_reason"),
    ],
)
def test_bad_input_on_the_form_names_the_field(
    world: World, north: ClinicLocation, changes: dict[str, str], field: str
) -> None:
    response = world.client("frontdesk.north").post("/schedule/book/", form(world, north, **changes))
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.content.decode()
    assert not Appointment.objects.exists()


def test_cancel_and_no_show_from_the_page(world: World, north: ClinicLocation) -> None:
    made = book(world.patient("north"), at(north, 2))
    client = world.client("frontdesk.north")
    assert client.post(f"/schedule/appointments/{made.pk}/cancel/", {"reason": ""}).status_code == 302
    made.refresh_from_db()
    assert made.status == "booked"  # no reason: not cancelled
    assert client.post(f"/schedule/appointments/{made.pk}/no-show/").status_code == 302
    made.refresh_from_db()
    assert made.status == "booked"  # not started yet
    assert client.post(f"/schedule/appointments/{made.pk}/cancel/", {"reason": "Unwell"}).status_code == 302
    made.refresh_from_db()
    assert made.status == "cancelled" and made.cancel_reason == "Unwell"


def test_the_course_page_books_and_shows_what_was_not_booked(world: World, north: ClinicLocation) -> None:
    plan = future_plan(world.patient("north", 1), 2)
    sessions = list(plan.sessions.order_by("number"))
    Closure.objects.create(location=north, date=sessions[3].date, reason="Holiday")
    client = world.client("frontdesk.north")
    page = client.get(f"/schedule/plans/{plan.pk}/")
    assert page.status_code == 200 and "Book the course" in page.content.decode()
    booked = client.post(
        f"/schedule/plans/{plan.pk}/",
        {"date": sessions[0].date.isoformat(), "time": "11:00", "same_slot": "on"},
    )
    assert booked.status_code == 200
    html = booked.content.decode()
    assert "could not be booked" in html and "SCHED-CLOSURE" in html
    assert Appointment.objects.filter(session__plan=plan).count() == len(sessions) - 1
    wrong = client.post(f"/schedule/plans/{plan.pk}/", {"date": "2020-01-01", "time": "11:00"})
    assert wrong.status_code == 422 and 'id="e-date"' in wrong.content.decode()


def test_the_course_page_for_a_nurse_has_no_booking_form(world: World, north: ClinicLocation) -> None:
    plan = future_plan(world.patient("north", 1), 2)
    page = world.client("nurse.north").get(f"/schedule/plans/{plan.pk}/")
    assert page.status_code == 200 and "Book every session" not in page.content.decode()


def test_resources_page_and_its_forms(world: World, north: ClinicLocation) -> None:
    admin = world.client("admin.north")
    page = admin.get(f"/schedule/resources/{north.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "Opening hours" in html and "Staff training day" in html
    before = OpeningHours.objects.count()
    bad = admin.post(
        f"/schedule/resources/{north.pk}/opening/",
        {"opening-weekday": "0", "opening-opens": "18:00", "opening-closes": "08:00"},
    )
    assert bad.status_code == 422 and 'id="e-opening-closes"' in bad.content.decode()
    assert OpeningHours.objects.count() == before
    nurse = world.user("nurse.north")
    shifts = Shift.objects.count()
    added = admin.post(
        f"/schedule/resources/{north.pk}/shift/",
        {
            "shift-staff_id": str(nurse.pk),
            "shift-kind": "nurse",
            "shift-shift_date": local_day(north, 3).isoformat(),
            "shift-starts": "12:00",
            "shift-ends": "16:00",
        },
    )
    assert added.status_code == 302 and Shift.objects.count() == shifts + 1
    wrong_role = admin.post(
        f"/schedule/resources/{north.pk}/shift/",
        {
            "shift-staff_id": str(nurse.pk),
            "shift-kind": "prescriber",
            "shift-shift_date": local_day(north, 3).isoformat(),
            "shift-starts": "12:00",
            "shift-ends": "16:00",
        },
    )
    assert wrong_role.status_code == 422 and 'id="e-shift-staff_id"' in wrong_role.content.decode()
    assert admin.post(f"/schedule/resources/{north.pk}/nothing/", {}).status_code == 404
    readonly = world.client("nurse.north").get(f"/schedule/resources/{north.pk}/")
    assert readonly.status_code == 200 and "Add shift" not in readonly.content.decode()


def test_where_the_calendar_is_linked(world: World, north: ClinicLocation) -> None:
    """Front desk has it in the top bar; clinicians, whose bar is full on a tablet, on the floor board."""
    desk = world.client("frontdesk.north").get("/floor/").content.decode()
    assert desk.count('href="/schedule/"') == 2  # the bar and the board
    nurse = world.client("nurse.north").get("/floor/").content.decode()
    assert nurse.count('href="/schedule/"') == 1
    therapist = world.client("therapist.north").get("/rules/").content.decode()
    assert 'href="/schedule/"' not in therapist
