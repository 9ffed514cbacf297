"""Every write of assessments that records a response: `do_record_assessment`.

Each do_* runs in one transaction and leaves one audit row naming the fields written, never their values.
The scoring is the clinical library's (`clinical.scales.score`) under the policy in force at the patient's
location; the response is stored as it was scored (item scores, total, band, flags and the LOINC codes of
the panel, the total and each item), and never edited afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic import prepared
from ketaclinic.assessments import inputs, links, safety
from ketaclinic.assessments.models import (
    Assessment,
    AssessmentRequest,
    Channel,
    RequestReason,
    RequestStatus,
    Source,
)
from ketaclinic.audit.actions import append, event, record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.clinical import measurement as schedule
from ketaclinic.clinical import scales
from ketaclinic.clinicpolicy.clock import day_bounds, local_date
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import InvalidInput, Refused
from ketaclinic.messaging import outbox
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import (
    PlanModality,
    PlanStatus,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
)

CLOCK_SKEW = dt.timedelta(minutes=2)
SOURCES = {s.value for s in Source}


def _refuse_if_entered_in_error(patient: Patient) -> None:
    if patient.entered_in_error_at:
        raise Refused("This registration was entered in error", ["Nothing more is recorded on it."])


def library_answers(instrument: str, answers: object) -> object:
    """The answers as the clinical library takes them: JSON object keys are text, so an item number written
    in digits ("9") becomes the number 9. The C-SSRS screener's keys (q1..) stay as they are."""
    if instrument == scales.Instrument.CSSRS_SCREEN or not isinstance(answers, Mapping):
        return answers
    return {_item_number(k): v for k, v in answers.items()}


def _item_number(key: object) -> object:
    return int(key) if isinstance(key, str) and key.isascii() and key.isdigit() else key


def score_answers(instrument: str, answers: object, policy: Any) -> scales.ScaleResult:
    """Score through the library; answers it cannot score are bad input naming the item (`answers.9`)."""
    try:
        return scales.score(instrument, library_answers(instrument, answers), policy=policy)  # type: ignore[arg-type]
    except scales.InvalidAnswers as exc:
        field = f"answers.{exc.item.strip(chr(39))}" if exc.item is not None else "answers"
        raise InvalidInput({field: str(exc)}) from None


def codes_of(result: scales.ScaleResult) -> dict[str, Any]:
    spec = scales.INSTRUMENTS[result.instrument]
    return {
        "panel": result.codes.panel,
        "total": result.codes.total,
        "items": [item.loinc for item in spec.items],
    }


