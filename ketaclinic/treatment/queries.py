"""Reading plans and sessions: the session's chart as pages and the API show it, its stage on the treatment
floor, the next vital signs due, and discharge readiness. Nothing here writes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from ketaclinic.clinical import vitals as clinical_vitals
from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinical.vitals import BPReading
from ketaclinic.treatment import actions
from ketaclinic.treatment.flowsheet import first_dose_at, open_points
from ketaclinic.treatment.models import (
    SESSION_AHEAD,
    SESSION_DONE,
    AlertAnswer,
    Dose,
    ObservationInstrument,
    PlanModality,
    PlanStatus,
    SessionAlert,
    SessionStatus,
    TimePoint,
    TreatmentPlan,
    TreatmentSession,
    VitalSigns,
)


class Stage:
    """Where a session stands on the treatment floor (the floor board's phases)."""

    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    PRE_DOSE = "pre_dose"
    DOSING = "dosing"
    MONITORING = "monitoring"
    READY = "ready_for_discharge"
    DISCHARGED = "discharged"
    DEFERRED = "deferred"
    CANCELLED = "cancelled"


STAGE_LABELS = {
    Stage.SCHEDULED: "Scheduled",
    Stage.CHECKED_IN: "Checked in",
    Stage.PRE_DOSE: "Pre-dose",
    Stage.DOSING: "Dosing",
    Stage.MONITORING: "Monitoring",
    Stage.READY: "Ready for discharge",
    Stage.DISCHARGED: "Discharged",
    Stage.DEFERRED: "Deferred",
    Stage.CANCELLED: "Cancelled",
}


@dataclass(frozen=True, slots=True)
class Due:
    """The next reading due: what it is, when (None: now, before dosing), and whether it is overdue."""

    what: str
    point: str
    due_at: dt.datetime | None
    overdue: bool


def _dose(session: TreatmentSession) -> Dose | None:
    doses = list(session.doses.all())
    return doses[0] if doses else None


def dosing_done(dose: Dose | None) -> bool:
    if dose is None:
        return False
    if any(d.used_at is None for d in dose.devices.all()):
        return False
    modality = dose.session.plan.modality
    return not (modality == PlanModality.IV_KETAMINE and dose.ended_at is None)


def next_device_due(dose: Dose | None) -> dt.datetime | None:
    if dose is None:
        return None
    for device in dose.devices.all():
        if device.used_at is None:
            return device.due_at
    return None


def next_vitals(
    session: TreatmentSession, readings: list[VitalSigns], now: dt.datetime | None = None
) -> Due | None:
    if session.status != SessionStatus.CHECKED_IN:
        return None
    now = now or timezone.now()
    started = first_dose_at(session)
    for point, label, due_at in open_points(session, readings, now):
        if point == TimePoint.PRE_DOSE and started is not None:
            continue
        return Due(label, point, due_at, due_at is not None and now > due_at)
    return None


# --- Where a session stands: one rule for the session page, its API and the floor board -----------------


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What the chart says of one session, as plain values: all `stage_of` and the floor board judge by.

    `dose_started_at` is the start of the dose (for esketamine, the first device, used when the dose is
    recorded); `dosing_done` means every device used (esketamine) or the infusion ended (IV);
    `dose_ended_at` when the infusion ended; `taken_points` the time points of the vital signs charted (one
    per reading); `bp_readings` every blood pressure charted, in time order; `latest_moaas` the latest
    MOAA/S total; `escort_arranged` the latest pre-dose check's answer on the ride home (True when none is
    charted: nothing says otherwise yet).
    """

    modality: str
    status: str
    checked_in_at: dt.datetime | None = None
    predose_charted: bool = False
    dose_started_at: dt.datetime | None = None
    dosing_done: bool = False
    next_device_due_at: dt.datetime | None = None
    dose_ended_at: dt.datetime | None = None
    taken_points: Collection[str] = frozenset()
    bp_readings: Sequence[BPReading] = ()
    latest_moaas: int | None = None
    escort_arranged: bool = True
    open_alerts: int = 0
    discharged_at: dt.datetime | None = None


def session_facts(
    *,
    modality: str,
    status: str,
    checked_in_at: dt.datetime | None,
    rides_home: Sequence[bool],
    vitals: Sequence[tuple[str, dt.datetime, int, int]],
    dose: tuple[dt.datetime, dt.datetime | None] | None,
    devices: Sequence[tuple[dt.datetime, dt.datetime | None]],
    moaas: Sequence[int],
    open_alerts: int,
    discharged_at: dt.datetime | None,
) -> SessionFacts:
    """The facts from plain rows, however they were loaded: `rides_home` the pre-dose checks' ride-home
    answers in the order charted; `vitals` (time point, taken at, systolic, diastolic) in time order; `dose`
    (started at, ended at) of the session's dose; `devices` (due at, used at) of its devices by number;
    `moaas` the MOAA/S totals in time order."""
    unused = [due for due, used in devices if used is None]
    done = dose is not None and not unused
    if dose is not None and modality == PlanModality.IV_KETAMINE and dose[1] is None:
        done = False  # the infusion is running
    return SessionFacts(
        modality=modality,
        status=status,
        checked_in_at=checked_in_at,
        predose_charted=bool(rides_home or vitals),
        dose_started_at=dose[0] if dose is not None else None,
        dosing_done=done,
        next_device_due_at=unused[0] if unused else None,
        dose_ended_at=dose[1] if dose is not None else None,
        taken_points=tuple(v[0] for v in vitals),
        bp_readings=tuple(BPReading(taken_at, sys, dia) for _, taken_at, sys, dia in vitals),
        latest_moaas=moaas[-1] if moaas else None,
        escort_arranged=rides_home[-1] if rides_home else True,
        open_alerts=open_alerts,
        discharged_at=discharged_at,
    )


def facts_of(session: TreatmentSession) -> SessionFacts:
    """The facts of a session from its model instances (as `load` prefetches them, or one query each)."""
    dose = _dose(session)
    devices = sorted(dose.devices.all(), key=lambda d: d.number) if dose is not None else []
    moaas = sorted(
        (o for o in session.observations.all() if o.instrument == ObservationInstrument.MOAAS),
        key=lambda o: (o.taken_at, o.pk),
    )
    readings = sorted(session.vitals.all(), key=lambda v: (v.taken_at, v.pk))
    discharge = getattr(session, "discharge", None) if hasattr(session, "discharge") else None
    return session_facts(
        modality=session.plan.modality,
        status=session.status,
        checked_in_at=session.checked_in_at,
        rides_home=[c.ride_home_arranged for c in sorted(session.predose_checks.all(), key=lambda c: c.pk)],
        vitals=[(v.time_point, v.taken_at, v.systolic_mmhg, v.diastolic_mmhg) for v in readings],
        dose=None if dose is None else (dose.started_at, dose.ended_at),
        devices=[(d.due_at, d.used_at) for d in devices],
        moaas=[o.total for o in moaas],
        open_alerts=sum(1 for a in session.alerts.all() if a.answer == AlertAnswer.OPEN),
        discharged_at=None if discharge is None else discharge.discharged_at,
    )


def readiness_of(
    facts: SessionFacts, policy: ClinicPolicy, now: dt.datetime
) -> clinical_vitals.DischargeCheck | None:
    """clinical/vitals.discharge_readiness as the chart stands at `now`; None before the dose. Dissociation
    and respiratory depression are judged by the clinician at discharge, so they are not presumed here;
    the escort is the pre-dose check's ride-home answer."""
    started = facts.dose_started_at
    if started is None or now < started:
        return None
    return clinical_vitals.discharge_readiness(
        facts.modality,
        first_dose_at=started,
        now=now,
        bp_readings=facts.bp_readings,
        moaas=facts.latest_moaas,
        dissociation_resolved=True,
        respiratory_depression_resolved=True,
        escort_arranged=facts.escort_arranged,
        policy=policy,
    )


