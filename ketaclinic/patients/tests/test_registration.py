"""Registration: KetaClinic assigns the MRN; an external MRN is unique per location (case and spaces
ignored); a possible duplicate needs confirmation; a registration made by mistake is marked entered in
error, kept and hidden. Pages and API alike."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients import actions, inputs
from ketaclinic.patients.models import MrnSequence, Patient
from ketaclinic.patients.tests.pages import field_errors

if TYPE_CHECKING:
    from conftest import World

PERSON = {
    "location": "north",
    "given_name": "Rosa",
    "family_name": "Lindqvist",
    "date_of_birth": "1966-09-12",
    "sex": "female",
}


def api_post(world: World, url: str, body: dict[str, Any], who: str = "frontdesk.north") -> Any:
    return world.api(who).post(url, json.dumps(body), content_type="application/json")


def test_mrns_come_from_the_networks_sequence(world: World) -> None:
    first = api_post(world, "/api/v1/patients", PERSON).json()["mrn"]
    second = api_post(world, "/api/v1/patients", {**PERSON, "given_name": "Other"}).json()["mrn"]
    assert re.fullmatch(r"KC-\d{6}", first)
    assert int(second[3:]) == int(first[3:]) + 1
    assert MrnSequence.objects.get().last_value == int(second[3:])
    # The demo's earlier numbers were handed out the same way: unique across both locations.
    assert Patient.objects.values("mrn").distinct().count() == Patient.objects.count()


def test_a_refused_registration_gives_its_number_back(world: World) -> None:
    before = MrnSequence.objects.get().last_value
    api_post(world, "/api/v1/patients", {**PERSON, "sex": "robot"})
    api_post(world, "/api/v1/patients", {**PERSON, "antidepressant_trials": [{"drug": "sertraline"}]})
    assert MrnSequence.objects.get().last_value == before


def test_the_mrn_cannot_be_typed(world: World) -> None:
    response = api_post(world, "/api/v1/patients", {**PERSON, "mrn": "KC-999999"})
    assert response.status_code == 422 and "mrn" in response.json()["errors"]
    page = world.client("frontdesk.north").get("/patients/new/").content.decode()
    assert 'name="mrn"' not in page
    registered = world.client("frontdesk.north").post("/patients/new/", {**PERSON, "mrn": "KC-999999"})
    assert registered.status_code == 302
    assert not Patient.objects.filter(mrn="KC-999999").exists()


@pytest.mark.parametrize("again", ["N100001", "n100001", "  N100001 ", "N100001\t"])
def test_an_external_mrn_repeated_at_a_location_is_refused_on_page_and_api(world: World, again: str) -> None:
    # The demo registered north's first patient with external MRN N100001.
    response = api_post(world, "/api/v1/patients", {**PERSON, "external_mrn": again})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["external_mrn"]
    page = world.client("frontdesk.north").post("/patients/new/", {**PERSON, "external_mrn": again})
    assert page.status_code == 422 and "already used" in field_errors(page)["external_mrn"]
    assert not Patient.objects.filter(given_name="Rosa").exists()


def test_an_external_mrn_may_repeat_at_another_location(world: World) -> None:
    response = api_post(
        world,
        "/api/v1/patients",
        {**PERSON, "location": "south", "external_mrn": "n100001"},
        "frontdesk.south",
    )
    assert response.status_code == 201, response.content
    assert response.json()["external_mrn"] == "n100001"


def test_an_update_cannot_take_another_patients_external_mrn(world: World) -> None:
    patient = world.patient("north", 1)
    url = f"/api/v1/patients/{patient.pk}"
    taken = world.api("frontdesk.north").patch(
        url,
        json.dumps({"external_mrn": " n100001"}),
        content_type="application/json",
        headers={"If-Match": '"1"'},
    )
    assert taken.status_code == 422 and "external_mrn" in taken.json()["errors"]
    mine = world.api("frontdesk.north").patch(
        url,
        json.dumps({"external_mrn": "NEW-1"}),
        content_type="application/json",
        headers={"If-Match": '"1"'},
    )
    assert mine.status_code == 200 and mine.json()["external_mrn"] == "NEW-1"


def test_a_possible_duplicate_needs_confirmation_over_the_api(world: World) -> None:
    existing = world.patient("north", 2)
    same = {
        **PERSON,
        "given_name": existing.given_name.upper(),
        "family_name": f" {existing.family_name.lower()} ",
        "date_of_birth": existing.date_of_birth.isoformat(),
    }
    before = Patient.objects.count()
    refused = api_post(world, "/api/v1/patients", same)
    assert refused.status_code == 409
    assert refused.json()["duplicates"] == [str(existing.pk)]
    assert Patient.objects.count() == before
    confirmed = api_post(world, "/api/v1/patients", {**same, "confirm_duplicate": True})
    assert confirmed.status_code == 201


def test_a_possible_duplicate_needs_confirmation_on_the_page(world: World) -> None:
    existing = world.patient("north", 2)
    same = {**PERSON, "given_name": existing.given_name, "family_name": existing.family_name}
    same["date_of_birth"] = existing.date_of_birth.isoformat()
    client = world.client("frontdesk.north")
    refused = client.post("/patients/new/", same)
    page = refused.content.decode()
    assert refused.status_code == 409
    assert "Possibly already registered" in page and f"/patients/{existing.pk}/" in page
    assert existing.mrn in page and 'name="confirm_duplicate"' in page
    assert f'value="{existing.family_name}"' in page  # what was typed is kept
    confirmed = client.post("/patients/new/", {**same, "confirm_duplicate": "on"})
    assert confirmed.status_code == 302


def test_patients_the_user_cannot_see_are_not_duplicates(world: World) -> None:
    south = world.patient("south")
    same = {**PERSON, "given_name": south.given_name, "family_name": south.family_name}
    same["date_of_birth"] = south.date_of_birth.isoformat()
    response = api_post(world, "/api/v1/patients", same)
    assert response.status_code == 201
    assert str(south.pk) not in response.content.decode()


def test_mark_entered_in_error_on_the_page(world: World) -> None:
    patient = world.patient("north")
    client = world.client("frontdesk.north")
    assert "Registration entered in error" in client.get(f"/patients/{patient.pk}/edit/").content.decode()
    missing = client.post(f"/patients/{patient.pk}/entered-in-error/", {"reason": "  "})
    assert missing.status_code == 422 and "reason" in field_errors(missing)
    done = client.post(f"/patients/{patient.pk}/entered-in-error/", {"reason": "registered twice"})
    assert done.status_code == 302 and done["Location"] == f"/patients/{patient.pk}/?saved=1#demographics"
    patient.refresh_from_db()
    assert patient.entered_in_error_reason == "registered twice"
    assert patient.entered_in_error_by == world.user("frontdesk.north")
    assert patient.external_mrn == "N100001" and patient.external_mrn_key == ""  # kept, and freed
    chart = client.get(f"/patients/{patient.pk}/").content.decode()
    assert 'id="entered-in-error"' in chart and "registered twice" in chart
    event = AuditEvent.objects.filter(patient=patient, action="patient.update").latest("seq")
    assert event.changed_fields == ["entered_in_error_at", "entered_in_error_reason"]
    again = client.post(f"/patients/{patient.pk}/entered-in-error/", {"reason": "again"})
    assert again.status_code == 422
    # Its external MRN can now go to the right registration.
    assert api_post(world, "/api/v1/patients", {**PERSON, "external_mrn": "N100001"}).status_code == 201


def test_mark_entered_in_error_over_the_api(world: World) -> None:
    patient = world.patient("north")
    url = f"/api/v1/patients/{patient.pk}/entered-in-error"
    assert api_post(world, url, {}).status_code == 422
    extra = api_post(world, url, {"reason": "duplicate", "undo": True})
    assert extra.status_code == 422 and "undo" in extra.json()["errors"]
    done = api_post(world, url, {"reason": "duplicate"})
    assert done.status_code == 200
    assert done.json()["entered_in_error_reason"] == "duplicate" and done.json()["mrn"] == patient.mrn
    read = world.api("nurse.north").get(f"/api/v1/patients/{patient.pk}").json()
    assert read["entered_in_error_reason"] == "duplicate" and read["entered_in_error_at"]
    changed = world.api("frontdesk.north").patch(
        f"/api/v1/patients/{patient.pk}",
        json.dumps({"phone": "1"}),
        content_type="application/json",
        headers={"If-Match": f'"{read["version"]}"'},
    )
    assert changed.status_code == 422 and "entered_in_error" in changed.json()["errors"]


def test_a_refused_intake_lists_its_errors_first_by_their_labels(world: World) -> None:
    response = world.client("frontdesk.north").post(
        "/patients/new/",
        {**PERSON, "date_of_birth": "2999-01-01", "antidepressant_trials-1-drug": "lamotrigine"},
    )
    page = response.content.decode()
    summary = page.index('class="notice error error-summary"')
    assert summary < page.index("<h2>Identity</h2>")
    assert '<a href="#f-date_of_birth">Date of birth</a>' in page
    assert '<a href="#f-antidepressant_trials-1-drug">Trial 2: Antidepressant</a>' in page


def test_a_refused_edit_lists_its_errors_first_and_a_saved_one_says_so(world: World) -> None:
    patient = world.patient("north")
    client = world.client("nurse.north")
    form = {
        "version": "1",
        "given_name": patient.given_name,
        "family_name": "",
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        "pregnancy_status": patient.pregnancy_status,
    }
    refused = client.post(f"/patients/{patient.pk}/edit/", form).content.decode()
    assert refused.index("error-summary") < refused.index("<h2>Identity</h2>")
    assert '<a href="#f-family_name">Family name</a>' in refused
    saved = client.post(f"/patients/{patient.pk}/edit/", {**form, "family_name": "Newname"})
    assert saved["Location"].endswith("?saved=1#demographics")


def test_registration_and_entered_in_error_are_actions(world: World) -> None:
    """The same rules hold for demo data, commands and tests that call the actions directly."""
    frontdesk = world.user("frontdesk.north")
    data = inputs.PatientCreate.model_validate({**PERSON, "external_mrn": "X-1"})
    patient = actions.do_register_patient(data, actor=frontdesk)
    with pytest.raises(Exception, match="already used"):
        actions.do_register_patient(
            inputs.PatientCreate.model_validate(
                {**PERSON, "external_mrn": " x-1", "confirm_duplicate": True}
            ),
            actor=frontdesk,
        )
    actions.do_mark_patient_entered_in_error(patient, inputs.EnteredInError(reason="test"), actor=frontdesk)
    assert actions.possible_duplicates(frontdesk, "Rosa", "Lindqvist", patient.date_of_birth) == []


def test_nothing_more_is_charted_on_a_registration_entered_in_error(world: World) -> None:
    from decimal import Decimal

    from ketaclinic.errors import InvalidInput
    from ketaclinic.patients import actions, inputs

    patient = world.patient("north")
    nurse = world.user("nurse.north")
    actions.do_mark_patient_entered_in_error(
        patient, inputs.EnteredInError(reason="registered twice"), actor=world.user("frontdesk.north")
    )
    patient.refresh_from_db()
    before = patient.conditions.count(), patient.measurements.count()
    for write in (
        lambda: actions.do_add_history_entry(patient, inputs.ConditionIn(code="hypertension"), actor=nurse),
        lambda: actions.do_record_measurement(
            patient, inputs.MeasurementIn(weight_kg=Decimal("70")), actor=nurse
        ),
    ):
        with pytest.raises(InvalidInput):
            write()
    assert (patient.conditions.count(), patient.measurements.count()) == before
    chart = world.client("nurse.north").get(f"/patients/{patient.pk}/").content.decode()
    assert 'id="add-conditions"' not in chart and "/status/" not in chart
    refused = world.client("nurse.north").post(
        f"/patients/{patient.pk}/conditions/", {"code": "hypertension"}
    )
    assert refused.status_code == 422
