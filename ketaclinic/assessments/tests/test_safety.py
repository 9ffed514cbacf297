"""The alert flow end to end through the actions: a positive suicide item opens a same-day task, a C-SSRS by a
prescriber closes it, a high C-SSRS opens an urgent alert that only a safety plan closes, a worsening beyond
the policy flags the patient; every alert and its handling is audited, and who may close what is enforced."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from conftest import World
from ketaclinic.assessments import safety
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import AlertKind, AlertStatus, SafetyAlert, SafetyPlan, Source
from ketaclinic.assessments.safety_inputs import AlertCloseIn, SafetyPlanIn
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinicpolicy.clock import day_bounds, local_today
from ketaclinic.errors import Forbidden, Refused
from ketaclinic.patients.models import Patient

ITEM9_POSITIVE = [1, 1, 1, 1, 1, 1, 1, 1, 2]
CSSRS_LOW = {"q1": True, "q2": False, "q6": False}
CSSRS_HIGH = {"q1": True, "q2": True, "q3": True, "q4": True, "q5": False, "q6": False}


def record(
    patient: Patient,
    instrument: str,
    answers: Any,
    *,
    actor: Any = None,
    source: str = Source.CLINIC,
    taken_at: dt.datetime | None = None,
) -> Any:
    body: dict[str, Any] = {"instrument": instrument, "answers": answers}
    if taken_at is not None:
        body["taken_at"] = taken_at.isoformat()
    return do_record_assessment(patient, AssessmentIn.model_validate(body), actor=actor, source=source)


def _alerts(patient: Patient, kind: str, status: str = AlertStatus.OPEN) -> list[SafetyAlert]:
    return list(SafetyAlert.objects.filter(patient=patient, kind=kind, status=status))


def _audit(action: str, alert: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_id=str(alert.pk)))


def test_phq9_item9_from_a_self_report_opens_a_same_day_task_audited(world: World) -> None:
    patient = world.patient("north")
    answered = record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    [alert] = _alerts(patient, AlertKind.SUICIDE_ITEM)
    assert alert.assessment == answered
    assert alert.due_at == day_bounds(patient.location, local_today(patient.location))[1]
    assert "item 9 scored 2" in alert.detail and "self-report" in alert.detail
    assert patient.family_name not in alert.detail
    [row] = _audit(Action.SAFETY_ALERT_RAISE, alert)
    assert row.patient_id == patient.pk and row.actor_id is None and "kind" in row.changed_fields


def test_qids_item12_opens_the_task_and_a_negative_item_does_not(world: World) -> None:
    patient = world.patient("north")
    nurse = world.user("nurse.north")
    record(patient, "phq9", [2, 2, 2, 2, 2, 2, 2, 2, 0], actor=nurse)
    assert not _alerts(patient, AlertKind.SUICIDE_ITEM)
    qids = [0] * 16
    qids[11] = 1
    record(patient, "qids_sr16", qids, actor=nurse)
    [alert] = _alerts(patient, AlertKind.SUICIDE_ITEM)
    assert "item 12 scored 1" in alert.detail


def test_a_second_positive_item_adds_to_the_open_task(world: World) -> None:
    patient = world.patient("north")
    record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    record(patient, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 3], source=Source.SELF_REPORT)
    [alert] = _alerts(patient, AlertKind.SUICIDE_ITEM)
    assert "then PHQ-9 item 9 scored 3" in alert.detail
    assert len(_audit(Action.SAFETY_ALERT_RAISE, alert)) == 2


def test_a_prescribers_cssrs_closes_the_task_audited(world: World) -> None:
    patient = world.patient("north")
    prescriber = world.user("prescriber.north")
    record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    screener = record(patient, "cssrs_screen", CSSRS_LOW, actor=prescriber)
    assert not _alerts(patient, AlertKind.SUICIDE_ITEM)
    [closed] = _alerts(patient, AlertKind.SUICIDE_ITEM, AlertStatus.CLOSED)
    assert closed.closed_by_assessment == screener and closed.closed_by == prescriber
    [row] = _audit(Action.SAFETY_ALERT_CLOSE, closed)
    assert row.actor_id == prescriber.pk and "closed_by_assessment" in row.changed_fields
    assert not _alerts(patient, AlertKind.CSSRS_HIGH)


def test_a_cssrs_entered_without_safety_assess_leaves_the_task_open(world: World) -> None:
    patient = world.patient("north")
    record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    record(patient, "cssrs_screen", CSSRS_LOW, actor=world.user("nurse.north"))
    assert len(_alerts(patient, AlertKind.SUICIDE_ITEM)) == 1


def test_a_high_cssrs_opens_an_urgent_alert_only_a_safety_plan_closes(world: World) -> None:
    patient = world.patient("north")
    prescriber = world.user("prescriber.north")
    record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    before = timezone.now()
    record(patient, "cssrs_screen", CSSRS_HIGH, actor=prescriber)
    assert not _alerts(patient, AlertKind.SUICIDE_ITEM)
    [urgent] = _alerts(patient, AlertKind.CSSRS_HIGH)
    assert urgent.due_at <= timezone.now() and urgent.due_at >= before
    with pytest.raises(Refused, match="not closed by hand"):
        safety.do_close_alert(urgent, AlertCloseIn(note="seen"), actor=prescriber)
    plan = safety.do_record_safety_plan(patient, SafetyPlanIn(plan_text="Call 988."), actor=prescriber)
    urgent.refresh_from_db()
    assert urgent.status == AlertStatus.CLOSED and urgent.closed_by_safety_plan == plan
    row = AuditEvent.objects.get(action=Action.SAFETY_PLAN_RECORD, object_id=str(plan.pk))
    assert "cssrs_high_alert.status" in row.changed_fields and row.actor_id == prescriber.pk
    assert safety.latest_safety_plan(patient.pk) == plan


def test_only_a_prescriber_records_a_safety_plan(world: World) -> None:
    patient = world.patient("north")
    with pytest.raises(Forbidden):
        safety.do_record_safety_plan(patient, SafetyPlanIn(plan_text="x"), actor=world.user("nurse.north"))
    with pytest.raises(Forbidden):
        safety.do_record_safety_plan(
            patient, SafetyPlanIn(plan_text="x"), actor=world.user("prescriber.south")
        )
    assert not SafetyPlan.objects.filter(patient=patient).exists()


def _phq9_total(total: int) -> list[int]:
    items = [0] * 9
    for i in range(total):
        items[i % 8] += 1  # item 9 stays 0
    return items


def test_worsening_beyond_the_policy_flags_the_patient_and_a_review_closes_it(world: World) -> None:
    patient = world.patient("north")
    nurse = world.user("nurse.north")
    start = timezone.now() - dt.timedelta(days=14)
    record(patient, "phq9", _phq9_total(12), actor=nurse, taken_at=start)
    record(patient, "phq9", _phq9_total(14), actor=nurse, taken_at=start + dt.timedelta(days=7))
    assert not _alerts(patient, AlertKind.WORSENING)
    record(patient, "phq9", _phq9_total(15), actor=nurse)
    [flag] = _alerts(patient, AlertKind.WORSENING)
    assert "total 15 against a baseline of 12" in flag.detail and "25%" in flag.detail
    with pytest.raises(Forbidden):
        safety.do_close_alert(flag, AlertCloseIn(note="seen"), actor=nurse)
    prescriber = world.user("prescriber.north")
    safety.do_close_alert(flag, AlertCloseIn(note="Reviewed; session moved up."), actor=prescriber)
    flag.refresh_from_db()
    assert flag.status == AlertStatus.CLOSED and flag.closing_note == "Reviewed; session moved up."
    assert len(_audit(Action.SAFETY_ALERT_CLOSE, flag)) == 1
    with pytest.raises(Refused, match="closed already"):
        safety.do_close_alert(flag, AlertCloseIn(note="again"), actor=prescriber)


def test_the_worsening_threshold_is_the_locations_policy(world: World) -> None:
    from ketaclinic.clinicpolicy.actions import do_change_policy
    from ketaclinic.clinicpolicy.inputs import PolicyChangeIn
    from ketaclinic.clinicpolicy.queries import policy_version

    patient = world.patient("north")
    change = PolicyChangeIn(values={"worsening_rise_percent": None}, reason="Clinical lead decides by hand")
    do_change_policy(
        patient.location,
        change,
        actor=world.user("admin.north"),
        expected_version=policy_version(patient.location),
    )
    nurse = world.user("nurse.north")
    record(patient, "phq9", _phq9_total(5), actor=nurse, taken_at=timezone.now() - dt.timedelta(days=7))
    record(patient, "phq9", _phq9_total(20), actor=nurse)
    assert not _alerts(patient, AlertKind.WORSENING)
    assert DEFAULT_POLICY.worsening_rise_percent == 25
    assert dataclasses.replace(DEFAULT_POLICY, worsening_rise_percent=None).worsening_rise_percent is None