def _taken_at(patient: Patient, value: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    when = now if value is None else value
    if when > now + CLOCK_SKEW:
        raise InvalidInput({"taken_at": "cannot be in the future"})
    if when.date() < patient.date_of_birth:
        raise InvalidInput({"taken_at": "cannot be before the patient's date of birth"})
    return when


def _answered_request(patient: Patient, request: AssessmentRequest, instrument: str) -> AssessmentRequest:
    """The request, locked; it must be the patient's, for this instrument, and still waiting for an answer."""
    locked = AssessmentRequest.objects.select_for_update().get(pk=request.pk)
    if locked.patient_id != patient.pk:
        raise InvalidInput({"request": "is not a request for this patient"})
    if locked.instrument != instrument:
        raise InvalidInput({"instrument": f"the request asks for {locked.instrument}"})
    if locked.status != RequestStatus.PENDING:
        raise Refused(
            "This request is not waiting for an answer",
            [f"The request is {locked.get_status_display().lower()}; one response is kept per request."],
            field="request",
        )
    return locked


def do_record_assessment(
    patient: Patient,
    data: inputs.AssessmentIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    source: str = Source.CLINIC,
    request: AssessmentRequest | None = None,
    session: TreatmentSession | None = None,
    shown: bool = False,
) -> Assessment:
    """Score and store one completed instrument for the patient.

    `source` says who answered: `clinic` (a staff member, `actor`, entered it), `self_report` (the patient's
    link) or `portal` (the patient signed in); a patient's own answers have no staff author. A `request`
    answered is marked completed in the same transaction (one response per request: a second answer is
    refused); a `session` is the treatment session the response was taken for (the PHQ-9 before a dose).
    Answers the library cannot score are bad input naming the item, and nothing is saved. `shown`: the
    caller's answer shows the stored response to `actor` (the API's 201), so its read event is written
    here, with the action's own.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    staff_entry = source == Source.CLINIC
    if staff_entry and actor is None:
        raise ValueError("a clinic entry needs the staff member who made it")
    _refuse_if_entered_in_error(patient)
    # Reading the policy, scoring and checking the answers come before the transaction: its BEGIN takes
    # SQLite's one write lock, so every submission waits on the time from there to COMMIT
    # (docs/performance.md, questionnaire submission). The policy read here is the one in force a moment
    # before the write, as it would be on PostgreSQL under READ COMMITTED.
    policy = policy_for(patient.location)
    result = score_answers(data.instrument, data.answers, policy)
    taken_at = _taken_at(patient, data.taken_at)
    if session is not None and session.patient_id != patient.pk:
        raise InvalidInput({"session": "is not a session of this patient"})
    is_cssrs = result.instrument is scales.Instrument.CSSRS_SCREEN
    extra: dict[str, Any] = {}
    if is_cssrs and isinstance(data.answers, Mapping):
        extra = {str(k): v for k, v in data.answers.items()}
    now = timezone.now()
    assessment = Assessment(
        patient=patient,
        location=patient.location,
        instrument=result.instrument.value,
        item_scores=list(result.item_scores),
        extra_answers=extra,
        total=result.total,
        band=result.band or "",
        flags=sorted(result.flags),
        codes=codes_of(result),
        taken_at=taken_at,
        source=source,
        request=request,
        session=session,
        created_at=now,
        created_by=actor if staff_entry else None,
    )
    # The INSERT prepared before the lock, sent under it (ketaclinic/prepared.py).
    row = prepared.prepare(assessment)
    with transaction.atomic():
        if request is not None:
            assessment.request = request = _answered_request(patient, request, data.instrument)
        prepared.send(assessment, row)
        if request is not None:
            request.status = RequestStatus.COMPLETED
            request.completed_at = now
            request.version += 1
            request.save(update_fields=["status", "completed_at", "version"])
        events = [
            event(
                Action.ASSESSMENT_RECORD,
                # The staff member who entered it, or the patient's own portal account (audited in its own
                # column).
                actor=actor if staff_entry or getattr(actor, "is_patient_account", False) else None,
                origin=origin,
                obj=assessment,
                patient=patient,
                changed_fields=["instrument", "item_scores", "total", "band", "flags", "taken_at", "source"]
                + (["request"] if request is not None else []),
            )
        ]
        # A positive suicide item, a high C-SSRS or a worsening opens a safety alert; a C-SSRS entered by a
        # prescriber closes the suicide-item task (each alert audited in its own row: assessments/safety.py).
        safety.raise_alerts(
            assessment, policy=policy, events=events, actor=actor if staff_entry else None, origin=origin
        )
        if shown:
            events.append(
                event(Action.PATIENT_READ, actor=actor, origin=origin, obj=assessment, patient=patient)
            )
        # The events in one append: three statements for all of them, not three each (audit/actions.py).
        append(events)
    return assessment


# --- Requests: the plan's schedule, one-off requests, self-report links and reminders ---------------------
#
# A request asks for one response. The plan's schedule (schedule.py) is built by `do_sync_plan_schedule`,
# which the task runner calls for every plan (tasks.py) and staff may call at once; it is idempotent (the
# unique constraint on plan, session, reason and instrument) and keeps the requests right when the plan
# changes: a paused or ended plan's pending requests are cancelled, a resumed plan's come back, a cancelled
# session's go. A link's secret is made here, sent in the message, and only its SHA-256 is kept.

# A link or reminder goes out only to a patient with an address on the channel.
SENT_CHANNELS = (Channel.EMAIL, Channel.SMS)


def contact_channel(patient: Patient) -> str:
    """How the plan's schedule reaches the patient: e-mail when they have an address, else text messages."""
    if patient.email:
        return Channel.EMAIL
    if patient.phone:
        return Channel.SMS
    return Channel.NONE


def _address(patient: Patient, channel: str) -> str:
    return patient.email if channel == Channel.EMAIL else patient.phone


def _new_link(request: AssessmentRequest, now: dt.datetime, policy: Any) -> str:
    """A fresh secret for the request's link (any earlier link stops working); returns the token."""
    token = links.new_token()
    request.token_hash = links.token_hash(token)
    request.expires_at = now + dt.timedelta(hours=policy.self_report_link_hours)
    return token


def _send_link(request: AssessmentRequest, token: str, *, kind: str, now: dt.datetime) -> bool:
    """Claim the message `assessment_request:<id>:<kind>` and send it after commit; False if sent before."""
    message = outbox.claim(
        f"assessment_request:{request.pk}:{kind}",
        kind=f"self_report_{kind}",
        channel=request.channel,
        location_id=request.location_id,
        now=now,
    )
    if message is None:
        return False
    assert request.expires_at is not None
    subject, body = links.link_message(token, request.expires_at, reminder="" if kind == "link" else kind)
    outbox.send_after_commit(
        message, outbox.Outgoing(request.channel, _address(request.patient, request.channel), subject, body)
    )
    return True


@transaction.atomic
def do_request_assessment(
    patient: Patient,
    data: inputs.AssessmentRequestIn,
    *,
    actor: Any,
    origin: Origin = SYSTEM,
    now: dt.datetime | None = None,
) -> tuple[AssessmentRequest, str | None]:
    """A one-off request by staff; (the request, the link's token or None for a clinician's instrument).

    A patient's questionnaire (PHQ-9, GAD-7, QIDS-SR16) gets a link, sent at once by e-mail or text message
    when `channel` says so (the patient needs an address on it); `none` only makes the link, for staff to
    hand over. A clinician's instrument (MADRS, C-SSRS, ...) is a task with no link.
    """
    _refuse_if_entered_in_error(patient)
    now = now or timezone.now()
    policy = policy_for(patient.location)
    self_report = data.instrument in schedule.SELF_REPORT
    if data.channel in SENT_CHANNELS and not self_report:
        raise InvalidInput({"channel": f"{data.instrument} is answered by a clinician: use none"})
    if data.channel in SENT_CHANNELS and not _address(patient, data.channel):
        what = "an e-mail address" if data.channel == Channel.EMAIL else "a mobile phone number"
        raise InvalidInput({"channel": f"the patient has no {what} on record"})
    due_at = data.due_at or now
    if due_at < now - CLOCK_SKEW:
        raise InvalidInput({"due_at": "cannot be in the past"})
    request = AssessmentRequest(
        patient=patient,
        location_id=patient.location_id,
        instrument=data.instrument,
        reason=RequestReason.ONE_OFF,
        channel=data.channel,
        due_at=due_at,
        created_at=now,
        created_by=actor,
    )
    token = _new_link(request, now, policy) if self_report else None
    sent = data.channel in SENT_CHANNELS
    if sent:
        request.reminders_sent = ["due"]  # the request's own message is its due reminder
    request.save()
    request.patient = patient
    if sent and token is not None:
        _send_link(request, token, kind="due", now=now)
    record(
        Action.ASSESSMENT_REQUEST,
        actor=actor,
        origin=origin,
        obj=request,
        patient=patient,
        changed_fields=sorted(
            {"instrument", "due_at", "channel"} | ({"token_hash", "expires_at"} if token else set())
        ),
    )
    return request, token


def _wanted_for(plan: TreatmentPlan, policy: Any) -> list[schedule.Wanted]:
    sessions = [
        schedule.PlannedSession(s.pk, s.number, s.date, s.phase)
        for s in plan.sessions.exclude(status=SessionStatus.CANCELLED).only("id", "number", "date", "phase")
    ]
    return schedule.plan_schedule(sessions, policy)


@dataclass(frozen=True)
class ScheduleChange:
    created: int = 0
    cancelled: int = 0
    restored: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.cancelled or self.restored)


