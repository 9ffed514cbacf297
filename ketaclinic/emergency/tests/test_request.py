"""Asking for emergency access: who may, what must be given first, what is found, and what is recorded."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest
from django.test import Client, override_settings

from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.emergency.models import EmergencyGrant
from ketaclinic.emergency.tests.support import REASON, elsewhere, form
from ketaclinic.patients.actions import do_mark_patient_entered_in_error
from ketaclinic.patients.inputs import EnteredInError
from ketaclinic.patients.tests.pages import field_errors

if TYPE_CHECKING:
    from conftest import World


@pytest.mark.parametrize("who", ["nurse.south", "prescriber.south"])
def test_a_nurse_or_prescriber_of_another_location_opens_the_chart_with_a_reason(
    world: World, who: str
) -> None:
    patient = world.patient("north")
    client = world.client(who)
    assert client.get("/emergency/").status_code == 200
    response = client.post("/emergency/", form(patient))
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    grant = EmergencyGrant.objects.get()
    assert (grant.user.username, grant.patient_id, grant.location.slug) == (who, patient.pk, "north")
    assert grant.reason == REASON
    assert (grant.expires_at - grant.granted_at).total_seconds() == 60 * 60  # the default policy
    chart = client.get(response["Location"])
    assert chart.status_code == 200 and patient.family_name in chart.content.decode()


@override_settings(KETACLINIC_BREAK_GLASS_MINUTES=15)
def test_the_grant_lasts_the_policys_minutes(world: World) -> None:
    world.client("nurse.south").post("/emergency/", form(world.patient("north")))
    grant = EmergencyGrant.objects.get()
    assert (grant.expires_at - grant.granted_at).total_seconds() == 15 * 60


@pytest.mark.parametrize("who", ["frontdesk.south", "therapist.south", "admin.south"])
def test_other_roles_may_not_break_the_glass(world: World, who: str) -> None:
    patient = world.patient("north")
    client = world.client(who)
    denials = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    assert client.get("/emergency/").status_code == 403
    response = client.post("/emergency/", form(patient))
    assert response.status_code == 403
    assert patient.family_name.encode() not in response.content
    assert not EmergencyGrant.objects.exists()
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == denials + 2
    assert client.get(f"/patients/{patient.pk}/").status_code in (403, 404)


def test_anonymous_users_are_sent_to_sign_in(world: World) -> None:
    patient = world.patient("north")
    for response in (Client().get("/emergency/"), Client().post("/emergency/", form(patient))):
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not EmergencyGrant.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "  urgent   please  "}, "reason"),  # too short once spaces are squeezed
        ({"confirm": None}, "confirm"),
        ({"mrn": ""}, "family_name"),  # neither an MRN nor a name
        ({"family_name": "Someone"}, "mrn"),  # both ways at once
        ({"mrn": "drop table"}, "mrn"),
    ],
)
def test_nothing_is_looked_up_without_a_reason_and_a_confirmation(
    world: World, changes: dict[str, str | None], field: str
) -> None:
    patient = world.patient("north")
    data = {k: v for k, v in {**form(patient), **changes}.items() if v is not None}
    before = AuditEvent.objects.count()
    response = world.client("nurse.south").post("/emergency/", data)
    assert response.status_code == 422
    assert field in field_errors(response)
    page = response.content.decode()
    assert patient.family_name not in page and patient.given_name not in page
    assert not EmergencyGrant.objects.exists()
    assert AuditEvent.objects.count() == before  # no lookup happened, so none is recorded


def test_a_reason_with_nul_characters_is_refused_by_name_before_any_lookup(world: World) -> None:
    patient = world.patient("north")
    before = AuditEvent.objects.count()
    response = world.client("nurse.south").post("/emergency/", form(patient, reason="x\x00" * 20))
    assert response.status_code == 422 and "reason" in response.content.decode()
    assert patient.family_name not in response.content.decode()
    assert not EmergencyGrant.objects.exists() and AuditEvent.objects.count() == before


def test_the_shortest_reason_is_the_policys(world: World) -> None:
    patient = world.patient("north")
    with override_settings(KETACLINIC_BREAK_GLASS_REASON_MIN_CHARS=40):
        response = world.client("nurse.south").post("/emergency/", form(patient, reason="a" * 39))
    assert response.status_code == 422 and "40 characters" in field_errors(response)["reason"]


def test_the_patient_is_found_by_exact_name_and_birth_date(world: World) -> None:
    patient = world.patient("north", 1)
    response = world.client("prescriber.south").post(
        "/emergency/",
        form(
            patient,
            mrn="",
            given_name=patient.given_name.upper(),
            family_name=f"  {patient.family_name.lower()} ",
            date_of_birth=patient.date_of_birth.isoformat(),
        ),
    )
    assert response.status_code == 302
    assert EmergencyGrant.objects.get().patient_id == patient.pk
    event = AuditEvent.objects.get(action=Action.EMERGENCY_GRANT)
    assert event.changed_fields == ["date_of_birth", "family_name", "given_name", "reason"]


def test_an_mrn_is_found_however_it_is_typed(world: World) -> None:
    patient = world.patient("north", 2)
    number = patient.mrn.removeprefix("KC-")
    client = world.client("nurse.south")
    for typed in (patient.mrn.lower(), number, str(int(number))):
        assert client.post("/emergency/", form(patient, mrn=typed)).status_code == 302
    assert {g.patient_id for g in EmergencyGrant.objects.all()} == {patient.pk}


def test_a_name_that_matches_no_one_or_half_a_name_reveals_no_one(world: World) -> None:
    patient = world.patient("north")
    client = world.client("nurse.south")
    by_name = form(
        patient,
        mrn="",
        given_name=patient.given_name[:-1],  # a prefix is not the name
        family_name=patient.family_name,
        date_of_birth=patient.date_of_birth.isoformat(),
    )
    response = client.post("/emergency/", by_name)
    assert response.status_code == 422 and "family_name" in field_errors(response)
    assert patient.mrn not in response.content.decode()
    assert not EmergencyGrant.objects.exists()
    failed = AuditEvent.objects.get(action=Action.EMERGENCY_GRANT)
    assert failed.outcome == Outcome.FAILURE and failed.patient_id is None
    assert failed.changed_fields == ["date_of_birth", "family_name", "given_name", "reason"]


def test_two_patients_with_one_name_and_birth_date_need_the_mrn(world: World) -> None:
    from ketaclinic.patients import inputs
    from ketaclinic.patients.actions import do_register_patient
    from ketaclinic.patients.models import Sex

    north = world.patient("north")
    twin = inputs.PatientCreate(
        location="north",
        given_name=north.given_name,
        family_name=north.family_name,
        date_of_birth=north.date_of_birth,
        sex=Sex.UNKNOWN,
        confirm_duplicate=True,
    )
    do_register_patient(twin, actor=world.user("frontdesk.north"))
    response = world.client("nurse.south").post(
        "/emergency/",
        form(
            north,
            mrn="",
            given_name=north.given_name,
            family_name=north.family_name,
            date_of_birth=north.date_of_birth.isoformat(),
        ),
    )
    assert response.status_code == 422 and "enter the MRN" in field_errors(response)["mrn"]
    assert north.mrn not in response.content.decode()
    assert not EmergencyGrant.objects.exists()


def test_a_patient_of_ones_own_location_needs_no_emergency_access(world: World) -> None:
    response = world.client("nurse.south").post("/emergency/", form(world.patient("south")))
    assert response.status_code == 422 and "open the chart from Patients" in field_errors(response)["mrn"]
    assert not EmergencyGrant.objects.exists()


def test_a_registration_entered_in_error_is_never_found(world: World) -> None:
    patient = world.patient("north")
    do_mark_patient_entered_in_error(
        patient, EnteredInError(reason="registered twice"), actor=world.user("frontdesk.north")
    )
    response = world.client("nurse.south").post("/emergency/", form(patient))
    assert response.status_code == 422 and not EmergencyGrant.objects.exists()


def test_never_across_clinic_networks(world: World) -> None:
    """A nurse of another network finds none of this network's patients, even by a valid MRN."""
    nurse, theirs = elsewhere()
    client = Client()
    client.force_login(nurse)
    demo_patient = world.patient("north", 3)
    assert demo_patient.mrn != theirs.mrn  # their own KC-000001 is theirs, and readable anyway
    response = client.post("/emergency/", form(demo_patient))
    assert response.status_code == 422
    assert demo_patient.family_name not in response.content.decode()
    assert not EmergencyGrant.objects.exists()
    assert client.get(f"/patients/{demo_patient.pk}/").status_code == 404
    # And the other way: no one of the demo network finds their patient.
    response = world.client("nurse.north").post("/emergency/", form(theirs))
    assert response.status_code == 422 and not EmergencyGrant.objects.exists()


