"""Import: POST /fhir/R4 with a transaction Bundle and `ketaclinic fhir_import FILE`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ketaclinic.accounts.actions import do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.assessments.models import Assessment
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.fhir import codes
from ketaclinic.patients.models import AntidepressantTrial, Condition, Patient

if TYPE_CHECKING:
    from conftest import World

pytestmark = pytest.mark.django_db

BASE = "/fhir/R4"


def _patient(key: str, family: str, mrn: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": key,
        "identifier": [{"system": codes.MRN_SYSTEM, "value": mrn}],
        "name": [{"family": family, "given": ["Ada"]}],
        "gender": "female",
        "birthDate": "1971-04-02",
    }


def _condition(key: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": codes.CONDITION_CLINICAL, "code": "active"}]},
        "code": {"coding": [{"system": codes.CONDITIONS, "code": "major_depressive_disorder"}]},
        "subject": {"reference": f"urn:uuid:{key}"},
        "onsetDateTime": "2015",
    }


def _trial(key: str) -> dict[str, Any]:
    parts = [
        {"url": "maxDailyDoseMg", "valueDecimal": 20},
        {"url": "weeksAtDose", "valueDecimal": 8},
        {"url": "adequateDose", "valueBoolean": True},
        {"url": "outcome", "valueCode": "none"},
        {"url": "currentEpisode", "valueBoolean": True},
    ]
    return {
        "resourceType": "MedicationRequest",
        "status": "completed",
        "intent": "plan",
        "reportedBoolean": True,
        "medicationCodeableConcept": {"coding": [{"system": codes.DRUGS, "code": "escitalopram"}]},
        "subject": {"reference": f"urn:uuid:{key}"},
        "extension": [{"url": codes.TRIAL_OUTCOME_EXT, "extension": parts}],
    }


def _entry(
    resource: dict[str, Any], key: str | None = None, if_none_exist: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }
    if key:
        entry["fullUrl"] = f"urn:uuid:{key}"
    if if_none_exist:
        entry["request"]["ifNoneExist"] = if_none_exist
    return entry


K1, K2 = "7f1c1f7e-51a4-4a47-9d0e-111111111111", "7f1c1f7e-51a4-4a47-9d0e-222222222222"


def _bundle() -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            # Dependants first: the import puts the Patient before them.
            _entry(_condition(K1)),
            _entry(_trial(K1)),
            _entry(_patient(K1, "Lovelace", "EXT-1"), K1, f"identifier={codes.MRN_SYSTEM}|EXT-1"),
            _entry({"resourceType": "Observation", "status": "final", "code": {"text": "x"}}),
            _entry(_patient(K2, "Byron", "EXT-2"), K2),
            _entry(_condition(K2)),
        ],
    }


def _post(world: World, persona: str | None, bundle: dict[str, Any], query: str = "") -> Any:
    return world.api(persona).post(f"{BASE}{query}", bundle, content_type="application/fhir+json")


def test_transaction_creates_patients_through_the_actions(world: World) -> None:
    before = Patient.objects.count()
    response = _post(world, "frontdesk.north", _bundle())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert body["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == ["201 Created", "201 Created", "201 Created", "200 OK", "201 Created", "201 Created"]
    assert "not imported" in body["entry"][3]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert Patient.objects.count() == before + 2
    ada = Patient.objects.get(external_mrn="EXT-1")
    assert ada.location.slug == "north"
    assert Condition.objects.filter(patient=ada, code="major_depressive_disorder").exists()
    assert AntidepressantTrial.objects.get(patient=ada).drug == "escitalopram"
    assert body["entry"][2]["response"]["location"] == f"Patient/{ada.pk}"
    # Written by the registration action, audited as every registration is; the run has its own event.
    assert AuditEvent.objects.filter(action=Action.PATIENT_CREATE, patient_id=ada.pk).count() == 1
    assert AuditEvent.objects.filter(action=Action.FHIR_IMPORT).count() == 1


def test_if_none_exist_skips_a_patient_already_there(world: World) -> None:
    _post(world, "frontdesk.north", _bundle())
    count = Patient.objects.count()
    body = _post(world, "frontdesk.north", _bundle()).json()
    assert Patient.objects.count() == count
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses.count("201 Created") == 0
    assert "already registered" in body["entry"][2]["response"]["outcome"]["issue"][0]["diagnostics"]


def test_a_refused_patient_leaves_nothing_and_the_others_are_imported(world: World) -> None:
    bundle = _bundle()
    bad = copy.deepcopy(bundle["entry"][1]["resource"])
    bad["extension"][0]["extension"][0]["valueDecimal"] = -5  # a negative dose: the trial input refuses it
    bundle["entry"][1]["resource"] = bad
    before = Patient.objects.count()
    body = _post(world, "frontdesk.north", bundle).json()
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses[:3] == ["422 Unprocessable Entity"] * 3
    assert "max_daily_dose_mg" in body["entry"][2]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert statuses[4:] == ["201 Created", "201 Created"]
    assert Patient.objects.count() == before + 1
    assert not Patient.objects.filter(external_mrn="EXT-1").exists()
    assert not Condition.objects.filter(patient__family_name="Lovelace").exists()


def test_invalid_fhir_is_refused_by_name(world: World) -> None:
    bundle = _bundle()
    bundle["entry"][2]["resource"]["birthDate"] = "not a date"
    body = _post(world, "frontdesk.north", bundle).json()
    assert body["entry"][2]["response"]["status"] == "422 Unprocessable Entity"
    assert "birthDate" in body["entry"][2]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert not Patient.objects.filter(external_mrn="EXT-1").exists()


def test_not_a_transaction_is_a_400_outcome(world: World) -> None:
    client = world.api("frontdesk.north")
    for body in (b"{", b'{"resourceType": "Patient"}', b'{"resourceType": "Bundle", "type": "batch"}'):
        response = client.post(BASE, body, content_type="application/fhir+json")
        assert response.status_code == 400
        assert response.json()["resourceType"] == "OperationOutcome"
    assert AuditEvent.objects.filter(action=Action.FHIR_IMPORT).count() == 0


@pytest.mark.parametrize("persona", ["therapist.north", "admin.north"])
def test_roles_that_do_not_register_patients_are_refused(world: World, persona: str) -> None:
    before = Patient.objects.count()
    assert _post(world, persona, _bundle()).status_code == 403
    assert Patient.objects.count() == before


def test_anonymous_is_401(world: World) -> None:
    response = _post(world, None, _bundle())
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"


def test_another_location_is_not_found_and_a_read_only_one_forbidden(world: World) -> None:
    assert _post(world, "frontdesk.north", _bundle(), "?location=south").status_code == 404
    # A front-desk user of north who is only a therapist (reads, never registers) at south.
    user = world.user("frontdesk.north")
    do_grant_role(user, ClinicLocation.objects.get(slug="south"), "therapist")
    before = Patient.objects.count()
    assert _post(world, "frontdesk.north", _bundle(), "?location=south").status_code == 403
    assert Patient.objects.count() == before
    # With two locations the user must name one; the one they write at works.
    assert _post(world, "frontdesk.north", _bundle(), "?location=north").status_code == 200


def test_the_command_imports_ndjson_and_reports(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "patients.ndjson"
    resources = [e["resource"] for e in _bundle()["entry"]]
    resources[2]["id"], resources[4]["id"] = K1, K2
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in resources) + b"\n")
    call_command("fhir_import", str(path), user="frontdesk.north", location="north")
    out = capsys.readouterr().out
    assert "created 5, skipped 1, refused 0 (2 patients created)" in out
    assert "Observation skipped" in out
    with pytest.raises(CommandError):
        call_command("fhir_import", str(path), user="therapist.north", location="north")
    with pytest.raises(CommandError):
        call_command(
            "fhir_import", str(tmp_path / "missing.ndjson"), user="frontdesk.north", location="north"
        )


K3 = "7f1c1f7e-51a4-4a47-9d0e-333333333333"
QR, TOTAL = "urn:uuid:7f1c1f7e-51a4-4a47-9d0e-444444444444", "urn:uuid:7f1c1f7e-51a4-4a47-9d0e-555555555555"


def _phq9_bundle(key: str, family: str, total: int) -> dict[str, Any]:
    answers = [1, 1, 1, 1, 0, 0, 0, 0, 0]
    response = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": codes.questionnaire_url("phq9"),
        "status": "completed",
        "subject": {"reference": f"urn:uuid:{key}"},
        "author": {"reference": f"urn:uuid:{key}"},
        "authored": "2026-01-05T09:00:00+00:00",
        "item": [{"linkId": str(n + 1), "answer": [{"valueInteger": a}]} for n, a in enumerate(answers)],
    }
    derived = {
        "resourceType": "Observation",
        "status": "final",
        "code": codes.total_code("phq9").concept(),
        "subject": {"reference": f"urn:uuid:{key}"},
        "valueInteger": total,
        "derivedFrom": [{"reference": QR}],
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {**_entry(derived), "fullUrl": TOTAL},
            {**_entry(response), "fullUrl": QR},
            _entry(_patient(key, family, f"EXT-{family}"), key),
        ],
    }


def test_a_transaction_brings_a_self_reported_response_checked_against_its_total(world: World) -> None:
    body = _post(world, "nurse.north", _phq9_bundle(K3, "Somerville", 4)).json()
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == ["200 OK", "201 Created", "201 Created"]
    assert body["entry"][1]["response"]["location"].startswith("QuestionnaireResponse/qr-")
    patient = Patient.objects.get(external_mrn="EXT-Somerville")
    response = Assessment.objects.get(patient=patient)
    assert (response.instrument, response.total, response.source) == ("phq9", 4, "self_report")

    body = _post(world, "nurse.north", _phq9_bundle(K1, "Herschel", 5)).json()
    assert [e["response"]["status"] for e in body["entry"]] == ["422 Unprocessable Entity"] * 3
    assert (
        "scored 4 here, 5 at the source" in body["entry"][1]["response"]["outcome"]["issue"][0]["diagnostics"]
    )
    assert not Patient.objects.filter(external_mrn="EXT-Herschel").exists()