@transaction.atomic
def do_sync_plan_schedule(
    plan: TreatmentPlan, *, actor: Any = None, origin: Origin = SYSTEM, now: dt.datetime | None = None
) -> ScheduleChange:
    """Make the plan's scheduled requests what its status, sessions and the policy want; idempotent.

    An active plan gets a request for every wanted (session, reason, instrument) whose session is today or
    later; a pending request no longer wanted (its session cancelled, the policy changed, the plan paused
    or ended) is cancelled, and a cancelled one wanted again (the plan resumed) is pending again. Answered
    requests are never touched. One audit row when anything changed, none otherwise.
    """
    now = now or timezone.now()
    plan = TreatmentPlan.objects.select_for_update().select_related("location", "patient").get(pk=plan.pk)
    location = plan.location
    today = local_date(location, now)
    existing = {
        (r.session_id, r.reason, r.instrument): r
        for r in AssessmentRequest.objects.filter(plan=plan).exclude(reason=RequestReason.ONE_OFF)
    }
    wanted: dict[tuple[Any, str, str], schedule.Wanted] = {}
    if plan.status == PlanStatus.ACTIVE and not plan.patient.entered_in_error_at:
        policy = policy_for(location)
        wanted = {
            (w.session, w.reason, w.instrument): w for w in _wanted_for(plan, policy) if w.date >= today
        }
    channel = contact_channel(plan.patient)
    created = cancelled = restored = 0
    new: list[AssessmentRequest] = []
    for key, w in wanted.items():
        row = existing.get(key)
        if row is None:
            new.append(
                AssessmentRequest(
                    patient_id=plan.patient_id,
                    location_id=plan.location_id,
                    instrument=w.instrument,
                    reason=w.reason,
                    channel=channel if w.self_report else Channel.NONE,
                    plan=plan,
                    session_id=w.session,
                    due_at=day_bounds(location, w.date)[0],
                    created_at=now,
                )
            )
        elif row.status == RequestStatus.CANCELLED:
            row.status, row.version = RequestStatus.PENDING, row.version + 1
            row.token_hash, row.expires_at, row.reminders_sent = None, None, []
            row.save(update_fields=["status", "version", "token_hash", "expires_at", "reminders_sent"])
            restored += 1
    if new:
        AssessmentRequest.objects.bulk_create(new)
        created = len(new)
    for key, row in existing.items():
        if key not in wanted and row.status == RequestStatus.PENDING:
            row.status, row.version = RequestStatus.CANCELLED, row.version + 1
            row.token_hash, row.expires_at = None, None
            row.save(update_fields=["status", "version", "token_hash", "expires_at"])
            cancelled += 1
    change = ScheduleChange(created, cancelled, restored)
    if change.changed:
        record(
            Action.ASSESSMENT_SCHEDULE,
            actor=actor,
            origin=origin,
            obj=plan,
            patient=plan.patient,
            changed_fields=[
                name
                for name, n in (("created", created), ("cancelled", cancelled), ("restored", restored))
                if n
            ],
        )
    return change


