"""Issue 11, item 6: one timeline of a patient's whole course, newest first, a page at a time.

A page is two steps whose cost does not grow with the patient's history:

1. One ordered query over every source table (a UNION ALL of `SELECT kind, at, ref`, each source cut to the
   rows the page can reach, ordered by `at` DESC with LIMIT/OFFSET): the keys of the page's entries only.
   The count is a second query over the same union.
2. The page's rows, read by id: at most one query per kind on the page (a dose session adds its doses,
   readings, observations, adverse events and alerts, one query each), never one per entry.

Who sees what (`Viewer`): staff without clinical work at the location (the front desk) see the schedule's
entries (consultations, therapy and treatment sessions) with their times and kinds and nothing clinical;
clinicians see every kind; note titles need `therapy.note_read`, and a psychotherapy note is named (by its
title, never its text) only to those access.reads_psychotherapy_note allows. No entry ever carries a note's
text, for anyone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Max, Min
from django.urls import reverse

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.permissions import Perm
from ketaclinic.assessments.models import AlertStatus, Assessment, SafetyAlert
from ketaclinic.clinical.scales import INSTRUMENTS, Instrument
from ketaclinic.consent.models import Consent
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment, AppointmentKind, AppointmentStatus
from ketaclinic.screening.models import Screening
from ketaclinic.therapy.models import TherapyKind, TherapyNote, TherapySession
from ketaclinic.therapy.templates import TEMPLATES
from ketaclinic.treatment.models import (
    AdverseEvent,
    Dose,
    Observation,
    ObservationInstrument,
    PlanChange,
    PlanModality,
    SessionAlert,
    TreatmentPlan,
    TreatmentSession,
    VitalSigns,
)


class TimelineKind(StrEnum):
    CONSULTATION = "consultation"
    SCREENING = "screening"
    CONSENT = "consent"
    PREPARATION = "preparation"
    DOSE = "dose"
    INTEGRATION = "integration"
    KAP = "kap"
    QUESTIONNAIRE = "questionnaire"
    ALERT = "alert"
    PLAN_CHANGE = "plan_change"


KIND_LABELS: dict[TimelineKind, str] = {
    TimelineKind.CONSULTATION: "Consultations",
    TimelineKind.SCREENING: "Screening",
    TimelineKind.CONSENT: "Consent",
    TimelineKind.PREPARATION: "Preparation",
    TimelineKind.DOSE: "Dose sessions",
    TimelineKind.INTEGRATION: "Integration",
    TimelineKind.KAP: "KAP sessions",
    TimelineKind.QUESTIONNAIRE: "Questionnaires",
    TimelineKind.ALERT: "Alerts",
    TimelineKind.PLAN_CHANGE: "Plan changes",
}
# The schedule's entries: what the front desk sees (times and kinds, nothing clinical).
SCHEDULE_KINDS = frozenset(
    {
        TimelineKind.CONSULTATION,
        TimelineKind.PREPARATION,
        TimelineKind.DOSE,
        TimelineKind.INTEGRATION,
        TimelineKind.KAP,
    }
)
# Holding any of these at the patient's location opens the timeline's clinical content.
CLINICAL_PERMS = frozenset(
    {Perm.TREATMENT_CHART, Perm.TREATMENT_PRESCRIBE, Perm.ASSESSMENT_RECORD, Perm.THERAPY_NOTE_READ}
)
THERAPY_KINDS: dict[TimelineKind, tuple[str, ...]] = {
    TimelineKind.PREPARATION: (TherapyKind.PREPARATION,),
    TimelineKind.INTEGRATION: (TherapyKind.INTEGRATION,),
    TimelineKind.KAP: (TherapyKind.KAP, TherapyKind.LOW_DOSE_TALK),
}
UUID_KINDS = frozenset({*THERAPY_KINDS, TimelineKind.DOSE})
CONSULTATION_SHOWN = (*(s.value for s in AppointmentStatus if s != AppointmentStatus.WAITLIST),)


@dataclass(frozen=True, slots=True)
class Viewer:
    user: Any
    location_id: int
    clinical: bool
    reads_notes: bool
    reads_psychotherapy_notes: bool  # of any author (else only their own: access.reads_psychotherapy_note)

    @classmethod
    def of(cls, user: Any, patient: Patient) -> Viewer:
        held = grants(user).get(patient.location_id, frozenset())
        return cls(
            user,
            patient.location_id,
            bool(held & CLINICAL_PERMS),
            Perm.THERAPY_NOTE_READ in held,
            Perm.PSYCHOTHERAPY_NOTE_READ in held,
        )

    def reads_psychotherapy_note_of(self, author_id: Any) -> bool:
        """access.reads_psychotherapy_note, from the note's author alone."""
        return self.reads_psychotherapy_notes or bool(
            self.user.is_authenticated and author_id == self.user.pk
        )

    def kinds(self) -> tuple[TimelineKind, ...]:
        return tuple(k for k in TimelineKind if self.clinical or k in SCHEDULE_KINDS)


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str
    at: dt.datetime
    title: str
    ref: str
    url: str


