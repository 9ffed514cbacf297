"""Reading plans and sessions: the session's chart as pages and the API show it, its stage on the treatment
floor, the next vital signs due, and discharge readiness. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from ketaclinic.treatment import actions
from ketaclinic.treatment.flowsheet import first_dose_at, open_points
from ketaclinic.treatment.models import (
    AlertAnswer,
    Dose,
    PlanModality,
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


def stage(session: TreatmentSession, now: dt.datetime | None = None) -> str:
    status = session.status
    if status in (SessionStatus.DISCHARGED, SessionStatus.SIGNED):
        return Stage.DISCHARGED
    if status != SessionStatus.CHECKED_IN:
        waiting: dict[str, str] = {
            SessionStatus.SCHEDULED: Stage.SCHEDULED,
            SessionStatus.DEFERRED: Stage.DEFERRED,
        }
        return waiting.get(status, Stage.CANCELLED)
    dose = _dose(session)
    if dose is None:
        charted = session.predose_checks.exists() or session.vitals.exists()
        return Stage.PRE_DOSE if charted else Stage.CHECKED_IN
    if not dosing_done(dose):
        return Stage.DOSING
    check = actions.readiness(session, now or timezone.now())
    if check is not None and check.ready and not session.alerts.filter(answer=AlertAnswer.OPEN).exists():
        return Stage.READY
    return Stage.MONITORING


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
    check = actions.readiness(full, now) if full.status == SessionStatus.CHECKED_IN else None
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
        "stage": stage(full, now),
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
