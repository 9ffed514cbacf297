"""The calendar's schedules on the task runner (Huey; settings.HUEY, started by `make run`): visit reminders
asking for confirmation, and waitlist offers whose hold has ended moved to the next patient. A lock keeps
two runs of one task apart; both are idempotent (the outbox sends each message once)."""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from ketaclinic.scheduling import waitlist

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
@lock_task("scheduling.send_visit_reminders")
def send_visit_reminders() -> None:
    sent = waitlist.send_visit_reminders(timezone.now())
    if sent:
        log.info("visit reminders: %s sent", sent)


@db_periodic_task(crontab(minute="*"))
@lock_task("scheduling.expire_offers")
def expire_offers() -> None:
    expired = waitlist.expire_offers(timezone.now())
    if expired:
        log.info("waitlist offers: %s expired and passed on", expired)
