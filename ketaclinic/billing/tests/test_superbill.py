"""Superbills and the prior-authorisation packet: real PDFs with the expected text, their JSON, what the
records lack named, refused input named by field, and one read event per answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from conftest import World
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.billing import actions, inputs
from ketaclinic.billing.models import ClinicianIdentity, DiagnosisCode, PracticeIdentity
from ketaclinic.billing.tests import matrix
from ketaclinic.patients import actions as patient_actions
from ketaclinic.patients import inputs as patient_inputs
from ketaclinic.patients.models import Patient, TrialOutcome
from ketaclinic.rems.tests.pdftext import page_count, text_runs
from ketaclinic.treatment.tests import matrix as treatment_matrix

PDF = {"Accept": "application/pdf"}


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert page_count(pdf) >= 1
    return "\n".join(text_runs(pdf))


def _last() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _reads(since: int, patient: Patient) -> int:
    return AuditEvent.objects.filter(seq__gt=since, action=Action.PATIENT_READ, patient_id=patient.pk).count()


def _identify(world: World, patient: Patient) -> None:
    """The location's identifiers, the prescriber's NPI, and an MDD diagnosis coded F33.2 on the chart."""
    location, admin = patient.location, world.user("admin.north")
    actions.do_save_practice_identity(
        location,
        inputs.PracticeIdentityIn(practice_name="Harbour Ketamine", npi="1093817465", tax_id="84-1029384"),
        actor=admin,
    )
    prescriber = world.user("prescriber.north")
    actions.do_save_clinician_identity(
        inputs.ClinicianIdentityIn(user_id=prescriber.pk, npi="1689402751", credentials="MD"),
        location=location,
        actor=admin,
    )
    actions.do_save_diagnosis_code(
        location,
        inputs.DiagnosisCodeIn(
            condition="major_depressive_disorder", icd10="F33.2", description="MDD, recurrent"
        ),
        actor=admin,
    )
    if not patient.conditions.filter(code="major_depressive_disorder", status="active").exists():
        patient_actions.do_add_history_entry(
            patient,
            patient_inputs.ConditionIn(code="major_depressive_disorder"),
            actor=world.user("nurse.north"),
        )


def test_invoice_superbill_pdf_names_identifiers_diagnoses_and_lines(world: World) -> None:
    patient = world.patient("north")
    _identify(world, patient)
    with treatment_matrix.frozen(patient) as clock:
        invoice = matrix.invoice_of(patient, clock)
        coverage = matrix.coverage_of(patient)
    desk = world.api("frontdesk.north")
    before = _last()
    response = desk.get(f"/api/v1/invoices/{invoice.pk}/superbill", headers=PDF)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    text = _text(response.content)
    for expected in ("Superbill", "Harbour Ketamine", "1093817465", "84-1029384", "F33.2", "1689402751"):
        assert expected in text, expected
    assert patient.family_name in text and patient.mrn in text
    for line in invoice.lines.all():
        assert line.code in text
    assert _reads(before, patient) == 1
    # The JSON answer carries the same content.
    body = desk.get(f"/api/v1/invoices/{invoice.pk}/superbill").json()
    assert body["practice"]["npi"] == "1093817465"
    assert body["diagnoses"][0]["icd10"] == "F33.2" and body["diagnoses"][0]["pointer"] == "A"
    assert {s["code"] for s in body["services"]} == {line.code for line in invoice.lines.all()}
    assert all(s["rendering_npi"] == "1689402751" and s["place_of_service"] == "11" for s in body["services"])
    assert (
        sum(Decimal(s["charge"]) for s in body["services"]) == invoice.total == Decimal(body["total_charges"])
    )
    assert body["insurance"] is None or body["insurance"]["member_id"] == coverage.member_id
    # The invoice page links to it, and the page's link gives the PDF too.
    page = world.client("frontdesk.north")
    assert (
        f"/billing/invoices/{invoice.pk}/superbill/"
        in page.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    )
    printed = page.get(f"/billing/invoices/{invoice.pk}/superbill/")
    assert printed.status_code == 200 and "F33.2" in _text(printed.content)


def test_a_superbill_names_what_the_records_lack(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        invoice = matrix.invoice_of(patient, clock)
    PracticeIdentity.objects.all().delete()
    ClinicianIdentity.objects.all().delete()
    DiagnosisCode.objects.all().delete()
    body = world.api("frontdesk.north").get(f"/api/v1/invoices/{invoice.pk}/superbill").json()
    missing = " ".join(body["missing"])
    assert "NPI" in missing and "tax id" in missing and "ICD-10-CM" in missing
    assert body["practice"]["name"] == patient.location.name


def test_superbill_of_a_period(world: World) -> None:
    patient = world.patient("north")
    _identify(world, patient)
    with treatment_matrix.frozen(patient) as clock:
        invoice = matrix.invoice_of(patient, clock)
    page = world.client("frontdesk.north")
    url = f"/billing/patients/{patient.pk}/superbill/"
    form = page.get(url)
    assert form.status_code == 200 and b'name="start"' in form.content
    day = invoice.service_date.isoformat()
    printed = page.get(url, {"start": day, "end": day})
    assert printed.status_code == 200 and printed["Content-Type"] == "application/pdf"
    text = _text(printed.content)
    assert invoice.number in text or all(line.code in text for line in invoice.lines.all())
    empty = page.get(url, {"start": "2020-01-01", "end": "2020-01-31"})
    assert "No invoiced service" in _text(empty.content)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "2026-02-30", "end": "2026-03-01"}, "start"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "end"),
        ({"start": "2026-03-01", "end": ""}, "end"),
        ({"start": "1", "end": "2026-03-01"}, "start"),
    ],
)
def test_a_bad_period_is_refused_naming_the_field(world: World, query: dict[str, str], field: str) -> None:
    patient = world.patient("north")
    response = world.client("frontdesk.north").get(f"/billing/patients/{patient.pk}/superbill/", query)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("text/html")
    assert f'id="{field}-error"' in response.content.decode() or field in response.context["errors"]


def _chart(world: World, patient: Patient) -> None:
    nurse = world.user("nurse.north")
    patient_actions.do_add_history_entry(
        patient,
        patient_inputs.TrialIn(
            drug="escitalopram",
            max_daily_dose_mg=Decimal(20),
            weeks_at_dose=Decimal(8),
            adequate_dose=True,
            outcome=TrialOutcome.NONE,
            current_episode=True,
        ),
        actor=nurse,
    )
    patient_actions.do_add_history_entry(
        patient,
        patient_inputs.TrialIn(
            drug="sertraline",
            max_daily_dose_mg=Decimal(50),
            weeks_at_dose=Decimal(2),
            adequate_dose=False,
            outcome=TrialOutcome.NONE,
            current_episode=True,
        ),
        actor=nurse,
    )
    patient_actions.do_record_measurement(
        patient,
        patient_inputs.MeasurementIn(weight_kg=Decimal("71.5"), height_cm=Decimal("172.0")),
        actor=nurse,
    )


def test_prior_authorization_packet_json_and_pdf(world: World) -> None:
    patient = world.patient("north", 1)
    _identify(world, patient)
    _chart(world, patient)
    desk = world.api("frontdesk.north")
    before = _last()
    response = desk.get(f"/api/v1/patients/{patient.pk}/prior-authorization?modality=esketamine_nasal")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= {"trials", "scores", "screening", "height_cm", "weight_kg", "psychotherapy"}
    assert set(body) >= {"suicidal_ideation", "diagnoses", "patient", "prescriber", "insurance", "missing"}
    assert body["height_cm"] == "172" and body["weight_kg"] == "71.5"
    trials = {t["drug"]: t for t in body["trials"]}
    assert (
        trials["escitalopram"]["max_daily_dose_mg"] == "20" and trials["escitalopram"]["weeks_at_dose"] == "8"
    )
    assert trials["escitalopram"]["adequate_failure"] is True  # adequate dose, 8 weeks, no response
    assert trials["sertraline"]["adequate_failure"] is False  # too short, not an adequate dose
    assert body["adequate_failures"] >= 1
    assert set(body["scores"]) == {"phq9", "madrs"}
    assert any(d["icd10"] == "F33.2" for d in body["diagnoses"])
    assert _reads(before, patient) == 1
    pdf = desk.get(f"/api/v1/patients/{patient.pk}/prior-authorization", headers=PDF)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = _text(pdf.content)
    for expected in (
        "Prior authorisation request",
        "Escitalopram",
        "F33.2",
        "172",
        "71.5",
        patient.family_name,
    ):
        assert expected in text, expected
    page = world.client("frontdesk.north").get(f"/billing/patients/{patient.pk}/prior-authorization/")
    assert page.status_code == 200 and b"Escitalopram" in page.content


def test_a_bad_modality_is_refused_naming_it(world: World) -> None:
    patient = world.patient("north")
    api = world.api("frontdesk.north").get(f"/api/v1/patients/{patient.pk}/prior-authorization?modality=lsd")
    assert api.status_code == 422 and "modality" in str(api.json()["errors"])
    page = world.client("frontdesk.north").get(
        f"/billing/patients/{patient.pk}/prior-authorization/", {"modality": "lsd"}
    )
    assert page.status_code == 422 and "modality" in page.context["errors"]


@pytest.mark.parametrize("who", ["nurse.north", "therapist.north", "prescriber.north", "admin.north"])
def test_clinicians_and_admins_see_no_money_documents(world: World, who: str) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        invoice = matrix.invoice_of(patient, clock)
    api = world.api(who)
    for url in (
        f"/api/v1/invoices/{invoice.pk}/superbill",
        f"/api/v1/patients/{patient.pk}/prior-authorization",
    ):
        response = api.get(url, headers=PDF)
        assert response.status_code == 403 and response.json()["detail"]
        assert patient.family_name.encode() not in response.content


def test_another_location_sees_no_superbill(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        invoice = matrix.invoice_of(patient, clock)
    response = world.api("frontdesk.south").get(f"/api/v1/invoices/{invoice.pk}/superbill", headers=PDF)
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    page = world.client("frontdesk.south").get(f"/billing/invoices/{invoice.pk}/superbill/")
    assert page.status_code == 404 and patient.family_name.encode() not in page.content


def _anonymous(world: World, url: str) -> Any:
    return world.api(None).get(url, headers=PDF)


def test_anonymous_gets_json_401(world: World) -> None:
    patient = world.patient("north")
    response = _anonymous(world, f"/api/v1/patients/{patient.pk}/prior-authorization")
    assert response.status_code == 401 and response["Content-Type"].startswith("application/json")
