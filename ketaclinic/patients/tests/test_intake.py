"""Intake through the web form: what front desk enters lands on the chart; bad input saves nothing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import AntidepressantTrial, Patient
from ketaclinic.patients.tests.pages import field_errors, form_values

if TYPE_CHECKING:
    from conftest import World


def registered() -> Patient:
    return Patient.objects.get(given_name__in=["Ines", "<script>alert(1)</script>"], family_name="Marsh")


BASE = {
    "location": "north",
    "given_name": "Ines",
    "family_name": "Marsh",
    "date_of_birth": "1985-06-15",
    "sex": "female",
    "weight_kg": "68.5",
    "height_cm": "170",
    "pregnancy_status": "not_pregnant",
    "conditions": ["major_depressive_disorder", "hypertension"],
    "medications-0-drug": "levothyroxine",
    "medications-0-dose": "50 mcg daily",
    "antidepressant_trials-0-drug": "sertraline",
    "antidepressant_trials-0-max_daily_dose_mg": "200",
    "antidepressant_trials-0-weeks_at_dose": "8",
    "antidepressant_trials-0-adequate_dose": "yes",
    "antidepressant_trials-0-outcome": "none",
    "antidepressant_trials-0-current_episode": "yes",
    "antidepressant_trials-1-drug": "bupropion",
    "antidepressant_trials-1-max_daily_dose_mg": "450",
    "antidepressant_trials-1-weeks_at_dose": "10",
    "antidepressant_trials-1-adequate_dose": "yes",
    "antidepressant_trials-1-outcome": "partial",
    "antidepressant_trials-1-current_episode": "yes",
    "antidepressant_trials-1-augmentation_agent": "aripiprazole",
    "allergies-0-substance": "",
    "allergies-0-severity": "",
}


def test_front_desk_registers_a_patient_and_sees_the_history_on_the_chart(world: World) -> None:
    client = world.client("frontdesk.north")
    response = client.post("/patients/new/", BASE)
    patient = registered()
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    chart = client.get(response["Location"]).content.decode()
    for text in (
        "Marsh, Ines",
        "Sertraline",
        "Bupropion",
        "aripiprazole",
        "Levothyroxine / thyroid hormone",
        "68.5 kg",
        "170 cm",
        "Major depressive disorder",
        "Hypertension (controlled)",
    ):
        assert text in chart, text
    trials = AntidepressantTrial.objects.filter(patient=patient)
    assert {(t.drug, t.outcome, t.augmented) for t in trials} == {
        ("sertraline", "none", False),
        ("bupropion", "partial", True),
    }
    created = AuditEvent.objects.get(action="patient.create", patient=patient)
    assert created.actor == world.user("frontdesk.north")
    assert "antidepressant_trials" in created.changed_fields and "Ines" not in str(created.changed_fields)


def test_htmx_submit_redirects_with_a_header(world: World) -> None:
    response = world.client("frontdesk.north").post("/patients/new/", BASE, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/patients/")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"family_name": ""}, "family_name", "This field is required"),
        ({"date_of_birth": (dt.date.today() + dt.timedelta(days=2)).isoformat()}, "date_of_birth", "future"),
        ({"date_of_birth": "15/06/1985x"}, "date_of_birth", "YYYY-MM-DD"),
        ({"weight_kg": "19.9"}, "weight_kg", "between 20 and 400 kg"),
        ({"weight_kg": "401"}, "weight_kg", "between 20 and 400 kg"),
        ({"external_mrn": " n100001 "}, "external_mrn", "already used by a patient at this location"),
        ({"sex": "robot"}, "sex", "Input should be"),
        ({"conditions": ["not_a_condition"]}, "conditions", "not a known condition code"),
        ({"medications-0-drug": "unobtainium"}, "medications-0-drug", "not in the drug lexicon"),
        (
            {"antidepressant_trials-1-drug": "lamotrigine"},
            "antidepressant_trials-1-drug",
            "not an antidepressant",
        ),
        (
            {"antidepressant_trials-0-weeks_at_dose": "-1"},
            "antidepressant_trials-0-weeks_at_dose",
            "greater than or equal to 0",
        ),
        (
            {"antidepressant_trials-0-adequate_dose": ""},
            "antidepressant_trials-0-adequate_dose",
            "This field is required",
        ),
        ({"location": "south"}, "location", "not a location where you can register"),
        ({"sex": "male", "pregnancy_status": "pregnant"}, "pregnancy_status", "male"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    world: World, change: dict[str, str], field: str, message: str
) -> None:
    client = world.client("frontdesk.north")
    patients, events = Patient.objects.count(), AuditEvent.objects.count()
    response = client.post("/patients/new/", {**BASE, **change})
    assert response.status_code == 422
    errors = field_errors(response)
    assert message in errors[field], errors
    assert Patient.objects.count() == patients
    assert (
        AuditEvent.objects.filter(action="patient.create").count() == 0
        or AuditEvent.objects.count() == events
    )
    # What the user typed is still there to correct.
    assert b'value="Marsh"' in response.content or change.get("family_name") == ""


def test_a_blank_extra_row_is_no_entry(world: World) -> None:
    response = world.client("frontdesk.north").post(
        "/patients/new/", {**BASE, "antidepressant_trials-5-drug": ""}
    )
    assert response.status_code == 302
    assert AntidepressantTrial.objects.filter(patient=registered()).count() == 2


def test_intake_row_endpoint_returns_numbered_inputs(world: World) -> None:
    response = world.client("frontdesk.north").get("/patients/new/rows/antidepressant_trials/3/")
    assert response.status_code == 200
    assert b'name="antidepressant_trials-3-weeks_at_dose"' in response.content
    assert world.client("frontdesk.north").get("/patients/new/rows/nope/3/").status_code == 404


def test_editing_demographics_bumps_the_version_and_refuses_a_stale_form(world: World) -> None:
    patient = world.patient("north")
    client = world.client("nurse.north")
    form = form_values(client.get(f"/patients/{patient.pk}/edit/"))
    stale = {**form, "version": patient.version, "phone": "555-0001"}
    saved = client.post(f"/patients/{patient.pk}/edit/", stale)
    assert saved.status_code == 302 and saved["Location"] == f"/patients/{patient.pk}/?saved=1#demographics"
    patient.refresh_from_db()
    assert patient.phone == "555-0001" and patient.version == 2
    conflict = client.post(f"/patients/{patient.pk}/edit/", {**stale, "phone": "555-0002"})
    assert conflict.status_code == 409
    assert b"Someone else changed this record" in conflict.content
    patient.refresh_from_db()
    assert patient.phone == "555-0001"


def test_edit_rejects_a_future_birth_date_and_keeps_the_record(world: World) -> None:
    patient = world.patient("north")
    client = world.client("nurse.north")
    form = form_values(client.get(f"/patients/{patient.pk}/edit/"))
    response = client.post(
        f"/patients/{patient.pk}/edit/", {**form, "version": 1, "date_of_birth": "2999-01-01"}
    )
    assert response.status_code == 422 and "future" in field_errors(response)["date_of_birth"]
    patient.refresh_from_db()
    assert patient.version == 1


def test_chart_entries_are_added_and_marked_entered_in_error_never_deleted(world: World) -> None:
    patient = world.patient("north")
    client = world.client("prescriber.north")
    assert (
        client.post(
            f"/patients/{patient.pk}/medications/", {"drug": "clonazepam", "dose": "1 mg"}
        ).status_code
        == 302
    )
    med = patient.medications.get(drug="clonazepam")
    missing_reason = client.post(
        f"/patients/{patient.pk}/medications/{med.pk}/status/", {"status": "entered_in_error"}
    )
    assert missing_reason.status_code == 422
    ok = client.post(
        f"/patients/{patient.pk}/medications/{med.pk}/status/",
        {"status": "entered_in_error", "reason": "wrong patient"},
    )
    assert ok.status_code == 302
    med.refresh_from_db()
    assert med.status == "entered_in_error" and med.status_reason == "wrong patient"
    assert med not in client.get(f"/patients/{patient.pk}/").context["chart"].entries("medications")


def test_stopping_a_medication_records_the_stop_date(world: World, today: dt.date) -> None:
    patient = world.patient("north")
    client = world.client("nurse.north")
    client.post(f"/patients/{patient.pk}/medications/", {"drug": "zolpidem"})
    med = patient.medications.get(drug="zolpidem")
    client.post(f"/patients/{patient.pk}/medications/{med.pk}/status/", {"status": "resolved"})
    med.refresh_from_db()
    assert med.status == "resolved" and med.stopped_on == today


def test_bad_chart_entry_shows_the_error_and_keeps_the_chart(world: World) -> None:
    patient = world.patient("north")
    response = world.client("nurse.north").post(f"/patients/{patient.pk}/measurements/", {"weight_kg": "500"})
    assert response.status_code == 422
    assert "between 20 and 400 kg" in response.context["errors"]["weight_kg"]
    assert patient.family_name in response.content.decode()


def test_names_are_escaped_on_every_page(world: World) -> None:
    client = world.client("frontdesk.north")
    client.post("/patients/new/", {**BASE, "given_name": "<script>alert(1)</script>"})
    patient = registered()
    for url in (f"/patients/{patient.pk}/", "/patients/"):
        body = client.get(url).content
        assert b"<script>alert(1)</script>" not in body
        assert b"&lt;script&gt;" in body
