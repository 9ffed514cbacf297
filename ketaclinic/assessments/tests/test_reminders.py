"""The task runner's reminders with a clock of the test's own: a link sent once, an overdue reminder, a
restart that resends nothing, pre-visit instructions only for tomorrow's esketamine sessions."""

from __future__ import annotations

import re
from typing import Any

from django.core import mail

from conftest import World
from ketaclinic.assessments import links, reminders, tasks
from ketaclinic.assessments.actions import do_sync_plan_schedule
from ketaclinic.assessments.models import AssessmentRequest, RequestStatus
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.clinical.preparation import ESKETAMINE_PREPARATION
from ketaclinic.messaging import outbox
from ketaclinic.messaging.models import Message, MessageStatus
from ketaclinic.messaging.senders import MemorySender
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import TreatmentPlan
from ketaclinic.treatment.tests.helpers import Clock, plan_today

LINK = re.compile(r"/r/([A-Za-z0-9_.\-]+)/")


def _scheduled(world: World, clock: Clock, **kwargs: object) -> tuple[Patient, TreatmentPlan]:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"), **kwargs)  # type: ignore[arg-type]
    do_sync_plan_schedule(plan, now=clock.now)
    return patient, plan


def _tokens(messages: list[Any]) -> list[str]:
    return [m.group(1) for body in messages for m in [LINK.search(body)] if m]


def test_due_links_are_sent_once_and_a_restart_resends_nothing(world: World, clock: Clock) -> None:
    patient, plan = _scheduled(world, clock)
    assert reminders.send_reminders(clock.now).done == 2  # the baseline PHQ-9 and GAD-7, due today
    assert len(mail.outbox) == 2 and {m.to[0] for m in mail.outbox} == {patient.email}
    for message in mail.outbox:
        # No name, no instrument, no medicine: only a link, its expiry, and the crisis line.
        assert patient.family_name not in message.body and patient.given_name not in message.body
        assert "PHQ" not in message.body and "esketamine" not in message.body.lower()
        assert "988" in message.body
    hashes = {links.token_hash(t) for t in _tokens([m.body for m in mail.outbox])}
    sent = [r for r in AssessmentRequest.objects.filter(plan=plan) if "due" in r.reminders_sent]
    assert {r.token_hash for r in sent} == hashes
    assert all(r.expires_at is not None for r in sent)
    audits = AuditEvent.objects.filter(action=Action.SELF_REPORT_SEND, patient=patient).count()
    assert audits == 2
    # The next tick, and the runner's own task (as after a restart: state is in the database): nothing.
    assert reminders.send_reminders(clock.now).done == 0
    tasks.send_reminders()
    clock.advance(minutes=30)
    assert reminders.send_reminders(clock.now).done == 0
    assert len(mail.outbox) == 2
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 2


def test_a_claim_left_by_a_crashed_runner_is_not_resent_until_it_is_stale(world: World, clock: Clock) -> None:
    _, plan = _scheduled(world, clock)
    request = AssessmentRequest.objects.filter(plan=plan, reason="baseline", instrument="phq9").get()
    outbox.claim(
        f"assessment_request:{request.pk}:due",
        kind="self_report_due",
        channel="email",
        location_id=request.location_id,
        now=clock.now,
    )  # claimed, never delivered: the process died
    assert reminders.send_reminders(clock.now).done == 1  # the GAD-7 only
    clock.advance(minutes=20)
    assert reminders.send_reminders(clock.now).done == 1  # the stale claim is retried once
    assert len(mail.outbox) == 2


def test_an_overdue_reminder_goes_once_with_a_new_link(world: World, clock: Clock) -> None:
    _, plan = _scheduled(world, clock)
    reminders.send_reminders(clock.now)
    first = set(_tokens([m.body for m in mail.outbox]))
    clock.advance(hours=12)
    assert reminders.send_reminders(clock.now).done == 0  # not overdue yet (24 h after it was due)
    clock.advance(hours=12)
    assert reminders.send_reminders(clock.now).done == 2
    assert reminders.send_reminders(clock.now).done == 0
    overdue = mail.outbox[2:]
    assert len(overdue) == 2 and all(m.subject.startswith("Reminder") for m in overdue)
    second = set(_tokens([m.body for m in overdue]))
    assert not first & second
    rows = AssessmentRequest.objects.filter(plan=plan, reason="baseline", instrument__in=["phq9", "gad7"])
    assert all(sorted(r.reminders_sent) == ["due", "overdue"] for r in rows)
    assert {r.token_hash for r in rows} == {links.token_hash(t) for t in second}
    # Its link expires unanswered: the request is marked expired and nothing more is sent.
    clock.advance(hours=73)
    reminders.send_reminders(clock.now)
    assert {r.status for r in rows.all()} == {RequestStatus.EXPIRED}
    keys = [f"assessment_request:{r.pk}:" for r in rows]
    assert sum(Message.objects.filter(key__startswith=k).count() for k in keys) == 4


def test_sms_goes_through_the_sender_when_there_is_no_email(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    Patient.objects.filter(pk=patient.pk).update(email="")
    _scheduled(world, clock)
    reminders.send_reminders(clock.now)
    assert mail.outbox == [] and len(MemorySender.outbox) == 2
    assert {s.to for s in MemorySender.outbox} == {patient.phone}


def test_previsit_instructions_only_for_tomorrows_esketamine_sessions(world: World, clock: Clock) -> None:
    _scheduled(world, clock)  # sessions today and in 3 days, then weekly
    assert reminders.send_previsits(clock.now).done == 0  # none tomorrow
    clock.advance(days=2)
    assert reminders.send_previsits(clock.now).done == 1
    assert reminders.send_previsits(clock.now).done == 0
    tasks.send_previsits()
    (message,) = [m for m in mail.outbox if m.subject == links.PREVISIT_SUBJECT]
    assert "2 hours" in message.body and "30 minutes" in message.body
    assert "take you home" in message.body and "Do not drive" in message.body
    # Every sourced instruction the portal shows is in the message, word for word.
    assert all(i.text in message.body for i in ESKETAMINE_PREPARATION)
    assert AuditEvent.objects.filter(action=Action.PREVISIT_SEND).count() == 1


def test_no_previsit_instructions_for_ketamine_sessions(world: World, clock: Clock) -> None:
    _scheduled(world, clock, modality="iv_ketamine")
    clock.advance(days=2)
    assert reminders.send_previsits(clock.now).done == 0
    assert [m for m in mail.outbox if m.subject == links.PREVISIT_SUBJECT] == []
