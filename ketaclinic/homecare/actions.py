"""The only code that writes home programs: prescribing and changing a program, the patient's pre-dose step,
the dose taken, the check-in, a prescriber's release of a hold, and the task runner's missed check-ins and
reminders.

Each do_* runs in one transaction and writes one audit row. Rows a patient causes name their portal account
(audit.AuditEvent.patient_account); rows staff cause name the staff user; the task runner's name nobody.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinical import home
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import Forbidden, InvalidInput, NotFound, Refused, VersionConflict
from ketaclinic.homecare import queries
from ketaclinic.homecare.inputs import (
    HomeCheckInIn,
    HomeProgramIn,
    PreDoseIn,
    ProgramStatusIn,
    ReleaseIn,
    TakenIn,
)
from ketaclinic.homecare.models import (
    DoseOutcome,
    HoldRelease,
    HomeCheckIn,
    HomeDose,
    HomeProgram,
    ProgramStatus,
)
from ketaclinic.messaging import outbox
from ketaclinic.patients.models import Patient
from ketaclinic.portal.models import PatientAccount

# A patient may say they took the dose a little before they pressed the button, never in the future.
TAKEN_EARLIEST_BEFORE_STEP = dt.timedelta(minutes=30)
TAKEN_CLOCK_SLACK = dt.timedelta(minutes=5)
REMINDER_SUBJECT = "Your clinic: a check-in is due"
REMINDER_BODY = (
    "You have a check-in due. Please sign in to your patient portal to complete it.\n\n"
    "In a crisis, call or text 988 (Suicide & Crisis Lifeline, US). In immediate danger, call 911."
)


def _prescriber(actor: Any, patient: Patient) -> None:
    if not can(actor, Perm.TREATMENT_PRESCRIBE, patient.location_id):
        raise Forbidden


@transaction.atomic
def do_prescribe_home_program(
    patient: Patient,
    data: HomeProgramIn,
    *,
    actor: Any,
    now: dt.datetime | None = None,
    origin: Origin = SYSTEM,
) -> HomeProgram:
    """A new home program; refused while another is in force (end it first) or on a registration entered
    in error."""
    _prescriber(actor, patient)
    if patient.entered_in_error_at is not None:
        raise Refused("This registration was entered in error.", ["entered in error"])
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if HomeProgram.objects.filter(patient=locked).exclude(status=ProgramStatus.ENDED).exists():
        raise Refused(
            "The patient has a home program in force.", ["end the current home program before prescribing"]
        )
    program = HomeProgram.objects.create(
        patient=patient,
        location_id=patient.location_id,
        route=data.route,
        dose_mg=data.dose_mg,
        min_days_between_doses=data.min_days_between_doses,
        start_date=data.start_date,
        monitor_name=data.monitor_name,
        created_at=now or timezone.now(),
        created_by=actor,
    )
    record(
        Action.HOME_PROGRAM_PRESCRIBE,
        actor=actor,
        origin=origin,
        obj=program,
        patient=patient,
        changed_fields=["route", "dose_mg", "min_days_between_doses", "start_date", "monitor_name"],
    )
    return program


@transaction.atomic
def do_set_program_status(
    program: HomeProgram,
    data: ProgramStatusIn,
    *,
    actor: Any,
    expected_version: int | None = None,
    origin: Origin = SYSTEM,
) -> HomeProgram:
    """Pause, resume or end a program, with the reason; an ended program stays ended."""
    _prescriber(actor, program.patient)
    program = HomeProgram.objects.select_for_update().select_related("patient").get(pk=program.pk)
    if expected_version is not None and expected_version != program.version:
        raise VersionConflict(program.version)
    if program.status == ProgramStatus.ENDED:
        raise Refused("This home program has ended.", ["prescribe a new program instead"])
    if program.status == data.status:
        raise InvalidInput({"status": f"the program is already {program.get_status_display().lower()}"})
    program.status, program.status_reason = data.status, data.reason
    program.status_changed_at = timezone.now()
    program.version += 1
    program.save(update_fields=["status", "status_reason", "status_changed_at", "version"])
    record(
        Action.HOME_PROGRAM_STATUS,
        actor=actor,
        origin=origin,
        obj=program,
        patient=program.patient,
        changed_fields=["status", "status_reason"],
    )
    return program


def _active_program(account: PatientAccount) -> HomeProgram:
    program = (
        HomeProgram.objects.select_for_update()
        .select_related("patient", "location")
        .filter(patient_id=account.patient_id, status=ProgramStatus.ACTIVE)
        .first()
    )
    if program is None:
        raise NotFound
    return program


@transaction.atomic
def do_record_pre_dose(
    account: PatientAccount, data: PreDoseIn, *, now: dt.datetime | None = None, origin: Origin = SYSTEM
) -> HomeDose:
    """The patient's step before a home dose: blood pressure, pulse, the monitor present, the safety
    confirmation. Answers whether they may take the dose (HOME-HOLD, HOME-DOSE-INTERVAL, HOME-PRE-DOSE-BP).
    The same form sent twice (its submit key) answers the first row and stores nothing more."""
    now = now or timezone.now()
    program = _active_program(account)
    again = HomeDose.objects.filter(patient_id=account.patient_id, submit_key=data.submit_key).first()
    if again is not None:
        return again
    policy = policy_for(program.location)
    today = local_date(program.location, now)
    if today < program.start_date:
        raise Refused("Your home program has not started yet.", [f"starts {program.start_date.isoformat()}"])
    held = queries.hold_of(program, now)
    next_on = queries.next_dose_on(program)
    gate = home.pre_dose(data.systolic_mmhg, data.diastolic_mmhg, policy)
    if held.held:
        outcome, reason = DoseOutcome.HELD, held.text
    elif next_on is not None and today < next_on:
        raise Refused("It is too soon for your next dose.", [f"next dose from {next_on.isoformat()}"])
    elif not gate.may_dose:
        outcome, reason = DoseOutcome.BP_TOO_HIGH, gate.reason
    else:
        outcome, reason = DoseOutcome.CLEARED, ""
    try:
        with transaction.atomic():
            dose = HomeDose.objects.create(
                program=program,
                patient_id=account.patient_id,
                submit_key=data.submit_key,
                day=today,
                recorded_at=now,
                systolic_mmhg=data.systolic_mmhg,
                diastolic_mmhg=data.diastolic_mmhg,
                heart_rate_bpm=data.heart_rate_bpm,
                monitor_name=data.monitor_name,
                monitor_relationship=data.monitor_relationship,
                confirmed_safe=data.confirmed_safe,
                outcome=outcome,
                outcome_reason=reason,
                prescribed_mg=program.dose_mg,
            )
    except IntegrityError:  # the same form, sent at the same moment from a second tab
        return HomeDose.objects.get(patient_id=account.patient_id, submit_key=data.submit_key)
    record(
        Action.HOME_PRE_DOSE,
        actor=account,
        origin=origin,
        obj=dose,
        patient=program.patient,
        changed_fields=["systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm", "monitor_name", "outcome"],
    )
    return dose


def _own_dose(account: PatientAccount, dose_id: int) -> HomeDose:
    dose = (
        HomeDose.objects.select_for_update()
        .select_related("program", "program__location", "program__patient")
        .filter(pk=dose_id, patient_id=account.patient_id)
        .first()
    )
    if dose is None:
        raise NotFound
    return dose


@transaction.atomic
def do_record_taken(
    account: PatientAccount,
    dose_id: int,
    data: TakenIn,
    *,
    now: dt.datetime | None = None,
    origin: Origin = SYSTEM,
) -> HomeDose:
    """'I took my dose at <time>': the amount taken (another amount than prescribed is recorded as such and
    fails the dose, HOME-HOLD) and the check-in window (HOME-CHECKIN-DUE). Sent twice, the first stands."""
    now = now or timezone.now()
    dose = _own_dose(account, dose_id)
    if dose.outcome == DoseOutcome.TAKEN:
        return dose
    if dose.outcome != DoseOutcome.CLEARED:
        raise Refused("This dose was not cleared to take.", [dose.outcome_reason or dose.outcome])
    if data.taken_at > now + TAKEN_CLOCK_SLACK:
        raise InvalidInput({"taken_at": "cannot be in the future"})
    if data.taken_at < dose.recorded_at - TAKEN_EARLIEST_BEFORE_STEP:
        raise InvalidInput({"taken_at": "must be after you measured your blood pressure"})
    window = home.checkin_window(data.taken_at, policy_for(dose.program.location))
    dose.outcome, dose.taken_at, dose.taken_mg = DoseOutcome.TAKEN, data.taken_at, data.taken_mg
    dose.checkin_opens_at, dose.checkin_due_at = window.opens_at, window.due_at
    dose.save(update_fields=["outcome", "taken_at", "taken_mg", "checkin_opens_at", "checkin_due_at"])
    fields = ["taken_at", "taken_mg"] + (["dose_differs"] if data.taken_mg != dose.prescribed_mg else [])
    record(
        Action.HOME_DOSE_TAKEN,
        actor=account,
        origin=origin,
        obj=dose,
        patient=dose.program.patient,
        changed_fields=fields,
    )
    return dose


@transaction.atomic
def do_record_checkin(
    account: PatientAccount,
    dose_id: int,
    data: HomeCheckInIn,
    *,
    now: dt.datetime | None = None,
    origin: Origin = SYSTEM,
) -> HomeCheckIn:
    """The check-in after a home dose, while its window is open (HOME-CHECKIN-DUE); the answers that fail it
    are kept with it (HOME-HOLD). Sent twice, the first stands."""
    now = now or timezone.now()
    dose = _own_dose(account, dose_id)
    existing = HomeCheckIn.objects.filter(dose=dose).first()
    if existing is not None:
        return existing
    if dose.outcome != DoseOutcome.TAKEN or dose.checkin_opens_at is None or dose.checkin_due_at is None:
        raise NotFound
    if now < dose.checkin_opens_at:
        raise Refused("Your check-in is not open yet.", [f"opens {dose.checkin_opens_at.isoformat()}"])
    if now > dose.checkin_due_at:
        raise Refused("This check-in has closed.", ["your clinic will contact you"])
    answers = home.CheckIn(
        data.systolic_mmhg,
        data.diastolic_mmhg,
        home.SEVERITY_CODES[data.side_effect_severity],
        home.SEVERITY_CODES[data.dissociation],
    )
    failed = home.checkin_failures(answers, policy_for(dose.program.location))
    checkin = HomeCheckIn.objects.create(
        dose=dose,
        patient_id=account.patient_id,
        recorded_at=now,
        side_effects=[str(s) for s in data.side_effects],
        side_effects_other=data.side_effects_other,
        side_effect_severity=data.side_effect_severity,
        dissociation=data.dissociation,
        systolic_mmhg=data.systolic_mmhg,
        diastolic_mmhg=data.diastolic_mmhg,
        note=data.note,
        failed_reasons=list(failed),
    )
    record(
        Action.HOME_CHECKIN,
        actor=account,
        origin=origin,
        obj=checkin,
        patient=dose.program.patient,
        changed_fields=["side_effects", "side_effect_severity", "dissociation", "systolic_mmhg", "failed"]
        if failed
        else ["side_effects", "side_effect_severity", "dissociation", "systolic_mmhg"],
    )
    return checkin


@transaction.atomic
def do_release_hold(
    program: HomeProgram,
    data: ReleaseIn,
    *,
    actor: Any,
    now: dt.datetime | None = None,
    origin: Origin = SYSTEM,
) -> HoldRelease:
    """A prescriber releases the hold on the next dose, with the reason; the reasons released are kept."""
    _prescriber(actor, program.patient)
    now = now or timezone.now()
    program = HomeProgram.objects.select_for_update().select_related("patient", "location").get(pk=program.pk)
    dose = queries.last_judged(program)
    found = queries.hold_of(program, now, dose)
    if dose is None or not found.held:
        raise Refused("The next home dose is not held.", ["nothing to release"])
    release = HoldRelease.objects.create(
        dose=dose,
        program=program,
        released_at=now,
        released_by=actor,
        reason=data.reason,
        reasons_released=list(found.reasons),
    )
    record(
        Action.HOME_HOLD_RELEASE,
        actor=actor,
        origin=origin,
        obj=release,
        patient=program.patient,
        changed_fields=["reason"],
    )
    return release


def _address(patient: Patient) -> tuple[str, str] | None:
    if patient.email:
        return "email", patient.email
    if patient.phone:
        return "sms", patient.phone
    return None


@transaction.atomic
def do_send_checkin_reminder(dose: HomeDose, *, now: dt.datetime, origin: Origin = SYSTEM) -> bool:
    """'You have a check-in due', once per dose, when its check-in is open and not sent. The message names
    no medicine, dose or reading. False when there is nothing to send."""
    dose = HomeDose.objects.select_for_update().select_related("program__patient").get(pk=dose.pk)
    if hasattr(dose, "checkin") or dose.checkin_opens_at is None or dose.checkin_due_at is None:
        return False
    if not dose.checkin_opens_at <= now <= dose.checkin_due_at:
        return False
    patient = dose.program.patient
    address = _address(patient)
    if address is None:
        return False
    channel, to = address
    message = outbox.claim(
        f"home_checkin:{dose.pk}:due",
        kind="home_checkin",
        channel=channel,
        location_id=patient.location_id,
        now=now,
    )
    if message is None:
        return False
    outbox.send_after_commit(message, outbox.Outgoing(channel, to, REMINDER_SUBJECT, REMINDER_BODY))
    record(Action.HOME_CHECKIN_REMINDER, origin=origin, obj=dose, patient=patient, changed_fields=["channel"])
    return True


@transaction.atomic
def do_mark_checkin_missed(dose: HomeDose, *, now: dt.datetime, origin: Origin = SYSTEM) -> bool:
    """Mark a dose's check-in missed once it is past due unsent (its hold is HOME-HOLD's); once only."""
    dose = HomeDose.objects.select_for_update().select_related("program__patient").get(pk=dose.pk)
    if dose.checkin_missed_at is not None or hasattr(dose, "checkin"):
        return False
    if dose.checkin_due_at is None or now <= dose.checkin_due_at:
        return False
    dose.checkin_missed_at = now
    dose.save(update_fields=["checkin_missed_at"])
    record(
        Action.HOME_CHECKIN_MISSED,
        origin=origin,
        obj=dose,
        patient=dose.program.patient,
        changed_fields=["checkin_missed_at"],
    )
    return True
