"""Safety alerts raised by responses, and their handling: the safety part of the assessments' actions.

A stored response can raise a `SafetyAlert`, a task for the prescriber that stays open, with its banner on
the chart and its row on the worklist, until its own step closes it:

- `suicide_item`: PHQ-9 item 9 or QIDS-SR16 item 12 scored 1 or more (the clinical library's
  SCALE-PHQ9-ITEM9-SI and SCALE-QIDS-SR16-ITEM12-SI flags). Due the same day at the patient's location.
  Closed by a C-SSRS screener that someone holding `safety.assess` there entered in the clinic.
- `cssrs_high`: a C-SSRS screener whose band is `high` (SCALE-CSSRS-HIGH). Due at once; the banner is
  URGENT. Closed by recording a safety plan (`do_record_safety_plan`).
- `worsening`: a PHQ-9, QIDS-SR16 or MADRS total beyond the policy's rise over the patient's baseline
  (OUT-WORSENING). Closed by a prescriber's review with a note (`do_close_alert`).

One open alert of a kind per patient: a later positive response adds to the open task's detail instead of
opening a second. `raise_alerts` runs inside `do_record_assessment`'s transaction; each alert it opens or
closes gets its own audit row (the alert is a record of its own), appended with the response's own, and
the handling steps here leave one row each. Who may close what is checked here, not only by the pages: a
C-SSRS entered by someone without `safety.assess` is stored and scored but leaves the suicide-item task
open.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ketaclinic import fastload
from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments.models import (
    AlertKind,
    AlertStatus,
    Assessment,
    SafetyAlert,
    SafetyPlan,
    Source,
)
from ketaclinic.assessments.safety_inputs import AlertCloseIn, SafetyPlanIn
from ketaclinic.audit.actions import event, record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.clinical import outcomes
from ketaclinic.clinical.policy import ClinicPolicy, CssrsBand
from ketaclinic.clinical.scales import INSTRUMENTS, Flag, Instrument
from ketaclinic.clinicpolicy.clock import day_bounds, local_date, local_today
from ketaclinic.errors import Forbidden, InvalidInput, Refused
from ketaclinic.patients.models import Patient

# The instruments whose suicide item raises a suicide-item task, with that item's 1-based number.
SUICIDE_ITEMS: dict[str, int] = {Instrument.PHQ9.value: 9, Instrument.QIDS_SR16.value: 12}
# The instruments a worsening is judged on (the clinical library's outcome scales that KetaClinic stores).
WORSENING_SCALES = (Instrument.PHQ9.value, Instrument.QIDS_SR16.value, Instrument.MADRS.value)
DETAIL_MAX = 300
# How an alert closes, for the pages and the API's refusal.
CLOSED_BY = {
    AlertKind.SUICIDE_ITEM: "Closes when a prescriber records a C-SSRS screener for the patient.",
    AlertKind.CSSRS_HIGH: "Closes when a prescriber records a safety plan with the patient.",
    AlertKind.WORSENING: "Closes when a prescriber records their review.",
}
# Open alerts, most urgent first: the chart's banner and the worklist sort by this.
KIND_ORDER = {AlertKind.CSSRS_HIGH: 0, AlertKind.SUICIDE_ITEM: 1, AlertKind.WORSENING: 2}


def _name(instrument: str) -> str:
    return INSTRUMENTS[Instrument(instrument)].name


def _when(assessment: Assessment) -> str:
    return local_date(assessment.location, assessment.taken_at).isoformat()


def _source(assessment: Assessment) -> str:
    return {
        Source.CLINIC: "entered in the clinic",
        Source.SELF_REPORT: "self-report link",
        Source.PORTAL: "patient portal",
    }.get(Source(assessment.source), assessment.source)


def _open(patient_id: Any, kind: str) -> SafetyAlert | None:
    return (
        SafetyAlert.objects.select_for_update()
        .filter(patient_id=patient_id, kind=kind, status=AlertStatus.OPEN)
        .first()
    )


def _raise(
    assessment: Assessment,
    kind: AlertKind,
    due_at: dt.datetime,
    detail: str,
    *,
    actor: Any,
    origin: Origin,
    events: list[AuditEvent],
) -> SafetyAlert:
    """Open an alert of `kind`, or add this response to the open one (one open alert per kind)."""
    alert = _open(assessment.patient_id, kind)
    if alert is not None:
        alert.detail = f"{alert.detail}; then {detail}"[:DETAIL_MAX]
        alert.due_at = min(alert.due_at, due_at)
        alert.version += 1
        alert.save(update_fields=["detail", "due_at", "version"])
        changed = ["detail", "due_at"]
    else:
        alert = SafetyAlert.objects.create(
            patient_id=assessment.patient_id,
            location_id=assessment.location_id,
            kind=kind,
            assessment=assessment,
            due_at=due_at,
            detail=detail[:DETAIL_MAX],
            created_at=timezone.now(),
        )
        changed = ["kind", "status", "assessment", "due_at", "detail"]
    events.append(
        event(
            Action.SAFETY_ALERT_RAISE,
            actor=actor,
            origin=origin,
            obj=alert,
            patient=assessment.patient,
            location_id=assessment.location_id,
            changed_fields=changed,
        )
    )
    return alert


def _close(alert: SafetyAlert, *, actor: Any, note: str = "", **closed_by: Any) -> None:
    alert.status = AlertStatus.CLOSED
    alert.closed_at = timezone.now()
    alert.closed_by = actor
    alert.closing_note = note
    for name, value in closed_by.items():
        setattr(alert, name, value)
    alert.version += 1
    alert.save()


def _end_of_today(assessment: Assessment) -> dt.datetime:
    location = assessment.location
    return day_bounds(location, local_today(location))[1]


def raise_alerts(
    assessment: Assessment,
    *,
    policy: ClinicPolicy,
    events: list[AuditEvent],
    actor: Any = None,
    origin: Origin = SYSTEM,
) -> list[SafetyAlert]:
    """Open, add to or close the patient's safety alerts for a response just stored (same transaction).

    `actor` is the staff member who entered it (None for a patient's own answers). Returns the alerts opened
    or added to. The audit event of each alert opened, added to or closed (a suicide-item task closed by a
    C-SSRS) is added to `events`, in order, for the caller to append with its own in the same transaction.
    """
    raised: list[SafetyAlert] = []
    flags = set(assessment.flags)
    instrument = assessment.instrument
    if instrument in SUICIDE_ITEMS and Flag.SUICIDAL_IDEATION in flags:
        item = SUICIDE_ITEMS[instrument]
        score = assessment.item_scores[item - 1]
        detail = (
            f"{_name(instrument)} item {item} scored {score} ({_source(assessment)}, {_when(assessment)})"
        )
        raised.append(
            _raise(
                assessment,
                AlertKind.SUICIDE_ITEM,
                _end_of_today(assessment),
                detail,
                actor=actor,
                origin=origin,
                events=events,
            )
        )
    if instrument == Instrument.CSSRS_SCREEN:
        _cssrs_completed(assessment, actor=actor, origin=origin, events=events)
        if assessment.band == CssrsBand.HIGH:
            detail = f"C-SSRS screener result high ({_when(assessment)})"
            raised.append(
                _raise(
                    assessment,
                    AlertKind.CSSRS_HIGH,
                    timezone.now(),
                    detail,
                    actor=actor,
                    origin=origin,
                    events=events,
                )
            )
    if instrument in WORSENING_SCALES and assessment.total is not None:
        worse = _worsening(assessment, policy)
        if worse is not None:
            raised.append(
                _raise(
                    assessment,
                    AlertKind.WORSENING,
                    _end_of_today(assessment),
                    worse,
                    actor=actor,
                    origin=origin,
                    events=events,
                )
            )
    return raised


def _cssrs_completed(assessment: Assessment, *, actor: Any, origin: Origin, events: list[AuditEvent]) -> None:
    """A C-SSRS entered in the clinic by someone who holds `safety.assess` at the patient's location closes
    the open suicide-item task; anyone else's is stored and scored but leaves the task open."""
    if assessment.source != Source.CLINIC or actor is None:
        return
    if not can(actor, Perm.SAFETY_ASSESS, assessment.location_id):
        return
    alert = _open(assessment.patient_id, AlertKind.SUICIDE_ITEM)
    if alert is None:
        return
    _close(alert, actor=actor, closed_by_assessment=assessment)
    events.append(
        event(
            Action.SAFETY_ALERT_CLOSE,
            actor=actor,
            origin=origin,
            obj=alert,
            patient=assessment.patient,
            location_id=assessment.location_id,
            changed_fields=["status", "closed_by_assessment"],
        )
    )


# The baseline of every scored submission, over a cursor: the same SELECT as a values_list QuerySet (one
# row off the `assessment_series` index), whose building cost about half a millisecond of a submission's
# five (docs/performance.md). Table and columns from the model; every value a parameter.
_BASELINE_SQL = (
    f"SELECT total FROM {Assessment._meta.db_table} "  # noqa: S608 - names from the model
    "WHERE patient_id = %s AND instrument = %s AND id <> %s AND taken_at < %s AND total IS NOT NULL "
    "ORDER BY taken_at, id LIMIT 1"
)


def _baseline_total(assessment: Assessment) -> int | None:
    """The patient's first total on this scale before this response (their baseline), or None."""
    params = [
        fastload.param(Assessment, "patient", assessment.patient_id),
        assessment.instrument,
        fastload.param(Assessment, "id", assessment.pk),
        fastload.param(Assessment, "taken_at", assessment.taken_at),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_BASELINE_SQL, params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _worsening(assessment: Assessment, policy: ClinicPolicy) -> str | None:
    """The detail of a worsening over the patient's baseline (their first total on this scale), or None."""
    if policy.worsening_rise_percent is None:
        return None
    baseline = _baseline_total(assessment)
    if baseline is None or assessment.total is None:
        return None
    if not outcomes.worsened(assessment.instrument, baseline, assessment.total, policy):
        return None
    return (
        f"{_name(assessment.instrument)} total {assessment.total} against a baseline of {baseline} "
        f"(policy: a rise of {policy.worsening_rise_percent}% or more; {_when(assessment)})"
    )


# --- Handling ---------------------------------------------------------------------------------------------


@transaction.atomic
def do_record_safety_plan(
    patient: Patient, data: SafetyPlanIn, *, actor: Any, origin: Origin = SYSTEM
) -> SafetyPlan:
    """Record a safety plan made with the patient (the latest is in force); it closes an open high C-SSRS
    alert. Prescribers of the patient's location (`safety.assess`)."""
    if not can(actor, Perm.SAFETY_ASSESS, patient.location_id):
        raise Forbidden("you may not record safety plans at this location")
    if patient.entered_in_error_at is not None:
        raise InvalidInput({"patient": "this registration was entered in error; nothing is charted on it"})
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    plan = SafetyPlan.objects.create(
        patient=patient,
        location_id=patient.location_id,
        plan_text=data.plan_text,
        created_at=timezone.now(),
        created_by=actor,
    )
    changed = ["plan_text"]
    alert = _open(patient.pk, AlertKind.CSSRS_HIGH)
    if alert is not None:
        _close(alert, actor=actor, closed_by_safety_plan=plan)
        changed += ["cssrs_high_alert.status", "cssrs_high_alert.closed_by_safety_plan"]
    record(
        Action.SAFETY_PLAN_RECORD,
        actor=actor,
        origin=origin,
        obj=plan,
        patient=patient,
        changed_fields=changed,
    )
    return plan


@transaction.atomic
def do_close_alert(
    alert: SafetyAlert, data: AlertCloseIn, *, actor: Any, origin: Origin = SYSTEM
) -> SafetyAlert:
    """Close a worsening flag after a prescriber's review, with a note. A suicide-item or high C-SSRS alert
    is refused (409): each closes only by its own step. A closed alert is refused too."""
    if not can(actor, Perm.SAFETY_ASSESS, alert.location_id):
        raise Forbidden("you may not close safety alerts at this location")
    alert = SafetyAlert.objects.select_for_update().select_related("patient").get(pk=alert.pk)
    if alert.status != AlertStatus.OPEN:
        raise Refused(
            "This alert is closed already", ["An alert is closed once; its closing is kept as recorded."]
        )
    kind = AlertKind(alert.kind)
    if kind is not AlertKind.WORSENING:
        raise Refused("This alert is not closed by hand", [CLOSED_BY[kind]])
    _close(alert, actor=actor, note=data.note)
    record(
        Action.SAFETY_ALERT_CLOSE,
        actor=actor,
        origin=origin,
        obj=alert,
        patient=alert.patient,
        changed_fields=["status", "closing_note"],
    )
    return alert


# --- Reading ----------------------------------------------------------------------------------------------


def open_alerts(patient_id: Any) -> list[SafetyAlert]:
    """The patient's open alerts, most urgent first (one query).

    Every chart asks (the safety banner) and most patients have none: over a plain cursor (fastload) the
    read costs about 0.2 ms against 0.8 ms for the QuerySet (bench/reads_profile.py, docs/performance.md).

    The status is asked as `IN (open)`, not `= open`: SQLite compares a value bound in `status = ?` with
    the condition of the one-open-alert-per-kind partial index, and then prepares the statement again on
    every execute (84 against 25 us a read); the one-element IN list is the same filter without it.
    """
    rows = fastload.fetch(SafetyAlert, patient=patient_id, status__in=[AlertStatus.OPEN], order_by=("id",))
    rows.sort(key=lambda a: (KIND_ORDER.get(AlertKind(a.kind), 9), a.due_at))
    return rows


def latest_safety_plan(patient_id: Any) -> SafetyPlan | None:
    return SafetyPlan.objects.filter(patient_id=patient_id).order_by("-created_at", "-pk").first()
