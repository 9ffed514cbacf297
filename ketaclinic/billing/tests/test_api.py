"""The billing API end to end: price list, coverage, benefits check, estimate, invoice, payment, and the
refusals (each a clear 4xx naming the field, nothing saved)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from conftest import World
from ketaclinic.billing.models import BenefitCheck, Coverage, Estimate, Invoice, InvoiceEntry
from ketaclinic.billing.tests import matrix
from ketaclinic.treatment.tests import matrix as treatment_matrix


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_price_list_is_the_callers_location(world: World) -> None:
    response = world.api("frontdesk.north").get("/api/v1/price-list?limit=100")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["items"]) > 10
    assert {i["location"] for i in body["items"]} == {"north"}
    row = next(i for i in body["items"] if i["code"] == "96365")
    assert set(row) >= {"id", "item", "code", "amount", "currency", "effective_from"}
    assert row["amount"] == "450" and row["currency"] == "USD"


def test_coverage_and_benefit_check(world: World) -> None:
    patient = world.patient("north")
    desk = world.api("frontdesk.north")
    made = _post(desk, f"/api/v1/patients/{patient.pk}/coverages", {"payer": "Harbour", "member_id": "M-1"})
    assert made.status_code == 201, made.content
    coverage = made.json()
    assert coverage["payer"] == "Harbour" and coverage["carve_out"] is False
    check = _post(desk, f"/api/v1/coverages/{coverage['id']}/benefit-checks", matrix.BENEFIT)
    assert check.status_code == 201, check.content
    assert check.json()["copay"] == "40" and check.json()["coinsurance_percent"] == "20"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"member_id": "M-1"}, "payer"),
        ({"payer": "  ", "member_id": "M-1"}, "payer"),
        ({"payer": "H", "member_id": "M-1", "carve_out": "yes"}, "carve_out"),
    ],
)
def test_bad_coverage_is_refused_naming_the_field(world: World, body: dict[str, Any], field: str) -> None:
    patient = world.patient("north")
    response = _post(world.api("frontdesk.north"), f"/api/v1/patients/{patient.pk}/coverages", body)
    assert response.status_code == 422 and field in response.json()["errors"]
    assert not Coverage.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"copay": "-5"}, "copay"),
        ({"coinsurance_percent": "120"}, "coinsurance_percent"),
        ({"copay": "abc"}, "copay"),
    ],
)
def test_bad_benefit_check_is_refused(world: World, change: dict[str, Any], field: str) -> None:
    coverage = matrix.coverage_of(world.patient("north"))
    response = _post(
        world.api("frontdesk.north"),
        f"/api/v1/coverages/{coverage.pk}/benefit-checks",
        {**matrix.BENEFIT, **change},
    )
    assert response.status_code == 422 and field in response.json()["errors"]
    assert not BenefitCheck.objects.exists()


def test_estimate_self_pay_then_insured_is_versioned(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient):
        plan = matrix.draft_plan(patient)
    client = world.api("prescriber.north")
    first = _post(client, f"/api/v1/treatment-plans/{plan.pk}/estimate", {})
    assert first.status_code == 201, first.content
    body = first.json()
    assert set(body) >= {"id", "currency", "total", "insurer_expected", "patient_share", "lines"}
    assert body["insurer_expected"] == "0" and body["patient_share"] == body["total"]
    codes = {line["code"] for line in body["lines"]}
    assert {"J0013", "KC-ESK-EM", "90837"} <= codes  # drug, monitoring visit, integration
    integration = next(line for line in body["lines"] if line["item"] == "integration")
    sessions = plan.sessions.count()
    assert integration["units"] == sessions
    coverage = matrix.coverage_of(patient)
    desk = world.api("frontdesk.north")
    assert _post(desk, f"/api/v1/coverages/{coverage.pk}/benefit-checks", matrix.BENEFIT).status_code == 201
    second = _post(client, f"/api/v1/treatment-plans/{plan.pk}/estimate", {"integration_per_session": 0})
    insured = second.json()
    assert second.status_code == 201 and insured["version"] == 2
    assert Decimal(insured["insurer_expected"]) > 0
    assert Decimal(insured["insurer_expected"]) + Decimal(insured["patient_share"]) == Decimal(
        insured["total"]
    )
    assert Decimal(insured["self_pay_total"]) == Decimal(body["total"]) - Decimal(integration["amount"])
    assert Estimate.objects.filter(plan=plan).count() == 2


def test_invoice_and_payments(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        session = matrix.signed_session(patient, clock)
        desk = world.api("frontdesk.north")
        made = _post(desk, f"/api/v1/sessions/{session.pk}/invoice", {})
        assert made.status_code == 201, made.content
        invoice = made.json()
        assert invoice["status"] == "open" and invoice["balance"] == invoice["total"]
        lines = {line["code"]: line for line in invoice["lines"]}
        assert lines["J0013"]["units"] == 56 and lines["J0013"]["amount"] == "868"
        again = _post(desk, f"/api/v1/sessions/{session.pk}/invoice", {})
        assert again.status_code == 409 and invoice["number"] in again.json()["reasons"][0]
        url = f"/api/v1/invoices/{invoice['id']}/payments"
        today = clock.now.date().isoformat()
        paid = _post(desk, url, {"amount": "100.50", "method": "card", "received_on": today})
        assert paid.status_code == 201
        assert Decimal(paid.json()["balance"]) == Decimal(invoice["total"]) - Decimal("100.50")
        too_much = _post(desk, url, {"amount": "99999", "method": "cash", "received_on": today})
        assert too_much.status_code == 422 and "amount" in too_much.json()["errors"]
        for bad in ("-1", "abc", "0", "1.234"):
            response = _post(desk, url, {"amount": bad, "method": "cash", "received_on": today})
            assert response.status_code == 422 and "amount" in response.json()["errors"], bad
        assert InvoiceEntry.objects.count() == 1
        credit = _post(
            desk, url, {"amount": "99999", "method": "cash", "received_on": today, "as_credit": True}
        )
        assert credit.status_code == 201 and Decimal(credit.json()["balance"]) < 0
        assert credit.json()["status"] == "credit"


def test_an_unsigned_session_is_not_invoiced(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        ids = treatment_matrix.prepare("api sign", patient, clock)  # discharged, not signed
        response = _post(world.api("frontdesk.north"), f"/api/v1/sessions/{ids['session']}/invoice", {})
    assert response.status_code == 409 and response.json()["errors"] == {"session": response.json()["detail"]}
    assert not Invoice.objects.exists()


def test_the_demo_has_a_price_list_at_both_locations(world: World) -> None:
    from ketaclinic.billing.models import Price

    assert set(Price.objects.values_list("location__slug", flat=True)) == {"north", "south"}
    # South raised its infusion price last month: two versions of one item.
    assert Price.objects.filter(location__slug="south", item="iv_infusion").count() == 2
