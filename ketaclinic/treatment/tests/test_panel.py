"""The chart's treatment panel: each current plan with its sessions done of those planned, the next one ahead
(a link to its session page) and the last one done; ended plans counted; the patient's own plans only; one
read event; its queries flat in the number of plans and sessions."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.audit.models import AuditEvent
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.patients.models import Patient
from ketaclinic.treatment import actions, inputs, queries
from ketaclinic.treatment.models import SessionStatus, TreatmentPlan, TreatmentSession
from ketaclinic.treatment.tests.helpers import Clock, plan_today

if TYPE_CHECKING:
    from conftest import World

pytestmark = pytest.mark.usefixtures("clock")


def _panel(world: World, who: str, patient: Patient) -> str:
    response = world.client(who).get(f"/treatment/patients/{patient.pk}/panel/")
    assert response.status_code == 200
    return str(response.content.decode())


def _sessions(plan: TreatmentPlan) -> list[TreatmentSession]:
    return list(plan.sessions.order_by("number"))


def test_a_current_plan_shows_its_sessions_done_the_next_and_the_last(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    today = local_today(patient.location)
    first, second, third, fourth, *rest = _sessions(plan)
    assert first.date == today
    seen = {"checked_in_at": clock.now, "checked_in_by": world.user("nurse.north")}
    TreatmentSession.objects.filter(pk=first.pk).update(status=SessionStatus.DISCHARGED, **seen)
    TreatmentSession.objects.filter(pk=second.pk).update(status=SessionStatus.DEFERRED, **seen)
    TreatmentSession.objects.filter(pk=third.pk).update(status=SessionStatus.CANCELLED)
    yesterday = today - dt.timedelta(days=1)
    TreatmentSession.objects.filter(pk=rest[-1].pk).update(date=yesterday)  # booked, its day gone by
    planned = len(_sessions(plan)) - 1  # the cancelled one is not planned

    html = _panel(world, "nurse.north", patient)

    assert "Esketamine nasal spray" in html and "56 mg" in html and ">Active<" in html
    assert f"1 of {planned} done · 1 deferred" in html
    # The next is the first booked session from today on, the discharged one today being done.
    link = f'href="/treatment/sessions/{fourth.pk}/">{fourth.date.isoformat()}, session {fourth.number}</a>'
    assert link in html
    assert f"<dt>Last done</dt><dd>{today.isoformat()}</dd>" in html
    assert "1 booked session passed without a check-in." in html
    assert f'href="/treatment/plans/{plan.pk}/"' in html


def test_a_session_in_the_chair_today_is_the_next(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    first = _sessions(plan)[0]
    actions.do_check_in(first, inputs.CheckInIn(), actor=world.user("nurse.north"))

    html = _panel(world, "frontdesk.north", patient)

    link = f'href="/treatment/sessions/{first.pk}/">Today, session 1</a>'
    assert f'{link} <span class="badge ok">Checked in' in html
    assert "0 of" in html and "<dt>Last done</dt><dd>—</dd>" in html


def test_ended_plans_are_counted_and_a_draft_is_shown_as_one(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    prescriber = world.user("prescriber.north")
    ended = plan_today(patient, prescriber)
    actions.do_end_plan(ended, inputs.ReasonIn(reason="Course complete"), actor=prescriber)
    draft = plan_today(patient, prescriber, approve=False)

    html = _panel(world, "prescriber.north", patient)

    assert f'id="plan-{draft.pk}"' in html and ">Draft<" in html
    assert f'id="plan-{ended.pk}"' not in html
    assert "1 ended plan: " in html
    assert "Prescribe a plan" not in html  # a current plan: prescribing another is on the plans page


def test_with_no_current_plan_a_prescriber_is_offered_one(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    prescriber = world.user("prescriber.north")
    assert "No treatment plans yet." in _panel(world, "prescriber.north", patient)
    assert "Prescribe a plan" in _panel(world, "prescriber.north", patient)
    assert "Prescribe a plan" not in _panel(world, "nurse.north", patient)
    ended = plan_today(patient, prescriber)
    actions.do_end_plan(ended, inputs.ReasonIn(reason="Course complete"), actor=prescriber)
    html = _panel(world, "prescriber.north", patient)
    assert "No current treatment plan." in html and "Prescribe a plan" in html


def test_the_panel_shows_only_the_patients_own_plans(world: World, clock: Clock) -> None:
    patient, neighbour = world.patient("north", 0), world.patient("north", 1)
    theirs = plan_today(neighbour, world.user("prescriber.north"))

    html = _panel(world, "nurse.north", patient)

    assert "No treatment plans yet." in html
    assert str(theirs.pk) not in html
    assert not any(str(s.pk) in html for s in _sessions(theirs))


def test_the_panel_writes_one_read_event_for_its_patient(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan_today(patient, world.user("prescriber.north"))
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()

    _panel(world, "therapist.north", patient)

    events = AuditEvent.objects.filter(seq__gt=last)
    assert [(e.action, e.patient_id) for e in events] == [("patient.read", patient.pk)]


def test_the_chart_loads_the_panel_into_its_treatment_card(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    chart = world.client("nurse.north").get(f"/patients/{patient.pk}/").content.decode()
    assert f'id="treatment-panel" hx-get="/treatment/patients/{patient.pk}/panel/" hx-trigger="load"' in chart


def test_the_panels_queries_are_flat_in_plans_and_sessions(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    prescriber = world.user("prescriber.north")
    today = local_today(patient.location)
    with CaptureQueriesContext(connection) as none:
        assert queries.progress_of(patient, today) == []
    for _ in range(2):
        plan = plan_today(patient, prescriber, maintenance_sessions=20)
        actions.do_end_plan(plan, inputs.ReasonIn(reason="Course complete"), actor=prescriber)
    plan_today(patient, prescriber, maintenance_sessions=20)
    with CaptureQueriesContext(connection) as many:
        progress = queries.progress_of(patient, today)
    assert len(progress) == 3 and TreatmentSession.objects.filter(patient=patient).count() > 60
    assert len(none.captured_queries) == len(many.captured_queries) == queries.PANEL_QUERIES
