"""do_sync_plan_schedule: an approved plan gets its requests, idempotently; pausing, resuming and ending
the plan keep them right; the periodic task builds them for every plan."""

from __future__ import annotations

from conftest import World
from ketaclinic.assessments import reminders
from ketaclinic.assessments.actions import do_sync_plan_schedule
from ketaclinic.assessments.models import AssessmentRequest, Channel, RequestStatus
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.treatment import actions as treatment
from ketaclinic.treatment.inputs import ReasonIn
from ketaclinic.treatment.models import TreatmentPlan
from ketaclinic.treatment.tests.helpers import Clock, plan_today


def _requests(plan: TreatmentPlan) -> list[AssessmentRequest]:
    return list(AssessmentRequest.objects.filter(plan=plan).order_by("due_at", "reason", "instrument"))


def test_an_approved_plan_gets_its_schedule_once(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    change = do_sync_plan_schedule(plan, now=clock.now)
    rows = _requests(plan)
    assert change.created == len(rows) > 10
    baseline = {r.instrument for r in rows if r.reason == "baseline"}
    assert baseline == {"phq9", "gad7", "madrs"}
    first = plan.sessions.order_by("number").first()
    assert first is not None and all(r.session_id == first.pk for r in rows if r.reason == "baseline")
    madrs = [r for r in rows if r.instrument == "madrs"]
    assert {r.reason for r in madrs} == {"baseline", "end_of_induction"}
    assert all(r.channel == Channel.NONE for r in madrs)
    assert all(r.token_hash is None for r in rows)
    trail = AuditEvent.objects.filter(action=Action.ASSESSMENT_SCHEDULE, object_id=str(plan.pk))
    audits = trail.count()
    # Again, and through the periodic task: nothing changes, no audit row.
    assert not do_sync_plan_schedule(plan, now=clock.now).changed
    reminders.build_schedules(clock.now)
    assert len(_requests(plan)) == len(rows)
    assert trail.count() == audits


def test_a_draft_plan_has_no_schedule(world: World, clock: Clock) -> None:
    plan = plan_today(world.patient("north"), world.user("prescriber.north"), approve=False)
    assert not do_sync_plan_schedule(plan, now=clock.now).changed
    assert _requests(plan) == []


def test_pause_cancels_resume_restores_end_cancels(world: World, clock: Clock) -> None:
    prescriber = world.user("prescriber.north")
    plan = plan_today(world.patient("north"), prescriber)
    do_sync_plan_schedule(plan, now=clock.now)
    total = len(_requests(plan))
    plan = treatment.do_pause_plan(plan, ReasonIn(reason="travelling"), actor=prescriber)
    assert do_sync_plan_schedule(plan, now=clock.now).cancelled == total
    assert {r.status for r in _requests(plan)} == {RequestStatus.CANCELLED}
    plan = treatment.do_resume_plan(plan, ReasonIn(reason="back"), actor=prescriber)
    assert do_sync_plan_schedule(plan, now=clock.now).restored == total
    assert {r.status for r in _requests(plan)} == {RequestStatus.PENDING}
    plan = treatment.do_end_plan(plan, ReasonIn(reason="remission"), actor=prescriber)
    reminders.build_schedules(clock.now)
    assert {r.status for r in _requests(plan)} == {RequestStatus.CANCELLED}
