"""What the task runner does for home programs (tasks.py), as a plain function of a clock.

`run_checkins(now)`: each home dose taken whose check-in is open and unsent gets one reminder ('you have a
check-in due', nothing else); each one past due unsent is marked missing (its hold is HOME-HOLD's, shown on
the worklist and the chart). Idempotent: the outbox's key and `checkin_missed_at` make a second run, or a run
after a restart, do nothing twice. The tests drive it with a clock of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ketaclinic.homecare import actions
from ketaclinic.homecare.models import DoseOutcome, HomeDose, ProgramStatus


@dataclass(frozen=True)
class RunReport:
    reminded: int = 0
    missed: int = 0


def run_checkins(now: dt.datetime) -> RunReport:
    waiting = HomeDose.objects.filter(
        outcome=DoseOutcome.TAKEN,
        checkin__isnull=True,
        checkin_missed_at__isnull=True,
        checkin_opens_at__lte=now,
        program__status__in=[ProgramStatus.ACTIVE, ProgramStatus.PAUSED],
    ).only("pk", "checkin_due_at")
    reminded = missed = 0
    for dose in waiting:
        assert dose.checkin_due_at is not None  # set with checkin_opens_at when the dose is taken
        if now > dose.checkin_due_at:
            missed += actions.do_mark_checkin_missed(dose, now=now)
        else:
            reminded += actions.do_send_checkin_reminder(dose, now=now)
    return RunReport(reminded, missed)
