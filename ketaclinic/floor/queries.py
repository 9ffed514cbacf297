"""Reading the floor board: today's sessions at a location, one row per chair or room, in a fixed number of
queries however many sessions are in. Nothing here writes (but the denials it audits)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny
from ketaclinic.clinical.policy import ClinicPolicy, policy_from_json
from ketaclinic.clinical.vitals import BPReading
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.floor.status import Phase, SessionFacts, SessionStatus, session_status
from ketaclinic.treatment.models import (
    AlertAnswer,
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

# The sessions the board leaves out: cancelled ones never reach the floor.
HIDDEN = (Status.CANCELLED,)
# Queries of one board, whatever the number of sessions: the location's policy in force, chairs, sessions
# (with plan, patient, chair, monitoring user and discharge), then doses, devices, pre-dose checks, vitals,
# MOAA/S and open alerts.
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
class Tile:
    """One session on the board with the status `floor.status` gives it."""

    session: TreatmentSession
    status: SessionStatus
    modality_label: str
    monitored_by: str
    link: str


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

    @property
    def patients(self) -> list[Any]:
        return [t.session.patient for r in self.rows for t in r.tiles]


def _facts(session: TreatmentSession) -> SessionFacts:
    doses = list(session.doses.all())
    dose = doses[0] if doses else None
    devices = list(dose.devices.all()) if dose is not None else []
    unused = [d for d in devices if d.used_at is None]
    used = [d.used_at for d in devices if d.used_at is not None]
    if dose is None:
        started = None
    elif session.plan.modality == PlanModality.ESKETAMINE_NASAL and used:
        started = min(used)  # the first device [S6]
    else:
        started = dose.started_at
    done = dose is not None and not unused
    if dose is not None and session.plan.modality == PlanModality.IV_KETAMINE and dose.ended_at is None:
        done = False
    vitals = list(session.vitals.all())
    moaas = list(session.observations.all())
    checks = list(session.predose_checks.all())
    discharge = getattr(session, "discharge", None)
    return SessionFacts(
        modality=session.plan.modality,
        status=session.status,
        checked_in_at=session.checked_in_at,
        predose_charted=bool(checks or vitals),
        dose_started_at=started,
        dosing_done=done,
        next_device_due_at=unused[0].due_at if unused else None,
        dose_ended_at=dose.ended_at if dose is not None else None,
        taken_points=tuple(v.time_point for v in vitals),
        bp_readings=tuple(BPReading(v.taken_at, v.systolic_mmhg, v.diastolic_mmhg) for v in vitals),
        latest_moaas=moaas[-1].total if moaas else None,
        escort_arranged=checks[-1].ride_home_arranged if checks else True,
        open_alerts=len(session.alerts.all()),
        discharged_at=discharge.discharged_at if discharge is not None else None,
    )


def _policy(session: TreatmentSession, base: ClinicPolicy) -> ClinicPolicy:
    """The policy the session is judged under: the one kept at check-in, else the location's in force."""
    return policy_from_json(session.policy, base) if session.policy else base


def _session_link() -> str:
    """The session page's URL with `{}` for the id; the patient's chart until the session page exists."""
    try:
        return reverse("treatment:session", args=["00000000-0000-0000-0000-000000000000"]).replace(
            "00000000-0000-0000-0000-000000000000", "{}"
        )
    except NoReverseMatch:
        return ""


def _user_name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())


def todays_sessions(location: ClinicLocation, day: dt.date) -> list[TreatmentSession]:
    return list(
        TreatmentSession.objects.filter(location=location, date=day)
        .exclude(status__in=HIDDEN)
        .select_related("plan", "patient", "chair", "monitored_by", "discharge")
        .prefetch_related(
            "doses",
            Prefetch("doses__devices", queryset=DoseDevice.objects.order_by("number")),
            Prefetch("predose_checks", queryset=PreDoseCheck.objects.order_by("pk")),
            Prefetch("vitals", queryset=VitalSigns.objects.order_by("taken_at", "pk")),
            Prefetch(
                "observations",
                queryset=Observation.objects.filter(instrument=ObservationInstrument.MOAAS).order_by(
                    "taken_at", "pk"
                ),
            ),
            Prefetch("alerts", queryset=SessionAlert.objects.filter(answer=AlertAnswer.OPEN)),
        )
        .order_by("checked_in_at", "number", "pk")
    )


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
        status = session_status(_facts(s), _policy(s, base), now)
        tile = Tile(
            session=s,
            status=status,
            modality_label=labels.get(s.plan.modality, s.plan.modality),
            monitored_by=_user_name(s.monitored_by),
            link=link.format(s.pk) if link else reverse("patients:chart", args=[s.patient_id]),
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
