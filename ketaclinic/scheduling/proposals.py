"""The week's proposals: front desk asks the optimiser to place a location's visits still to book in one week;
the task runner solves it; front desk accepts the proposal as a whole or in part.

- `do_request_proposal` (front desk) saves a proposal that is solving and leaves an audit row; the caller
  enqueues `tasks.solve_proposal`, which calls `do_solve` in the task runner.
- `do_solve` reads the week (the location's resources, the visits it keeps, the plans' sessions dated in the
  week that have no appointment), runs optimiser.solve and stores each placed visit (ProposedVisit) and each
  one it cannot place with its reason. Booked visits are never moved: they are fixed in the model.
- `do_accept` (front desk) re-checks the visits chosen together with the calendar as it is now by the
  independent checker (`rules.check`), then books each through the booking action (audited one by one, and
  re-checked there against every hard rule); a visit the rules now refuse is kept as refused, with why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from pydantic import ConfigDict, Field, StrictFloat, StrictInt

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action
from ketaclinic.clinical.scheduling import VisitKind, duration_minutes
from ketaclinic.clinicpolicy.clock import day_bounds, local_today, location_zone
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import Forbidden, InvalidInput, NotFound
from ketaclinic.patients.inputs import Day, Strict
from ketaclinic.scheduling import actions, optimiser, queries
from ketaclinic.scheduling.inputs import AppointmentIn
from ketaclinic.scheduling.models import (
    HOLDING,
    Appointment,
    AppointmentKind,
    Proposal,
    ProposalStatus,
    ProposedVisit,
    ProposedVisitStatus,
)
from ketaclinic.scheduling.rules import Visit, check
from ketaclinic.treatment.models import PlanStatus, SessionPhase, SessionStatus, TreatmentSession

WEEK_DAYS = 7
ACCEPT_MAX = 1000

# --- Inputs ------------------------------------------------------------------------------------------------


class ProposalIn(Strict):
    """Ask for the week starting `week_start` (a local day) at your location; the solver stops after
    `time_limit_seconds` (default 10, at most 60: a larger value is cut to 60)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"week_start": "2026-12-07", "time_limit_seconds": 10}]}
    )
    week_start: Day
    time_limit_seconds: Annotated[StrictFloat | StrictInt, Field(gt=0, le=3600)] = (
        optimiser.DEFAULT_TIME_LIMIT_SECONDS
    )

    @property
    def clamped_seconds(self) -> float:
        return float(min(self.time_limit_seconds, optimiser.MAX_TIME_LIMIT_SECONDS))


class AcceptIn(Strict):
    """Accept every visit still proposed (`{}`), or only those named in `appointment_ids`."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{}, {"appointment_ids": ["5b1c0d3e-0000-4000-8000-000000000000"]}]}
    )
    appointment_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=ACCEPT_MAX)] | None = None


# --- Access ------------------------------------------------------------------------------------------------


def get_proposal_for(
    user: Any, proposal_id: object, perm: Perm = Perm.SCHEDULE_BOOK, *, origin: Origin = SYSTEM
) -> Proposal:
    """A proposal of one of the user's locations where they hold `perm`: elsewhere it does not exist (404),
    at their location without the permission 403; every denial audited."""
    try:
        pk = proposal_id if isinstance(proposal_id, uuid.UUID) else uuid.UUID(str(proposal_id))
    except ValueError as exc:
        raise NotFound from exc
    proposal = Proposal.objects.select_related("location").filter(pk=pk).first()
    held = grants(user).get(proposal.location_id) if proposal is not None else None
    if proposal is None or held is None:
        deny(user, origin, str(perm))
        raise NotFound
    if perm not in held:
        deny(user, origin, str(perm))
        raise Forbidden
    return proposal


# --- Reading the week --------------------------------------------------------------------------------------


def _week_bounds(location: ClinicLocation, week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return day_bounds(location, week_start)[0], day_bounds(
        location, week_start + dt.timedelta(days=WEEK_DAYS - 1)
    )[1]


def sessions_to_book(location: ClinicLocation, week_start: dt.date) -> list[TreatmentSession]:
    """The location's sessions dated in the week, of approved plans that run, waiting to be scheduled and
    with no appointment holding a chair."""
    held = Appointment.objects.filter(session=OuterRef("pk"), status__in=HOLDING)
    return list(
        TreatmentSession.objects.filter(
            location=location,
            date__gte=week_start,
            date__lt=week_start + dt.timedelta(days=WEEK_DAYS),
            status=SessionStatus.SCHEDULED,
            plan__status=PlanStatus.ACTIVE,
        )
        .filter(~Exists(held))
        .select_related("plan")
        .order_by("plan_id", "number")
    )


def _usual_times(
    location: ClinicLocation, patients: Sequence[Any], before: dt.datetime
) -> dict[str, dt.time]:
    """Each patient's local start time of their latest visit here before the week (continuity of slot)."""
    zone = location_zone(location)
    found: dict[str, dt.time] = {}
    rows = (
        Appointment.objects.filter(
            location=location, patient_id__in=list(patients), status__in=HOLDING, starts_at__lt=before
        )
        .order_by("starts_at")
        .values_list("patient_id", "starts_at")
    )
    for patient_id, starts_at in rows:
        found[str(patient_id)] = starts_at.astimezone(zone).time()
    return found


