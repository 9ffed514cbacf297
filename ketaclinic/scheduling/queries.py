"""Reading the calendar: a location's resources as the rules take them, the visits already kept, and the
schedule pages and API list. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinical.scheduling import VisitKind
from ketaclinic.clinicpolicy.clock import day_bounds, location_zone
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.scheduling.models import HOLDING, Appointment, Closure, OpeningHours, Shift, ShiftKind
from ketaclinic.scheduling.rules import ChairInfo, Resources, Site, Visit
from ketaclinic.screening.models import RemsEnrolment

# Resources are read for the days a booking touches, with a day's margin for time zones.
MARGIN = dt.timedelta(days=1)


def site_of(location: ClinicLocation, start: dt.datetime, end: dt.datetime) -> Site:
    """The location's opening hours, closures, shifts overlapping [start, end) and its nurse ratio."""
    opening: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for row in OpeningHours.objects.filter(location=location).values_list("weekday", "opens", "closes"):
        opening.setdefault(row[0], []).append((row[1], row[2]))
    closures = frozenset(
        Closure.objects.filter(
            location=location, date__gte=(start - MARGIN).date(), date__lte=(end + MARGIN).date()
        ).values_list("date", flat=True)
    )
    shifts = Shift.objects.filter(
        location=location, starts_at__lt=end + MARGIN, ends_at__gt=start - MARGIN
    ).values_list("kind", "starts_at", "ends_at")
    return Site(
        location=location.pk,
        zone=location_zone(location),
        opening={day: tuple(sorted(spans)) for day, spans in opening.items()},
        closures=closures,
        prescriber_windows=tuple((s, e) for k, s, e in shifts if k == ShiftKind.PRESCRIBER),
        nurse_shifts=tuple((s, e) for k, s, e in shifts if k == ShiftKind.NURSE),
        nurse_ratio=policy_for(location).nurse_monitoring_ratio,
    )


def chairs_info(location: ClinicLocation, extra: Iterable[int] = ()) -> dict[int, ChairInfo]:
    """The location's chairs and rooms, and any other chair named (so a chair elsewhere is seen as such)."""
    rows = Chair.objects.filter(Q(location=location) | Q(pk__in=list(extra))).values_list(
        "pk", "location_id", "kind", "active"
    )
    return {pk: ChairInfo(loc, kind, active) for pk, loc, kind, active in rows}


def resources(
    location: ClinicLocation,
    start: dt.datetime,
    end: dt.datetime,
    *,
    patients: Iterable[Any] = (),
    chairs: Iterable[int] = (),
) -> Resources:
    enrolled: dict[str, dt.date] = {}
    for patient_id, day in (
        RemsEnrolment.objects.filter(patient_id__in=list(patients))
        .order_by("created_at")
        .values_list("patient_id", "enrolled_on")
    ):
        enrolled[str(patient_id)] = day  # the latest row is the one in force
    return Resources(
        sites={location.pk: site_of(location, start, end)},
        chairs=chairs_info(location, chairs),
        rems_enrolled_on=enrolled,
    )


def visit_of(a: Appointment, plan: Any = None, number: int | None = None) -> Visit:
    return Visit(
        id=str(a.pk),
        patient=str(a.patient_id),
        location=a.location_id,
        chair=a.chair_id,
        kind=VisitKind(a.kind),
        starts_at=a.starts_at,
        ends_at=a.ends_at,
        plan=str(plan.pk) if plan is not None else None,
        protocol=plan.protocol if plan is not None else None,
        session_number=number,
        clinician=str(a.clinician_id) if a.clinician_id is not None else None,
    )


def kept_visits(
    location: ClinicLocation,
    start: dt.datetime,
    end: dt.datetime,
    *,
    patients: Iterable[Any] = (),
    plans: Iterable[Any] = (),
    clinicians: Iterable[Any] = (),
) -> list[Visit]:
    """The visits holding a chair at the location in [start, end), the patients' and clinicians' visits
    anywhere then, and every kept visit of the plans named (their day gaps reach beyond the window)."""
    near = Q(starts_at__lt=end + MARGIN, ends_at__gt=start - MARGIN)
    whose = Q(location=location) | Q(patient_id__in=list(patients))
    if clinicians:
        whose |= Q(clinician_id__in=list(clinicians))
    wanted = near & whose | Q(session__plan_id__in=list(plans))
    rows = Appointment.objects.filter(wanted, status__in=HOLDING).select_related("session__plan")
    return [
        visit_of(a, a.session.plan if a.session else None, a.session.number if a.session else None)
        for a in rows
    ]


@dataclass(frozen=True, slots=True)
class Row:
    appointment: Appointment
    patient_name: str


def schedule(location: ClinicLocation, first: dt.date, days: int) -> list[Appointment]:
    """The location's appointments (every status) starting on local days first .. first + days - 1, in
    start order, with patient and chair loaded."""
    start = day_bounds(location, first)[0]
    end = day_bounds(location, first + dt.timedelta(days=days - 1))[1]
    return list(
        Appointment.objects.filter(location=location, starts_at__gte=start, starts_at__lt=end)
        .select_related("patient", "chair", "session")
        .order_by("starts_at", "chair__name")
    )


def appointment_out(a: Appointment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "patient_id": a.patient_id,
        "kind": a.kind,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "chair": a.chair_id,
        "status": a.status,
        "session_id": a.session_id,
        "overridden_rules": a.overridden_rules,
        "clinician_id": a.clinician_id,
    }
