"""No-shows, reminders and the waitlist.

- A reminder goes out `visit_reminder_hours` before each booked visit (clinic policy) through the task
  runner's message channel (messaging.outbox, sent once per visit), asking the patient to confirm with a
  link; a visit still unconfirmed `unconfirmed_flag_hours` before it starts is flagged to front desk.
- A slot freed by a cancellation is offered to the waitlist of its location, in the order entries were
  added, to the first patient waiting for that kind of visit whose preferred days and times it suits and
  whom every hard rule allows there. It is held for them `waitlist_hold_minutes`; accepting through the
  message's link books it; when the hold expires (a periodic task) it is offered to the next.

Links carry a random secret (`/schedule/visit/<secret>/`, `/schedule/offer/<secret>/`); only its SHA-256 is
kept. Messages name no patient, medicine or kind of visit: only that the clinic has a visit or a slot.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.assessments.actions import contact_channel
from ketaclinic.assessments.models import Channel
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinical.scheduling import VisitKind, duration_minutes
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import InvalidInput
from ketaclinic.messaging import outbox
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import queries
from ketaclinic.scheduling.inputs import WaitlistIn
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentStatus,
    OfferStatus,
    SlotOffer,
    VisitConfirmation,
    WaitlistEntry,
    WaitlistStatus,
)
from ketaclinic.scheduling.rules import Visit, check_new

VISIT_PATH = "/schedule/visit/"
OFFER_PATH = "/schedule/offer/"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _address(patient: Patient, channel: str) -> str:
    return patient.email if channel == Channel.EMAIL else patient.phone


def _send(patient: Patient, key: str, kind: str, subject: str, body: str, now: dt.datetime) -> bool:
    """Claim the message `key` and send it once the transaction commits; False without a way to reach the
    patient or when it was sent before."""
    channel = contact_channel(patient)
    if channel == Channel.NONE:
        return False
    message = outbox.claim(key, kind=kind, channel=channel, location_id=patient.location_id, now=now)
    if message is None:
        return False
    outbox.send_after_commit(message, outbox.Outgoing(channel, _address(patient, channel), subject, body))
    return True


def _when(moment: dt.datetime, location: ClinicLocation) -> str:
    return moment.astimezone(location_zone(location)).strftime("%A %d %B at %H:%M")


# --- Reminders and confirmation -----------------------------------------------------------------------------


def reminder_message(location: ClinicLocation, starts_at: dt.datetime, secret: str) -> tuple[str, str]:
    subject = "Please confirm your visit"
    body = (
        f"You have a visit at {location.name} on {_when(starts_at, location)}.\n\n"
        f"Please confirm that you will come: {settings.KETACLINIC_PUBLIC_URL}{VISIT_PATH}{secret}/\n\n"
        "If you cannot come, please call your clinic as soon as you can.\n"
    )
    return subject, body


@transaction.atomic
def do_send_visit_reminder(appointment: Appointment, *, now: dt.datetime, origin: Origin = SYSTEM) -> bool:
    """Send the visit's reminder once (a confirmation link); False when sent before or not reachable."""
    row = Appointment.objects.select_related("patient__location").get(pk=appointment.pk)
    if row.status != AppointmentStatus.BOOKED or row.starts_at <= now:
        return False
    if VisitConfirmation.objects.filter(appointment=row).exists():
        return False
    secret = new_secret()
    subject, body = reminder_message(row.patient.location, row.starts_at, secret)
    if not _send(row.patient, f"visit_reminder:{row.pk}", "visit_reminder", subject, body, now):
        return False
    VisitConfirmation.objects.create(appointment=row, token_hash=secret_hash(secret), sent_at=now)
    record(Action.VISIT_REMINDER, origin=origin, obj=row, patient=row.patient, changed_fields=["channel"])
    return True