def stage_of(facts: SessionFacts, policy: ClinicPolicy, now: dt.datetime) -> str:
    """Where the session stands (a `Stage`): the one rule behind the session page, its API and the floor."""
    status = facts.status
    if status in SESSION_DONE:
        return Stage.DISCHARGED
    if status != SessionStatus.CHECKED_IN:
        waiting: dict[str, str] = {
            SessionStatus.SCHEDULED: Stage.SCHEDULED,
            SessionStatus.DEFERRED: Stage.DEFERRED,
        }
        return waiting.get(status, Stage.CANCELLED)
    if facts.dose_started_at is None:
        return Stage.PRE_DOSE if facts.predose_charted else Stage.CHECKED_IN
    if not facts.dosing_done:
        return Stage.DOSING
    if facts.open_alerts:
        return Stage.MONITORING
    check = readiness_of(facts, policy, now)
    return Stage.READY if check is not None and check.ready else Stage.MONITORING


def stage(session: TreatmentSession, now: dt.datetime | None = None) -> str:
    return stage_of(facts_of(session), actions.session_policy(session), now or timezone.now())


def plan_detail(plan: TreatmentPlan) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "patient_id": plan.patient_id,
        "location": plan.location.slug,
        "modality": plan.modality,
        "protocol": plan.protocol,
        "dose_mg": plan.dose_mg,
        "dose_mg_per_kg": plan.dose_mg_per_kg,
        "infusion_minutes": plan.infusion_minutes,
        "start_date": plan.start_date,
        "clinic_days": plan.clinic_days,
        "maintenance_sessions": plan.maintenance_sessions,
        "status": plan.status,
        "approved_at": plan.approved_at,
        "ended_at": plan.ended_at,
        "version": plan.version,
        "sessions": [
            {"id": s.pk, "number": s.number, "date": s.date, "phase": s.phase, "status": s.status}
            for s in plan.sessions.order_by("number")
        ],
        "changes": [
            {"kind": c.kind, "reason": c.reason, "changes": c.changes, "changed_at": c.changed_at}
            for c in plan.changes.order_by("changed_at", "pk")
        ],
    }


