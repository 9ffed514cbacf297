"""The calendar's task-runner work (Huey; settings.HUEY, started by `make run`).

- Solving a week's proposal off the web process: the solver uses two workers (optimiser.NUM_WORKERS) for at
  most the proposal's time limit; the answer is stored on the proposal, so a page polls it and the API may
  wait for it.
- Schedules: visit reminders asking for confirmation, and waitlist offers whose hold has ended moved to the
  next patient. A lock keeps two runs of one task apart; both are idempotent (the outbox sends each message
  once).
"""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from ketaclinic.scheduling import proposals, waitlist
from ketaclinic.scheduling.models import Proposal

log = logging.getLogger(__name__)


@db_task()
def solve_proposal(proposal_id: str) -> bool:
    proposal = Proposal.objects.filter(pk=proposal_id).first()
    if proposal is None:
        return False
    try:
        done = proposals.do_solve(proposal)
    except Exception:
        log.exception("schedule proposal %s failed", proposal_id)  # ids only: no PHI in logs
        proposals.do_fail(proposal_id)
        return False
    log.info("schedule proposal %s: %s of %s placed", proposal_id, done.placed, done.wanted)
    return True


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
