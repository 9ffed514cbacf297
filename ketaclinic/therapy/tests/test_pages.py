"""The therapy pages: the chart's panel, the therapy page (schedule), the care team's page, a session page
with its note form, and a note page (sign, amend). Each page that shows the record writes its read event."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.therapy.models import CareTeamMember, NoteAmendment, TherapyNote, TherapySession
from ketaclinic.therapy.tests.helpers import note, therapy_session

if TYPE_CHECKING:
    from conftest import World


def _reads(since: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=since, action=Action.PATIENT_READ))


def _last() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_a_therapist_schedules_writes_signs_and_amends_from_the_pages(world: World) -> None:
    patient = world.patient("north")
    client = world.client("therapist.north")
    page = client.get(f"/therapy/patients/{patient.pk}/")
    assert page.status_code == 200 and b"Schedule or record a session" in page.content
    local = (timezone.now() + dt.timedelta(hours=2)).astimezone(location_zone(patient.location))
    form = {
        "kind": "preparation",
        "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "60",
        "mode": "video",
    }
    response = client.post(f"/therapy/patients/{patient.pk}/", form)
    assert response.status_code == 302, response.content[:500]
    session = TherapySession.objects.get(patient=patient)
    assert (session.kind, session.mode, session.duration_minutes) == ("preparation", "video", 60)
    assert abs(session.starts_at - local) < dt.timedelta(minutes=1)
    page = client.get(f"/therapy/sessions/{session.pk}/")
    assert page.status_code == 200
    for label in (b"Intentions", b"Concerns", b"Set and setting"):
        assert label in page.content
    response = client.post(
        f"/therapy/sessions/{session.pk}/notes/",
        {"content-intentions": "Feel <b>lighter</b>", "content-concerns": "Nausea"},
    )
    assert response.status_code == 302
    written = TherapyNote.objects.get(session=session)
    assert written.content["intentions"] == "Feel <b>lighter</b>"
    page = client.get(f"/therapy/notes/{written.pk}/")
    assert b"Feel &lt;b&gt;lighter&lt;/b&gt;" in page.content and b"Sign and lock" in page.content
    assert client.post(f"/therapy/notes/{written.pk}/sign/").status_code == 302
    assert TherapyNote.objects.get(pk=written.pk).status == "signed"
    refused = client.post(f"/therapy/sessions/{session.pk}/notes/", {"content-intentions": "Again"})
    assert refused.status_code == 409 and f"/api/v1/notes/{written.pk}/amendments".encode() in refused.content
    bad = client.post(f"/therapy/notes/{written.pk}/amendments/", {"reason": "", "content-concerns": "x"})
    assert bad.status_code == 422 and not NoteAmendment.objects.exists()
    good = client.post(
        f"/therapy/notes/{written.pk}/amendments/", {"reason": "Late entry", "content-concerns": "None"}
    )
    assert good.status_code == 302
    page = client.get(f"/therapy/notes/{written.pk}/")
    assert b"Late entry" in page.content


def test_bad_session_forms_name_the_field_and_save_nothing(world: World) -> None:
    patient = world.patient("north")
    client = world.client("therapist.north")
    for form, field in (
        ({"kind": "massage", "starts_at": "2030-01-01T10:00", "duration_minutes": "50"}, b"f-kind"),
        ({"kind": "preparation", "starts_at": "", "duration_minutes": "50"}, b"f-starts_at"),
        ({"kind": "preparation", "starts_at": "2001-01-01T10:00", "duration_minutes": "50"}, b"registration"),
        (
            {"kind": "preparation", "starts_at": "2030-01-01T10:00", "duration_minutes": "x"},
            b"f-duration_minutes",
        ),
        (
            {"kind": "low_dose_talk", "starts_at": "2030-01-01T10:00", "duration_minutes": "50"},
            b"f-dose_session_id",
        ),
    ):
        response = client.post(f"/therapy/patients/{patient.pk}/", form)
        assert response.status_code == 422, form
        assert field in response.content, form
    assert not TherapySession.objects.exists()


def test_the_care_team_page_saves_fitting_staff(world: World) -> None:
    patient = world.patient("north")
    client = world.client("nurse.north")
    page = client.get(f"/therapy/patients/{patient.pk}/care-team/")
    assert page.status_code == 200
    assert b"therapist.north" in page.content and b"frontdesk.north" not in page.content
    response = client.post(
        f"/therapy/patients/{patient.pk}/care-team/",
        {"role-prescriber": ["prescriber.north"], "role-therapist": ["therapist.north"]},
    )
    assert response.status_code == 302
    assert {(m.user.username, m.role) for m in CareTeamMember.objects.filter(patient=patient)} == {
        ("prescriber.north", "prescriber"),
        ("therapist.north", "therapist"),
    }
    refused = client.post(f"/therapy/patients/{patient.pk}/care-team/", {"role-nurse": ["nurse.south"]})
    assert refused.status_code == 422 and b"nurse.south is not a staff member" in refused.content
    assert CareTeamMember.objects.filter(patient=patient, ended_at=None).count() == 2
    panel = world.client("frontdesk.north").get(f"/therapy/patients/{patient.pk}/panel/")
    assert panel.status_code == 200 and b"Care team" in panel.content


def test_front_desk_sees_the_schedule_but_no_note(world: World) -> None:
    patient = world.patient("north")
    session = therapy_session(patient, "integration")
    written = note(session, sign=True, experience="Saw the ocean")
    desk = world.client("frontdesk.north")
    page = desk.get(f"/therapy/patients/{patient.pk}/")
    assert page.status_code == 200 and b"Integration" in page.content
    session_page = desk.get(f"/therapy/sessions/{session.pk}/")
    assert session_page.status_code == 200
    assert (
        b"Saw the ocean" not in session_page.content and str(written.pk).encode() not in session_page.content
    )
    assert desk.get(f"/therapy/notes/{written.pk}/").status_code == 403
    nurse = world.client("nurse.north").get(f"/therapy/notes/{written.pk}/")
    assert nurse.status_code == 200 and b"Saw the ocean" in nurse.content


def test_each_page_writes_one_read_event_for_the_patient(world: World) -> None:
    patient = world.patient("north")
    session = therapy_session(patient, "integration")
    written = note(session, sign=True)
    client = world.client("therapist.north")
    for url in (
        f"/therapy/patients/{patient.pk}/",
        f"/therapy/patients/{patient.pk}/panel/",
        f"/therapy/patients/{patient.pk}/care-team/",
        f"/therapy/sessions/{session.pk}/",
        f"/therapy/notes/{written.pk}/",
    ):
        last = _last()
        assert client.get(url).status_code == 200, url
        assert [e.patient_id for e in _reads(last)] == [patient.pk], url


def test_a_therapy_session_in_a_room_is_listed_on_the_floor_board_today(world: World) -> None:
    from ketaclinic.clinicpolicy.models import Chair

    patient = world.patient("north")
    room = Chair.objects.filter(location=patient.location, active=True).order_by("pk").first()
    assert room is not None
    in_room = therapy_session(patient, "kap", chair_id=room.pk, duration_minutes=120)
    therapy_session(patient, "integration", mode="video")  # no room: not on the board
    board = world.client("frontdesk.north").get("/floor/?location=north")
    assert board.status_code == 200
    listing = board.content.split(b'id="floor-therapy"')[1]
    assert f"/therapy/sessions/{in_room.pk}/".encode() in listing
    assert listing.count(b"/therapy/sessions/") == 1 and b"Ketamine-assisted psychotherapy" in listing
    south = world.client("frontdesk.south").get("/floor/?location=south")
    assert b'id="floor-therapy"' not in south.content


def test_a_care_team_page_sent_over_a_change_not_seen_shows_the_team_as_it_is(world: World) -> None:
    patient = world.patient("north")
    client = world.client("nurse.north")
    url = f"/therapy/patients/{patient.pk}/care-team/"
    stale = {"version": "0", "role-nurse": ["nurse.north"]}
    assert client.post(url, {"version": "0", "role-therapist": ["therapist.north"]}).status_code == 302
    refused = client.post(url, stale)
    assert refused.status_code == 409 and b"Someone changed the care team" in refused.content
    assert {m.user.username for m in CareTeamMember.objects.filter(patient=patient, ended_at=None)} == {
        "therapist.north"
    }
