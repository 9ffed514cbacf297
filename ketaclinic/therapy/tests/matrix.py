"""The therapy routes of the access matrix (patients/tests/test_access_matrix.py), and the state each needs
for an allowed call to succeed: a therapy session to write on, a draft note to sign, a signed one to amend.
A note is its author's to sign, so the note a route needs is written by the caller when the caller may write
therapy notes at the patient's location (otherwise by the location's therapist)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from ketaclinic.accounts.access import can
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import Perm
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.patients.models import Patient
from ketaclinic.tests import memo
from ketaclinic.therapy.tests.helpers import note, staff, therapy_session

READERS = {"prescriber", "nurse", "therapist", "frontdesk"}
NOTE_READERS = {"prescriber", "nurse", "therapist"}
TEAM = {"prescriber", "nurse", "therapist"}
THERAPY = {"prescriber", "therapist"}
SESSION = {"kind": "preparation", "starts_at": "{later}", "duration_minutes": 50, "mode": "video"}
TEAM_BODY = {"members": [{"user": "therapist.north", "role": "therapist"}]}
AMEND = {"reason": "Late entry", "content": {"homework": "Walk daily"}}

# (name, method, url template, body, allowed roles, scoped to the patient's location, API?)
ROUTES: list[tuple[str, str, str, Any, set[str], bool, bool]] = [
    ("api read care team", "get", "/api/v1/patients/{pid}/care-team", None, READERS, True, True),
    ("api set care team", "put", "/api/v1/patients/{pid}/care-team", TEAM_BODY, TEAM, True, True),
    (
        "api schedule therapy session",
        "post",
        "/api/v1/patients/{pid}/therapy-sessions",
        SESSION,
        THERAPY,
        True,
        True,
    ),
    (
        "api write therapy note",
        "post",
        "/api/v1/therapy-sessions/{therapy_session}/notes",
        {"template": "integration", "content": {"experience": "Calm"}},
        THERAPY,
        True,
        True,
    ),
    ("api read therapy note", "get", "/api/v1/notes/{note}", None, NOTE_READERS, True, True),
    ("api sign therapy note", "post", "/api/v1/notes/{note}/sign", {}, THERAPY, True, True),
    ("api amend therapy note", "post", "/api/v1/notes/{note}/amendments", AMEND, THERAPY, True, True),
    # The pages.
    ("api timeline", "get", "/api/v1/patients/{pid}/timeline", None, READERS, True, True),
    ("therapy page", "get", "/therapy/patients/{pid}/", None, READERS, True, False),
    ("timeline page", "get", "/therapy/patients/{pid}/timeline/", None, READERS, True, False),
    (
        "schedule therapy page",
        "post",
        "/therapy/patients/{pid}/",
        {"kind": "preparation", "starts_at": "{later_local}", "duration_minutes": "50"},
        THERAPY,
        True,
        False,
    ),
    ("therapy panel", "get", "/therapy/patients/{pid}/panel/", None, READERS, True, False),
    ("care team page", "get", "/therapy/patients/{pid}/care-team/", None, TEAM, True, False),
    (
        "care team save page",
        "post",
        "/therapy/patients/{pid}/care-team/",
        {"role-therapist": "therapist.north"},
        TEAM,
        True,
        False,
    ),
    ("therapy session page", "get", "/therapy/sessions/{therapy_session}/", None, READERS, True, False),
    (
        "write therapy note page",
        "post",
        "/therapy/sessions/{therapy_session}/notes/",
        {"content-experience": "Calm"},
        THERAPY,
        True,
        False,
    ),
    ("therapy note page", "get", "/therapy/notes/{note}/", None, NOTE_READERS, True, False),
    ("sign therapy note page", "post", "/therapy/notes/{note}/sign/", {}, THERAPY, True, False),
    (
        "amend therapy note page",
        "post",
        "/therapy/notes/{note}/amendments/",
        {"reason": "Late entry", "content-homework": "Walk daily"},
        THERAPY,
        True,
        False,
    ),
]

NAMES = {r[0] for r in ROUTES}
SAMPLE_IDS = {
    "therapy_session": "00000000-0000-4000-8000-000000000000",
    "note": "00000000-0000-4000-8000-000000000000",
}
SIGNED = {"api read therapy note", "api amend therapy note", "therapy note page", "amend therapy note page"}
DRAFT = {"api sign therapy note", "sign therapy note page"}


def _author(patient: Patient, who: str | None) -> User:
    """The caller when they write therapy notes at the patient's location, else the location's therapist."""
    user = User.objects.filter(username=who).first() if who else None
    if user is not None and can(user, Perm.THERAPY_WRITE, patient.location_id):
        return user
    return staff(patient, "therapist")


def prepare(name: str, patient: Patient, who: str | None) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    if name not in SIGNED | DRAFT and "therapy_session" not in next(r[2] for r in ROUTES if r[0] == name):
        return ids
    session = therapy_session(patient, "integration")
    ids["therapy_session"] = session.pk
    if name in SIGNED | DRAFT:
        ids["note"] = note(session, by=_author(patient, who), sign=name in SIGNED).pk
    return ids


def _fill(value: Any, later: dt.datetime, patient: Patient) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, later, patient) for k, v in value.items()}
    if value == "{later}":
        return later.isoformat()
    if value == "{later_local}":
        return later.astimezone(location_zone(patient.location)).strftime("%Y-%m-%dT%H:%M")
    return value


# The state prepared for (route, patient): a retry of the same route (an Idempotency-Key replay) in one test
# sends the same request again.
_PREPARED: dict[tuple[str, Any], dict[str, Any]] = memo.per_test()


def call(
    route: tuple[Any, ...], patient: Patient, send: Callable[[str, Any], Any], who: str | None = None
) -> Any:
    name, _, url, body = route[:4]
    ids = _PREPARED.get((name, patient.pk))
    if ids is None or (ids and not _still_there(ids)):
        ids = prepare(name, patient, who)
        _PREPARED[(name, patient.pk)] = ids
    later = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=1)
    return send(url.format(pid=patient.pk, **ids), _fill(body, later, patient))


def _still_there(ids: dict[str, Any]) -> bool:
    from ketaclinic.therapy.models import TherapySession

    return TherapySession.objects.filter(pk=ids["therapy_session"]).exists()
