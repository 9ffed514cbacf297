"""Prior authorisations of a plan: the one in force on a day, how many approved sessions remain, and which
of the plan's sessions fall beyond the approved count or outside the authorised dates, so they are flagged
before they are booked.

A session counts against an authorisation when its day is inside the authorised dates and it was given
(checked in, discharged or signed) or is booked (a holding appointment names it). `remaining_sessions` is
what a booking may still use; scheduling calls `session_flag` for the booking's answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ketaclinic.billing.models import PriorAuthorization
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.scheduling.models import HOLDING, Appointment
from ketaclinic.treatment.models import SessionStatus, TreatmentPlan, TreatmentSession

GIVEN = (SessionStatus.CHECKED_IN, SessionStatus.DISCHARGED, SessionStatus.SIGNED)
# Sessions that will still happen unless cancelled: these are the ones a payer's count is spent on.
PLANNED = (SessionStatus.SCHEDULED, *GIVEN)


@dataclass(frozen=True)
class Standing:
    """An authorisation with its use: sessions given, sessions booked and not yet given, what remains, and
    the plan's planned sessions beyond the count or outside the dates (by number)."""

    authorization: PriorAuthorization
    given: int
    booked: int
    beyond: tuple[int, ...]
    outside: tuple[int, ...]

    @property
    def remaining(self) -> int:
        return max(self.authorization.approved_sessions - self.given - self.booked, 0)

    def as_dict(self) -> dict[str, Any]:
        a = self.authorization
        return {
            "id": a.pk,
            "number": a.number,
            "approved_from": a.approved_from,
            "approved_to": a.approved_to,
            "approved_sessions": a.approved_sessions,
            "sessions_given": self.given,
            "sessions_booked": self.booked,
            "sessions_remaining": self.remaining,
            "sessions_beyond": list(self.beyond),
            "sessions_outside_dates": list(self.outside),
        }


def authorizations_of(plan: TreatmentPlan) -> list[PriorAuthorization]:
    return list(PriorAuthorization.objects.filter(plan=plan).order_by("-created_at"))


def in_force(authorizations: list[PriorAuthorization], day: dt.date) -> PriorAuthorization | None:
    """The latest recorded authorisation covering `day`; else the latest ending after it (one to come)."""
    newest_first = sorted(authorizations, key=lambda a: a.created_at, reverse=True)
    covering = [a for a in newest_first if a.approved_from <= day <= a.approved_to]
    if covering:
        return covering[0]
    coming = [a for a in newest_first if a.approved_from > day]
    return coming[0] if coming else None


def _sessions(plan: TreatmentPlan) -> list[tuple[int, dt.date, str, bool]]:
    """(number, day, status, booked) of every planned session of the plan, in order."""
    rows = list(
        TreatmentSession.objects.filter(plan=plan, status__in=PLANNED)
        .order_by("date", "number")
        .values_list("pk", "number", "date", "status")
    )
    booked = set(
        Appointment.objects.filter(session__plan=plan, status__in=HOLDING).values_list(
            "session_id", flat=True
        )
    )
    return [(number, day, status, pk in booked) for pk, number, day, status in rows]


def standing(plan: TreatmentPlan, on: dt.date | None = None) -> Standing | None:
    """The authorisation in force for the plan on `on` (the location's today) with its use, or None when
    none is recorded for that time."""
    day = on or local_today(plan.location)
    authorization = in_force(authorizations_of(plan), day)
    if authorization is None:
        return None
    return _standing(authorization, _sessions(plan))


def _standing(authorization: PriorAuthorization, sessions: list[tuple[int, dt.date, str, bool]]) -> Standing:
    a = authorization
    inside = [s for s in sessions if a.approved_from <= s[1] <= a.approved_to]
    given = sum(1 for s in inside if s[2] in GIVEN)
    booked = sum(1 for s in inside if s[2] == SessionStatus.SCHEDULED and s[3])
    beyond = tuple(s[0] for rank, s in enumerate(inside, 1) if rank > a.approved_sessions)
    outside = tuple(
        s[0]
        for s in sessions
        if s[2] == SessionStatus.SCHEDULED and not a.approved_from <= s[1] <= a.approved_to
    )
    return Standing(a, given, booked, beyond, outside)


def remaining_sessions(plan: TreatmentPlan, on: dt.date | None = None) -> int | None:
    """How many approved sessions of the plan a booking may still use on `on` (None: no authorisation
    recorded for that time, nothing to count against)."""
    found = standing(plan, on)
    return None if found is None else found.remaining


def session_flag(session: TreatmentSession) -> dict[str, Any] | None:
    """Why booking this session goes beyond what the payer approved, or None. A plan without any recorded
    authorisation is not flagged (self-pay, or none needed)."""
    authorizations = authorizations_of(session.plan)
    if not authorizations:
        return None
    authorization = in_force(authorizations, session.date)
    if authorization is None or not authorization.approved_from <= session.date <= authorization.approved_to:
        return {
            "authorization": authorization.number if authorization else None,
            "sessions_remaining": 0,
            "message": "This session's day is outside the dates of the prior authorisation on record.",
        }
    planned = _sessions(session.plan)
    if session.number in _standing(authorization, planned).beyond:  # approved sessions are used in order
        return {
            "authorization": authorization.number,
            "sessions_remaining": 0,
            "message": (
                f"Session {session.number} is beyond the {authorization.approved_sessions} sessions prior "
                f"authorisation {authorization.number} approves."
            ),
        }
    others = [s for s in planned if s[0] != session.number]
    used = _standing(authorization, others)
    if used.given + used.booked < authorization.approved_sessions:
        return None
    return {
        "authorization": authorization.number,
        "sessions_remaining": 0,
        "message": (
            f"Prior authorisation {authorization.number} approves {authorization.approved_sessions} "
            "sessions and all of them are given or booked."
        ),
    }


def booking_note(session: TreatmentSession) -> dict[str, Any] | None:
    """The booking answer's note (scheduling/notes.py) for a session beyond its authorisation."""
    flag = session_flag(session)
    return None if flag is None else {"kind": "prior_authorization", **flag}
