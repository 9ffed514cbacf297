"""The task runner's home check-ins with a clock of the test's own: one reminder when the check-in opens
(no medicine, dose or reading in it), a missed check-in marked once, nothing twice after a restart."""

from __future__ import annotations

from django.core import mail

from conftest import World
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.homecare import reminders, tasks
from ketaclinic.homecare.models import HomeDose
from ketaclinic.homecare.tests import helpers
from ketaclinic.messaging.models import Message, MessageStatus
from ketaclinic.portal.tests.helpers import account_for
from ketaclinic.treatment.tests.helpers import Clock


def test_reminder_once_when_open_then_missed_once(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    dose = helpers.dosed(account, clock.now)

    assert reminders.run_checkins(clock.now) == reminders.RunReport(0, 0)  # not open yet
    clock.advance(hours=2)
    assert reminders.run_checkins(clock.now) == reminders.RunReport(1, 0)
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "check-in due" in body and "988" in body
    for secret in (patient.family_name, patient.given_name, "ketamine", "mg", "122"):
        assert secret not in body
    # The next tick, and the runner's own task (as after a restart): nothing more.
    assert reminders.run_checkins(clock.now) == reminders.RunReport(0, 0)
    tasks.run_checkins()
    assert len(mail.outbox) == 1
    assert Message.objects.filter(key=f"home_checkin:{dose.pk}:due", status=MessageStatus.SENT).count() == 1

    clock.advance(hours=22, minutes=1)
    assert reminders.run_checkins(clock.now) == reminders.RunReport(0, 1)
    assert reminders.run_checkins(clock.now) == reminders.RunReport(0, 0)
    dose.refresh_from_db()
    assert dose.checkin_missed_at is not None
    assert AuditEvent.objects.filter(action=Action.HOME_CHECKIN_MISSED, patient=patient).count() == 1
    assert AuditEvent.objects.filter(action=Action.HOME_CHECKIN_REMINDER, patient=patient).count() == 1


def test_a_sent_checkin_needs_no_reminder(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    dose = helpers.dosed(account, clock.now)
    clock.advance(hours=2)
    helpers.checkin(account, dose, clock.now)
    clock.advance(hours=30)
    assert reminders.run_checkins(clock.now) == reminders.RunReport(0, 0)
    assert HomeDose.objects.get(pk=dose.pk).checkin_missed_at is None
    assert not mail.outbox
