"""Psychotherapy-note privacy: a psychotherapy note is seen by its author and by the staff the permission
table names (the location's therapists, each read with a reason, kept and audited); to everyone else it does
not exist (404, never 403). A marker planted in the note is looked for on every route that could leak it:
the chart and its panel, the therapy and session pages, the patient's API read, search, the audit trail's
pages and export."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.therapy.models import NoteAccess, NoteAmendment, TherapyNote
from ketaclinic.therapy.tests.helpers import MARKER, note, therapy_session

if TYPE_CHECKING:
    from conftest import World

REASON = "Covering while the author is away"


def _private(world: World) -> TherapyNote:
    """A signed psychotherapy note by a second therapist of north (beside their ordinary note), so that the
    demo's therapist.north is a colleague the permission table names, not the author."""
    from ketaclinic.accounts.actions import do_grant_role
    from ketaclinic.accounts.models import ClinicLocation, User

    patient = world.patient("north")
    author = User.objects.create_user(
        "therapist2.north", password="x" * 20, network=world.network("therapist.north")
    )
    do_grant_role(
        author, ClinicLocation.objects.get(slug="north"), "therapist", actor=world.user("admin.north")
    )
    session = therapy_session(patient, "integration", by=author)
    note(session, by=author, sign=True, experience="An ordinary integration note")
    return note(session, by=author, psychotherapy=True, sign=True, experience=f"{MARKER} process notes")


def _get(client: Any, url: str, **headers: str) -> Any:
    return client.get(url, headers=headers)


def test_the_author_reads_their_psychotherapy_note_without_a_reason(world: World) -> None:
    private = _private(world)
    api = world.api("therapist2.north")
    response = _get(api, f"/api/v1/notes/{private.pk}")
    assert response.status_code == 200 and MARKER in response.json()["content"]["experience"]
    page = world.client("therapist2.north").get(f"/therapy/notes/{private.pk}/")
    assert page.status_code == 200 and MARKER.encode() in page.content
    assert not NoteAccess.objects.exists()


@pytest.mark.parametrize(
    "who",
    ["nurse.north", "prescriber.north", "frontdesk.north", "admin.north", "nurse.south", "therapist.south"],
)
def test_everyone_else_gets_not_found_and_the_refusal_is_audited(world: World, who: str) -> None:
    private = _private(world)
    denied_before = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    response = _get(world.api(who), f"/api/v1/notes/{private.pk}", **{"Access-Reason": REASON})
    assert response.status_code == (403 if who == "admin.north" else 404), (who, response.status_code)
    assert MARKER.encode() not in response.content
    page = world.client(who).get(f"/therapy/notes/{private.pk}/")
    assert page.status_code == (403 if who == "admin.north" else 404)
    assert MARKER.encode() not in page.content
    for url, body in (
        (f"/api/v1/notes/{private.pk}/sign", {}),
        (f"/api/v1/notes/{private.pk}/amendments", {"reason": "r", "content": {"themes": "x"}}),
    ):
        answer = world.api(who).post(url, data=json.dumps(body), content_type="application/json")
        assert answer.status_code in (403, 404)
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() >= denied_before + 2
    assert not NoteAccess.objects.exists() and not NoteAmendment.objects.exists()


def test_a_colleague_the_policy_names_reads_only_with_a_reason_kept_and_audited(world: World) -> None:
    private = _private(world)
    api = world.api("therapist.north")
    url = f"/api/v1/notes/{private.pk}"
    missing = _get(api, url)
    assert missing.status_code == 422 and "Access-Reason" in missing.json()["errors"]
    assert MARKER.encode() not in missing.content
    response = _get(api, url, **{"Access-Reason": REASON})
    assert response.status_code == 200 and MARKER in response.json()["content"]["experience"]
    access = NoteAccess.objects.get()
    assert (access.user.username, access.reason) == ("therapist.north", REASON)
    event = AuditEvent.objects.get(action=Action.PSYCHOTHERAPY_NOTE_READ)
    assert (event.object_type, event.object_id, event.patient_id) == (
        "NoteAccess",
        str(access.pk),
        private.patient_id,
    )
    # The page asks for the reason first, POSTed (never in a URL), and shows no word of the note before it.
    client = world.client("therapist.north")
    form = client.get(f"/therapy/notes/{private.pk}/")
    assert (
        form.status_code == 200 and MARKER.encode() not in form.content and b'name="reason"' in form.content
    )
    assert client.post(f"/therapy/notes/{private.pk}/", {"reason": ""}).status_code == 422
    shown = client.post(f"/therapy/notes/{private.pk}/", {"reason": "Supervision"})
    assert shown.status_code == 200 and MARKER.encode() in shown.content
    assert NoteAccess.objects.count() == 2
    # A colleague reads but never signs or amends another's psychotherapy note.
    amend = {"reason": "r", "content": {"themes": "x"}}
    answer = api.post(f"{url}/amendments", data=json.dumps(amend), content_type="application/json")
    assert answer.status_code == 403


def test_the_marker_appears_on_no_route_that_could_leak_it(world: World) -> None:
    private = _private(world)
    patient = world.patient("north")
    session_id = private.session_id
    pages = [
        f"/patients/{patient.pk}/",
        f"/therapy/patients/{patient.pk}/",
        f"/therapy/patients/{patient.pk}/panel/",
        f"/therapy/sessions/{session_id}/",
    ]
    for who in ("therapist.north", "nurse.north", "prescriber.north", "frontdesk.north", "therapist2.north"):
        client = world.client(who)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (who, url)
            assert MARKER.encode() not in response.content, (who, url)
        api = world.api(who)
        for url in (
            f"/api/v1/patients/{patient.pk}",
            f"/api/v1/patients/{patient.pk}/care-team",
            "/api/v1/patients",
        ):
            response = api.get(url)
            assert response.status_code == 200 and MARKER.encode() not in response.content, (who, url)
        found = api.post(
            "/api/v1/patients/search", data=json.dumps({"q": MARKER}), content_type="application/json"
        )
        assert found.status_code == 200 and found.json()["count"] == 0
        listed = client.post("/patients/", {"q": MARKER})  # the page echoes the words searched for
        assert listed.status_code == 200 and b"No patients match that search" in listed.content
    # Only the author and the colleagues the policy names see it listed on the session page.
    nurse_view = world.client("nurse.north").get(f"/therapy/sessions/{session_id}/")
    assert str(private.pk).encode() not in nurse_view.content
    assert b"An ordinary integration note" not in nurse_view.content  # no note's words, only its title
    assert (
        str(private.pk).encode()
        in world.client("therapist2.north").get(f"/therapy/sessions/{session_id}/").content
    )
    # The audit trail's pages and its export carry field names, never the note's words.
    world.api("therapist.north").get(f"/api/v1/notes/{private.pk}", headers={"Access-Reason": REASON})
    admin = world.client("admin.north")
    review = admin.get("/audit/")
    assert (
        review.status_code == 200
        and MARKER.encode() not in review.content
        and REASON.encode() not in review.content
    )
    export = admin.post("/audit/", {"export": "csv"})
    assert export.status_code == 200
    assert MARKER.encode() not in export.content and REASON.encode() not in export.content
    assert b"therapy.psychotherapy_note_read" in export.content
    assert not AuditEvent.objects.filter(changed_fields__icontains=MARKER).exists()
