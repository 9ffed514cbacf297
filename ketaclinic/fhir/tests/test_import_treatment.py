"""Import of a fully charted patient: questionnaires and measurements recreated through their actions, and
every treatment record that cannot be recreated faithfully reported, resource by resource, with why."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import AlertKind, Assessment, SafetyAlert, Source
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.fhir import importer
from ketaclinic.fhir.importer import CREATED, REFUSED, SKIPPED, Report, _Item
from ketaclinic.fhir.resources import all_resources
from ketaclinic.patients import actions as patient_actions
from ketaclinic.patients import inputs as patient_inputs
from ketaclinic.patients.models import BodyMeasurement, Patient
from ketaclinic.treatment.tests.helpers import Clock

if TYPE_CHECKING:
    from conftest import World

pytestmark = pytest.mark.django_db

GAD7 = [1, 1, 2, 0, 1, 0, 1]


def _add_measurement_and_self_report(patient: Patient) -> None:
    nurse = User.objects.get(username=f"nurse.{patient.location.slug}")
    measured = patient_inputs.MeasurementIn(weight_kg=Decimal("71.5"), systolic_mmhg=121, diastolic_mmhg=79)
    patient_actions.do_record_measurement(patient, measured, actor=nurse)
    body: dict[str, Any] = {"instrument": "gad7", "answers": GAD7}
    do_record_assessment(patient, AssessmentIn.model_validate(body), actor=None, source=Source.SELF_REPORT)


def _export(patient: Patient) -> list[dict[str, Any]]:
    return list(all_resources([patient.pk]))


@pytest.fixture
def now(clock: Clock) -> None:
    """The charted session was at 9 o'clock at north, which may be yesterday in UTC; the demo's intake
    measurements are dated by the real clock. Import at the real time, as a clinic would, the day after."""
    clock.now = max(clock.now, dt.datetime.now(dt.UTC))


def _import(resources: list[dict[str, Any]], persona: str, location: str) -> Report:
    items = [(_Item(i, r), "") for i, r in enumerate(resources)]
    place = ClinicLocation.objects.get(slug=location)
    return importer.import_items(items, actor=User.objects.get(username=persona), location=place)


def _imported(source: Patient) -> Patient:
    return Patient.objects.get(location__slug="south", external_mrn=source.external_mrn or source.mrn)


def _by_type(resources: list[dict[str, Any]], report: Report) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for entry in report.entries:
        seen.setdefault(resources[entry.index]["resourceType"], set()).add(entry.status)
    return seen


def test_a_charted_patient_brings_scores_and_measurements_and_reports_the_rest(
    world: World, charted: Patient, now: None
) -> None:
    _add_measurement_and_self_report(charted)
    resources = _export(charted)
    report = _import(resources, "nurse.south", "south")

    assert report.count(REFUSED) == 0, [e for e in report.entries if e.status == REFUSED]
    assert len(report.entries) == len(resources)  # one line for every resource: nothing dropped
    statuses = _by_type(resources, report)
    assert statuses["QuestionnaireResponse"] == {CREATED}
    assert statuses["Patient"] == {CREATED}
    for kind in ("Encounter", "MedicationAdministration", "AdverseEvent", "Consent", "Provenance"):
        assert statuses[kind] == {SKIPPED}, kind
    for entry in report.entries:
        assert entry.status == CREATED or entry.reason, entry
    reasons = {resources[e.index]["resourceType"]: e.reason for e in report.entries if e.status == SKIPPED}
    assert "ledger" in reasons["MedicationAdministration"] and "ESK-1" in reasons["MedicationAdministration"]
    assert "witness" in reasons["Consent"]
    # The session's vitals and ratings are skipped with their session; the scores derived from a response,
    # because the response itself is scored again; the measurement outside a session is imported.
    for entry in report.entries:
        rid = resources[entry.index].get("id", "")
        if rid.startswith(("vs-", "rating-")):
            assert entry.status == SKIPPED and "treatment session" in entry.reason
        if rid.startswith("qr-") and resources[entry.index]["resourceType"] == "Observation":
            assert entry.status == SKIPPED and "scores again" in entry.reason
        if rid.startswith("bm-"):
            assert entry.status == CREATED and entry.location.startswith("Observation/bm-")

    imported = _imported(charted)
    source = {
        (a.instrument, a.total, a.source, a.taken_at) for a in Assessment.objects.filter(patient=charted)
    }
    copied = Assessment.objects.filter(patient=imported)
    assert {(a.instrument, a.total, a.source, a.taken_at) for a in copied} == source
    assert copied.get(source=Source.CLINIC).created_by == User.objects.get(username="nurse.south")
    assert copied.get(source=Source.CLINIC).session is None  # its session is not imported
    clinic_entry = next(e for e in report.entries if e.reason.startswith("recorded without its session"))
    assert resources[clinic_entry.index]["resourceType"] == "QuestionnaireResponse"
    # Through the assessments' action: each response audited as any response is.
    assert AuditEvent.objects.filter(action=Action.ASSESSMENT_RECORD, patient_id=imported.pk).count() == 2
    fields = ("measured_on", "weight_kg", "height_cm", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm")
    kept = set(BodyMeasurement.objects.filter(patient=charted).values_list(*fields))
    assert set(BodyMeasurement.objects.filter(patient=imported).values_list(*fields)) == kept
    assert (dt.date.today(), Decimal("71.5"), None, 121, 79, None) in kept or len(kept) >= 2


def test_imported_responses_raise_the_alerts_any_response_raises(world: World) -> None:
    source = world.patient("north")
    answers = [1, 1, 1, 1, 1, 1, 1, 1, 1]  # item 9 (thoughts of self-harm) scored 1
    body: dict[str, Any] = {"instrument": "phq9", "answers": answers}
    nurse = User.objects.get(username="nurse.north")
    do_record_assessment(source, AssessmentIn.model_validate(body), actor=nurse)
    resources = [r for r in _export(source) if r["resourceType"] in ("Patient", "QuestionnaireResponse")]
    _import(resources, "nurse.south", "south")
    imported = _imported(source)
    assert SafetyAlert.objects.filter(patient=imported, kind=AlertKind.SUICIDE_ITEM).exists()


def test_responses_need_a_user_who_records_questionnaires(world: World, charted: Patient, now: None) -> None:
    resources = _export(charted)
    before = Patient.objects.count()
    report = _import(resources, "frontdesk.south", "south")
    assert Patient.objects.count() == before
    assert {e.status for e in report.entries if resources[e.index]["resourceType"] == "Patient"} == {REFUSED}
    first_response = next(
        e for e in report.entries if resources[e.index]["resourceType"] == "QuestionnaireResponse"
    )
    assert "may not record questionnaires" in first_response.reason


def test_a_total_unlike_the_score_here_refuses_the_patient(world: World, charted: Patient, now: None) -> None:
    resources = _export(charted)
    total = next(r for r in resources if r.get("id", "").endswith("-total"))
    total["valueInteger"] += 1
    before = (Patient.objects.count(), Assessment.objects.count(), BodyMeasurement.objects.count())
    report = _import(resources, "nurse.south", "south")
    assert report.count(CREATED) == 0
    assert (Patient.objects.count(), Assessment.objects.count(), BodyMeasurement.objects.count()) == before
    patient_entry = next(e for e in report.entries if resources[e.index]["resourceType"] == "Patient")
    assert patient_entry.status == REFUSED and "at the source" in patient_entry.reason


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"code": "[lb_av]", "unit": "lb"}, "KetaClinic takes kg"),
        ({"value": 900}, "weight"),
    ],
)
def test_a_measurement_kept_differently_refuses_the_patient(
    world: World, change: dict[str, Any], named: str
) -> None:
    source = world.patient("north")
    _add_measurement_and_self_report(source)
    resources = [r for r in _export(source) if r["resourceType"] in ("Patient", "Observation")]
    weight = next(r for r in resources if r.get("id", "").endswith("-wt"))
    weight["valueQuantity"].update(change)
    before = Patient.objects.count()
    report = _import(resources, "nurse.south", "south")
    assert Patient.objects.count() == before
    refused = [e for e in report.entries if e.status == REFUSED]
    assert len(refused) == len(report.entries) - report.count(SKIPPED)
    assert named in next(e.reason for e in report.entries if resources[e.index] is weight)


def test_a_response_whose_answers_do_not_score_refuses_the_patient(
    world: World, charted: Patient, now: None
) -> None:
    resources = _export(charted)
    response = next(r for r in resources if r["resourceType"] == "QuestionnaireResponse")
    response["item"] = response["item"][:-1]  # the last item left out
    before = Assessment.objects.count()
    report = _import(resources, "nurse.south", "south")
    assert Assessment.objects.count() == before
    culprit = next(e for e in report.entries if resources[e.index] is response)
    assert culprit.status == REFUSED and "answers.9" in culprit.reason


def test_unknown_questionnaires_and_observations_are_skipped_with_why(world: World) -> None:
    source = world.patient("north")
    ref = {"reference": f"Patient/{source.pk}"}
    resources = [
        *[r for r in _export(source) if r["resourceType"] == "Patient"],
        {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": "http://example.org/q/intake",
            "status": "completed",
            "subject": ref,
        },
        {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": "http://loinc.org/q/44249-1",
            "status": "in-progress",
            "subject": ref,
        },
        {"resourceType": "Observation", "status": "final", "code": {"text": "Mood"}, "subject": ref},
        {"resourceType": "Immunization", "status": "completed", "patient": ref},
    ]
    report = _import(resources, "nurse.south", "south")
    reasons = [e.reason for e in report.entries if e.status == SKIPPED]
    assert [e.status for e in report.entries] == [CREATED, SKIPPED, SKIPPED, SKIPPED, SKIPPED]
    assert "http://example.org/q/intake is not a questionnaire" in reasons[0]
    assert "not completed (in-progress)" in reasons[1]
    assert "weight, height, blood pressure and heart rate" in reasons[2]
    assert "does not import Immunization" in reasons[3]
