"""A staff member's calendar feed: a private, revocable URL serving their visits as iCalendar (RFC 5545,
built with the `icalendar` package) for their phone or desktop calendar.

The URL's secret is an HMAC of the feed row (its id and creation moment) under the server's secret key, so
`GET /api/v1/me/calendar-feed` can answer the same URL again; the database keeps only the secret's SHA-256,
which is what a request is looked up by. Rotating makes a new row and revokes the old; a revoked or unknown
secret, or the feed of a disabled account, is 404.

A calendar app is outside the clinic: events carry the patient's initials, the chair or room and the
appointment's short id, never a name, date of birth, MRN or the kind of treatment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

import icalendar
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.scheduling import calendars
from ketaclinic.scheduling.models import Appointment, CalendarFeed, Shift, ShiftKind

PATH = "/schedule/feed/"
PAST = dt.timedelta(days=14)
AHEAD = dt.timedelta(days=90)
SECRET_MAX = 100


def _secret(feed: CalendarFeed) -> str:
    message = f"calendar-feed:{feed.pk}:{feed.created_at.isoformat()}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def url_of(feed: CalendarFeed) -> str:
    return f"{settings.KETACLINIC_PUBLIC_URL}{PATH}{_secret(feed)}.ics"


def live_feed(user: Any) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def _make(user: Any, now: dt.datetime) -> CalendarFeed:
    feed = CalendarFeed.objects.create(
        user=user, token_hash="pending-" + str(now.timestamp()), created_at=now
    )
    feed.token_hash = _hash(_secret(feed))
    feed.save(update_fields=["token_hash"])
    return feed


@transaction.atomic
def do_get_or_make_feed(user: Any, *, origin: Origin = SYSTEM) -> CalendarFeed:
    """The user's live feed, made (and audited) when they have none."""
    type(user).objects.select_for_update().filter(pk=user.pk).first()  # one live feed even under a race
    found = live_feed(user)
    if found is not None:
        return found
    feed = _make(user, timezone.now())
    record(Action.CALENDAR_FEED, actor=user, origin=origin, obj=feed, changed_fields=["made"])
    return feed


@transaction.atomic
def do_rotate_feed(user: Any, *, origin: Origin = SYSTEM) -> CalendarFeed:
    """A new URL; the old one stops working at once."""
    now = timezone.now()
    CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    feed = _make(user, now)
    record(Action.CALENDAR_FEED, actor=user, origin=origin, obj=feed, changed_fields=["rotated"])
    return feed


@transaction.atomic
def do_revoke_feed(user: Any, *, origin: Origin = SYSTEM) -> bool:
    """Stop the user's feed URL; False when they had none."""
    found = live_feed(user)
    if found is None:
        return False
    found.revoked_at = timezone.now()
    found.save(update_fields=["revoked_at"])
    record(Action.CALENDAR_FEED, actor=user, origin=origin, obj=found, changed_fields=["revoked"])
    return True


def feed_of(secret: str) -> CalendarFeed | None:
    """The live feed of an active account this secret opens, or None."""
    if not secret or len(secret) > SECRET_MAX:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.user.is_active:
        return None
    return feed


def initials(given: str, family: str) -> str:
    return "".join(f"{part[:1].upper()}." for part in (given, family) if part)


def _event(a: Appointment, stamp: dt.datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"appointment-{a.pk}@ketaclinic")
    event.add("dtstamp", stamp)
    event.add("dtstart", a.starts_at.astimezone(dt.UTC))
    event.add("dtend", a.ends_at.astimezone(dt.UTC))
    who = initials(a.patient.given_name, a.patient.family_name)
    event.add("summary", f"{who} · {a.chair.name}")
    event.add("location", f"{a.chair.name}, {a.location.name}")
    event.add("description", f"Appointment {str(a.pk)[:8]}. Details in KetaClinic.")
    event.add("status", "CONFIRMED")
    event.add("sequence", a.version)
    return event


def _shift_event(s: Shift, stamp: dt.datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"shift-{s.pk}@ketaclinic")
    event.add("dtstamp", stamp)
    event.add("dtstart", s.starts_at.astimezone(dt.UTC))
    event.add("dtend", s.ends_at.astimezone(dt.UTC))
    label = "On duty" if s.kind == ShiftKind.NURSE else "Prescriber present"
    event.add("summary", f"{label} · {s.location.name}")
    event.add("transp", "TRANSPARENT")
    return event


def build(feed: CalendarFeed, now: dt.datetime) -> tuple[bytes, list[Appointment]]:
    """The feed's iCalendar text: the user's shifts and visits from two weeks ago to 90 days ahead."""
    start, end = now - PAST, now + AHEAD
    shifts = calendars.staff_shifts(feed.user, start, end)
    visits = calendars.staff_visits(feed.user, start, end, shifts)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//KetaClinic//Calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "KetaClinic visits")
    for s in shifts:
        cal.add_component(_shift_event(s, now))
    for a in visits:
        cal.add_component(_event(a, now))
    return cal.to_ical(), visits