def send_visit_reminders(now: dt.datetime) -> int:
    """Every booked visit starting within its location's reminder hours gets its reminder (once)."""
    sent = 0
    for location in ClinicLocation.objects.all():
        hours = policy_for(location).visit_reminder_hours
        due = Appointment.objects.filter(
            location=location,
            status=AppointmentStatus.BOOKED,
            starts_at__gt=now,
            starts_at__lte=now + dt.timedelta(hours=hours),
            confirmation__isnull=True,
        ).only("pk")
        sent += sum(1 for a in due if do_send_visit_reminder(a, now=now))
    return sent


def confirmation_of(secret: str) -> VisitConfirmation | None:
    if not secret or len(secret) > 100:
        return None
    return (
        VisitConfirmation.objects.select_related("appointment__patient__location")
        .filter(token_hash=secret_hash(secret))
        .first()
    )


def confirmation_of_appointment(appointment: Appointment) -> VisitConfirmation | None:
    return (
        VisitConfirmation.objects.select_related("appointment__patient__location")
        .filter(appointment=appointment)
        .first()
    )


def confirmable(found: VisitConfirmation | None, now: dt.datetime) -> bool:
    return (
        found is not None
        and found.appointment.status == AppointmentStatus.BOOKED
        and found.appointment.starts_at > now
    )


@transaction.atomic
def do_confirm_visit(found: VisitConfirmation, *, now: dt.datetime, origin: Origin = SYSTEM) -> None:
    """The patient confirms through the reminder's link (a second confirmation changes nothing)."""
    row = VisitConfirmation.objects.select_for_update().get(pk=found.pk)
    if row.confirmed_at is not None:
        return
    row.confirmed_at = now
    row.save(update_fields=["confirmed_at"])
    appointment = found.appointment
    record(Action.VISIT_CONFIRM, origin=origin, obj=appointment, patient=appointment.patient)


def unconfirmed(appointments: Iterable[Appointment], location: ClinicLocation, now: dt.datetime) -> set[Any]:
    """The ids of booked visits starting within the policy's flag hours that the patient has not confirmed
    (one query for the confirmations of the visits given)."""
    limit = now + dt.timedelta(hours=policy_for(location).unconfirmed_flag_hours)
    near = [a.pk for a in appointments if a.status == AppointmentStatus.BOOKED and now < a.starts_at <= limit]
    confirmed = set(
        VisitConfirmation.objects.filter(appointment_id__in=near, confirmed_at__isnull=False).values_list(
            "appointment_id", flat=True
        )
    )
    return {pk for pk in near if pk not in confirmed}


# --- The waitlist -------------------------------------------------------------------------------------------


@transaction.atomic
def do_add_to_waitlist(
    patient: Patient, data: WaitlistIn, *, actor: Any, origin: Origin = SYSTEM
) -> WaitlistEntry:
    entry = WaitlistEntry.objects.create(
        patient=patient,
        location_id=patient.location_id,
        kind=data.kind.value,
        preferred_days=sorted(set(data.preferred_days)),
        preferred_from=data.preferred_from,
        preferred_to=data.preferred_to,
        note=data.note,
        added_at=timezone.now(),
        added_by=actor,
    )
    record(Action.WAITLIST_ADD, actor=actor, origin=origin, obj=entry, patient=patient)
    return entry


@transaction.atomic
def do_remove_from_waitlist(entry: WaitlistEntry, *, actor: Any, origin: Origin = SYSTEM) -> WaitlistEntry:
    row = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if row.status not in (WaitlistStatus.WAITING, WaitlistStatus.OFFERED):
        raise InvalidInput({"status": "the entry is no longer waiting"})
    SlotOffer.objects.filter(entry=row, status=OfferStatus.OPEN).update(status=OfferStatus.WITHDRAWN)
    row.status = WaitlistStatus.REMOVED
    row.version += 1
    row.save(update_fields=["status", "version"])
    record(Action.WAITLIST_REMOVE, actor=actor, origin=origin, obj=row, patient=entry.patient)
    return row


