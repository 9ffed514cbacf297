"""Reading the floor board: today's sessions at a location, one row per chair or room, in a fixed number of
queries however many sessions are in. Nothing here writes (but the denials it audits)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny
from ketaclinic.clinical.policy import ClinicPolicy
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.clinicpolicy.queries import kept_policy_text, policy_for
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.floor.status import Phase, SessionStatus, session_status
from ketaclinic.treatment.models import (
    AlertAnswer,
    Dose,
    DoseDevice,
    Observation,
    ObservationInstrument,
    PlanModality,
    PreDoseCheck,
    SessionAlert,
    TreatmentSession,
    VitalSigns,
)
from ketaclinic.treatment.models import (
    SessionStatus as Status,
)
from ketaclinic.treatment.queries import SessionFacts, session_facts

# The sessions the board leaves out: cancelled ones never reach the floor.
HIDDEN = (Status.CANCELLED,)
# Queries of one board, whatever the number of sessions: the location's policy in force, chairs, sessions
# (with plan, patient, monitoring user and discharge), then doses, devices, pre-dose checks, vitals,
# MOAA/S and open alerts; all but the policy and chairs read as plain rows (`.values_list()`).
BOARD_QUERIES = 9


def board_locations(user: Any) -> list[ClinicLocation]:
    """The locations whose board the user may see (where they read patients), by name."""
    ids = [loc for loc, perms in grants(user).items() if Perm.PATIENT_READ in perms]
    return list(ClinicLocation.objects.filter(pk__in=ids).order_by("name"))


def board_location(user: Any, slug: str | None, *, origin: Origin = SYSTEM) -> ClinicLocation:
    """The location named by `slug` (default: the user's first), whose board the user may see. Outside the
    user's locations it does not exist (404); inside them without patient read it is 403; both audited."""
    if not slug:
        mine = board_locations(user)
        if mine:
            return mine[0]
        deny(user, origin, str(Perm.PATIENT_READ))
        raise Forbidden
    location = ClinicLocation.objects.filter(network_id=user.network_id, slug=slug[:60]).first()
    held = grants(user).get(location.pk) if location is not None else None
    if location is None or held is None or Perm.PATIENT_READ not in held:
        deny(user, origin, str(Perm.PATIENT_READ))
        if held is None:
            raise NotFound
        raise Forbidden
    return location


@dataclass(frozen=True, slots=True)
class BoardSession:
    """What the board shows of one session, as plain values read with `.values()` (no model instances)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    family_name: str
    given_name: str
    chair_id: int | None
    modality: str
    checked_in_at: dt.datetime | None
    discharged_at: dt.datetime | None
    monitored_by: str
    facts: SessionFacts
    policy: str | None  # the policy kept at check-in, if any, as JSON text

    @property
    def patient_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"


@dataclass(frozen=True, slots=True)
class Tile:
    """One session on the board with the status `floor.status` gives it."""

    session: BoardSession
    status: SessionStatus
    modality_label: str
    link: str

    @property
    def monitored_by(self) -> str:
        return self.session.monitored_by


@dataclass(slots=True)
class ChairRow:
    chair: Chair | None  # None: the sessions not yet given a chair
    tiles: list[Tile] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Board:
    location: ClinicLocation
    day: dt.date
    now: dt.datetime
    rows: list[ChairRow]

    @property
    def sessions(self) -> int:
        return sum(len(r.tiles) for r in self.rows)


def _policy(kept: str | None, base: ClinicPolicy) -> ClinicPolicy:
    """The policy the session is judged under: the one kept at check-in (its JSON text as the database
    holds it), else the location's in force."""
    return kept_policy_text(kept, base) if kept else base


def _session_link() -> str:
    """The session page's URL with `{}` for the id; the patient's chart until the session page exists."""
    try:
        return reverse("treatment:session", args=["00000000-0000-0000-0000-000000000000"]).replace(
            "00000000-0000-0000-0000-000000000000", "{}"
        )
    except NoReverseMatch:
        return ""


def _user_name(first: str | None, last: str | None, username: str | None) -> str:
    """As User.get_full_name() or the username; empty when no one is assigned."""
    if username is None:
        return ""
    return f"{first or ''} {last or ''}".strip() or username


def _by_session(rows: Iterable[tuple[Any, ...]]) -> dict[Any, list[tuple[Any, ...]]]:
    """Rows whose first value is a session id, grouped by it, each group in the rows' order."""
    out: dict[Any, list[tuple[Any, ...]]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row[1:])
    return out


def todays_sessions(location: ClinicLocation, day: dt.date) -> list[BoardSession]:
    """Today's sessions at the location (cancelled ones aside) with the facts the board judges them by, in
    seven queries whatever their number, each reading only the columns it needs as plain rows."""
    rows: list[Any] = list(
        TreatmentSession.objects.filter(location=location, date=day)
        .exclude(status__in=HIDDEN)
        .order_by("checked_in_at", "number", "pk")
        # The kept policy as text: the key of its cache, decoded only the first time it is seen.
        .annotate(kept_policy=Cast("policy", TextField()))
        .values_list(
            "id",
            "patient_id",
            "patient__family_name",
            "patient__given_name",
            "chair_id",
            "status",
            "checked_in_at",
            "kept_policy",
            "plan__modality",
            "monitored_by__first_name",
            "monitored_by__last_name",
            "monitored_by__username",
            "discharge__discharged_at",
        )
    )
    ids = [r[0] for r in rows]
    doses: dict[Any, tuple[Any, ...]] = {}
    for found in (
        Dose.objects.filter(session_id__in=ids)
        .order_by("pk")
        .values_list("session_id", "id", "started_at", "ended_at")
    ):
        doses.setdefault(found[0], found[1:])  # the session's dose (there is one)
    devices = _by_session(
        DoseDevice.objects.filter(dose__session_id__in=ids)
        .order_by("number")
        .values_list("dose__session_id", "dose_id", "due_at", "used_at")
    )
    rides = _by_session(
        PreDoseCheck.objects.filter(session_id__in=ids)
        .order_by("pk")
        .values_list("session_id", "ride_home_arranged")
    )
    vitals = _by_session(
        VitalSigns.objects.filter(session_id__in=ids)
        .order_by("taken_at", "pk")
        .values_list("session_id", "time_point", "taken_at", "systolic_mmhg", "diastolic_mmhg")
    )
    moaas = _by_session(
        Observation.objects.filter(session_id__in=ids, instrument=ObservationInstrument.MOAAS)
        .order_by("taken_at", "pk")
        .values_list("session_id", "total")
    )
    alerts = _by_session(
        SessionAlert.objects.filter(session_id__in=ids, answer=AlertAnswer.OPEN).values_list("session_id")
    )
    out = []
    for pk, patient_id, family, given, chair_id, status, checked_in_at, kept, modality, *rest in rows:
        first, last, username, discharged_at = rest
        dose = doses.get(pk)
        facts = session_facts(
            modality=modality,
            status=status,
            checked_in_at=checked_in_at,
            rides_home=[r[0] for r in rides.get(pk, ())],
            vitals=[(v[0], v[1], v[2], v[3]) for v in vitals.get(pk, ())],
            dose=None if dose is None else (dose[1], dose[2]),
            devices=[(d[1], d[2]) for d in devices.get(pk, ()) if dose is not None and d[0] == dose[0]],
            moaas=[m[0] for m in moaas.get(pk, ())],
            open_alerts=len(alerts.get(pk, ())),
            discharged_at=discharged_at,
        )
        out.append(
            BoardSession(
                id=pk,
                patient_id=patient_id,
                family_name=family,
                given_name=given,
                chair_id=chair_id,
                modality=modality,
                checked_in_at=checked_in_at,
                discharged_at=discharged_at,
                monitored_by=_user_name(first, last, username),
                facts=facts,
                policy=kept,
            )
        )
    return out


def board(location: ClinicLocation, now: dt.datetime | None = None) -> Board:
    """Today's board at `location`: every active chair, then room (in order of name), each with its sessions
    (the one in progress first), and a last row of sessions without a chair when there are any."""
    now = now or timezone.now()
    day = local_date(location, now)
    base = policy_for(location)
    link = _session_link()
    sessions = todays_sessions(location, day)
    used_chairs = {s.chair_id for s in sessions if s.chair_id is not None}
    chairs = sorted(
        Chair.objects.filter(Q(active=True) | Q(pk__in=used_chairs), location=location),
        key=lambda c: (c.kind, _natural(c.name)),
    )
    rows: dict[int | None, ChairRow] = {c.pk: ChairRow(c) for c in chairs}
    loose = ChairRow(None)
    labels = dict(PlanModality.choices)
    for s in sessions:
        status = session_status(s.facts, _policy(s.policy, base), now)
        tile = Tile(
            session=s,
            status=status,
            modality_label=labels.get(s.modality, s.modality),
            link=link.format(s.id) if link else reverse("patients:chart", args=[s.patient_id]),
        )
        rows.get(s.chair_id, loose).tiles.append(tile)
    out = list(rows.values())
    for row in out:
        row.tiles.sort(key=lambda t: _order(t.status))
    if loose.tiles:
        loose.tiles.sort(key=lambda t: _order(t.status))
        out.append(loose)
    return Board(location, day, now, out)


def _natural(name: str) -> list[Any]:
    """Chair 2 before Chair 10."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]


def _order(status: SessionStatus) -> int:
    """In progress first, then waiting, then finished."""
    finished = (Phase.DISCHARGED, Phase.DEFERRED)
    return 2 if status.phase in finished else (1 if status.phase is Phase.SCHEDULED else 0)
