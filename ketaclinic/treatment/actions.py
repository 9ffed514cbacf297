"""Every write to treatment plans and sessions. Each do_* runs in one transaction and leaves one audit row.

Clinical judgements (protocol schedules, dose limits, the pre-dose BP gate, in-session alerts, scale scoring,
discharge readiness) are calls into ketaclinic/clinical with the clinic policy in force; nothing here
restates a threshold. A session is judged under the policy snapshot taken when the patient checked in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic import fastload, prepared
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.actions import append, event, record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.clinical import dosing, protocols, scales
from ketaclinic.clinical import vitals as clinical_vitals
from ketaclinic.clinical.common import Modality
from ketaclinic.clinical.policy import BloodPressure, ClinicPolicy, policy_to_json
from ketaclinic.clinical.rems import RULE_MED_SCREEN, session_medication_screen
from ketaclinic.clinicpolicy.clock import local_date, local_today
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.consent.queries import consent_blockers, consent_is_current
from ketaclinic.errors import InvalidInput, Refused, VersionConflict
from ketaclinic.ledger.actions import do_administer
from ketaclinic.patients.models import BodyMeasurement, EntryStatus, Medication, Patient
from ketaclinic.patients.queries import drug_name, interaction_classes
from ketaclinic.screening.queries import approval_blockers as approval_blockers_of_screening
from ketaclinic.treatment import inputs
from ketaclinic.treatment.flowsheet import first_dose_at, point_for, schedule_policy
from ketaclinic.treatment.models import (
    AdverseEvent,
    AlertAnswer,
    AlertKind,
    AlertLevel,
    Amendment,
    Discharge,
    Dose,
    DoseDevice,
    Observation,
    PlanChange,
    PlanChangeKind,
    PlanModality,
    PlanStatus,
    PreDoseCheck,
    SessionAlert,
    SessionStatus,
    TimePoint,
    TreatmentPlan,
    TreatmentSession,
    VitalSigns,
)

# How far ahead of the server's clock a charted time may be (clocks of tablets drift).
CLOCK_SKEW = dt.timedelta(minutes=2)
OPEN_SESSION = (SessionStatus.CHECKED_IN,)


def gate_blockers(patient: Patient, modality: str) -> list[str]:
    """The screening (with REMS enrolment for esketamine) and consent reasons that block treatment."""
    return approval_blockers_of_screening(patient, modality) + consent_blockers(patient, modality)


def _stamp(actor: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {"created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}


def _touch(row: Any, actor: Any) -> None:
    row.updated_at, row.updated_by = timezone.now(), actor


def _refuse_if_entered_in_error(patient: Patient) -> None:
    if patient.entered_in_error_at is not None:
        raise InvalidInput({"patient": "this registration was entered in error; nothing is charted on it"})


# --- Plans ----------------------------------------------------------------------------------------------


def latest_weight_kg(patient: Patient) -> Decimal | None:
    row = (
        BodyMeasurement.objects.filter(patient=patient, weight_kg__isnull=False)
        .order_by("-measured_on", "-created_at")
        .values_list("weight_kg", flat=True)
        .first()
    )
    return row


def had_esketamine_dose(patient: Patient) -> bool:
    return Dose.objects.filter(
        session__patient=patient, session__plan__modality=PlanModality.ESKETAMINE_NASAL
    ).exists()


def check_plan_dose(
    patient: Patient,
    modality: str,
    *,
    dose_mg: Decimal | None,
    dose_mg_per_kg: Decimal | None,
    infusion_minutes: int | None,
    policy: ClinicPolicy,
) -> None:
    """Refuse a prescribed dose the dose calculator refuses, naming the field."""
    try:
        if modality == PlanModality.ESKETAMINE_NASAL:
            assert dose_mg is not None
            dosing.esketamine(dose_mg, first_dose=not had_esketamine_dose(patient), policy=policy)
            return
        assert dose_mg_per_kg is not None
        weight = latest_weight_kg(patient)
        if weight is None:
            raise InvalidInput(
                {"dose_mg_per_kg": "record the patient's weight before prescribing a dose in mg/kg"}
            )
        if modality == PlanModality.IV_KETAMINE:
            dosing.iv_ketamine(
                weight, dose_mg_per_kg, infusion_minutes or dosing.IV_STANDARD_MINUTES, policy=policy
            )
        else:
            dosing.im_ketamine(weight, dose_mg_per_kg, policy=policy)
    except dosing.DoseOutOfRange as exc:
        field = "dose_mg" if modality == PlanModality.ESKETAMINE_NASAL else "dose_mg_per_kg"
        raise InvalidInput({field: str(exc)}) from exc


def _check_protocol(modality: str, protocol: str) -> None:
    spec = protocols.PROTOCOLS[protocol]
    esketamine = modality == PlanModality.ESKETAMINE_NASAL
    if esketamine != (spec.modality is Modality.ESKETAMINE_NASAL):
        kind = "an esketamine" if esketamine else "a racemic ketamine"
        raise InvalidInput({"protocol": f"'{protocol}' is not {kind} protocol"})


def _schedule(
    protocol: str, start: dt.date, clinic_days: list[int], maintenance: int, policy: ClinicPolicy
) -> list[protocols.PlannedSession]:
    try:
        return protocols.plan(
            protocol, start, clinic_days=clinic_days, maintenance_sessions=maintenance, policy=policy
        )
    except ValueError as exc:
        message = str(exc)
        field = "start_date" if "first session" in message else "clinic_days"
        raise InvalidInput({field: message}) from exc


@transaction.atomic
def do_create_plan(
    patient: Patient, data: inputs.PlanIn, *, actor: Any, origin: Origin = SYSTEM
) -> TreatmentPlan:
    """A draft plan with its sessions on the location's clinic days (clinical/protocols.plan)."""
    _refuse_if_entered_in_error(patient)
    location = patient.location
    policy = policy_for(location)
    if data.start_date < local_today(location):
        raise InvalidInput({"start_date": "cannot be before today at the patient's location"})
    _check_protocol(data.modality, data.protocol)
    minutes = data.infusion_minutes
    if data.modality == PlanModality.IV_KETAMINE and minutes is None:
        minutes = dosing.IV_STANDARD_MINUTES
    check_plan_dose(
        patient,
        data.modality,
        dose_mg=data.dose_mg,
        dose_mg_per_kg=data.dose_mg_per_kg,
        infusion_minutes=minutes,
        policy=policy,
    )
    days = data.clinic_days if data.clinic_days is not None else sorted(protocols.WEEKDAYS)
    planned = _schedule(data.protocol, data.start_date, days, data.maintenance_sessions, policy)
    stamp = _stamp(actor)
    plan = TreatmentPlan.objects.create(
        patient=patient,
        location=location,
        modality=data.modality,
        protocol=data.protocol,
        dose_mg=data.dose_mg,
        dose_mg_per_kg=data.dose_mg_per_kg,
        infusion_minutes=minutes,
        start_date=data.start_date,
        clinic_days=days,
        maintenance_sessions=data.maintenance_sessions,
        policy=policy_to_json(policy),
        **stamp,
    )
    TreatmentSession.objects.bulk_create(
        [
            TreatmentSession(
                plan=plan,
                patient=patient,
                location=location,
                number=s.number,
                date=s.date,
                phase=s.phase.value,
                **stamp,
            )
            for s in planned
        ]
    )
    record(
        Action.PLAN_CREATE,
        actor=actor,
        origin=origin,
        obj=plan,
        patient=patient,
        changed_fields=sorted(data.model_fields_set | {"sessions"}),
    )
    return plan