@dataclass(frozen=True, slots=True)
class TimelinePage:
    items: list[Entry]
    count: int
    limit: int
    offset: int
    kinds: tuple[TimelineKind, ...]


# --- 1. The page's keys: one ordered query over the sources ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Source:
    """One source table's part of the union: its table, the time column, the patient column, and further
    conditions on constant codes (never user input)."""

    model: type[Any]
    at: str
    where: str = ""
    join: tuple[type[Any], str] | None = None  # (table the patient is on, the foreign key to it)

    def select(self, kind: TimelineKind) -> str:
        table, pk = self.model._meta.db_table, self.model._meta.pk.column
        at = self.model._meta.get_field(self.at).column
        if self.join is None:
            patient = f'"{table}".patient_id'
            joined = ""
        else:
            other, fk = self.join
            other_table = other._meta.db_table
            patient = f'"{other_table}".patient_id'
            joined = f' JOIN "{other_table}" ON "{other_table}".id = "{table}".{fk}'
        where = f" AND {self.where}" if self.where else ""
        # Table and column names from the models, codes from this module's enums: no input reaches the text.
        return (
            f"SELECT '{kind.value}' AS tl_kind, \"{table}\".{at} AS tl_at, "  # noqa: S608
            f'CAST("{table}".{pk} AS TEXT) AS tl_ref FROM "{table}"{joined} '
            f"WHERE {patient} = %s{where}"
        )


