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
        kinds = [s.kind for s in sessions]
        assert kinds[:5] == ["preparation", "kap", "integration", "kap", "integration"]
        assert set(kinds[5:]) == {"integration"} and len(kinds) >= 10  # months of integration
        patient = sessions[0].patient
        assert patient.created_at < sessions[0].starts_at < timezone.now() - dt.timedelta(days=90)
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


def test_the_latest_doses_integration_is_overdue_on_the_worklist(world: object) -> None:
    import random

    from ketaclinic.accounts.models import User
    from ketaclinic.assessments.worklist import Kind, worklist
    from ketaclinic.treatment.models import TreatmentSession

    locations = list(ClinicLocation.objects.order_by("slug"))
    demo.load(locations, timezone.localdate(), random.Random(1))
    [item] = [
        i for i in worklist(User.objects.get(username="therapist.north")) if i.kind is Kind.INTEGRATION_DUE
    ]
    dose = TreatmentSession.objects.get(pk=item.dose_session_id)
    assert item.priority == "medium" and dose.status == SessionStatus.SIGNED
    assert not TherapySession.objects.filter(dose_session=dose, kind="integration").exists()
