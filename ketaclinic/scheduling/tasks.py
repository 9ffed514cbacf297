"""The calendar's task-runner work (Huey; settings.HUEY): solving a week's proposal off the web process.

The solver uses two workers (optimiser.NUM_WORKERS) for at most the proposal's time limit; the answer is
stored on the proposal, so a page polls it and the API may wait for it.
"""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task

from ketaclinic.scheduling import proposals
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
