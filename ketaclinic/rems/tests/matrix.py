"""The Spravato REMS routes of the access matrix (patients/tests/test_access_matrix.py), and the state each
needs for an allowed call to succeed: a discharged esketamine session of the matrix's patient, two days ago
at its location, whose form is due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.clock import local_today, location_zone
from ketaclinic.patients.models import Patient
from ketaclinic.rems.tests.sessions import charted_session, plan_for
from ketaclinic.treatment.models import TreatmentSession

CLINICIANS = {"prescriber", "nurse"}
QUEUE_READERS = {"admin", "prescriber", "nurse"}
F = "/api/v1/sessions/{session}/rems-form"

# (name, method, url template, body, allowed roles, scoped to the patient's location, API?)
ROUTES: list[tuple[str, str, str, Any, set[str], bool, bool]] = [
    ("api rems form", "get", F, None, CLINICIANS, True, True),
    (
        "api rems submission",
        "post",
        f"{F}/submission",
        {"submitted_at": "{now}", "confirmation_number": "CONF-1"},
        CLINICIANS,
        True,
        True,
    ),
    ("api rems queue", "get", "/api/v1/rems/queue", None, QUEUE_READERS, False, True),
    ("rems queue page", "get", "/rems/", None, QUEUE_READERS, False, False),
    ("rems form page", "get", "/rems/sessions/{session}/", None, CLINICIANS, True, False),
    ("rems form pdf", "get", "/rems/sessions/{session}/form.pdf", None, CLINICIANS, True, False),
    (
        "rems submission page",
        "post",
        "/rems/sessions/{session}/submission/",
        {"submitted_at": "{now}", "confirmation_number": "CONF-1"},
        CLINICIANS,
        True,
        False,
    ),
]
NAMES = {r[0] for r in ROUTES}


def call(route: tuple[Any, ...], patient: Patient, send: Callable[[str, Any], Any]) -> Any:
    """Chart a discharged esketamine session for `patient`, then send the route's request about it."""
    _, _, url, body, *_ = route
    nurse = User.objects.get(username=f"nurse.{patient.location.slug}")
    day = local_today(patient.location) - dt.timedelta(days=2)
    # One session per patient and day, so that a retried request (Idempotency-Key) names the same one.
    session = TreatmentSession.objects.filter(patient=patient, date=day).first() or charted_session(
        plan_for(patient, nurse), nurse, day
    )
    if isinstance(body, dict):
        # A fixed moment (noon of the next day at the location), so a retry sends the same body. The API
        # takes an offset; the page's field is the location's wall clock.
        noon = dt.datetime.combine(
            day + dt.timedelta(days=1), dt.time(12), tzinfo=location_zone(patient.location)
        )
        when = noon.isoformat() if "/api/" in url else noon.strftime("%Y-%m-%dT%H:%M")
        body = {k: when if v == "{now}" else v for k, v in body.items()}
    return send(url.format(session=session.pk), body)
