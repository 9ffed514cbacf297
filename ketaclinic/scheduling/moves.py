"""Writes of the calendar's day: moving a visit (the same hard rules as booking it), checking a patient in,
and whether a cancellation is late. Each do_* runs in one transaction, takes the acting user keyword-only
and leaves one audit row."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinical.scheduling import VisitKind
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.errors import InvalidInput
from ketaclinic.scheduling import actions, queries
from ketaclinic.scheduling.inputs import MoveIn
from ketaclinic.scheduling.models import Appointment, AppointmentStatus
from ketaclinic.scheduling.rules import check_new


@transaction.atomic
def do_move_appointment(
    appointment: Appointment,
    data: MoveIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int | None = None,
) -> Appointment:
    """Move a booked visit to `starts_at` (and `chair`, else its own chair first, then the first that suits)
    keeping its length. Every hard rule of a booking is checked against every other kept visit (the visit's
    own old time does not count); a refusal is BookingConflict with nothing saved, unless `override_reason`
    is given: then the visit moves, keeping the rules it broke, audited naming them."""
    actions._lock(appointment.location_id)
    row = actions.locked(appointment, expected_version)
    if row.status != AppointmentStatus.BOOKED:
        raise InvalidInput({"status": "only a booked visit can be moved"})
    location = row.patient.location
    kind = VisitKind(row.kind)
    length = row.ends_at - row.starts_at
    start = data.starts_at.astimezone(dt.UTC)
    end = start + length
    extra = [data.chair] if data.chair is not None else []
    resources = queries.resources(location, start, end, patients=[row.patient_id], chairs=extra)
    if data.chair is not None and data.chair not in resources.chairs:
        raise InvalidInput({"chair": "no such chair or room"})
    session = row.session
    plans = [session.plan_id] if session is not None else []
    staff = [row.clinician_id] if row.clinician_id is not None else []
    kept = [
        v
        for v in queries.kept_visits(
            location, start, end, patients=[row.patient_id], plans=plans, clinicians=staff
        )
        if v.id != str(row.pk)
    ]
    if data.chair is not None:
        chairs: list[int | None] = [data.chair]
    else:
        chairs = [row.chair_id, *[c for c in actions._chairs_to_try(location, kind) if c != row.chair_id]]
    now = timezone.now()
    tried = []
    for chair in chairs:
        minutes = int(length.total_seconds() // 60)
        visit = actions._visit(row.patient, kind, start, minutes, chair, session, row.clinician_id)
        visit = dataclasses.replace(visit, id=str(row.pk))
        refusals = check_new(visit, kept, resources, now=now)
        tried.append((visit, refusals))
        if not refusals:
            break
    visit, refusals = tried[-1] if not tried[-1][1] else min(tried, key=lambda t: len(t[1]))
    if refusals and not data.override_reason:
        raise actions.BookingConflict(refusals)
    moved_from = row.starts_at
    assert visit.chair is not None  # every move tries a chair
    row.starts_at, row.ends_at, row.chair_id = visit.starts_at, visit.ends_at, visit.chair
    broke = sorted({r.rule_id for r in refusals})
    if broke:
        row.overridden_rules = sorted({*row.overridden_rules, *broke})
        row.override_reason = data.override_reason
    row.version += 1
    row.updated_at = now
    row.save(
        update_fields=[
            "starts_at",
            "ends_at",
            "chair",
            "overridden_rules",
            "override_reason",
            "version",
            "updated_at",
        ]
    )
    changed = ["starts_at" if moved_from != row.starts_at else "chair", *[f"override:{r}" for r in broke]]
    record(
        Action.APPOINTMENT_MOVE,
        actor=actor,
        origin=origin,
        obj=row,
        patient=row.patient,
        changed_fields=changed,
    )
    return row


@transaction.atomic
def do_check_in(
    appointment: Appointment, *, actor: Any, origin: Origin = SYSTEM, expected_version: int | None = None
) -> Appointment:
    """The patient has arrived for a booked visit of today (status arrived, the time kept)."""
    row = actions.locked(appointment, expected_version)
    now = timezone.now()
    if row.status != AppointmentStatus.BOOKED:
        raise InvalidInput({"status": "only a booked visit can be checked in"})
    location = row.patient.location
    if local_date(location, row.starts_at) != local_date(location, now):
        raise InvalidInput({"status": "a patient is checked in on the day of the visit"})
    row.status, row.arrived_at = AppointmentStatus.ARRIVED, now
    row.version += 1
    row.updated_at = now
    row.save(update_fields=["status", "arrived_at", "version", "updated_at"])
    record(Action.APPOINTMENT_ARRIVE, actor=actor, origin=origin, obj=row, patient=row.patient)
    return row
