"""What the task runner does every few minutes (tasks.py), as plain functions of a clock.

Each takes `now`, so the tests drive them with a clock of their own, and each is idempotent: a second run,
or a run after the runner restarted, finds the work done (the schedule's unique constraint, the outbox's
keys, the request's `reminders_sent`) and sends nothing twice.

- `build_schedules`: every plan's requests made right (`actions.do_sync_plan_schedule`), so a plan
  approved, paused, resumed, ended or rescheduled has the requests it should within minutes;
- `send_reminders`: the link of each pending self-report request, `self_report_lead_hours` before it is
  due, and one overdue reminder `self_report_overdue_hours` after; a request whose link has expired after
  its overdue reminder is marked expired;
- `send_previsits`: each esketamine session's preparation instructions, the day before, once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db.models import Q

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.assessments import actions
from ketaclinic.assessments.models import AssessmentRequest, Channel, RequestStatus
from ketaclinic.assessments.schedule import SELF_REPORT
from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.treatment.models import (
    PlanModality,
    PlanStatus,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
)

log = logging.getLogger(__name__)

# How far ahead the reminder query looks; a clinic's lead time above this is read as this.
LOOK_AHEAD = dt.timedelta(days=14)


@dataclass(frozen=True)
class RunReport:
    done: int = 0
    skipped: int = 0


def build_schedules(now: dt.datetime) -> RunReport:
    """Sync every plan that is active, or that still has pending scheduled requests."""
    plans = TreatmentPlan.objects.filter(
        Q(status=PlanStatus.ACTIVE)
        | Q(
            pk__in=AssessmentRequest.objects.filter(status=RequestStatus.PENDING, plan__isnull=False).values(
                "plan"
            )
        )
    ).only("pk")
    done = skipped = 0
    for plan in plans:
        change = actions.do_sync_plan_schedule(plan, now=now)
        done, skipped = (done + 1, skipped) if change.changed else (done, skipped + 1)
    return RunReport(done, skipped)


def _policies() -> dict[int, ClinicPolicy]:
    return {loc.pk: policy_for(loc) for loc in ClinicLocation.objects.all()}


def send_reminders(now: dt.datetime) -> RunReport:
    policies = _policies()
    pending = AssessmentRequest.objects.filter(
        status=RequestStatus.PENDING,
        channel__in=[Channel.EMAIL, Channel.SMS],
        instrument__in=[i.value for i in SELF_REPORT],
        due_at__lte=now + LOOK_AHEAD,
    ).order_by("due_at", "pk")
    done = skipped = 0
    for request in pending:
        policy = policies[request.location_id]
        sent = set(request.reminders_sent)
        kind = None
        if now >= request.due_at + dt.timedelta(hours=policy.self_report_overdue_hours):
            if "overdue" not in sent:
                kind = "overdue"
            elif request.expires_at is not None and request.expires_at <= now:
                AssessmentRequest.objects.filter(pk=request.pk, status=RequestStatus.PENDING).update(
                    status=RequestStatus.EXPIRED, version=request.version + 1
                )
                continue
        elif now >= request.due_at - dt.timedelta(hours=policy.self_report_lead_hours) and "due" not in sent:
            kind = "due"
        if kind is None:
            continue
        if actions.do_send_reminder(request, kind, now=now):
            done += 1
        else:
            skipped += 1
    return RunReport(done, skipped)


def send_previsits(now: dt.datetime) -> RunReport:
    """Each location's esketamine sessions of tomorrow (its own calendar) get their instructions once."""
    done = skipped = 0
    for location in ClinicLocation.objects.all():
        tomorrow = local_date(location, now) + dt.timedelta(days=1)
        sessions = TreatmentSession.objects.filter(
            location=location,
            date=tomorrow,
            status=SessionStatus.SCHEDULED,
            plan__status=PlanStatus.ACTIVE,
            plan__modality=PlanModality.ESKETAMINE_NASAL,
        ).only("pk")
        for session in sessions:
            if actions.do_send_previsit(session, now=now):
                done += 1
            else:
                skipped += 1
    return RunReport(done, skipped)