def _lock_plan(plan: TreatmentPlan, expected_version: int | None) -> TreatmentPlan:
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if expected_version is not None and plan.version != expected_version:
        raise VersionConflict(plan.version)
    return plan


def _change(
    plan: TreatmentPlan,
    kind: str,
    *,
    actor: Any,
    origin: Origin,
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> TreatmentPlan:
    now = timezone.now()
    plan.version += 1
    plan.updated_at, plan.updated_by = now, actor
    plan.save()
    PlanChange.objects.create(
        plan=plan, kind=kind, reason=reason, changes=changes or {}, changed_at=now, changed_by=actor
    )
    record(
        Action.PLAN_CHANGE,
        actor=actor,
        origin=origin,
        obj=plan,
        patient=plan.patient,
        changed_fields=sorted({"status", *(changes or {})}),
    )
    return plan


def approval_blockers(plan: TreatmentPlan) -> list[str]:
    """Every reason the plan cannot be approved now: its own state, then each registered gate's."""
    reasons = []
    if plan.status != PlanStatus.DRAFT:
        reasons.append(f"The plan is {plan.get_status_display().lower()}, not a draft.")
    return reasons + gate_blockers(plan.patient, plan.modality)


@transaction.atomic
def do_approve_plan(
    plan: TreatmentPlan, *, actor: Any, origin: Origin = SYSTEM, expected_version: int | None = None
) -> TreatmentPlan:
    plan = _lock_plan(plan, expected_version)
    reasons = approval_blockers(plan)
    if reasons:
        raise Refused("This plan cannot be approved yet", reasons)
    plan.status = PlanStatus.ACTIVE
    plan.approved_at, plan.approved_by = timezone.now(), actor
    return _change(plan, PlanChangeKind.APPROVE, actor=actor, origin=origin, changes={"approved_at": {}})


@transaction.atomic
def do_pause_plan(
    plan: TreatmentPlan,
    data: inputs.ReasonIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int | None = None,
) -> TreatmentPlan:
    plan = _lock_plan(plan, expected_version)
    if plan.status != PlanStatus.ACTIVE:
        raise Refused("Only an active plan can be paused", [f"The plan is {plan.status}."], field="status")
    plan.status = PlanStatus.PAUSED
    return _change(plan, PlanChangeKind.PAUSE, actor=actor, origin=origin, reason=data.reason)


@transaction.atomic
def do_resume_plan(
    plan: TreatmentPlan,
    data: inputs.ReasonIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int | None = None,
) -> TreatmentPlan:
    plan = _lock_plan(plan, expected_version)
    if plan.status != PlanStatus.PAUSED:
        raise Refused("Only a paused plan can be resumed", [f"The plan is {plan.status}."], field="status")
    reasons = gate_blockers(plan.patient, plan.modality)
    if reasons:
        raise Refused("This plan cannot be resumed yet", reasons)
    plan.status = PlanStatus.ACTIVE
    return _change(plan, PlanChangeKind.RESUME, actor=actor, origin=origin, reason=data.reason)


def _future_unstarted(plan: TreatmentPlan) -> Any:
    return plan.sessions.filter(status=SessionStatus.SCHEDULED, date__gte=local_today(plan.location))


@transaction.atomic
def do_end_plan(
    plan: TreatmentPlan,
    data: inputs.ReasonIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int | None = None,
) -> TreatmentPlan:
    """End the course; its sessions not yet started are cancelled (kept, marked cancelled)."""
    plan = _lock_plan(plan, expected_version)
    if plan.status == PlanStatus.ENDED:
        raise Refused("This plan has ended already", ["The plan is ended."], field="status")
    now = timezone.now()
    plan.status, plan.ended_at = PlanStatus.ENDED, now
    cancelled = _future_unstarted(plan).update(
        status=SessionStatus.CANCELLED, updated_at=now, updated_by=actor
    )
    return _change(
        plan,
        PlanChangeKind.END,
        actor=actor,
        origin=origin,
        reason=data.reason,
        changes={"ended_at": {}, "sessions_cancelled": {"after": cancelled}},
    )


def _refuse_if_ended(plan: TreatmentPlan) -> None:
    if plan.status == PlanStatus.ENDED:
        raise Refused("An ended plan cannot be changed", ["The plan is ended."], field="status")


@transaction.atomic
def do_change_plan_dose(
    plan: TreatmentPlan,
    data: inputs.DoseChangeIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int | None = None,
) -> TreatmentPlan:
    """A new dose for the sessions not yet dosed, with the reason."""
    plan = _lock_plan(plan, expected_version)
    _refuse_if_ended(plan)
    esketamine = plan.modality == PlanModality.ESKETAMINE_NASAL
    if esketamine and data.dose_mg is None:
        raise InvalidInput({"dose_mg": "esketamine is prescribed in mg; send dose_mg"})
    if not esketamine and data.dose_mg_per_kg is None:
        raise InvalidInput({"dose_mg_per_kg": "IV and IM ketamine are prescribed in mg/kg"})
    check_plan_dose(
        plan.patient,
        plan.modality,
        dose_mg=data.dose_mg,
        dose_mg_per_kg=data.dose_mg_per_kg,
        infusion_minutes=plan.infusion_minutes,
        policy=policy_for(plan.location),
    )
    field = "dose_mg" if esketamine else "dose_mg_per_kg"
    before, after = getattr(plan, field), getattr(data, field)
    setattr(plan, field, after)
    changes = {field: {"before": str(before), "after": str(after)}}
    return _change(
        plan, PlanChangeKind.CHANGE_DOSE, actor=actor, origin=origin, reason=data.reason, changes=changes
    )


@transaction.atomic
def do_change_plan_frequency(
    plan: TreatmentPlan,
    data: inputs.FrequencyChangeIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int | None = None,
) -> TreatmentPlan:
    """New clinic days or maintenance sessions: the schedule is planned again from the start date; sessions
    already started or past keep their dates, later ones take the new dates, and any left over are
    cancelled."""
    plan = _lock_plan(plan, expected_version)
    _refuse_if_ended(plan)
    days = data.clinic_days if data.clinic_days is not None else list(plan.clinic_days)
    maintenance = (
        data.maintenance_sessions if data.maintenance_sessions is not None else plan.maintenance_sessions
    )
    planned = _schedule(plan.protocol, plan.start_date, days, maintenance, policy_for(plan.location))
    movable = {s.number: s for s in _future_unstarted(plan)}
    existing = set(plan.sessions.values_list("number", flat=True))
    now, stamp = timezone.now(), _stamp(actor)
    for p in planned:
        session = movable.pop(p.number, None)
        if session is not None:
            session.date, session.phase = p.date, p.phase.value
            session.version += 1
            session.updated_at, session.updated_by = now, actor
            session.save(update_fields=["date", "phase", "version", "updated_at", "updated_by"])
        elif p.number not in existing:
            TreatmentSession.objects.create(
                plan=plan,
                patient=plan.patient,
                location=plan.location,
                number=p.number,
                date=p.date,
                phase=p.phase.value,
                **stamp,
            )
    for session in movable.values():
        session.status, session.updated_at, session.updated_by = SessionStatus.CANCELLED, now, actor
        session.version += 1
        session.save(update_fields=["status", "version", "updated_at", "updated_by"])
    changes = {
        "clinic_days": {"before": plan.clinic_days, "after": days},
        "maintenance_sessions": {"before": plan.maintenance_sessions, "after": maintenance},
    }
    plan.clinic_days, plan.maintenance_sessions = days, maintenance
    return _change(
        plan, PlanChangeKind.CHANGE_FREQUENCY, actor=actor, origin=origin, reason=data.reason, changes=changes
    )


# --- Sessions: locking, time and the policy ----------------------------------------------------------------


def session_policy(session: TreatmentSession) -> ClinicPolicy:
    """The policy the session is judged under: its snapshot from check-in, or the one in force."""
    return schedule_policy(session)


def _lock_session(
    session: TreatmentSession, *, charting: bool = True, loaded: bool = False
) -> TreatmentSession:
    """The session's row, locked; a signed session refuses every write (changes are amendments).

    `loaded`: the plan and location `session` holds (read by the access getter before the transaction) are
    kept when they are the locked row's, not read again under the lock. Neither row is locked, so the copy
    read a moment before is what PostgreSQL's READ COMMITTED could answer as well."""
    # Read over fastload (the session locked, its plan and location), not a select_related QuerySet: every
    # charting write passes here, and the three plain reads cost about a fifth (docs/performance.md).
    locked = fastload.get(TreatmentSession, id=session.pk, for_update=True)
    held = session._state.fields_cache if loaded else {}
    plan, location = held.get("plan"), held.get("location")
    locked.plan = (
        plan
        if plan is not None and plan.pk == locked.plan_id
        else fastload.get(TreatmentPlan, id=locked.plan_id)
    )
    locked.location = (
        location
        if location is not None and location.pk == locked.location_id
        else fastload.get(ClinicLocation, id=locked.location_id)
    )
    if locked.status == SessionStatus.SIGNED:
        raise Refused(
            "This session is signed",
            ["A signed session is locked; record a change as an amendment with a reason."],
        )
    if charting and locked.status not in OPEN_SESSION:
        raise Refused(
            "This session is not open for charting",
            [f"The session is {locked.get_status_display().lower()}; check the patient in first."],
        )
    if "patient" in session._state.fields_cache:  # loaded by the access getter: the same row, not re-read
        locked.patient = session.patient
    return locked


def _moment(
    session: TreatmentSession, value: dt.datetime | None, field: str, *, not_before_check_in: bool = True
) -> dt.datetime:
    """A charted time: now when not given; never in the future, on the session's day, after check-in."""
    now = timezone.now()
    when = now if value is None else value
    if when > now + CLOCK_SKEW:
        raise InvalidInput({field: "cannot be in the future"})
    if local_date(session.location, when) != session.date:
        raise InvalidInput({field: f"must fall on the session's day ({session.date.isoformat()})"})
    if not_before_check_in and session.checked_in_at is not None and when < session.checked_in_at:
        raise InvalidInput({field: "cannot be before the patient checked in"})
    return when


def _chart(session: TreatmentSession, obj: Any, fields: Iterable[str], *, actor: Any, origin: Origin) -> None:
    record(
        Action.SESSION_CHART,
        actor=actor,
        origin=origin,
        obj=obj,
        patient=session.patient,
        changed_fields=sorted(fields),
    )


def _chart_event(
    session: TreatmentSession, obj: Any, fields: Iterable[str], *, actor: Any, origin: Origin
) -> AuditEvent:
    """The event _chart writes, not yet written: for an action that appends its events together."""
    return event(
        Action.SESSION_CHART,
        actor=actor,
        origin=origin,
        obj=obj,
        patient=session.patient,
        changed_fields=sorted(fields),
    )


@transaction.atomic
def do_check_in(
    session: TreatmentSession, data: inputs.CheckInIn, *, actor: Any, origin: Origin = SYSTEM
) -> TreatmentSession:
    """Check the patient in (now, or back-charted within the session's day, which must be today)."""
    session = _lock_session(session, charting=False)
    reasons = []
    if session.status != SessionStatus.SCHEDULED:
        reasons.append(f"The session is {session.get_status_display().lower()}.")
    if session.plan.status != PlanStatus.ACTIVE:
        reasons.append(f"The plan is {session.plan.get_status_display().lower()}, not active.")
    if session.date != local_today(session.location):
        reasons.append(f"The session is on {session.date.isoformat()}, not today.")
    if reasons:
        raise Refused("This session cannot be checked in", reasons)
    when = _moment(session, data.checked_in_at, "checked_in_at", not_before_check_in=False)
    if data.chair_id is not None:
        session.chair = _chair_at(session, data.chair_id)
    session.status = SessionStatus.CHECKED_IN
    session.checked_in_at, session.checked_in_by = when, actor
    session.policy = policy_to_json(policy_for(session.location))
    session.version += 1
    _touch(session, actor)
    session.save()
    record(
        Action.SESSION_UPDATE,
        actor=actor,
        origin=origin,
        obj=session,
        patient=session.patient,
        changed_fields=["checked_in_at", "status", *(["chair"] if data.chair_id is not None else [])],
    )
    return session


def _chair_at(session: TreatmentSession, chair_id: int) -> Chair:
    chair = Chair.objects.filter(pk=chair_id, location_id=session.location_id, active=True).first()
    if chair is None:
        raise InvalidInput({"chair_id": "not a chair or room in use at this session's location"})
    return chair


@transaction.atomic
def do_assign(
    session: TreatmentSession,
    data: inputs.AssignIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    expected_version: int | None = None,
) -> TreatmentSession:
    """Put the session in a chair or room, and/or take over its monitoring."""
    session = _lock_session(session, charting=False)
    if expected_version is not None and session.version != expected_version:
        raise VersionConflict(session.version)
    changed = []
    if data.chair_id is not None:
        session.chair = _chair_at(session, data.chair_id)
        changed.append("chair")
    if data.monitored_by_me:
        session.monitored_by = actor
        changed.append("monitored_by")
    if not changed:
        raise InvalidInput({"chair_id": "choose a chair or room, or take over the monitoring"})
    session.version += 1
    _touch(session, actor)
    session.save()
    record(
        Action.SESSION_UPDATE,
        actor=actor,
        origin=origin,
        obj=session,
        patient=session.patient,
        changed_fields=changed,
    )
    return session


# --- Pre-dose checks --------------------------------------------------------------------------------------


def fasting_required(modality: str) -> bool:
    """No modality's fasting requirement is in the clinical reference yet: the checklist asks for every
    in-clinic session and records what the nurse confirms."""
    return False


def interaction_findings(patient: Patient, modality: str) -> list[dict[str, str]]:
    """The patient's active medications in the classes to screen at each session (clinical/rems)."""
    screened = {c.value for c in session_medication_screen(modality)}
    found = []
    for drug, other in Medication.objects.filter(patient=patient, status=EntryStatus.ACTIVE).values_list(
        "drug", "other_name"
    ):
        for cls in interaction_classes(drug):
            if cls in screened:
                found.append({"rule_id": RULE_MED_SCREEN.id, "drug": drug_name(drug, other), "class": cls})
    return found


@transaction.atomic
def do_record_predose_check(
    session: TreatmentSession, data: inputs.PreDoseCheckIn, *, actor: Any, origin: Origin = SYSTEM
) -> PreDoseCheck:
    session = _lock_session(session)
    if data.medication_changes and not data.medication_note:
        raise InvalidInput({"medication_note": "say what changed (update the medication list too)"})
    check = PreDoseCheck.objects.create(
        session=session,
        identity_confirmed=data.identity_confirmed,
        consent_current=consent_is_current(session.patient, session.plan.modality),
        fasting_confirmed=data.fasting_confirmed,
        ride_home_arranged=data.ride_home_arranged,
        pregnancy_status=data.pregnancy_status or "",
        medication_changes=data.medication_changes,
        medication_note=data.medication_note,
        interaction_findings=interaction_findings(session.patient, session.plan.modality),
        **_stamp(actor),
    )
    _chart(session, check, data.model_fields_set | {"consent_current"}, actor=actor, origin=origin)
    return check


# --- Vitals and alerts ------------------------------------------------------------------------------------


def predose_reading(session: TreatmentSession, readings: list[VitalSigns]) -> VitalSigns | None:
    """The latest of `readings` (the session's, in time order) at or before the dose, or the latest so far
    when no dose is given yet."""
    started = first_dose_at(session)
    before = [r for r in readings if started is None or r.taken_at <= started]
    return before[-1] if before else None


def _raise_session_alerts(
    session: TreatmentSession,
    found: Iterable[clinical_vitals.Alert],
    *,
    actor: Any,
    vitals: VitalSigns | None = None,
    observation: Observation | None = None,
) -> list[SessionAlert]:
    """An in-session alert for each finding of clinical/vitals.session_alerts, on the reading or observation
    that gave it."""
    return [
        _raise_alert(
            session,
            AlertKind.SESSION,
            AlertLevel.ALERT,
            alert.rule_id,
            alert.message,
            alert.sources,
            actor=actor,
            vitals=vitals,
            observation=observation,
        )
        for alert in found
    ]


def _raise_alert(
    session: TreatmentSession,
    kind: str,
    level: str,
    rule_id: str,
    message: str,
    sources: Iterable[str],
    *,
    actor: Any,
    vitals: VitalSigns | None = None,
    observation: Observation | None = None,
) -> SessionAlert:
    return SessionAlert.objects.create(
        session=session,
        vitals=vitals,
        observation=observation,
        kind=kind,
        level=level,
        rule_id=rule_id,
        message=message[:500],
        sources=list(sources),
        raised_at=timezone.now(),
        **_stamp(actor),
    )


def do_record_vitals(
    session: TreatmentSession,
    data: inputs.VitalsIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    shown: bool = False,
) -> VitalSigns:
    """A reading in the flowsheet. Before the dose it passes the pre-dose BP gate (clinical/vitals
    .predose_bp); readings beyond the policy's alert levels raise alerts (session_alerts). Each needs an
    answer. `shown`: the caller's answer shows the session's reading to `actor` (the API's 201), so its read
    event is written here, with the action's own."""
    # Reading the policy, judging the gate and preparing the INSERT come before the transaction: its BEGIN
    # takes SQLite's one write lock, so every reading waits on the time from there to COMMIT
    # (docs/performance.md, recording vitals). The policy read here is the one in force a moment before the
    # write, as it would be on PostgreSQL under READ COMMITTED; the session's own snapshot is checked again
    # under the lock.
    policy = session_policy(session)
    gate = clinical_vitals.predose_bp(data.systolic_mmhg, data.diastolic_mmhg, session.plan.modality, policy)
    reading = VitalSigns(
        session=session,
        systolic_mmhg=data.systolic_mmhg,
        diastolic_mmhg=data.diastolic_mmhg,
        heart_rate_bpm=data.heart_rate_bpm,
        spo2_percent=data.spo2_percent,
        **_stamp(actor),
    )
    row = prepared.prepare(reading, late=_LATE)
    with transaction.atomic():
        locked = _lock_session(session, loaded=True)
        when = _moment(locked, data.taken_at, "taken_at")
        if locked.location_id != session.location.pk or locked.policy != session.policy:
            # Checked in, or moved, since the session was read: judged under the locked row's policy.
            policy = session_policy(locked)
            gate = clinical_vitals.predose_bp(
                data.systolic_mmhg, data.diastolic_mmhg, locked.plan.modality, policy
            )
        session = locked
        # The dose, and of the readings so far only those the new one is placed and judged by (over
        # fastload: the QuerySets cost about 0.6 ms more a reading, docs/performance.md).
        fastload.hold(session, "doses", fastload.fetch(Dose, session=session, order_by=("started_at", "id")))
        started = first_dose_at(session)
        scheduled, predose = _flowsheet_so_far(session, started)
        reading.session, reading.taken_at = session, when
        reading.time_point = data.time_point or point_for(session, when, scheduled, policy)
        prepared.send(reading, row, late=_LATE)
        raised: list[SessionAlert] = []
        if (started is None or when <= started) and gate.level != clinical_vitals.GateLevel.PROCEED:
            raised.append(
                _raise_alert(
                    session,
                    AlertKind.PREDOSE_GATE,
                    gate.level.value,
                    gate.rule_id,
                    gate.message,
                    gate.sources,
                    actor=actor,
                    vitals=reading,
                )
            )
        found = clinical_vitals.session_alerts(
            clinical_vitals.SessionReading(
                systolic=data.systolic_mmhg,
                diastolic=data.diastolic_mmhg,
                heart_rate=data.heart_rate_bpm,
                spo2_percent=data.spo2_percent,
            ),
            predose=(
                BloodPressure(predose.systolic_mmhg, predose.diastolic_mmhg)
                if predose is not None and started is not None and when > started
                else None
            ),
            policy=policy,
        )
        raised += _raise_session_alerts(session, found, actor=actor, vitals=reading)
        events = [
            _chart_event(session, reading, data.model_fields_set | {"time_point"}, actor=actor, origin=origin)
        ]
        if shown:
            events.append(
                event(Action.PATIENT_READ, actor=actor, origin=origin, obj=session, patient=session.patient)
            )
        # The events in one append: three statements for both, not three each (audit/actions.py).
        append(events)
    # A new reading's alerts are the ones just raised, in order: `reading.alerts.all()` answers them without
    # reading them back.
    fastload.hold(reading, "alerts", raised)
    return reading


def _flowsheet_so_far(
    session: TreatmentSession, started: dt.datetime | None
) -> tuple[list[VitalSigns], VitalSigns | None]:
    """Of the session's readings so far, what a new one is placed and judged by: those charted at a
    scheduled time point, in time order (point_for), and the pre-dose reading (predose_reading). Any-time
    readings after the dose are not read, so a reading costs the same however long the flowsheet has
    grown: reading every earlier one cost about 8 us more a reading already charted, under the write lock
    (1.60 ms at 10 earlier readings, 2.21 ms at 79; docs/performance.md)."""
    if started is None:  # before the dose every reading is a pre-dose one, and there are few
        readings = fastload.fetch(VitalSigns, session=session, order_by=("taken_at", "id"))
        return readings, predose_reading(session, readings)
    scheduled = fastload.fetch(
        VitalSigns, session=session, time_point__ne=TimePoint.ANY_TIME, order_by=("taken_at", "id")
    )
    # The latest at or before the dose, whatever its time point: one charted "any time" by hand counts.
    latest = fastload.fetch(
        VitalSigns, session=session, taken_at__lte=started, order_by=("-taken_at", "-id"), limit=1
    )
    return scheduled, (latest[0] if latest else None)


# The reading's INSERT is prepared before the lock and sent under it (ketaclinic/prepared.py), bar the two
# fields known only under the lock.
_LATE = ("taken_at", "time_point")


@transaction.atomic
def do_answer_alert(
    alert: SessionAlert, data: inputs.AlertAnswerIn, *, actor: Any, origin: Origin = SYSTEM
) -> SessionAlert:
    """Answer an alert once: acknowledge the BP gate with a reason or defer the dose; say what was done about
    an in-session alert. A second answer is refused (409), never written over the first."""
    session = _lock_session(alert.session)
    alert = SessionAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.answer != AlertAnswer.OPEN:
        raise Refused("This alert is answered already", [f"Answered: {alert.get_answer_display()}."])
    allowed = {
        AlertLevel.ACKNOWLEDGE: {AlertAnswer.ACKNOWLEDGED, AlertAnswer.DEFERRED},
        AlertLevel.DEFER: {AlertAnswer.DEFERRED},
        AlertLevel.ALERT: {AlertAnswer.RESPONDED},
    }[AlertLevel(alert.level)]
    if data.answer not in allowed:
        names = " or ".join(sorted(allowed))
        raise InvalidInput({"answer": f"this alert is answered with {names}"})
    alert.answer, alert.answer_note = data.answer, data.note
    alert.answered_at, alert.answered_by = timezone.now(), actor
    alert.version += 1
    _touch(alert, actor)
    alert.save()
    changed = ["answer", "answer_note"]
    if data.answer == AlertAnswer.DEFERRED:
        session.status = SessionStatus.DEFERRED
        session.version += 1
        _touch(session, actor)
        session.save()
        changed.append("session.status")
    _chart(session, alert, changed, actor=actor, origin=origin)
    return alert


# --- The dose ---------------------------------------------------------------------------------------------


# Gates of areas above this one (therapy: preparation before a KAP plan's first dose), each registered when
# its app starts and asked for its reasons before every dose, as the consent on the pre-dose check is.
DoseGate = Callable[[TreatmentSession], list[str]]
_dose_gates: list[DoseGate] = []


def add_dose_gate(gate: DoseGate) -> None:
    if gate not in _dose_gates:
        _dose_gates.append(gate)


def dose_blockers(session: TreatmentSession) -> list[str]:
    """What must happen before the dose: a pre-dose check with identity, a pre-dose reading, the gate
    answered, and what each registered dose gate asks for."""
    reasons = []
    check = session.predose_checks.order_by("-created_at", "-pk").first()
    if check is None:
        reasons.append("Record the pre-dose checks first.")
    else:
        if not check.identity_confirmed:
            reasons.append("The patient's identity is not confirmed.")
        if not check.ride_home_arranged:
            reasons.append("No ride home is arranged.")
        if not check.consent_current:
            reasons.append("The patient's consent to the current document is not on file.")
    if not session.vitals.exists():
        reasons.append("Record the pre-dose blood pressure, heart rate and SpO2 first.")
    open_gates = session.alerts.filter(kind=AlertKind.PREDOSE_GATE, answer=AlertAnswer.OPEN)
    for gate in open_gates:
        reasons.append(f"Answer the pre-dose BP gate ({gate.rule_id}) first.")
    if session.doses.exists():
        reasons.append("This session's dose is recorded already.")
    for dose_gate in _dose_gates:
        reasons += dose_gate(session)
    return reasons


@transaction.atomic
def do_record_dose(
    session: TreatmentSession, data: inputs.AdministerIn, *, actor: Any, origin: Origin = SYSTEM
) -> Dose:
    """The session's one dose, checked by the dose calculator under the session's policy. IV keeps the pump
    rate; esketamine gets its devices, each due after the 5-minute rest."""
    session = _lock_session(session)
    reasons = dose_blockers(session)
    if reasons:
        raise Refused("The dose cannot be recorded yet", reasons)
    started = _moment(session, data.started_at, "started_at")
    ended = None if data.ended_at is None else _moment(session, data.ended_at, "ended_at")
    plan, policy = session.plan, session_policy(session)
    extra: dict[str, Any] = {}
    try:
        if plan.modality == PlanModality.ESKETAMINE_NASAL:
            calc = dosing.esketamine(
                data.amount_mg, first_dose=not had_esketamine_dose(session.patient), policy=policy
            )
        else:
            weight = latest_weight_kg(session.patient)
            if weight is None:
                raise InvalidInput({"amount_mg": "record the patient's weight first"})
            assert plan.dose_mg_per_kg is not None
            if plan.modality == PlanModality.IV_KETAMINE:
                iv = dosing.iv_ketamine(
                    weight,
                    plan.dose_mg_per_kg,
                    plan.infusion_minutes or dosing.IV_STANDARD_MINUTES,
                    policy=policy,
                )
                extra = {
                    "weight_kg": iv.weight_kg,
                    "mg_per_kg": iv.mg_per_kg,
                    "concentration_mg_per_ml": iv.concentration_mg_per_ml,
                    "volume_ml": iv.volume_ml,
                    "infusion_minutes": int(iv.infusion_minutes),
                    "pump_rate_ml_per_hour": iv.rate_ml_per_hour,
                }
                expected = iv.dose_mg
            else:
                im = dosing.im_ketamine(weight, plan.dose_mg_per_kg, policy=policy)
                extra = {
                    "weight_kg": im.weight_kg,
                    "mg_per_kg": im.mg_per_kg,
                    "concentration_mg_per_ml": im.concentration_mg_per_ml,
                    "volume_ml": im.volume_ml,
                }
                expected = im.dose_mg
            if data.amount_mg != expected:
                raise InvalidInput(
                    {
                        "amount_mg": f"the prescribed dose is {expected} mg "
                        f"({plan.dose_mg_per_kg} mg/kg x {weight} kg)"
                    }
                )
    except dosing.DoseOutOfRange as exc:
        raise InvalidInput({"amount_mg": str(exc)}) from exc
    if (
        plan.modality == PlanModality.ESKETAMINE_NASAL
        and plan.dose_mg is not None
        and data.amount_mg != plan.dose_mg
    ):
        raise InvalidInput({"amount_mg": f"the prescribed dose is {plan.dose_mg} mg"})
    stamp = _stamp(actor)
    dose = Dose.objects.create(
        session=session,
        amount_mg=data.amount_mg,
        lot_number=data.lot_number,
        started_at=started,
        ended_at=ended,
        **extra,
        **stamp,
    )
    if plan.modality == PlanModality.ESKETAMINE_NASAL:
        DoseDevice.objects.bulk_create(
            [
                DoseDevice(
                    dose=dose,
                    number=n,
                    due_at=started + dt.timedelta(minutes=offset),
                    used_at=started if n == 1 else None,
                    used_by=actor if n == 1 else None,
                    **stamp,
                )
                for n, offset in enumerate(calc.device_offsets_min, 1)
            ]
        )
    # The controlled-substance ledger takes the amount from the lot in this transaction: an unknown or
    # expired lot, or one without enough left, refuses the dose (nothing is saved).
    do_administer(
        location=session.location,
        lot_number=data.lot_number,
        amount_mg=data.amount_mg,
        session_ref=f"dose:{dose.pk}",
        actor=actor,
        origin=origin,
        patient=session.patient,
        occurred_at=started,
    )
    if session.monitored_by_id is None:
        session.monitored_by = actor
        session.save(update_fields=["monitored_by"])
    _chart(session, dose, data.model_fields_set, actor=actor, origin=origin)
    return dose


@transaction.atomic
def do_use_device(
    dose: Dose, number: int, data: inputs.DeviceUseIn, *, actor: Any, origin: Origin = SYSTEM
) -> DoseDevice:
    """An esketamine device used: not before its rest is over, in order, once."""
    session = _lock_session(dose.session)
    device = DoseDevice.objects.select_for_update().filter(dose=dose, number=number).first()
    if device is None:
        raise InvalidInput({"number": "this dose has no such device"})
    if device.used_at is not None:
        raise Refused(
            "This device is recorded already", [f"Device {number} was used at {device.used_at.isoformat()}."]
        )
    if dose.devices.filter(number__lt=number, used_at__isnull=True).exists():
        raise Refused("Record the earlier devices first", [f"Device {number - 1} is not recorded yet."])
    when = _moment(session, data.used_at, "used_at")
    if when < device.due_at:
        raise InvalidInput(
            {"used_at": f"device {number} is due at {device.due_at.isoformat()} (5-minute rest)"}
        )
    device.used_at, device.used_by = when, actor
    _touch(device, actor)
    device.save()
    _chart(session, device, ["used_at"], actor=actor, origin=origin)
    return device


@transaction.atomic
def do_end_dose(dose: Dose, data: inputs.DoseEndIn, *, actor: Any, origin: Origin = SYSTEM) -> Dose:
    """When an infusion stopped (once)."""
    session = _lock_session(dose.session)
    dose = Dose.objects.select_for_update().get(pk=dose.pk)
    if dose.ended_at is not None:
        raise Refused("The end of this dose is recorded already", [f"Ended at {dose.ended_at.isoformat()}."])
    when = _moment(session, data.ended_at, "ended_at")
    if when < dose.started_at:
        raise InvalidInput({"ended_at": "must not be before the dose started"})
    dose.ended_at = when
    _touch(dose, actor)
    dose.save()
    _chart(session, dose, ["ended_at"], actor=actor, origin=origin)
    return dose


# --- Observations and adverse events ----------------------------------------------------------------------


@transaction.atomic
def do_record_observation(
    session: TreatmentSession, data: inputs.ObservationIn, *, actor: Any, origin: Origin = SYSTEM
) -> Observation:
    """A MOAA/S or CADSS scored by clinical/scales; a flagged result raises the matching alert."""
    session = _lock_session(session)
    when = _moment(session, data.taken_at, "taken_at")
    policy = session_policy(session)
    try:
        result = scales.score(data.instrument, data.answers, policy=policy)  # type: ignore[arg-type]
    except (scales.InvalidAnswers, TypeError, ValueError) as exc:
        raise InvalidInput({"answers": str(exc)}) from exc
    assert result.total is not None
    observation = Observation.objects.create(
        session=session,
        instrument=data.instrument,
        answers=list(result.item_scores),
        total=result.total,
        band=result.band or "",
        flags=sorted(result.flags),
        taken_at=when,
        **_stamp(actor),
    )
    reading = clinical_vitals.SessionReading(
        moaas=result.total if data.instrument == "moaas" else None,
        cadss_total=result.total if data.instrument == "cadss" else None,
    )
    found = clinical_vitals.session_alerts(reading, policy=policy)
    _raise_session_alerts(session, found, actor=actor, observation=observation)
    _chart(session, observation, data.model_fields_set, actor=actor, origin=origin)
    return observation


@transaction.atomic
def do_record_adverse_event(
    session: TreatmentSession, data: inputs.AdverseEventIn, *, actor: Any, origin: Origin = SYSTEM
) -> AdverseEvent:
    session = _lock_session(session)
    onset = _moment(session, data.onset_at, "onset_at")
    event = AdverseEvent.objects.create(
        session=session,
        code=data.code,
        description=data.description,
        severity=data.severity,
        onset_at=onset,
        action_taken=data.action_taken,
        outcome=data.outcome,
        **_stamp(actor),
    )
    _chart(session, event, data.model_fields_set, actor=actor, origin=origin)
    return event


# --- Discharge, sign-off, amendments ----------------------------------------------------------------------


def latest_observation(session: TreatmentSession, instrument: str) -> Observation | None:
    return session.observations.filter(instrument=instrument).order_by("-taken_at", "-pk").first()


def readiness(
    session: TreatmentSession,
    now: dt.datetime,
    *,
    dissociation_resolved: bool = True,
    respiratory_depression_resolved: bool = True,
    escort_arranged: bool = True,
) -> clinical_vitals.DischargeCheck | None:
    """clinical/vitals.discharge_readiness for the session at `now`; None before the dose."""
    started = first_dose_at(session)
    if started is None or now < started:
        return None
    moaas = latest_observation(session, "moaas")
    readings = [
        clinical_vitals.BPReading(v.taken_at, v.systolic_mmhg, v.diastolic_mmhg)
        for v in session.vitals.order_by("taken_at", "pk")
    ]
    return clinical_vitals.discharge_readiness(
        session.plan.modality,
        first_dose_at=started,
        now=now,
        bp_readings=readings,
        moaas=None if moaas is None else moaas.total,
        dissociation_resolved=dissociation_resolved,
        respiratory_depression_resolved=respiratory_depression_resolved,
        escort_arranged=escort_arranged,
        policy=session_policy(session),
    )


@transaction.atomic
def do_discharge(
    session: TreatmentSession, data: inputs.DischargeIn, *, actor: Any, origin: Origin = SYSTEM
) -> Discharge:
    """Discharge when clinical/vitals.discharge_readiness is met; otherwise 409 listing every unmet reason."""
    session = _lock_session(session)
    when = _moment(session, data.discharged_at, "discharged_at")
    reasons = []
    open_alerts = session.alerts.filter(answer=AlertAnswer.OPEN).count()
    if open_alerts:
        reasons.append(f"{open_alerts} alert(s) not answered.")
    check = readiness(
        session,
        when,
        dissociation_resolved=data.dissociation_resolved,
        respiratory_depression_resolved=data.respiratory_depression_resolved,
        escort_arranged=bool(data.escort_name),
    )
    if check is None:
        reasons.append("No dose is recorded for this session.")
    else:
        reasons.extend(f"{n.reason} ({n.rule_id})" for n in check.not_yet)
    if reasons:
        raise Refused("The patient is not ready for discharge", reasons)
    assert check is not None
    discharge = Discharge.objects.create(
        session=session,
        discharged_at=when,
        ready_to_leave_minutes=data.ready_to_leave_minutes,
        escort_name=data.escort_name,
        minutes_observed=check.minutes_observed,
        dissociation_resolved=data.dissociation_resolved,
        respiratory_depression_resolved=data.respiratory_depression_resolved,
        **_stamp(actor),
    )
    session.status = SessionStatus.DISCHARGED
    session.version += 1
    _touch(session, actor)
    session.save()
    _chart(session, discharge, [*data.model_fields_set, "status"], actor=actor, origin=origin)
    return discharge


@transaction.atomic
def do_sign(session: TreatmentSession, *, actor: Any, origin: Origin = SYSTEM) -> TreatmentSession:
    """Sign off a discharged (or deferred) session: it is locked from now on."""
    session = _lock_session(session, charting=False)
    if session.status not in (SessionStatus.DISCHARGED, SessionStatus.DEFERRED):
        raise Refused(
            "This session cannot be signed yet",
            [f"The session is {session.get_status_display().lower()}; discharge the patient first."],
        )
    now = timezone.now()
    session.status = SessionStatus.SIGNED
    session.signed_at, session.signed_by = now, actor
    session.version += 1
    _touch(session, actor)
    session.save()
    record(
        Action.SESSION_UPDATE,
        actor=actor,
        origin=origin,
        obj=session,
        patient=session.patient,
        changed_fields=["signed_at", "status"],
    )
    return session


@transaction.atomic
def do_amend(
    session: TreatmentSession, data: inputs.AmendmentIn, *, actor: Any, origin: Origin = SYSTEM
) -> Amendment:
    """A late entry or correction to a signed session: appended with who, when and why."""
    session = TreatmentSession.objects.select_for_update().get(pk=session.pk)
    if session.status != SessionStatus.SIGNED:
        raise Refused("Only a signed session is amended", ["Chart the open session directly."])
    amendment = Amendment.objects.create(
        session=session,
        amended_at=timezone.now(),
        amended_by=actor,
        reason=data.reason,
        record="note",
        changes={"note": data.note},
    )
    record(
        Action.SESSION_AMEND,
        actor=actor,
        origin=origin,
        obj=amendment,
        patient=session.patient,
        changed_fields=["note", "reason"],
    )
    return amendment
