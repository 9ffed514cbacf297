"""The demo's week proposal: at the first location with booked courses, a few of next week's course visits
were cancelled (the patients asked to move), and front desk has asked the optimiser to place them again.

Made through the actions (cancellations audited, the proposal asked for and solved as the task runner
would), after the calendar's demo (scheduling/demo.py) has booked the courses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.clock import day_bounds, local_today
from ketaclinic.scheduling import actions, proposals
from ketaclinic.scheduling.models import Appointment, AppointmentStatus, Proposal

MOVED = 3
TIME_LIMIT_SECONDS = 3.0


def next_monday(location: ClinicLocation) -> dt.date:
    today = local_today(location)
    return today + dt.timedelta(days=7 - today.weekday())


def load(locations: Sequence[ClinicLocation]) -> Proposal | None:
    for location in locations:
        week_start = next_monday(location)
        start = day_bounds(location, week_start)[0]
        end = day_bounds(location, week_start + dt.timedelta(days=6))[1]
        booked = list(
            Appointment.objects.filter(
                location=location,
                status=AppointmentStatus.BOOKED,
                session__isnull=False,
                starts_at__gte=start,
                starts_at__lt=end,
            )
            .select_related("patient")
            .order_by("starts_at")
        )
        if not booked:
            continue
        desk = User.objects.get(username=f"frontdesk.{location.slug}")
        for appointment in booked[:: max(1, len(booked) // MOVED)][:MOVED]:
            actions.do_cancel_appointment(appointment, "Patient asked to move this visit", actor=desk)
        data = proposals.ProposalIn(week_start=week_start, time_limit_seconds=TIME_LIMIT_SECONDS)
        return proposals.do_solve(proposals.do_request_proposal(location, data, actor=desk))
    return None
