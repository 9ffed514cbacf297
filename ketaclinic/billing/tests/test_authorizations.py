"""Prior authorisations of a plan: recorded through the API and the page (refused input named by field,
nothing saved), the sessions they have left counted from given and booked sessions, and sessions beyond the
approved count flagged on the plan page and for a booking."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from conftest import World
from ketaclinic.accounts.actions import do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.billing import actions, authorizations, inputs
from ketaclinic.billing.models import PriorAuthorization
from ketaclinic.billing.tests import matrix
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.scheduling.models import Appointment
from ketaclinic.treatment.models import PlanStatus, SessionStatus, TreatmentPlan
from ketaclinic.treatment.tests import matrix as treatment_matrix


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _authorize(
    plan: TreatmentPlan, sessions: int, *, start: dt.date, end: dt.date, number: str = "PA-1"
) -> Any:
    data = inputs.AuthorizationIn(
        number=number, approved_from=start, approved_to=end, approved_sessions=sessions
    )
    return actions.do_record_authorization(plan, data, actor=matrix._staff(plan.patient, "frontdesk"))


def _book(session: Any) -> Appointment:
    chair = Chair.objects.filter(location=session.location).first()
    assert chair is not None
    start = timezone.now() + dt.timedelta(days=1)
    return Appointment.objects.create(
        patient=session.patient,
        location=session.location,
        chair=chair,
        kind="esketamine_nasal",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        session=session,
        created_at=timezone.now(),
        created_by=matrix._staff(session.patient, "frontdesk"),
        updated_at=timezone.now(),
    )


def test_record_through_the_api_and_list_with_what_remains(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        plan = matrix.draft_plan(patient)
        desk = world.api("frontdesk.north")
        today = clock.now.date()
        body = {
            "number": "PA-88120",
            "approved_from": today.isoformat(),
            "approved_to": (today + dt.timedelta(days=90)).isoformat(),
            "approved_sessions": 3,
        }
        made = _post(desk, f"/api/v1/treatment-plans/{plan.pk}/prior-authorizations", body)
        assert made.status_code == 201, made.content
        assert made.json()["number"] == "PA-88120" and made.json()["approved_sessions"] == 3
        listed = desk.get(f"/api/v1/treatment-plans/{plan.pk}/prior-authorizations")
    assert listed.status_code == 200
    page = listed.json()
    assert page["count"] == 1 and page["items"][0]["number"] == "PA-88120"
    standing = page["in_force"]
    planned = plan.sessions.filter(date__lte=today + dt.timedelta(days=90)).count()
    assert standing["sessions_remaining"] == 3 and standing["sessions_given"] == 0
    assert standing["sessions_beyond"] == list(range(4, planned + 1))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"approved_to": "2026-01-01", "approved_from": "2026-02-01"}, "approved_to"),
        ({"approved_sessions": 0}, "approved_sessions"),
        ({"approved_sessions": "twelve"}, "approved_sessions"),
        ({"approved_sessions": 2.5}, "approved_sessions"),
        ({"approved_sessions": True}, "approved_sessions"),
        ({"number": "   "}, "number"),
        ({"approved_from": "2026-13-01"}, "approved_from"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_authorization_is_refused_naming_the_field(
    world: World, change: dict[str, Any], field: str
) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient):
        plan = matrix.draft_plan(patient)
    body = {
        "number": "PA-1",
        "approved_from": "2026-02-01",
        "approved_to": "2026-03-01",
        "approved_sessions": 4,
        **change,
    }
    response = _post(
        world.api("frontdesk.north"), f"/api/v1/treatment-plans/{plan.pk}/prior-authorizations", body
    )
    assert response.status_code == 422 and field in response.json()["errors"], response.content
    assert not PriorAuthorization.objects.exists()
    if field == "surprise":
        return  # a form sends only its own fields
    page = world.client("frontdesk.north").post(
        f"/billing/plans/{plan.pk}/authorization/", {k: str(v) for k, v in body.items()}
    )
    assert page.status_code == 422 and field in page.context["errors"]
    assert not PriorAuthorization.objects.exists()


def test_an_ended_plan_takes_no_authorization(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        session = matrix.signed_session(patient, clock)
        TreatmentPlan.objects.filter(pk=session.plan_id).update(status=PlanStatus.ENDED, ended_at=clock.now)
        today = clock.now.date().isoformat()
        body = {"number": "PA-2", "approved_from": today, "approved_to": today, "approved_sessions": 2}
        response = _post(
            world.api("frontdesk.north"),
            f"/api/v1/treatment-plans/{session.plan_id}/prior-authorizations",
            body,
        )
    assert response.status_code == 409 and response.json()["errors"] == {"plan": response.json()["detail"]}
    assert not PriorAuthorization.objects.exists()


def test_given_and_booked_sessions_use_the_count_and_a_booking_beyond_it_is_flagged(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        signed = matrix.signed_session(patient, clock)
        plan = signed.plan
        today = clock.now.date()
        later = list(plan.sessions.filter(status=SessionStatus.SCHEDULED).order_by("date", "number"))
        assert len(later) >= 3
        end = later[2].date
        _authorize(plan, 3, start=today - dt.timedelta(days=30), end=end)
        assert authorizations.remaining_sessions(plan) == 3 - 1  # the signed session is given
        assert authorizations.session_flag(later[0]) is None
        _book(later[0])
        assert authorizations.remaining_sessions(plan) == 1
        assert authorizations.session_flag(later[1]) is None  # the last approved one
        _book(later[1])
        assert authorizations.remaining_sessions(plan) == 0
        flag = authorizations.session_flag(later[2])
        assert flag is not None and "PA-1" in flag["message"] and flag["sessions_remaining"] == 0
        # A session after the authorised dates is flagged as outside them.
        if len(later) > 3:
            outside = authorizations.session_flag(later[3])
            assert outside is not None and "outside the dates" in outside["message"]
        standing = authorizations.standing(plan)
        assert standing is not None and standing.beyond == (later[2].number,)
        # The plan page shows the front desk what is left and what goes beyond.
        page = world.client("frontdesk.north").get(f"/treatment/plans/{plan.pk}/")
        html = page.content.decode()
        assert page.status_code == 200 and 'id="plan-authorization"' in html
        assert "0 remaining" in html and 'id="authorization-beyond"' in html
        # The nurse's view of the plan shows no money.
        nurse = world.client("nurse.north").get(f"/treatment/plans/{plan.pk}/")
        assert nurse.status_code == 200 and b"plan-authorization" not in nurse.content


def test_a_plan_without_authorization_is_never_flagged(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient):
        plan = matrix.draft_plan(patient)
        first = plan.sessions.order_by("number").first()
    assert authorizations.remaining_sessions(plan) is None
    assert first is not None and authorizations.session_flag(first) is None


def test_a_renewal_supersedes_and_the_page_records_one(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        plan = matrix.draft_plan(patient)
        today = clock.now.date()
        _authorize(plan, 2, start=today, end=today + dt.timedelta(days=10), number="PA-OLD")
        clock.now += dt.timedelta(minutes=5)
        page = world.client("frontdesk.north")
        made = page.post(
            f"/billing/plans/{plan.pk}/authorization/",
            {
                "number": "PA-NEW",
                "approved_from": today.isoformat(),
                "approved_to": (today + dt.timedelta(days=60)).isoformat(),
                "approved_sessions": "6",
            },
        )
        assert made.status_code == 302
        shown = page.get(f"/billing/plans/{plan.pk}/authorization/")
        standing = authorizations.standing(plan)
    assert standing is not None and standing.authorization.number == "PA-NEW"
    assert shown.status_code == 200 and b"PA-NEW" in shown.content and b"PA-OLD" in shown.content


def test_front_desk_at_one_location_only(world: World) -> None:
    """A therapist at north who is front desk at south records south's authorisations, not north's."""
    user = world.user("therapist.north")
    do_grant_role(
        user, ClinicLocation.objects.get(slug="south"), "front_desk", actor=world.user("admin.south")
    )
    north, south = world.patient("north"), world.patient("south")
    with treatment_matrix.frozen(north):
        north_plan = matrix.draft_plan(north)
    with treatment_matrix.frozen(south):
        south_plan = matrix.draft_plan(south)
    body = {
        "number": "PA-9",
        "approved_from": "2026-01-01",
        "approved_to": "2026-12-31",
        "approved_sessions": 4,
    }
    client = world.client("therapist.north")
    assert client.post(f"/billing/plans/{south_plan.pk}/authorization/", body).status_code == 302
    refused = client.post(f"/billing/plans/{north_plan.pk}/authorization/", body)
    assert refused.status_code == 403
    assert not PriorAuthorization.objects.filter(plan=north_plan).exists()


def test_the_booking_answer_flags_a_session_beyond_the_authorization(world: World) -> None:
    """Scheduling's booking answer carries billing's note (registered at start-up) for a session past the
    approved count; a session within it has none."""
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        signed = matrix.signed_session(patient, clock)
        plan = signed.plan
        later = list(plan.sessions.filter(status=SessionStatus.SCHEDULED).order_by("date", "number"))
        _authorize(plan, 2, start=clock.now.date() - dt.timedelta(days=30), end=later[-1].date)
        desk = world.api("frontdesk.north")

        def book(session: Any) -> Any:
            start = dt.datetime.combine(session.date, dt.time(15), tzinfo=dt.UTC)
            body = {
                "patient_id": str(patient.pk),
                "kind": "esketamine_nasal",
                "starts_at": start.isoformat(),
                "session_id": str(session.pk),
                "override_reason": "Booked for the test whatever the calendar says",
            }
            return _post(desk, "/api/v1/appointments", body)

        within = book(later[0])
        assert within.status_code == 201, within.content
        assert within.json()["notes"] == []
        beyond = book(later[1])
        assert beyond.status_code == 201, beyond.content
        notes = beyond.json()["notes"]
        assert len(notes) == 1 and notes[0]["kind"] == "prior_authorization"
        assert notes[0]["sessions_remaining"] == 0 and "PA-1" in notes[0]["message"]


def test_the_course_page_flags_sessions_beyond_the_authorization_before_they_are_booked(world: World) -> None:
    """Front desk sees, on the plan's course page, which sessions still to book go past the approved count;
    the nurse reads the course but none of billing's flags."""
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        signed = matrix.signed_session(patient, clock)
        plan = signed.plan
        later = list(plan.sessions.filter(status=SessionStatus.SCHEDULED).order_by("date", "number"))
        _authorize(plan, 2, start=clock.now.date() - dt.timedelta(days=30), end=later[-1].date)
        url = f"/schedule/plans/{plan.pk}/"
        desk = world.client("frontdesk.north").get(url)
        assert desk.status_code == 200, desk.content[:300]
        page = desk.content.decode()
        # One session given, one approved left: every later session but the first is flagged.
        flagged = page.count('<span class="badge warn">prior authorization</span>')
        assert flagged == len(later) - 1 and "beyond the 2 sessions prior authorisation PA-1" in page
        nurse = world.client("nurse.north").get(url)
        assert nurse.status_code == 200 and "prior authorization" not in nurse.content.decode()
