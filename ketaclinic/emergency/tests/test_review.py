"""The review of emergency access by the clinic admins of the patient's location."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ketaclinic.accounts.actions import do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.emergency.actions import do_review_emergency_access
from ketaclinic.emergency.inputs import ReviewIn
from ketaclinic.emergency.models import EmergencyGrant
from ketaclinic.emergency.tests.support import REASON, open_access
from ketaclinic.errors import Forbidden
from ketaclinic.patients.tests.pages import field_errors

if TYPE_CHECKING:
    from conftest import World


def _grant_card(page: str, grant: EmergencyGrant) -> str:
    start = page.index(f'id="grant-{grant.pk}"')
    end = page.find("</article>", start)
    return page[start:end]


def test_the_locations_admins_see_who_when_which_patient_why_and_what_was_read(world: World) -> None:
    patient = world.patient("north")
    grant = open_access(world, "nurse.south", patient)
    nurse = world.client("nurse.south")
    nurse.get(f"/patients/{patient.pk}/")
    nurse.post(f"/patients/{patient.pk}/conditions/", {"code": "hypertension"})  # refused: read-only
    world.api("nurse.south").get(f"/api/v1/patients/{patient.pk}/allergies")
    before = AuditEvent.objects.filter(action=Action.AUDIT_READ).count()
    response = world.client("admin.north").get("/emergency/review/")
    assert response.status_code == 200
    card = _grant_card(response.content.decode(), grant)
    assert "Noah Nurse (South)" in card and "nurse.south" in card
    assert patient.mrn in card and "North Clinic" in card
    assert REASON.split(";")[0] in card
    assert "to review" in card
    assert "3 requests" in card and "chart and demographics" in card and "allergies" in card
    assert "refused attempts" in card and "refused (not allowed under emergency access)" in card
    assert patient.family_name not in card  # admins see the MRN, as in the audit trail
    assert AuditEvent.objects.filter(action=Action.AUDIT_READ).count() == before + 1


def test_another_locations_admins_see_none_of_it(world: World) -> None:
    grant = open_access(world, "nurse.south", world.patient("north"))
    page = world.client("admin.south").get("/emergency/review/").content.decode()
    assert f'id="grant-{grant.pk}"' not in page and grant.patient.mrn not in page
    assert "No emergency access" in page


@pytest.mark.parametrize("who", ["nurse.north", "prescriber.north", "therapist.north", "frontdesk.north"])
def test_the_review_is_for_clinic_admins(world: World, who: str) -> None:
    grant = open_access(world, "nurse.south", world.patient("north"))
    client = world.client(who)
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    assert client.get("/emergency/review/").status_code == 403
    assert client.post(f"/emergency/review/{grant.pk}/").status_code == 403
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 2
    grant.refresh_from_db()
    assert grant.reviewed_at is None


def test_anonymous_users_are_sent_to_sign_in(world: World) -> None:
    grant = open_access(world, "nurse.south", world.patient("north"))
    for response in (Client().get("/emergency/review/"), Client().post(f"/emergency/review/{grant.pk}/")):
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_marking_reviewed_is_recorded(world: World) -> None:
    patient = world.patient("north")
    grant = open_access(world, "nurse.south", patient)
    admin = world.client("admin.north")
    response = admin.post(f"/emergency/review/{grant.pk}/", {"note": "Confirmed with the south clinic"})
    assert response.status_code == 302 and response["Location"] == f"/emergency/review/#grant-{grant.pk}"
    grant.refresh_from_db()
    assert grant.reviewed_by is not None and grant.reviewed_by.username == "admin.north"
    assert grant.review_note == "Confirmed with the south clinic"
    event = AuditEvent.objects.get(action=Action.EMERGENCY_REVIEW)
    assert (event.object_id, event.patient_id, event.location_id) == (
        str(grant.pk),
        patient.pk,
        patient.location_id,
    )
    assert event.changed_fields == ["review_note", "reviewed_at"]
    card = _grant_card(admin.get("/emergency/review/").content.decode(), grant)
    assert "reviewed" in card and "to review" not in card and "Confirmed with the south clinic" in card
    assert 'action="/emergency/review/' not in card
    # A second review (a double click, another admin) keeps the first.
    admin.post(f"/emergency/review/{grant.pk}/", {"note": "again"})
    grant.refresh_from_db()
    assert grant.review_note == "Confirmed with the south clinic"
    assert AuditEvent.objects.filter(action=Action.EMERGENCY_REVIEW).count() == 1


def test_an_admin_of_another_location_cannot_mark_it_reviewed(world: World) -> None:
    grant = open_access(world, "nurse.south", world.patient("north"))
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    response = world.client("admin.south").post(f"/emergency/review/{grant.pk}/", {"note": "fine"})
    assert response.status_code == 404 and grant.patient.mrn.encode() not in response.content
    assert world.client("admin.south").post("/emergency/review/999999/").status_code == 404
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 2
    grant.refresh_from_db()
    assert grant.reviewed_at is None


def test_no_one_reviews_their_own_emergency_access(world: World) -> None:
    """An admin of north who is a nurse at south may break the glass at north, and not review it."""
    patient = world.patient("north")
    admin = world.user("admin.north")
    do_grant_role(admin, ClinicLocation.objects.get(slug="south"), "nurse", actor=world.user("admin.south"))
    grant = open_access(world, "admin.north", patient)
    client = world.client("admin.north")
    card = _grant_card(client.get("/emergency/review/").content.decode(), grant)
    assert "your own emergency access" in card and "Mark reviewed" not in card
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    assert client.post(f"/emergency/review/{grant.pk}/").status_code == 403
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 1
    with pytest.raises(Forbidden):
        do_review_emergency_access(grant, ReviewIn(), actor=admin)
    grant.refresh_from_db()
    assert grant.reviewed_at is None


def test_a_refused_note_is_named_beside_its_field(world: World) -> None:
    grant = open_access(world, "nurse.south", world.patient("north"))
    response = world.client("admin.north").post(f"/emergency/review/{grant.pk}/", {"note": "x" * 501})
    assert response.status_code == 422 and f"note-{grant.pk}" in field_errors(response)
    grant.refresh_from_db()
    assert grant.reviewed_at is None


def test_grants_to_review_come_first(world: World) -> None:
    first = open_access(world, "nurse.south", world.patient("north", 0))
    second = open_access(world, "prescriber.south", world.patient("north", 1))
    do_review_emergency_access(second, ReviewIn(), actor=world.user("admin.north"))
    third = open_access(world, "nurse.south", world.patient("north", 2))
    page = world.client("admin.north").get("/emergency/review/").content.decode()
    order = [int(pk) for pk in re.findall(r'id="grant-(\d+)"', page)]
    assert order == [third.pk, first.pk, second.pk]


# Session, user, grants; count and page of grants; the reads under them; the audit row (bump, insert, head).
REVIEW_PAGE_QUERIES = 9


@pytest.mark.parametrize("grants", [1, 12])
def test_the_review_page_query_count_is_pinned_and_flat(world: World, grants: int) -> None:
    patients = [world.patient("north", i % 4) for i in range(grants)]
    nurse = world.client("nurse.south")
    for patient in patients:
        open_access(world, "nurse.south", patient)
        nurse.get(f"/patients/{patient.pk}/")
    admin = world.client("admin.north")
    admin.get("/emergency/review/")  # the first request sets the session's last-seen time
    with CaptureQueriesContext(connection) as ctx:
        response = admin.get("/emergency/review/")
    assert response.status_code == 200
    assert len(ctx.captured_queries) == REVIEW_PAGE_QUERIES


def test_the_review_action_itself_refuses_another_locations_admin(world: World) -> None:
    grant = open_access(world, "nurse.south", world.patient("north"))
    with pytest.raises(Forbidden):
        do_review_emergency_access(grant, ReviewIn(), actor=world.user("admin.south"))
    grant.refresh_from_db()
    assert grant.reviewed_at is None