def suits(entry: WaitlistEntry, starts_at: dt.datetime, ends_at: dt.datetime, zone: dt.tzinfo) -> bool:
    """Whether a slot falls on the entry's preferred weekdays and within its preferred local times."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if entry.preferred_days and start.weekday() not in entry.preferred_days:
        return False
    if entry.preferred_from is not None and start.time() < entry.preferred_from:
        return False
    return entry.preferred_to is None or end.time() <= entry.preferred_to


@dataclasses.dataclass(frozen=True, slots=True)
class Slot:
    location: ClinicLocation
    chair: int
    kind: VisitKind
    starts_at: dt.datetime
    freed_from: Appointment | None


def _visit_for(entry: WaitlistEntry, slot: Slot) -> Visit:
    minutes = duration_minutes(slot.kind, policy_for(slot.location))
    return Visit(
        id=f"offer-{entry.pk}",
        patient=str(entry.patient_id),
        location=slot.location.pk,
        chair=slot.chair,
        kind=slot.kind,
        starts_at=slot.starts_at,
        ends_at=slot.starts_at + dt.timedelta(minutes=minutes),
    )


def _refusals(entry: WaitlistEntry, slot: Slot, now: dt.datetime) -> list[Any]:
    visit = _visit_for(entry, slot)
    resources = queries.resources(
        slot.location, visit.starts_at, visit.ends_at, patients=[entry.patient_id], chairs=[slot.chair]
    )
    kept = queries.kept_visits(slot.location, visit.starts_at, visit.ends_at, patients=[entry.patient_id])
    return check_new(visit, kept, resources, now=now)


def offer_message(
    location: ClinicLocation, starts_at: dt.datetime, hold_until: dt.datetime, secret: str
) -> tuple[str, str]:
    subject = "An earlier visit is free at your clinic"
    body = (
        f"A visit at {location.name} on {_when(starts_at, location)} has become free, and you are next on "
        f"the waiting list.\n\nIt is held for you until {_when(hold_until, location)}. To take it, open: "
        f"{settings.KETACLINIC_PUBLIC_URL}{OFFER_PATH}{secret}/\n\n"
        "If you do not want it, do nothing: it will be offered to the next patient.\n"
    )
    return subject, body


def _offered_this_slot(slot: Slot) -> set[Any]:
    return set(
        SlotOffer.objects.filter(
            location=slot.location, chair_id=slot.chair, starts_at=slot.starts_at
        ).values_list("entry_id", flat=True)
    )


def offer_slot(slot: Slot, *, now: dt.datetime, origin: Origin = SYSTEM) -> SlotOffer | None:
    """Hold the slot for the first waiting entry it suits and every rule allows; None when nobody fits.
    Runs in the caller's transaction (a cancellation, an expiry)."""
    if slot.starts_at <= now:
        return None
    zone = location_zone(slot.location)
    minutes = duration_minutes(slot.kind, policy_for(slot.location))
    ends_at = slot.starts_at + dt.timedelta(minutes=minutes)
    asked = _offered_this_slot(slot)
    waiting = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(location=slot.location, kind=slot.kind.value, status=WaitlistStatus.WAITING)
        .exclude(pk__in=asked)
        .order_by("added_at")
    )
    for entry in waiting:
        if not suits(entry, slot.starts_at, ends_at, zone) or _refusals(entry, slot, now):
            continue
        hold = min(
            now + dt.timedelta(minutes=policy_for(slot.location).waitlist_hold_minutes), slot.starts_at
        )
        secret = new_secret()
        offer = SlotOffer.objects.create(
            entry=entry,
            location=slot.location,
            chair_id=slot.chair,
            starts_at=slot.starts_at,
            freed_from=slot.freed_from,
            token_hash=secret_hash(secret),
            offered_at=now,
            hold_until=hold,
        )
        entry.status = WaitlistStatus.OFFERED
        entry.version += 1
        entry.save(update_fields=["status", "version"])
        subject, body = offer_message(slot.location, slot.starts_at, hold, secret)
        sent = _send(entry.patient, f"slot_offer:{offer.pk}", "slot_offer", subject, body, now)
        record(
            Action.SLOT_OFFER,
            origin=origin,
            obj=offer,
            patient=entry.patient,
            changed_fields=["sent" if sent else "not_sent"],
        )
        return offer
    return None