def _wants(
    location: ClinicLocation, sessions: Sequence[TreatmentSession], start: dt.datetime
) -> list[optimiser.Want]:
    policy = policy_for(location)
    usual = _usual_times(location, sorted({s.patient_id for s in sessions}), start)
    return [
        optimiser.Want(
            id=str(s.pk),
            patient=str(s.patient_id),
            kind=VisitKind(s.plan.modality),
            minutes=duration_minutes(VisitKind(s.plan.modality), policy),
            induction=s.phase == SessionPhase.INDUCTION,
            plan=str(s.plan_id),
            protocol=s.plan.protocol,
            session_number=s.number,
            preferred_day=s.date,
            usual=usual.get(str(s.patient_id)),
        )
        for s in sessions
    ]


def week_of(location: ClinicLocation, week_start: dt.date, now: dt.datetime) -> tuple[optimiser.Week, Any]:
    """The optimiser's week for the location and the resources the checker takes."""
    start, end = _week_bounds(location, week_start)
    sessions = sessions_to_book(location, week_start)
    patients = sorted({s.patient_id for s in sessions})
    resources = queries.resources(location, start, end, patients=patients)
    kept = queries.kept_visits(
        location, start, end, patients=patients, plans=sorted({s.plan_id for s in sessions})
    )
    week = optimiser.build(
        resources.sites[location.pk],
        resources.chairs,
        _wants(location, sessions, start),
        kept,
        week_start,
        days=WEEK_DAYS,
        enrolled=resources.rems_enrolled_on,
        now=now,
    )
    return week, resources


# --- Writes ------------------------------------------------------------------------------------------------


@transaction.atomic
def do_request_proposal(
    location: ClinicLocation, data: ProposalIn, *, actor: Any, origin: Origin = SYSTEM
) -> Proposal:
    """A proposal for the week, waiting for the task runner (enqueue tasks.solve_proposal after this)."""
    today = local_today(location)
    if data.week_start + dt.timedelta(days=WEEK_DAYS) <= today:
        raise InvalidInput({"week_start": "the week is over; ask for this week or a later one"})
    proposal = Proposal.objects.create(
        location=location,
        week_start=data.week_start,
        time_limit_seconds=data.clamped_seconds,
        created_at=timezone.now(),
        created_by=actor,
    )
    record(Action.PROPOSAL_CREATE, actor=actor, origin=origin, obj=proposal, location_id=location.pk)
    return proposal


@transaction.atomic
def do_solve(proposal: Proposal, *, now: dt.datetime | None = None) -> Proposal:
    """Solve the proposal's week (in the task runner) and store what it places and what it cannot."""
    row = Proposal.objects.select_for_update().select_related("location").get(pk=proposal.pk)
    if row.status != ProposalStatus.SOLVING:
        return row  # solved already (a task run twice)
    week, _ = week_of(row.location, row.week_start, now or timezone.now())
    result = optimiser.solve(week, time_limit_seconds=row.time_limit_seconds)
    sessions = {
        str(s.pk): s
        for s in TreatmentSession.objects.filter(pk__in=[t.want.id for t in week.tasks]).select_related(
            "plan"
        )
    }
    ProposedVisit.objects.bulk_create(
        ProposedVisit(
            proposal=row,
            patient_id=v.patient,
            session=sessions[v.id],
            kind=v.kind.value,
            chair_id=_numbered(v.chair),
            starts_at=v.starts_at,
            ends_at=v.ends_at,
        )
        for v in optimiser.visits(week, result.placements)
    )
    row.unplaced = [
        {
            "session_id": week.tasks[i].want.id,
            "patient_id": week.tasks[i].want.patient,
            "kind": week.tasks[i].want.kind.value,
            "number": week.tasks[i].want.session_number,
            "date": sessions[week.tasks[i].want.id].date.isoformat(),
            "reason": reason,
        }
        for i, reason in sorted(result.unplaced.items())
    ]
    row.wanted, row.placed = len(week.tasks), result.placed
    row.proven_optimal, row.solver, row.seconds = result.proven_optimal, result.solver, result.seconds
    row.objective, row.greedy_objective = result.objective, result.greedy_objective
    row.greedy_placed = result.greedy_placed
    row.status, row.finished_at = ProposalStatus.READY, timezone.now()
    row.save()
    return row


def _numbered(chair: int | None) -> int:
    assert chair is not None  # every placed visit has its chair (optimiser.number_chairs)
    return chair


def do_fail(proposal_id: Any) -> None:
    """The solver raised: the proposal says so instead of solving for ever."""
    Proposal.objects.filter(pk=proposal_id, status=ProposalStatus.SOLVING).update(
        status=ProposalStatus.FAILED, finished_at=timezone.now()
    )


