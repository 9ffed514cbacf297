"""The therapy API as issue 11 names it: the care team, therapy sessions, notes, signing and amendments.
Bad input is a 4xx naming the field with nothing saved."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.therapy.models import CareTeamMember, NoteAmendment, TherapyNote, TherapySession
from ketaclinic.therapy.tests.helpers import dose_session, note, therapy_session

if TYPE_CHECKING:
    from conftest import World


def _send(client: Any, method: str, url: str, body: Any = None, **headers: str) -> Any:
    data = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
    return getattr(client, method)(url, headers=headers, **data)


def _at(hours: float = 1) -> str:
    return (timezone.now() + dt.timedelta(hours=hours)).isoformat()


def test_care_team_is_read_and_replaced_by_usernames(world: World) -> None:
    patient = world.patient("north")
    api = world.api("therapist.north")
    url = f"/api/v1/patients/{patient.pk}/care-team"
    assert _send(api, "get", url).json() == {"members": []}
    team = {
        "members": [
            {"user": "prescriber.north", "role": "prescriber"},
            {"user": "nurse.north", "role": "nurse"},
            {"user": "therapist.north", "role": "therapist"},
            {"user": "nurse.north", "role": "coach"},
        ]
    }
    response = _send(api, "put", url, team)
    assert response.status_code == 200, response.content
    assert sorted(map(tuple, (m.values() for m in response.json()["members"]))) == sorted(
        (m["user"], m["role"]) for m in team["members"]
    )
    assert _send(api, "get", url).json() == response.json()
    smaller = {"members": [{"user": "therapist.north", "role": "therapist"}]}
    assert _send(api, "put", url, smaller).json() == smaller
    # The history keeps who left, when and by whom.
    ended = CareTeamMember.objects.filter(patient=patient).exclude(ended_at=None)
    assert {(m.user.username, m.role) for m in ended} == {
        ("prescriber.north", "prescriber"),
        ("nurse.north", "nurse"),
        ("nurse.north", "coach"),
    }
    assert {m.ended_by.username for m in ended} == {"therapist.north"}
    change = AuditEvent.objects.filter(action="therapy.care_team").order_by("-seq").first()
    assert change is not None
    assert change.changed_fields == ["coach.removed", "nurse.removed", "prescriber.removed"]


def test_a_member_from_another_location_or_without_a_fitting_role_is_named_and_nothing_saved(
    world: World,
) -> None:
    patient = world.patient("north")
    api = world.api("therapist.north")
    url = f"/api/v1/patients/{patient.pk}/care-team"
    _send(api, "put", url, {"members": [{"user": "therapist.north", "role": "therapist"}]})
    before = list(CareTeamMember.objects.values_list("pk", "ended_at"))
    for member, message in (
        ({"user": "nurse.south", "role": "nurse"}, "nurse.south is not a staff member"),
        ({"user": "frontdesk.north", "role": "coach"}, "frontdesk.north has no staff role"),
        ({"user": "nurse.north", "role": "therapist"}, "nurse.north has no staff role"),
        ({"user": "nobody", "role": "nurse"}, "nobody is not a staff member"),
    ):
        body = {"members": [{"user": "prescriber.north", "role": "prescriber"}, member]}
        response = _send(api, "put", url, body)
        assert response.status_code == 422, response.content
        assert response.json()["errors"]["members.1.user"].startswith(message)
    for bad, field in (({"members": [{"user": "x", "role": "boss"}]}, "members.0.role"), ({}, "members")):
        response = _send(api, "put", url, bad)
        assert response.status_code == 422
        assert field in response.json()["errors"]
    assert list(CareTeamMember.objects.values_list("pk", "ended_at")) == before


def test_a_therapy_session_is_scheduled_with_its_dose_session(world: World) -> None:
    patient = world.patient("north")
    dose = dose_session(patient)
    api = world.api("therapist.north")
    body = {
        "kind": "integration",
        "starts_at": _at(24),
        "duration_minutes": 50,
        "dose_session_id": str(dose.pk),
        "mode": "video",
    }
    response = _send(api, "post", f"/api/v1/patients/{patient.pk}/therapy-sessions", body)
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer.keys() == {"id", "kind", "status"}
    assert (answer["kind"], answer["status"]) == ("integration", "scheduled")
    session = TherapySession.objects.get(pk=answer["id"])
    assert (session.dose_session_id, session.mode, session.duration_minutes) == (dose.pk, "video", 50)
    low = {
        "kind": "low_dose_talk",
        "starts_at": _at(),
        "duration_minutes": 90,
        "dose_session_id": str(dose.pk),
    }
    response = _send(api, "post", f"/api/v1/patients/{patient.pk}/therapy-sessions", low)
    assert response.status_code == 201
    assert TherapySession.objects.get(pk=response.json()["id"]).dose_session == dose


def test_bad_sessions_are_refused_by_name_and_nothing_saved(world: World) -> None:
    patient, other = world.patient("north"), world.patient("north", 1)
    others_dose = dose_session(other)
    api = world.api("therapist.north")
    url = f"/api/v1/patients/{patient.pk}/therapy-sessions"
    base = {"kind": "preparation", "starts_at": _at(), "duration_minutes": 50}
    before_registration = (patient.created_at - dt.timedelta(days=1)).isoformat()
    cases = [
        ({**base, "kind": "massage"}, "kind"),
        ({**base, "starts_at": before_registration}, "starts_at"),
        ({**base, "starts_at": 1767225600}, "starts_at"),
        ({**base, "duration_minutes": 0}, "duration_minutes"),
        ({**base, "duration_minutes": "50"}, "duration_minutes"),
        ({**base, "mode": "phone"}, "mode"),
        ({**base, "dose_session_id": str(others_dose.pk)}, "dose_session_id"),
        ({**base, "dose_session_id": "not-a-uuid"}, "dose_session_id"),
        ({**base, "kind": "low_dose_talk"}, "dose_session_id"),
        ({**base, "chair_id": 999999}, "chair_id"),
        ({**base, "surprise": 1}, "surprise"),
    ]
    for body, field in cases:
        response = _send(api, "post", url, body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["errors"], (body, response.json())
    assert not TherapySession.objects.exists()
    registration = _send(api, "post", url, {**base, "starts_at": before_registration}).json()
    assert "registration" in registration["errors"]["starts_at"]


def test_a_note_is_drafted_signed_locked_and_amended(world: World) -> None:
    patient = world.patient("north")
    session = therapy_session(patient, "integration")
    api = world.api("therapist.north")
    body = {"template": "integration", "content": {"experience": "Felt held", "homework": "Journal"}}
    response = _send(api, "post", f"/api/v1/therapy-sessions/{session.pk}/notes", body)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "draft" and response.json().keys() == {"id", "status"}
    note_id = response.json()["id"]
    # Sent again while a draft: the same note, its content replaced.
    again = {"template": "integration", "content": {"experience": "Felt held", "insights": "Kinder to self"}}
    assert _send(api, "post", f"/api/v1/therapy-sessions/{session.pk}/notes", again).json()["id"] == note_id
    read = _send(api, "get", f"/api/v1/notes/{note_id}").json()
    assert read["content"] == again["content"] and read["status"] == "draft"
    signed = _send(api, "post", f"/api/v1/notes/{note_id}/sign", {})
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    assert TherapySession.objects.get(pk=session.pk).status == "completed"
    # Writing it again is refused, naming the amendment route.
    refused = _send(api, "post", f"/api/v1/therapy-sessions/{session.pk}/notes", again)
    assert refused.status_code == 409
    assert f"POST /api/v1/notes/{note_id}/amendments" in " ".join(refused.json()["reasons"])
    assert _send(api, "post", f"/api/v1/notes/{note_id}/sign", {}).status_code == 409
    amendment = {"reason": "Late entry", "content": {"homework": "Walk daily"}}
    made = _send(api, "post", f"/api/v1/notes/{note_id}/amendments", amendment)
    assert made.status_code == 201, made.content
    assert (made.json()["amended_by"], made.json()["reason"]) == ("therapist.north", "Late entry")
    read = _send(api, "get", f"/api/v1/notes/{note_id}").json()
    assert read["content"] == again["content"]  # the signed words stay as signed
    assert [a["content"] for a in read["amendments"]] == [{"homework": "Walk daily"}]


def test_bad_notes_are_refused_by_name_and_nothing_saved(world: World) -> None:
    patient = world.patient("north")
    session = therapy_session(patient, "preparation")
    api = world.api("therapist.north")
    url = f"/api/v1/therapy-sessions/{session.pk}/notes"
    for body, field in (
        ({"template": "dream", "content": {"x": "y"}}, "template"),
        ({"template": "integration", "content": {"experience": "x"}}, "template"),  # not for preparation
        ({"template": "preparation", "content": {"homework": "x"}}, "content"),
        ({"template": "preparation", "content": {}}, "content"),
        ({"template": "preparation", "content": "free text"}, "content"),
        (
            {"template": "preparation", "content": {"intentions": "x"}, "psychotherapy_note": "yes"},
            "psychotherapy_note",
        ),
        ({"content": {"intentions": "x"}}, "template"),
    ):
        response = _send(api, "post", url, body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["errors"], (body, response.json())
    assert not TherapyNote.objects.exists()
    signed = note(session, template="preparation", sign=True, intentions="Rest")
    amend = f"/api/v1/notes/{signed.pk}/amendments"
    for body, field in (
        ({"reason": "", "content": {"intentions": "x"}}, "reason"),
        ({"reason": "Late", "content": {"homework": "x"}}, "content"),
    ):
        response = _send(api, "post", amend, body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["errors"]
    assert not NoteAmendment.objects.exists()
    draft = note(therapy_session(patient, "preparation"), template="preparation", intentions="x")
    response = _send(
        api, "post", f"/api/v1/notes/{draft.pk}/amendments", {"reason": "r", "content": {"intentions": "y"}}
    )
    assert response.status_code == 409


def test_only_the_author_signs(world: World) -> None:
    patient = world.patient("north")
    draft = note(
        therapy_session(patient, "kap"), template="kap", by=world.user("prescriber.north"), in_session="x"
    )
    response = _send(world.api("therapist.north"), "post", f"/api/v1/notes/{draft.pk}/sign", {})
    assert response.status_code == 409
    assert TherapyNote.objects.get(pk=draft.pk).status == "draft"


def test_a_therapist_here_who_is_only_a_front_desk_there_schedules_here_and_only_reads_there(
    world: World,
) -> None:
    """Roles are per location: therapy written at north, the schedule only read at south."""
    from ketaclinic.accounts.actions import do_grant_role
    from ketaclinic.accounts.models import ClinicLocation

    do_grant_role(
        world.user("therapist.north"),
        ClinicLocation.objects.get(slug="south"),
        "front_desk",
        actor=world.user("admin.south"),
    )
    north, south = world.patient("north"), world.patient("south")
    api = world.api("therapist.north")
    body = {"kind": "preparation", "starts_at": _at(), "duration_minutes": 50}
    assert _send(api, "post", f"/api/v1/patients/{north.pk}/therapy-sessions", body).status_code == 201
    assert _send(api, "post", f"/api/v1/patients/{south.pk}/therapy-sessions", body).status_code == 403
    assert _send(api, "get", f"/api/v1/patients/{south.pk}/care-team").status_code == 200
    team = {"members": [{"user": "therapist.south", "role": "therapist"}]}
    assert _send(api, "put", f"/api/v1/patients/{south.pk}/care-team", team).status_code == 403
    southern = note(therapy_session(south, "integration"), sign=True)
    assert _send(api, "get", f"/api/v1/notes/{southern.pk}").status_code == 403
    assert not TherapySession.objects.filter(patient=south, created_by__username="therapist.north").exists()
    assert not CareTeamMember.objects.filter(patient=south).exists()
    page = world.client("therapist.north").get(f"/therapy/sessions/{southern.session_id}/")
    assert page.status_code == 200 and b"Calm" not in page.content


def test_a_nurse_reads_integration_notes_but_writes_none(world: World) -> None:
    patient = world.patient("north")
    written = note(therapy_session(patient, "integration"), sign=True, experience="Saw colours")
    api = world.api("nurse.north")
    response = _send(api, "get", f"/api/v1/notes/{written.pk}")
    assert response.status_code == 200 and response.json()["content"] == {"experience": "Saw colours"}
    amend = {"reason": "Late", "content": {"themes": "x"}}
    assert _send(api, "post", f"/api/v1/notes/{written.pk}/amendments", amend).status_code == 403
    body = {"template": "integration", "content": {"experience": "x"}}
    assert _send(api, "post", f"/api/v1/therapy-sessions/{written.session_id}/notes", body).status_code == 403
    assert not NoteAmendment.objects.exists() and TherapyNote.objects.count() == 1


def test_unknown_ids_are_not_found(world: World) -> None:
    api = world.api("therapist.north")
    for url in ("/api/v1/notes/00000000-0000-4000-8000-000000000000", "/api/v1/notes/not-a-uuid"):
        response = _send(api, "get", url)
        assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    body = {"template": "integration", "content": {"experience": "x"}}
    url = "/api/v1/therapy-sessions/00000000-0000-4000-8000-000000000000/notes"
    assert _send(api, "post", url, body).status_code == 404


def test_a_care_team_change_over_one_not_seen_is_refused_with_412(world: World) -> None:
    patient = world.patient("north")
    url = f"/api/v1/patients/{patient.pk}/care-team"
    nurse, therapist = world.api("nurse.north"), world.api("therapist.north")
    etag = _send(nurse, "get", url)["ETag"]
    changed = _send(therapist, "put", url, {"members": [{"user": "therapist.north", "role": "therapist"}]})
    assert changed.status_code == 200 and changed["ETag"] != etag
    stale = _send(
        nurse, "put", url, {"members": [{"user": "nurse.north", "role": "nurse"}]}, **{"If-Match": etag}
    )
    assert stale.status_code == 412
    assert _send(nurse, "get", url).json() == {"members": [{"user": "therapist.north", "role": "therapist"}]}
    fresh = _send(nurse, "put", url, {"members": []}, **{"If-Match": changed["ETag"]})
    assert fresh.status_code == 200 and fresh.json() == {"members": []}
    assert _send(nurse, "put", url, {"members": []}, **{"If-Match": "junk"}).status_code == 412