@transaction.atomic
def do_send_reminder(
    request: AssessmentRequest, kind: str, *, now: dt.datetime, origin: Origin = SYSTEM
) -> bool:
    """Send the request's `due` or `overdue` message, with a new link; False when there is nothing to send
    (answered, cancelled, no address, or sent before: a second run or a restarted runner sends nothing)."""
    if kind not in ("due", "overdue"):
        raise ValueError(f"unknown reminder {kind!r}")
    request = (
        AssessmentRequest.objects.select_for_update().select_related("patient", "location").get(pk=request.pk)
    )
    if request.status != RequestStatus.PENDING or request.channel not in SENT_CHANNELS:
        return False
    if kind in request.reminders_sent or outbox.already_sent(f"assessment_request:{request.pk}:{kind}"):
        return False
    if request.instrument not in schedule.SELF_REPORT or not _address(request.patient, request.channel):
        return False
    token = _new_link(request, now, policy_for(request.location))
    if not _send_link(request, token, kind=kind, now=now):
        return False
    request.reminders_sent = [*request.reminders_sent, kind]
    request.version += 1
    request.save(update_fields=["token_hash", "expires_at", "reminders_sent", "version"])
    record(
        Action.SELF_REPORT_SEND,
        origin=origin,
        obj=request,
        patient=request.patient,
        changed_fields=["expires_at", "reminders_sent", "token_hash"],
    )
    return True


