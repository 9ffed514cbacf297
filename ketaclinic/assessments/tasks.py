"""The task runner's schedules (Huey; settings.HUEY, started by `ketaclinic serve` and `make run`).

Each periodic task calls a function of reminders.py with the runner's clock; a lock keeps two runs of one
task apart (a slow run and the next tick, or two consumers). Tasks are idempotent: a restart, or a task run
twice, sends nothing twice. `schedule_plan` builds one plan's requests at once (enqueued by pages and the
API after a plan changes; the periodic task catches any it missed).
"""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task, on_startup

from ketaclinic.assessments import actions, reminders
from ketaclinic.treatment.models import TreatmentPlan

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
@lock_task("assessments.build_schedules")
def build_schedules() -> None:
    report = reminders.build_schedules(timezone.now())
    log.info("assessment schedules: %s plans changed, %s unchanged", report.done, report.skipped)


@db_periodic_task(crontab(minute="*/5"))
@lock_task("assessments.send_reminders")
def send_reminders() -> None:
    report = reminders.send_reminders(timezone.now())
    log.info("self-report reminders: %s sent, %s skipped", report.done, report.skipped)


@db_periodic_task(crontab(minute="*/30"))
@lock_task("assessments.send_previsits")
def send_previsits() -> None:
    report = reminders.send_previsits(timezone.now())
    log.info("pre-visit instructions: %s sent, %s skipped", report.done, report.skipped)


@on_startup()
def catch_up() -> None:
    """When the runner starts (make run, a restart): what was due meanwhile, at once, not at the next tick.
    Idempotent like every run (the outbox's keys hold if a tick runs beside it)."""
    now = timezone.now()
    plans = reminders.build_schedules(now)
    sent = reminders.send_reminders(now)
    previsits = reminders.send_previsits(now)
    log.info(
        "task runner started: %s plans scheduled, %s reminders and %s pre-visit messages sent",
        plans.done,
        sent.done,
        previsits.done,
    )


@db_task()
def schedule_plan(plan_id: str) -> None:
    plan = TreatmentPlan.objects.filter(pk=plan_id).first()
    if plan is not None:
        actions.do_sync_plan_schedule(plan)
