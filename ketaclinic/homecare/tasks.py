"""The task runner's schedule for home programs (Huey, discovered like assessments/tasks.py): check-in
reminders and missed check-ins every five minutes, and at start-up. Idempotent (reminders.py)."""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task, on_startup

from ketaclinic.homecare import reminders

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
@lock_task("homecare.run_checkins")
def run_checkins() -> None:
    report = reminders.run_checkins(timezone.now())
    if report.reminded or report.missed:
        log.info("home check-ins: %s reminders sent, %s marked missing", report.reminded, report.missed)


@on_startup()
def catch_up() -> None:
    report = reminders.run_checkins(timezone.now())
    log.info("home check-ins at start: %s reminders sent, %s marked missing", report.reminded, report.missed)