def offer_freed(appointment: Appointment, *, now: dt.datetime, origin: Origin = SYSTEM) -> SlotOffer | None:
    """A cancelled visit's slot, offered to the waitlist."""
    slot = Slot(
        appointment.patient.location,
        appointment.chair_id,
        VisitKind(appointment.kind),
        appointment.starts_at,
        appointment,
    )
    return offer_slot(slot, now=now, origin=origin)


def offer_of(secret: str) -> SlotOffer | None:
    if not secret or len(secret) > 100:
        return None
    return (
        SlotOffer.objects.select_related("entry__patient", "location")
        .filter(token_hash=secret_hash(secret))
        .first()
    )


def _slot_of(offer: SlotOffer) -> Slot:
    return Slot(
        offer.location, offer.chair_id, VisitKind(offer.entry.kind), offer.starts_at, offer.freed_from
    )


@transaction.atomic
def do_accept_offer(offer: SlotOffer, *, now: dt.datetime, origin: Origin = SYSTEM) -> Appointment | None:
    """The patient takes the slot held for them: it is booked (every hard rule checked again) with the
    staff member who put them on the waitlist as its maker. None when the hold has ended, or the slot is no
    longer free (the offer is withdrawn and the patient keeps their place)."""
    from ketaclinic.scheduling import actions

    actions._lock(offer.location_id)
    row = (
        SlotOffer.objects.select_for_update(of=("self",))
        .select_related("entry__patient", "location")
        .get(pk=offer.pk)
    )
    if row.status != OfferStatus.OPEN or row.hold_until <= now:
        return None
    entry = row.entry
    slot = _slot_of(row)
    refused = _refusals(entry, slot, now)
    if refused:
        row.status = OfferStatus.WITHDRAWN
        row.save(update_fields=["status"])
        WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistStatus.WAITING)
        return None
    appointment = actions._save(
        _visit_for_booking(entry, slot), entry.patient, actor=entry.added_by, session=None
    )
    row.status, row.appointment = OfferStatus.ACCEPTED, appointment
    row.save(update_fields=["status", "appointment"])
    entry.status = WaitlistStatus.BOOKED
    entry.version += 1
    entry.save(update_fields=["status", "version"])
    record(Action.SLOT_ACCEPT, origin=origin, obj=appointment, patient=entry.patient)
    return appointment


def _visit_for_booking(entry: WaitlistEntry, slot: Slot) -> Visit:
    import uuid

    return dataclasses.replace(_visit_for(entry, slot), id=str(uuid.uuid4()))


@transaction.atomic
def _expire(offer: SlotOffer, now: dt.datetime) -> SlotOffer | None:
    row = (
        SlotOffer.objects.select_for_update(of=("self",))
        .select_related("entry__patient", "location")
        .get(pk=offer.pk)
    )
    if row.status != OfferStatus.OPEN or row.hold_until > now:
        return None
    row.status = OfferStatus.EXPIRED
    row.save(update_fields=["status"])
    WaitlistEntry.objects.filter(pk=row.entry_id, status=WaitlistStatus.OFFERED).update(
        status=WaitlistStatus.WAITING
    )
    record(Action.SLOT_EXPIRE, obj=row, patient=row.entry.patient)
    return offer_slot(_slot_of(row), now=now)


def expire_offers(now: dt.datetime) -> int:
    """Every open offer whose hold has ended: expired, and its slot offered to the next waiting."""
    due = SlotOffer.objects.filter(status=OfferStatus.OPEN, hold_until__lte=now).only("pk")
    expired = 0
    for offer in due:
        _expire(offer, now)
        expired += 1
    return expired