def alert_out(a: SessionAlert) -> dict[str, Any]:
    return {
        "id": a.pk,
        "kind": a.kind,
        "level": a.level,
        "rule_id": a.rule_id,
        "message": a.message,
        "sources": a.sources,
        "raised_at": a.raised_at,
        "answer": a.answer,
        "answer_note": a.answer_note,
        "answered_at": a.answered_at,
        "version": a.version,
    }


def fields_of(row: Any, *skip: str) -> dict[str, Any]:
    hidden = {"session", "created_by", "updated_by", "updated_at", *skip}
    return {f.name: getattr(row, f.name) for f in row._meta.concrete_fields if f.name not in hidden}


def vitals_out(v: VitalSigns, alerts: list[SessionAlert]) -> dict[str, Any]:
    return {**fields_of(v, "created_at"), "alerts": [alert_out(a) for a in alerts]}


def dose_out(dose: Dose) -> dict[str, Any]:
    return {
        **fields_of(dose, "created_at"),
        "devices": [
            {"number": d.number, "due_at": d.due_at, "used_at": d.used_at} for d in dose.devices.all()
        ],
        "next_device_due_at": next_device_due(dose),
    }


def load(session_id: Any) -> TreatmentSession:
    """The session with its whole chart, in a fixed number of queries."""
    return (
        TreatmentSession.objects.select_related("plan", "chair", "monitored_by", "discharge")
        .prefetch_related(
            "predose_checks",
            Prefetch("vitals", queryset=VitalSigns.objects.order_by("taken_at", "pk")),
            Prefetch("doses", queryset=Dose.objects.prefetch_related("devices")),
            "observations",
            "adverse_events",
            Prefetch("alerts", queryset=SessionAlert.objects.order_by("raised_at", "pk")),
            "amendments",
        )
        .get(pk=session_id)
    )


