"""Building care teams, therapy sessions and notes through the actions, for the therapy tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.patients.models import Patient
from ketaclinic.therapy import actions, inputs
from ketaclinic.therapy.models import TherapyNote, TherapySession
from ketaclinic.treatment.models import TreatmentSession
from ketaclinic.treatment.tests.helpers import plan_today

# A marker found in no other data: planted in psychotherapy notes, looked for everywhere they could leak.
MARKER = "Zyqvorpsychemark"


def staff(patient: Patient, role: str) -> User:
    return User.objects.get(username=f"{role}.{patient.location.slug}")


def dose_session(patient: Patient) -> TreatmentSession:
    """The first session of a (draft) esketamine plan of the patient's."""
    plan = plan_today(patient, staff(patient, "prescriber"), approve=False)
    found = plan.sessions.order_by("number").first()
    assert found is not None
    return found


def therapy_session(
    patient: Patient, kind: str = "integration", *, by: User | None = None, **values: Any
) -> TherapySession:
    data = inputs.TherapySessionIn.model_validate(
        {
            "kind": kind,
            "starts_at": timezone.now() + dt.timedelta(minutes=1),
            "duration_minutes": 50,
            **values,
        }
    )
    return actions.do_schedule_session(patient, data, actor=by or staff(patient, "therapist"))


def note(
    session: TherapySession,
    *,
    by: User | None = None,
    template: str = "integration",
    psychotherapy: bool = False,
    sign: bool = False,
    **content: str,
) -> TherapyNote:
    author = by or staff(session.patient, "therapist")
    data = inputs.NoteIn(
        template=template, content=content or {"experience": "Calm"}, psychotherapy_note=psychotherapy
    )
    written, _ = actions.do_write_note(session, data, actor=author)
    if sign:
        written = actions.do_sign_note(written, actor=author)
    return written