def test_the_grant_is_audited_by_its_id_and_the_reason_is_in_no_log(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    patient = world.patient("north")
    caplog.set_level(logging.DEBUG)
    client = world.client("nurse.south")
    response = client.post("/emergency/", form(patient))
    client.get(response["Location"])
    grant = EmergencyGrant.objects.get()
    event = AuditEvent.objects.get(action=Action.EMERGENCY_GRANT)
    assert (event.object_type, event.object_id) == ("EmergencyGrant", str(grant.pk))
    assert (event.actor_id, event.patient_id, event.location_id) == (
        grant.user_id,
        patient.pk,
        patient.location_id,
    )
    assert event.outcome == Outcome.SUCCESS and event.changed_fields == ["mrn", "reason"]
    for row in AuditEvent.objects.values():
        assert "waiting room" not in repr(row)
    assert "waiting room" not in caplog.text
    assert patient.mrn not in caplog.text and patient.family_name not in caplog.text


def test_the_request_page_lists_ones_open_access_and_records_that_it_named_patients(world: World) -> None:
    patient = world.patient("north")
    client = world.client("nurse.south")
    client.post("/emergency/", form(patient))
    before = AuditEvent.objects.filter(action=Action.PATIENT_LIST).count()
    page = client.get("/emergency/").content.decode()
    assert patient.mrn in page and f"/patients/{patient.pk}/" in page
    assert AuditEvent.objects.filter(action=Action.PATIENT_LIST).count() == before + 1
    # Another clinician's page shows none of it.
    other = world.client("prescriber.south").get("/emergency/").content.decode()
    assert patient.mrn not in other


@pytest.mark.parametrize("who", ["frontdesk.south", "therapist.south", "admin.south"])
def test_the_action_itself_refuses_other_roles(world: World, who: str) -> None:
    from ketaclinic.emergency.actions import do_open_emergency_access
    from ketaclinic.emergency.inputs import EmergencyAccessIn
    from ketaclinic.errors import Forbidden

    data = EmergencyAccessIn(mrn=world.patient("north").mrn, reason=REASON, confirm=True)
    with pytest.raises(Forbidden):
        do_open_emergency_access(data, actor=world.user(who))
    assert not EmergencyGrant.objects.exists()
    assert AuditEvent.objects.filter(actor__username=who, outcome=Outcome.DENIED).exists()