def _as_visit(p: ProposedVisit) -> Visit:
    return Visit(
        id=str(p.pk),
        patient=str(p.patient_id),
        location=p.proposal.location_id,
        chair=p.chair_id,
        kind=VisitKind(p.kind),
        starts_at=p.starts_at,
        ends_at=p.ends_at,
        plan=str(p.session.plan_id) if p.session else None,
        protocol=p.session.plan.protocol if p.session else None,
        session_number=p.session.number if p.session else None,
    )


def _chosen(proposal: Proposal, data: AcceptIn) -> list[ProposedVisit]:
    rows = list(
        proposal.visits.filter(status=ProposedVisitStatus.PROPOSED).select_related(
            "session__plan", "patient", "proposal"
        )
    )
    if data.appointment_ids is None:
        return rows
    by_id = {p.pk: p for p in rows}
    missing = [str(i) for i in data.appointment_ids if i not in by_id]
    if missing:
        raise InvalidInput({"appointment_ids": "not a visit of this proposal still to accept: " + missing[0]})
    return [by_id[i] for i in dict.fromkeys(data.appointment_ids)]


def _refuse(p: ProposedVisit, reason: str) -> None:
    p.status, p.reason = ProposedVisitStatus.REFUSED, reason[:300]
    p.save(update_fields=["status", "reason"])


@transaction.atomic
def do_accept(proposal: Proposal, data: AcceptIn, *, actor: Any, origin: Origin = SYSTEM) -> Proposal:
    """Book the chosen visits. The set is first re-checked with the calendar as it is now (`rules.check`:
    a visit the rules refuse is marked refused with the rule); each other visit is then booked through the
    booking action, which checks it again against every hard rule and audits it."""
    row = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if row.status != ProposalStatus.READY:
        raise InvalidInput(
            {"proposal": f"a proposal that is {row.get_status_display().lower()} is not accepted"}
        )
    chosen = _chosen(row, data)
    location = row.location
    start, end = _week_bounds(location, row.week_start)
    patients = sorted({p.patient_id for p in chosen})
    plans = sorted({p.session.plan_id for p in chosen if p.session})
    resources = queries.resources(location, start, end, patients=patients)
    kept = queries.kept_visits(location, start, end, patients=patients, plans=plans)
    visits = [_as_visit(p) for p in chosen]
    refused: dict[str, str] = {}
    for r in check([*kept, *visits], resources, now=timezone.now()):
        refused.setdefault(r.visit_id, f"{r.rule_id}: {r.message}")
    booked = 0
    for p in sorted(chosen, key=lambda p: (p.starts_at, str(p.pk))):
        if str(p.pk) in refused:
            _refuse(p, refused[str(p.pk)])
            continue
        booking = AppointmentIn(
            patient_id=p.patient_id,
            kind=AppointmentKind(p.kind),
            starts_at=p.starts_at,
            chair=p.chair_id,
            session_id=p.session_id,
        )
        try:
            appointment = actions.do_book_appointment(
                p.patient, booking, actor=actor, origin=origin, session=p.session
            )
        except actions.BookingConflict as exc:
            _refuse(p, "; ".join(f"{r.rule_id}: {r.message}" for r in exc.refusals))
            continue
        except InvalidInput as exc:
            _refuse(p, "; ".join(exc.errors.values()))
            continue
        p.status, p.appointment = ProposedVisitStatus.BOOKED, appointment
        p.save(update_fields=["status", "appointment"])
        booked += 1
    if not row.visits.filter(status=ProposedVisitStatus.PROPOSED).exists():
        row.status = ProposalStatus.ACCEPTED
    row.accepted_at = timezone.now()
    row.save(update_fields=["status", "accepted_at"])
    record(
        Action.PROPOSAL_ACCEPT,
        actor=actor,
        origin=origin,
        obj=row,
        location_id=location.pk,
        changed_fields=[f"booked:{booked}", f"refused:{len(chosen) - booked}"],
    )
    return row


# --- Answers -----------------------------------------------------------------------------------------------


def visits_of(proposal: Proposal) -> list[ProposedVisit]:
    return list(
        proposal.visits.select_related("patient", "chair", "session").order_by("starts_at", "chair__name")
    )


def proposal_out(proposal: Proposal, rows: Sequence[ProposedVisit]) -> dict[str, Any]:
    return {
        "id": proposal.pk,
        "status": proposal.status,
        "location_id": proposal.location_id,
        "week_start": proposal.week_start,
        "time_limit_seconds": proposal.time_limit_seconds,
        "wanted": proposal.wanted,
        "placed": proposal.placed,
        "unplaced": proposal.unplaced,
        "proven_optimal": proposal.proven_optimal,
        "objective": proposal.objective,
        "greedy_objective": proposal.greedy_objective,
        "greedy_placed": proposal.greedy_placed,
        "solver": proposal.solver,
        "seconds": round(proposal.seconds, 3),
        "appointments": [
            {
                "id": p.pk,
                "patient_id": p.patient_id,
                "session_id": p.session_id,
                "kind": p.kind,
                "starts_at": p.starts_at,
                "ends_at": p.ends_at,
                "chair": p.chair_id,
                "status": p.status,
                "change": "add",
                "appointment_id": p.appointment_id,
                "reason": p.reason,
            }
            for p in rows
        ],
    }