def _codes(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # enum codes of this module: letters and underscores


SOURCES: dict[TimelineKind, _Source] = {
    TimelineKind.CONSULTATION: _Source(
        Appointment,
        "starts_at",
        f"kind = '{AppointmentKind.CONSULTATION.value}' AND status IN ({_codes(CONSULTATION_SHOWN)})",
    ),
    TimelineKind.SCREENING: _Source(Screening, "created_at"),
    TimelineKind.CONSENT: _Source(Consent, "signed_at"),
    **{
        kind: _Source(TherapySession, "starts_at", f"kind IN ({_codes(codes)})")
        for kind, codes in THERAPY_KINDS.items()
    },
    TimelineKind.DOSE: _Source(TreatmentSession, "checked_in_at", "checked_in_at IS NOT NULL"),
    TimelineKind.QUESTIONNAIRE: _Source(Assessment, "taken_at"),
    TimelineKind.ALERT: _Source(SafetyAlert, "created_at"),
    TimelineKind.PLAN_CHANGE: _Source(PlanChange, "changed_at", join=(TreatmentPlan, "plan_id")),
}


def _union(patient_key: Any, kinds: Iterable[TimelineKind], reach: int | None) -> tuple[str, list[Any]]:
    """`SELECT tl_kind, tl_at, tl_ref` of every kind; with `reach`, each source cut to its newest `reach`
    rows (no page up to that depth needs more of any one source). Written from the models' table and column
    names once per call: compiling ten querysets costs more than the queries themselves."""
    parts, params = [], []
    for kind in kinds:
        sql = SOURCES[kind].select(kind)
        if reach is not None:
            cut = f"ORDER BY tl_at DESC, tl_ref DESC LIMIT {int(reach)}"
            sql = f"SELECT * FROM ({sql} {cut}) AS k_{kind.value}"  # noqa: S608 (see _Source.select)
        parts.append(sql)
        params.append(patient_key)
    return " UNION ALL ".join(parts), params


def _moment(value: Any) -> dt.datetime:
    # SQLite hands back text for a column of a raw UNION; PostgreSQL an aware datetime.
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def page_keys(
    patient: Patient, kinds: tuple[TimelineKind, ...], limit: int, offset: int
) -> tuple[list[tuple[TimelineKind, dt.datetime, str]], int]:
    """The page's (kind, at, ref) in time order, newest first, and how many entries there are in all."""
    if not kinds:
        return [], 0
    key = Patient._meta.pk.get_db_prep_value(patient.pk, connection)
    union, params = _union(key, kinds, offset + limit)
    ordered = (
        f"SELECT tl_kind, tl_at, tl_ref FROM ({union}) AS timeline "  # noqa: S608 (see _Source.select)
        # kind and id break ties of time: ids of different tables may be equal, the pair never is.
        "ORDER BY tl_at DESC, tl_kind, tl_ref DESC LIMIT %s OFFSET %s"
    )
    counted, count_params = _union(key, kinds, None)
    with connection.cursor() as cursor:
        cursor.execute(ordered, [*params, limit, offset])
        rows = cursor.fetchall()
        cursor.execute(f"SELECT COUNT(*) FROM ({counted}) AS timeline", count_params)  # noqa: S608
        (count,) = cursor.fetchone()
    return [(TimelineKind(k), _moment(at), _ref(TimelineKind(k), ref)) for k, at, ref in rows], int(count)


def _ref(kind: TimelineKind, raw: Any) -> str:
    # A UUID key reads back as 32 hex digits from SQLite and with hyphens from PostgreSQL: one spelling.
    return str(uuid.UUID(str(raw))) if kind in UUID_KINDS else str(raw)


# --- 2. The page's rows, by id, one query per kind ----------------------------------------------------------


_SAMPLE_UUID, _SAMPLE_INT = uuid.UUID(int=0), 987654321


@cache
def _pattern(name: str, kinds: tuple[bool, ...]) -> str:
    """The URL of `name` with `{}` for each argument (True: a UUID), reversed once per process."""
    samples = [_SAMPLE_UUID if is_uuid else _SAMPLE_INT for is_uuid in kinds]
    url = reverse(name, args=samples)
    for sample in samples:
        url = url.replace(str(sample), "{}", 1)
    return url


def _url(name: str, *args: Any) -> str:
    """reverse(name, args=args) for ids, without resolving the pattern again for each entry of a page."""
    return _pattern(name, tuple(isinstance(a, uuid.UUID) for a in args)).format(*args)


def _uuid(ref: str) -> uuid.UUID:
    return uuid.UUID(ref)


Titles = dict[str, tuple[str, str]]  # ref -> (title, url)
Reader = Callable[[list[str], Viewer, Patient], Titles]


def _consultations(refs: list[str], viewer: Viewer, patient: Patient) -> Titles:
    rows = Appointment.objects.filter(pk__in=[int(r) for r in refs]).values_list("pk", "status")
    labels = dict(AppointmentStatus.choices)
    return {str(pk): (f"Consultation ({labels[status].lower()})", "") for pk, status in rows}


def _screenings(refs: list[str], viewer: Viewer, patient: Patient) -> Titles:
    rows = Screening.objects.filter(pk__in=[int(r) for r in refs]).values_list("pk", "modality", "decision")
    modalities = dict(PlanModality.choices)
    return {
        str(pk): (
            f"Screening for {modalities.get(modality, modality)}: {decision.replace('_', ' ')}",
            _url("screening:screening", patient.pk, pk),
        )
        for pk, modality, decision in rows
    }


def _consents(refs: list[str], viewer: Viewer, patient: Patient) -> Titles:
    rows = Consent.objects.filter(pk__in=[int(r) for r in refs]).values_list(
        "pk", "document__title", "document__version"
    )
    url = _url("consent:patient", patient.pk)
    return {str(pk): (f"Consent signed: {title} (version {version})", url) for pk, title, version in rows}


def _note_titles(session_ids: list[uuid.UUID], viewer: Viewer) -> dict[uuid.UUID, list[str]]:
    """Each session's note titles the viewer may see: template name and status, never a word of the text;
    a psychotherapy note only for those who may read it, by its title alone."""
    found: dict[uuid.UUID, list[str]] = defaultdict(list)
    if not viewer.reads_notes:
        return found
    notes = (
        TherapyNote.objects.filter(session_id__in=session_ids)
        .order_by("created_at", "pk")
        .values_list("session_id", "template", "status", "psychotherapy_note", "created_by_id")
    )
    for session_id, template, status, private, author_id in notes:
        if private:
            if viewer.reads_psychotherapy_note_of(author_id):
                found[session_id].append(f"psychotherapy note ({status})")
            continue
        found[session_id].append(f"{TEMPLATES[template].label.lower()} note ({status})")
    return found


def _therapy(refs: list[str], viewer: Viewer, patient: Patient) -> Titles:
    ids = [_uuid(r) for r in refs]
    sessions = TherapySession.objects.filter(pk__in=ids).values_list(
        "pk", "kind", "mode", "duration_minutes", "status", "dose_session__number"
    )
    notes = _note_titles(ids, viewer)
    kinds, modes = dict(TherapyKind.choices), {"in_person": "in person", "video": "video"}
    titles: Titles = {}
    for pk, kind, mode, minutes, status, dose_number in sessions:
        parts = [f"{kinds[kind]} session", modes.get(mode, mode), f"{minutes} min", status]
        if viewer.clinical and dose_number is not None:
            parts.append(f"for dose session {dose_number}")
        if notes.get(pk):
            parts.append("notes: " + ", ".join(notes[pk]))
        titles[str(pk)] = (" · ".join(parts), _url("therapy:session", pk))
    return titles


@dataclass
class _DoseFacts:
    amount: list[str]
    peak: tuple[int, int] | None = None
    moaas: int | None = None
    cadss: int | None = None
    events: int = 0
    alerts: list[str] | None = None


def _dose_facts(ids: list[uuid.UUID]) -> dict[uuid.UUID, _DoseFacts]:
    facts: dict[uuid.UUID, _DoseFacts] = defaultdict(lambda: _DoseFacts([]))
    for sid, amount in Dose.objects.filter(session_id__in=ids).values_list("session_id", "amount_mg"):
        facts[sid].amount.append(f"{amount.normalize():f} mg")
    readings = VitalSigns.objects.filter(session_id__in=ids).order_by("session_id", "-systolic_mmhg", "pk")
    for sid, systolic, diastolic in readings.values_list("session_id", "systolic_mmhg", "diastolic_mmhg"):
        if facts[sid].peak is None:
            facts[sid].peak = (systolic, diastolic)
    scores = (
        Observation.objects.filter(session_id__in=ids)
        .values("session_id", "instrument")
        .annotate(low=Min("total"), high=Max("total"))
    )
    for row in scores:
        if row["instrument"] == ObservationInstrument.MOAAS:
            facts[row["session_id"]].moaas = row["low"]  # the deepest sedation
        elif row["instrument"] == ObservationInstrument.CADSS:
            facts[row["session_id"]].cadss = row["high"]  # the most dissociation
    for sid in AdverseEvent.objects.filter(session_id__in=ids).values_list("session_id", flat=True):
        facts[sid].events += 1
    for sid, kind, answer in SessionAlert.objects.filter(session_id__in=ids).values_list(
        "session_id", "kind", "answer"
    ):
        facts[sid].alerts = [*(facts[sid].alerts or []), f"{kind.replace('_', ' ')} {answer or 'open'}"]
    return facts


def _doses(refs: list[str], viewer: Viewer, patient: Patient) -> Titles:
    ids = [_uuid(r) for r in refs]
    sessions = TreatmentSession.objects.filter(pk__in=ids).values_list(
        "pk", "number", "status", "plan__modality"
    )
    modalities = dict(PlanModality.choices)
    facts = _dose_facts(ids) if viewer.clinical else {}
    titles: Titles = {}
    for pk, number, status, modality in sessions:
        url = _url("treatment:session", pk) if viewer.clinical else ""
        if not viewer.clinical:
            titles[str(pk)] = (f"Treatment session {number} ({status.replace('_', ' ')})", url)
            continue
        f = facts.get(pk) or _DoseFacts([])
        parts = [f"Dose session {number}: {modalities.get(modality, modality)}"]
        parts.append(" + ".join(f.amount) if f.amount else "no dose given")
        if f.peak:
            parts.append(f"peak BP {f.peak[0]}/{f.peak[1]}")
        if f.moaas is not None:
            parts.append(f"MOAA/S {f.moaas}")
        if f.cadss is not None:
            parts.append(f"CADSS {f.cadss}")
        parts.append(f"{f.events} adverse event{'s' if f.events != 1 else ''}")
        if f.alerts:
            parts.append("alerts: " + ", ".join(f.alerts))
        parts.append(status.replace("_", " "))
        titles[str(pk)] = (" · ".join(parts), url)
    return titles


def _questionnaires(refs: list[str], viewer: Viewer, patient: Patient) -> Titles:
    rows = Assessment.objects.filter(pk__in=[int(r) for r in refs]).values_list(
        "pk", "instrument", "total", "band"
    )
    titles: Titles = {}
    for pk, instrument, total, band in rows:
        name = INSTRUMENTS[Instrument(instrument)].name
        score = f"total {total}" if total is not None else "answered"
        title = f"{name} {score}" + (f" ({band})" if band else "")
        titles[str(pk)] = (title, _url("assessments:assessment", patient.pk, pk))
    return titles


def _alerts(refs: list[str], viewer: Viewer, patient: Patient) -> Titles:
    rows = SafetyAlert.objects.filter(pk__in=[int(r) for r in refs]).values_list(
        "pk",
        "kind",
        "status",
        "closed_at",
        "closed_by_assessment_id",
        "closed_by_safety_plan_id",
        "assessment_id",
    )
    titles: Titles = {}
    for pk, kind, status, closed_at, by_assessment, by_plan, raised_by in rows:
        what = f"Safety alert: {kind.replace('_', ' ')}"
        if status == AlertStatus.OPEN:
            handled = "open"
        else:
            how = "a C-SSRS" if by_assessment else "a safety plan" if by_plan else "a clinician's review"
            day = closed_at.date().isoformat() if closed_at else ""
            handled = f"closed {day} by {how}"
        url = _url("assessments:assessment", patient.pk, raised_by)
        titles[str(pk)] = (f"{what} · {handled}", url)
    return titles


def _plan_changes(refs: list[str], viewer: Viewer, patient: Patient) -> Titles:
    rows = PlanChange.objects.filter(pk__in=[int(r) for r in refs]).values_list(
        "pk", "kind", "reason", "plan_id", "plan__modality"
    )
    kinds, modalities = dict(PlanChange._meta.get_field("kind").choices or []), dict(PlanModality.choices)
    titles: Titles = {}
    for pk, kind, reason, plan_id, modality in rows:
        title = f"Plan {str(kinds.get(kind, kind)).lower()}: {modalities.get(modality, modality)}"
        title += f" · {reason}" if reason else ""
        titles[str(pk)] = (title, _url("treatment:plan", plan_id))
    return titles


READERS: dict[TimelineKind, Reader] = {
    TimelineKind.CONSULTATION: _consultations,
    TimelineKind.SCREENING: _screenings,
    TimelineKind.CONSENT: _consents,
    TimelineKind.PREPARATION: _therapy,
    TimelineKind.DOSE: _doses,
    TimelineKind.INTEGRATION: _therapy,
    TimelineKind.KAP: _therapy,
    TimelineKind.QUESTIONNAIRE: _questionnaires,
    TimelineKind.ALERT: _alerts,
    TimelineKind.PLAN_CHANGE: _plan_changes,
}


def timeline(
    patient: Patient, user: Any, *, kind: TimelineKind | None = None, limit: int = 25, offset: int = 0
) -> TimelinePage:
    """One page of the patient's timeline as `user` may see it; `kind` keeps one kind (a kind the user may
    not see gives an empty page)."""
    viewer = Viewer.of(user, patient)
    kinds = viewer.kinds()
    asked = tuple(k for k in kinds if kind is None or k is kind)
    keys, count = page_keys(patient, asked, limit, offset)
    refs: dict[Reader, list[str]] = defaultdict(list)
    for k, _, ref in keys:
        refs[READERS[k]].append(ref)
    # Keyed by reader and id: ids of different tables may be equal.
    titles: dict[tuple[Reader, str], tuple[str, str]] = {}
    for reader, wanted in refs.items():
        titles |= {(reader, ref): found for ref, found in reader(wanted, viewer, patient).items()}
    items = []
    for k, at, ref in keys:
        title, url = titles.get((READERS[k], ref), ("", ""))
        items.append(Entry(k.value, at, title, ref, url))
    return TimelinePage(items, count, limit, offset, kinds)


def body(page: TimelinePage) -> dict[str, Any]:
    """The API's answer: the page's items with the house's paging fields."""
    return {
        "count": page.count,
        "limit": page.limit,
        "offset": page.offset,
        "items": [
            {"kind": e.kind, "at": e.at, "title": e.title, "ref": e.ref, "url": e.url or None}
            for e in page.items
        ],
    }
