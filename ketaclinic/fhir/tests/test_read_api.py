"""The FHIR read API: capability statement, read and search, with the same access rules as /api/v1."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.fhir import codes
from ketaclinic.fhir.tests.validate import validate
from ketaclinic.patients.models import Condition, Patient

if TYPE_CHECKING:
    from conftest import World

pytestmark = pytest.mark.django_db

BASE = "/fhir/R4"


def _json(response: Any) -> Any:
    assert response["Content-Type"].startswith("application/fhir+json"), response["Content-Type"]
    return response.json()


def _reads(patient: Patient) -> int:
    return AuditEvent.objects.filter(action=Action.PATIENT_READ, patient_id=patient.pk).count()


def test_metadata_is_a_capability_statement_of_r4(world: World) -> None:
    response = world.api(None).get(f"{BASE}/metadata")
    assert response.status_code == 200
    body = _json(response)
    validate(body)
    assert body["fhirVersion"] == "4.0.1"
    listed = {r["type"] for r in body["rest"][0]["resource"]}
    assert {"Patient", "Observation", "QuestionnaireResponse", "MedicationAdministration", "Group"} <= listed


def test_patient_read_names_us_core_and_is_audited(world: World) -> None:
    patient = world.patient("north")
    before = _reads(patient)
    response = world.api("prescriber.north").get(f"{BASE}/Patient/{patient.pk}")
    assert response.status_code == 200
    body = _json(response)
    validate(body)
    assert body["meta"]["profile"] == [codes.PROFILE["Patient"]]
    assert body["identifier"][0]["value"] == patient.mrn
    assert _reads(patient) == before + 1


@pytest.mark.parametrize("persona", ["prescriber.north", "nurse.north", "frontdesk.north", "therapist.north"])
def test_another_locations_patient_is_not_found(world: World, persona: str) -> None:
    south = world.patient("south")
    response = world.api(persona).get(f"{BASE}/Patient/{south.pk}")
    assert response.status_code == 404
    assert _json(response)["resourceType"] == "OperationOutcome"
    assert AuditEvent.objects.filter(action=Action.ACCESS_DENIED, patient_id=south.pk).exists()


def test_a_role_without_patient_reads_is_refused(world: World) -> None:
    patient = world.patient("north")
    response = world.api("admin.north").get(f"{BASE}/Patient/{patient.pk}")
    assert response.status_code == 403
    assert _json(response)["issue"][0]["code"] == "forbidden"
    response = world.api("admin.north").get(f"{BASE}/Observation?patient={patient.pk}")
    assert response.status_code == 403


@pytest.mark.parametrize("header", [None, "Bearer kc_not-a-token", "Basic abc"])
def test_anonymous_and_bad_tokens_get_401_outcomes(world: World, header: str | None) -> None:
    patient = world.patient("north")
    client = world.api(None)
    headers = {"Authorization": header} if header else {}
    for url in (f"{BASE}/Patient/{patient.pk}", f"{BASE}/Observation?patient={patient.pk}"):
        response = client.get(url, headers=headers)
        assert response.status_code == 401
        assert _json(response)["resourceType"] == "OperationOutcome"
    assert AuditEvent.objects.filter(action=Action.API_AUTH_FAILED).exists()


def test_another_patients_record_id_is_not_found(world: World) -> None:
    """A condition of a south patient, asked for by a north user: 404, as if it did not exist."""
    south = world.patient("south")
    condition = Condition.objects.filter(patient=south).first()
    assert condition is not None
    client = world.api("prescriber.north")
    assert client.get(f"{BASE}/Condition/cond-{condition.pk}").status_code == 404
    own = Condition.objects.filter(patient__location__slug="north").first()
    assert own is not None
    response = client.get(f"{BASE}/Condition/cond-{own.pk}")
    assert response.status_code == 200
    validate(_json(response))


def test_unknown_type_and_id_are_404_outcomes(world: World) -> None:
    client = world.api("prescriber.north")
    assert client.get(f"{BASE}/Medication/x").status_code == 404
    assert client.get(f"{BASE}/Condition/cond-999999").status_code == 404
    assert client.get(f"{BASE}/Observation/nonsense").status_code == 404


def test_phq9_totals_by_loinc_code(charted: Patient, world: World) -> None:
    client = world.api("nurse.north")
    url = f"{BASE}/Observation?patient={charted.pk}&code=http://loinc.org|44261-6"
    response = client.get(url)
    assert response.status_code == 200
    bundle = _json(response)
    validate(bundle)
    assert bundle["type"] == "searchset"
    entries = [e["resource"] for e in bundle["entry"]]
    assert len(entries) == 1
    total = entries[0]
    assert (
        total["code"]["coding"][0]
        == {
            "system": "http://loinc.org",
            "code": "44261-6",
            "display": "PHQ-9 total score",
        }
        or total["code"]["coding"][0]["code"] == "44261-6"
    )
    assert total["valueInteger"] == 10
    assert total["derivedFrom"][0]["reference"].startswith("QuestionnaireResponse/qr-")
    # The code without its system finds the same; another code finds none of them.
    assert len(client.get(f"{BASE}/Observation?patient={charted.pk}&code=44261-6").json()["entry"]) == 1
    assert (
        client.get(f"{BASE}/Observation?patient={charted.pk}&code=http://loinc.org|70274-6").json()["entry"]
        == []
    )


def test_questionnaire_responses_and_the_observations_derived_from_them(
    charted: Patient, world: World
) -> None:
    client = world.api("nurse.north")
    response = client.get(f"{BASE}/QuestionnaireResponse?patient=Patient/{charted.pk}")
    assert response.status_code == 200
    bundle = _json(response)
    assert bundle["type"] == "searchset"
    [qr] = [e["resource"] for e in bundle["entry"]]
    assert qr["questionnaire"] == "http://loinc.org/q/44249-1"
    assert qr["item"][0]["answer"][0]["valueCoding"]["code"] == "LA6570-1"  # "More than half the days" = 2
    panel = client.get(f"{BASE}/Observation/{qr['id']}-panel").json()
    assert panel["code"]["coding"][0]["code"] == "44249-1"
    assert len(panel["hasMember"]) == 10  # nine items and the total


def test_vitals_carry_loinc_codes_and_vital_sign_profiles(charted: Patient, world: World) -> None:
    bundle = world.api("nurse.north").get(f"{BASE}/Observation?patient={charted.pk}&_count=500").json()
    by_code: dict[str, Any] = {}
    for entry in bundle["entry"]:
        by_code.setdefault(entry["resource"]["code"]["coding"][0]["code"], entry["resource"])
    bp = by_code["85354-9"]
    assert [c["code"]["coding"][0]["code"] for c in bp["component"]] == ["8480-6", "8462-4"]
    assert bp["meta"]["profile"] == [codes.PROFILE["blood-pressure"]]
    assert by_code["8867-4"]["valueQuantity"]["code"] == "/min"
    assert by_code["59408-5"]["valueQuantity"]["unit"] == "%"
    assert by_code["moaas-total"]["code"]["coding"][0]["system"] == codes.SCALES


def test_dose_with_lot_encounter_adverse_event_and_consent(charted: Patient, world: World) -> None:
    client = world.api("prescriber.north")
    for kind in ("MedicationAdministration", "Encounter", "AdverseEvent", "Consent", "Provenance"):
        bundle = client.get(f"{BASE}/{kind}?patient={charted.pk}").json()
        assert bundle["entry"], kind
        for entry in bundle["entry"]:
            validate(entry["resource"])
    [dose] = [
        e["resource"]
        for e in client.get(f"{BASE}/MedicationAdministration?patient={charted.pk}").json()["entry"]
    ]
    assert dose["contained"][0]["batch"]["lotNumber"] == "ESK-1"
    assert dose["dosage"]["dose"] == {
        "value": 56,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    requests = client.get(f"{BASE}/MedicationRequest?patient={charted.pk}").json()["entry"]
    intents = {e["resource"]["intent"] for e in requests}
    assert intents == {"plan", "order"}  # reported medications and trials; the esketamine plan


def test_search_pages_with_a_next_link(world: World) -> None:
    client = world.api("prescriber.north")
    first = client.get(f"{BASE}/Patient?_count=2").json()
    assert len(first["entry"]) == 2
    [next_link] = [link["url"] for link in first["link"] if link["relation"] == "next"]
    second = client.get(next_link.replace("http://testserver", "")).json()
    assert second["entry"]
    ids = [e["resource"]["id"] for e in first["entry"] + second["entry"]]
    assert len(ids) == len(set(ids))
    assert client.get(f"{BASE}/Patient?_count=abc").status_code == 400
    assert "_count" in client.get(f"{BASE}/Patient?_count=9999").json()["issue"][0]["diagnostics"]


def test_search_never_crosses_a_location(world: World) -> None:
    north = {str(p) for p in Patient.objects.filter(location__slug="north").values_list("id", flat=True)}
    client = world.api("prescriber.north")
    patients = client.get(f"{BASE}/Patient?_count=500").json()["entry"]
    assert {e["resource"]["id"] for e in patients} == north
    conditions = client.get(f"{BASE}/Condition?_count=500").json()["entry"]
    assert conditions
    assert {e["resource"]["subject"]["reference"].removeprefix("Patient/") for e in conditions} <= north
    south = Condition.objects.filter(patient=world.patient("south")).first()
    assert south is not None
    assert client.get(f"{BASE}/Condition?_id=cond-{south.pk}").json()["entry"] == []


def test_search_by_id(world: World) -> None:
    patient = world.patient("north")
    bundle = world.api("nurse.north").get(f"{BASE}/Patient?_id={patient.pk}").json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(patient.pk)]


def test_writes_are_refused_on_read_endpoints(world: World) -> None:
    patient = world.patient("north")
    response = world.api("prescriber.north").delete(f"{BASE}/Patient/{patient.pk}")
    assert response.status_code == 405
    assert _json(response)["resourceType"] == "OperationOutcome"