@transaction.atomic
def do_send_previsit(session: TreatmentSession, *, now: dt.datetime, origin: Origin = SYSTEM) -> bool:
    """Send the pre-visit instructions of an esketamine session (links.PREVISIT_BODY) once."""
    session = TreatmentSession.objects.select_related("patient", "plan").get(pk=session.pk)
    if session.plan.modality != PlanModality.ESKETAMINE_NASAL or session.status != SessionStatus.SCHEDULED:
        return False
    channel = contact_channel(session.patient)
    if channel == Channel.NONE:
        return False
    message = outbox.claim(
        f"previsit:{session.pk}", kind="previsit", channel=channel, location_id=session.location_id, now=now
    )
    if message is None:
        return False
    outbox.send_after_commit(
        message,
        outbox.Outgoing(
            channel, _address(session.patient, channel), links.PREVISIT_SUBJECT, links.PREVISIT_BODY
        ),
    )
    record(
        Action.PREVISIT_SEND, origin=origin, obj=session, patient=session.patient, changed_fields=["channel"]
    )
    return True


def usable_request(token: str, now: dt.datetime) -> AssessmentRequest | None:
    """The pending request a link's token opens, or None: forged, unknown, replaced by a newer link,
    expired, answered, locked or cancelled all look the same to the caller."""
    found = found_request(token)
    if found is None or found.status != RequestStatus.PENDING:
        return None
    if found.expires_at is None or found.expires_at <= now:
        return None
    return found


def found_request(token: str) -> AssessmentRequest | None:
    """The request whose link this is, whatever its state (None for a forged or replaced token)."""
    if not links.signature_ok(token):
        return None
    return (
        AssessmentRequest.objects.select_related("patient", "location")
        .filter(token_hash=links.token_hash(token))
        .first()
    )


class DobCheck:
    RIGHT = "right"
    WRONG = "wrong"
    LOCKED = "locked"
    GONE = "gone"


@transaction.atomic
def do_check_self_report_dob(
    request: AssessmentRequest, date_of_birth: dt.date, *, now: dt.datetime, origin: Origin = SYSTEM
) -> str:
    """A patient's date of birth against their link's request: right, wrong (counted), or the wrong one
    that locks the link (`self_report_dob_attempts`, then staff send a new link). One audit row each."""
    request = (
        AssessmentRequest.objects.select_for_update().select_related("patient", "location").get(pk=request.pk)
    )
    if request.status != RequestStatus.PENDING or request.expires_at is None or request.expires_at <= now:
        return DobCheck.GONE
    if date_of_birth == request.patient.date_of_birth:
        record(Action.SELF_REPORT_VERIFY, origin=origin, obj=request, patient=request.patient)
        return DobCheck.RIGHT
    request.dob_failures += 1
    request.version += 1
    fields = ["dob_failures", "version"]
    outcome = DobCheck.WRONG
    if request.dob_failures >= policy_for(request.location).self_report_dob_attempts:
        request.status, request.locked_at = RequestStatus.LOCKED, now
        fields += ["status", "locked_at"]
        outcome = DobCheck.LOCKED
    request.save(update_fields=fields)
    record(
        Action.SELF_REPORT_LOCK if outcome == DobCheck.LOCKED else Action.SELF_REPORT_DOB_FAILED,
        origin=origin,
        outcome=Outcome.DENIED,
        obj=request,
        patient=request.patient,
        changed_fields=fields,
    )
    return outcome
