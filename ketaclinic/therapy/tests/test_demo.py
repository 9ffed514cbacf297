"""The demo's ketamine-assisted psychotherapy course, loaded through the actions."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.therapy import demo
from ketaclinic.therapy.models import CareTeamMember, TherapyNote, TherapySession
from ketaclinic.treatment.models import SessionStatus


def test_each_location_has_a_kap_course_with_signed_notes_and_one_psychotherapy_note(world: object) -> None:
    import random

    locations = list(ClinicLocation.objects.order_by("slug"))
    demo.load(locations, timezone.localdate(), random.Random(1))
    for location in locations:
        sessions = list(TherapySession.objects.filter(location=location).order_by("starts_at"))
        assert [s.kind for s in sessions] == ["preparation", "kap", "integration", "kap", "integration"]
        patient = sessions[0].patient
        assert patient.created_at < sessions[0].starts_at < timezone.now() - dt.timedelta(days=30)
        assert {m.role for m in CareTeamMember.objects.filter(patient=patient)} == {
            "prescriber",
            "nurse",
            "therapist",
        }
        assert all(s.status == "completed" for s in sessions)
        for s in sessions[1:]:
            assert s.dose_session is not None and s.dose_session.status == SessionStatus.SIGNED
        notes = TherapyNote.objects.filter(patient=patient)
        assert all(n.status == "signed" for n in notes)
        assert [n.session.kind for n in notes.filter(psychotherapy_note=True)] == ["integration"]
