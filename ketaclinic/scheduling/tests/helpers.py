"""Building the calendar's state through the actions, for the scheduling tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.actions import do_change_policy
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.clinicpolicy.inputs import PolicyChangeIn
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.clinicpolicy.queries import policy_version
from ketaclinic.patients import actions as patient_actions
from ketaclinic.patients import inputs as patient_inputs
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import actions
from ketaclinic.scheduling.inputs import AppointmentIn
from ketaclinic.scheduling.models import Appointment, Closure
from ketaclinic.treatment import actions as treatment_actions
from ketaclinic.treatment import inputs as treatment_inputs
from ketaclinic.treatment.models import PlanModality, TreatmentPlan
from ketaclinic.treatment.tests.helpers import clear, stock


def set_ratio(location: ClinicLocation, ratio: int = 2) -> None:
    admin = User.objects.get(username=f"admin.{location.slug}")
    data = PolicyChangeIn(values={"nurse_monitoring_ratio": ratio}, reason="Our monitoring ratio")
    do_change_policy(location, data, actor=admin, expected_version=policy_version(location))


def local_day(location: ClinicLocation, days_ahead: int) -> dt.date:
    return timezone.now().astimezone(location_zone(location)).date() + dt.timedelta(days=days_ahead)


def at(location: ClinicLocation, days_ahead: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """`hour` o'clock `days_ahead` days from today at the location (aware, in its zone)."""
    day = local_day(location, days_ahead)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=location_zone(location))


def holiday_ahead(location: ClinicLocation) -> int:
    """Days from today to the demo's holiday at the location: read from its closure, not assumed a week
    ahead, since the world may have been loaded on the location's previous day (a run across its midnight)."""
    closure = Closure.objects.get(location=location, reason="Staff training day")
    return (closure.date - local_day(location, 0)).days


def weekday_ahead(location: ClinicLocation, days_ahead: int = 2) -> int:
    """Days from today to the first Monday-to-Friday at least `days_ahead` away (south is shut on Sundays
    and Saturday afternoons)."""
    while local_day(location, days_ahead).weekday() >= 5:
        days_ahead += 1
    return days_ahead


def room(location: ClinicLocation) -> Chair:
    return Chair.objects.filter(location=location, kind="room").order_by("name").first()  # type: ignore[return-value]


def chair(location: ClinicLocation, index: int = 0) -> Chair:
    return Chair.objects.filter(location=location, kind="chair").order_by("name")[index]


def book(patient: Patient, start: dt.datetime, kind: str = "consultation", **more: Any) -> Appointment:
    desk = User.objects.get(username=f"frontdesk.{patient.location.slug}")
    data = AppointmentIn(patient_id=patient.pk, kind=kind, starts_at=start, **more)  # type: ignore[arg-type]
    return actions.do_book_appointment(patient, data, actor=desk)


def future_plan(
    patient: Patient, days_ahead: int = 1, *, modality: str = "iv_ketamine", approve: bool = True
) -> TreatmentPlan:
    """An approved plan whose first session is `days_ahead` days from today, on any day of the week."""
    prescriber = User.objects.get(username=f"prescriber.{patient.location.slug}")
    if modality == "esketamine_nasal":
        values: dict[str, Any] = {"protocol": "esketamine_trd", "dose_mg": Decimal(56)}
    else:
        values = {"protocol": "iv_twice_weekly_3w", "dose_mg_per_kg": Decimal("0.5")}
        patient_actions.do_record_measurement(
            patient, patient_inputs.MeasurementIn(weight_kg=Decimal("70.0")), actor=prescriber
        )
    stock(patient.location, prescriber)
    data = treatment_inputs.PlanIn(
        modality=PlanModality(modality),
        start_date=local_day(patient.location, days_ahead),
        clinic_days=list(range(7)),
        **values,
    )
    plan = treatment_actions.do_create_plan(patient, data, actor=prescriber)
    if approve:
        clear(patient, modality)
        plan = treatment_actions.do_approve_plan(plan, actor=prescriber)
    return plan