def session_detail(session: TreatmentSession, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    full = load(session.pk)
    full.patient, full.location = session.patient, session.location
    full.plan.patient, full.plan.location = session.patient, session.location
    alerts = list(full.alerts.all())
    by_vitals: dict[int, list[SessionAlert]] = {}
    by_observation: dict[int, list[SessionAlert]] = {}
    for a in alerts:
        if a.vitals_id is not None:
            by_vitals.setdefault(a.vitals_id, []).append(a)
        if a.observation_id is not None:
            by_observation.setdefault(a.observation_id, []).append(a)
    readings = list(full.vitals.all())
    due = next_vitals(full, readings, now)
    discharge = getattr(full, "discharge", None) if hasattr(full, "discharge") else None
    facts, policy = facts_of(full), actions.session_policy(full)
    check = readiness_of(facts, policy, now) if full.status == SessionStatus.CHECKED_IN else None
    plan = full.plan
    monitor = full.monitored_by
    return {
        "id": full.pk,
        "plan_id": full.plan_id,
        "patient_id": full.patient_id,
        "location": full.location.slug,
        "modality": plan.modality,
        "number": full.number,
        "date": full.date,
        "phase": full.phase,
        "status": full.status,
        "stage": stage_of(facts, policy, now),
        "chair": full.chair.name if full.chair else None,
        "checked_in_at": full.checked_in_at,
        "monitored_by": (monitor.get_full_name() or monitor.username) if monitor else None,
        "signed_at": full.signed_at,
        "version": full.version,
        "prescribed_dose_mg": plan.dose_mg,
        "prescribed_dose_mg_per_kg": plan.dose_mg_per_kg,
        "checks": [fields_of(c) for c in full.predose_checks.all()],
        "vitals": [vitals_out(v, by_vitals.get(v.pk, [])) for v in readings],
        "next_vitals": None
        if due is None
        else {"what": due.what, "due_at": due.due_at, "overdue": due.overdue},
        "doses": [dose_out(d) for d in full.doses.all()],
        "observations": [
            {**fields_of(o, "created_at"), "alerts": [alert_out(a) for a in by_observation.get(o.pk, [])]}
            for o in full.observations.all()
        ],
        "events": [fields_of(e, "created_at") for e in full.adverse_events.all()],
        "alerts": [alert_out(a) for a in alerts],
        "discharge": None if discharge is None else fields_of(discharge, "created_at", "id"),
        "discharge_readiness": (
            None
            if check is None
            else {
                "ready": check.ready,
                "minutes_observed": check.minutes_observed,
                "reasons": [n.reason for n in check.not_yet],
            }
        ),
        "amendments": [fields_of(a, "amended_by", "record_id") for a in full.amendments.all()],
    }


def plans_of(patient: Any) -> list[TreatmentPlan]:
    return list(TreatmentPlan.objects.filter(patient=patient).order_by("-created_at"))


@dataclass(frozen=True, slots=True)
class PlanProgress:
    """Where one plan stands, for the chart's treatment panel: its sessions done of those planned (not
    cancelled), the next one ahead and the last one done, and the booked ones whose day passed without a
    check-in."""

    plan: TreatmentPlan
    done: int
    planned: int
    deferred: int
    missed: int
    next_id: Any
    next_number: int | None
    next_date: dt.date | None
    next_status: str | None
    last_date: dt.date | None

    @property
    def current(self) -> bool:
        return self.plan.status != PlanStatus.ENDED


# Queries of the chart's treatment panel, however many plans and sessions the patient has.
PANEL_QUERIES = 1


def progress_of(patient: Any, today: dt.date) -> list[PlanProgress]:
    """Every plan of the patient, newest first, with where it stands on `today` (the location's day)."""
    sessions = TreatmentSession.objects.filter(plan=OuterRef("pk"))
    ahead = sessions.filter(status__in=SESSION_AHEAD, date__gte=today).order_by("date", "number")
    last = sessions.filter(status__in=SESSION_DONE).order_by("-date", "-number")
    plans = (
        TreatmentPlan.objects.filter(patient=patient)
        .annotate(
            done=Count("sessions", filter=Q(sessions__status__in=SESSION_DONE)),
            planned=Count("sessions", filter=~Q(sessions__status=SessionStatus.CANCELLED)),
            deferred=Count("sessions", filter=Q(sessions__status=SessionStatus.DEFERRED)),
            missed=Count(
                "sessions", filter=Q(sessions__status=SessionStatus.SCHEDULED, sessions__date__lt=today)
            ),
            next_id=Subquery(ahead.values("id")[:1]),
            next_number=Subquery(ahead.values("number")[:1]),
            next_date=Subquery(ahead.values("date")[:1]),
            next_status=Subquery(ahead.values("status")[:1]),
            last_date=Subquery(last.values("date")[:1]),
        )
        .order_by("-created_at")
    )
    names = [f.name for f in dataclasses.fields(PlanProgress) if f.name != "plan"]
    return [PlanProgress(plan, **{name: getattr(plan, name) for name in names}) for plan in plans]
