"""Reads of home programs: the program in force, its last dose as the hold rule reads it, the hold, the
doses with their check-ins, and the worklist's home items (registered with assessments.worklist).

The hold is computed here from the last dose (clinical/home.py HOME-HOLD), never stored, so a change of
policy or a prescriber's release shows at once everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from ketaclinic import fastload
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.assessments.worklist import PRIORITY, Item, Kind
from ketaclinic.clinical import home
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.homecare.models import (
    DoseOutcome,
    HomeCheckIn,
    HomeDose,
    HomeProgram,
    ProgramStatus,
)
from ketaclinic.patients.models import Patient

# The doses the hold rule reads: taken ones, and attempts refused for blood pressure.
JUDGED = Q(outcome__in=[DoseOutcome.TAKEN, DoseOutcome.BP_TOO_HIGH])


def program_of(patient: Patient) -> HomeProgram | None:
    """The patient's program in force (active or paused), else their latest ended one, else None."""
    programs = HomeProgram.objects.filter(patient=patient).select_related("created_by")
    return programs.exclude(status=ProgramStatus.ENDED).first() or programs.first()


def in_force(patient: Patient) -> HomeProgram | None:
    """The patient's active or paused program, with its location (one query; two when the program is at
    another location than the patient).

    Every chart asks (the hold banner), and most patients have none: over a plain cursor (fastload) this
    costs about 0.1 ms a chart against 1.3 ms for the QuerySet (bench/reads_profile.py, docs/performance.md).
    """
    found = fastload.fetch(
        HomeProgram,
        patient=patient.pk,
        status__ne=ProgramStatus.ENDED,
        order_by=("-created_at", "-id"),  # HomeProgram.Meta.ordering, as first() had it
        limit=1,
    )
    if not found:
        return None
    program = found[0]
    same = program.location_id == patient.location_id
    program.location = patient.location if same else fastload.get(ClinicLocation, id=program.location_id)
    return program


def doses_of(program: HomeProgram) -> QuerySet[HomeDose]:
    """The program's doses, newest first, with their check-ins and releases (one query)."""
    return HomeDose.objects.filter(program=program).select_related(
        "checkin", "release", "release__released_by"
    )


def last_judged(program: HomeProgram) -> HomeDose | None:
    return doses_of(program).filter(JUDGED).first()


def _checkin(row: HomeCheckIn) -> home.CheckIn:
    return home.CheckIn(
        row.systolic_mmhg,
        row.diastolic_mmhg,
        home.SEVERITY_CODES[row.side_effect_severity],
        home.SEVERITY_CODES[row.dissociation],
    )


def as_last_dose(dose: HomeDose | None) -> home.LastDose | None:
    if dose is None:
        return None
    checkin = dose.checkin if hasattr(dose, "checkin") else None
    return home.LastDose(
        day=dose.day,
        pre_dose_refused=dose.outcome_reason if dose.outcome == DoseOutcome.BP_TOO_HIGH else "",
        taken_at=dose.taken_at,
        prescribed_mg=dose.prescribed_mg,
        taken_mg=dose.taken_mg,
        checkin=_checkin(checkin) if checkin is not None else None,
        released=hasattr(dose, "release"),
    )


def hold_of(program: HomeProgram, now: dt.datetime | None = None, dose: HomeDose | None = None) -> home.Hold:
    """Is the program's next dose held, and why (HOME-HOLD under the location's policy)?"""
    if program.status == ProgramStatus.ENDED:
        return home.NOT_HELD
    last = dose if dose is not None else last_judged(program)
    return home.hold(as_last_dose(last), now or timezone.now(), policy_for(program.location))


def last_taken(program: HomeProgram) -> HomeDose | None:
    return doses_of(program).filter(outcome=DoseOutcome.TAKEN).first()


def next_dose_on(program: HomeProgram) -> dt.date | None:
    """The first day the next dose may be taken (HOME-DOSE-INTERVAL), from the last dose taken."""
    last = last_taken(program)
    day = local_date(program.location, last.taken_at) if last and last.taken_at else None
    return home.next_dose_on(day, program.min_days_between_doses)


def open_checkin(program: HomeProgram, now: dt.datetime) -> HomeDose | None:
    """The last dose taken, while its check-in is not yet sent and not past due (open or about to open)."""
    last = last_taken(program)
    if last is None or hasattr(last, "checkin") or last.checkin_due_at is None:
        return None
    return last if now <= last.checkin_due_at else None


# --- The worklist's home items (assessments.worklist.add_worklist_source) -------------------------------


def worklist_items(
    ids: Iterable[int],
    readable: frozenset[int],
    locations: dict[int, ClinicLocation],
    now: dt.datetime | None,
) -> list[Item]:
    """`home_checkin_missing` and `home_hold` of the active programs at these locations: one query for
    the programs, one for their judged doses (newest first), each dose with its check-in and release."""
    moment = now or timezone.now()
    programs = {
        p.pk: p
        for p in HomeProgram.objects.filter(location_id__in=list(ids), status=ProgramStatus.ACTIVE)
        .select_related("patient")
        .filter(patient__entered_in_error_at__isnull=True)
    }
    if not programs:
        return []
    latest: dict[int, HomeDose] = {}
    rows = (
        HomeDose.objects.filter(JUDGED, program_id__in=list(programs))
        .select_related("checkin", "release")
        .order_by("program_id", "-recorded_at", "-pk")
    )
    for dose in rows:
        latest.setdefault(dose.program_id, dose)
    policies = {pk: policy_for(locations[pk]) for pk in {p.location_id for p in programs.values()}}
    items = []
    for program_id, dose in latest.items():
        program = programs[program_id]
        found = home.hold(as_last_dose(dose), moment, policies[program.location_id])
        if not found.held:
            continue
        kind = Kind.HOME_CHECKIN_MISSING if found.checkin_missing else Kind.HOME_HOLD
        due = dose.checkin_due_at if found.checkin_missing else None
        patient: Any = program.patient
        name = f"{patient.family_name}, {patient.given_name}" if program.location_id in readable else ""
        detail = "Next home dose held: " + found.text
        items.append(
            Item(kind, program.patient_id, PRIORITY[kind], due, detail, locations[program.location_id], name)
        )
    return items
