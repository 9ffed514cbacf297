"""The billing pages: each answer that shows a patient's money writes one read event for that patient; a
record of another patient under a patient the user may see is not found (audited); refused input names its
field and saves nothing; a role held at one location does not carry to another; the portal shows a patient
their own estimate only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from conftest import World
from ketaclinic.accounts.actions import do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.billing import actions, inputs
from ketaclinic.billing.models import (
    BenefitCheck,
    Coverage,
    CoverageCard,
    EntryKind,
    InvoiceEntry,
    PaymentMethod,
    Price,
)
from ketaclinic.billing.tests import matrix
from ketaclinic.patients.models import Patient
from ketaclinic.portal.tests.helpers import account_for, signed_in
from ketaclinic.treatment.tests import matrix as treatment_matrix


def _since(last: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=last))


def _last() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _reads(events: list[AuditEvent]) -> list[Any]:
    return [e.patient_id for e in events if e.action == Action.PATIENT_READ]


def _pages(patient: Patient) -> dict[str, str]:
    with treatment_matrix.frozen(patient) as clock:
        coverage = matrix.coverage_of(patient)
        invoice = matrix.invoice_of(patient, clock)
        plan = matrix.draft_plan(patient)
    return {
        "account": f"/billing/patients/{patient.pk}/",
        "coverage": f"/billing/patients/{patient.pk}/coverage/",
        "card": f"/billing/patients/{patient.pk}/coverage/{coverage.pk}/card/front/",
        "invoice": f"/billing/invoices/{invoice.pk}/",
        "estimate": f"/billing/plans/{plan.pk}/estimate/",
    }


def test_each_money_page_is_one_read_of_the_patient(world: World) -> None:
    patient = world.patient("north")
    client = world.client("frontdesk.north")
    for name, url in _pages(patient).items():
        last = _last()
        response = client.get(url)
        assert response.status_code == 200, (name, response.content[:200])
        assert _reads(_since(last)) == [patient.pk], name
    price_page = client.get(f"/billing/prices/{patient.location_id}/")
    assert price_page.status_code == 200 and b"96365" in price_page.content


def test_the_card_image_is_the_stored_bytes(world: World) -> None:
    patient = world.patient("north")
    url = _pages(patient)["card"]
    response = world.client("frontdesk.north").get(url)
    assert response.content == matrix.PNG and response["Content-Type"] == "image/png"
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("who", ["nurse.north", "therapist.north", "prescriber.north", "frontdesk.south"])
def test_staff_who_handle_no_money_here_see_none(world: World, who: str) -> None:
    patient = world.patient("north")
    pages = _pages(patient)
    client = world.client(who)
    for name, url in pages.items():
        if name == "estimate" and who == "prescriber.north":
            continue  # the prescriber shows the patient the estimate
        response = client.get(url)
        assert response.status_code in (403, 404), (who, name, response.status_code)
        assert patient.family_name.encode() not in response.content


def test_another_patients_coverage_under_a_visible_patient_is_not_found(world: World) -> None:
    mine, other = world.patient("north", 0), world.patient("north", 1)
    theirs = matrix.coverage_of(other)
    client = world.client("frontdesk.north")
    base = f"/billing/patients/{mine.pk}/coverage/{theirs.pk}"
    checks_before, cards_before = BenefitCheck.objects.count(), CoverageCard.objects.count()
    for method, url, body in (
        ("get", f"{base}/card/front/", None),
        ("post", f"{base}/benefit-check/", {**matrix.BENEFIT, "covered": "on"}),
        ("post", f"{base}/card/", {"side": "back"}),
    ):
        last = _last()
        response = getattr(client, method)(url, body or {})
        assert response.status_code == 404, url
        events = _since(last)
        assert [(e.action, e.outcome, e.patient_id, e.object_id) for e in events] == [
            ("access.denied", Outcome.DENIED, mine.pk, str(theirs.pk))
        ]
    assert (BenefitCheck.objects.count(), CoverageCard.objects.count()) == (checks_before, cards_before)


def test_a_role_at_one_location_does_not_carry_to_another(world: World) -> None:
    """A therapist at north who is front desk at south handles south's money, never north's."""
    user = world.user("therapist.north")
    do_grant_role(
        user, ClinicLocation.objects.get(slug="south"), "front_desk", actor=world.user("admin.south")
    )
    client = world.client("therapist.north")
    north, south = world.patient("north"), world.patient("south")
    assert client.get(f"/billing/patients/{south.pk}/coverage/").status_code == 200
    assert client.get(f"/billing/patients/{north.pk}/coverage/").status_code == 403
    refused = client.post(f"/billing/patients/{north.pk}/coverage/", matrix.COVERAGE)
    assert refused.status_code == 403 and not Coverage.objects.filter(patient=north).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": ""}, "code"),
        ({"effective_from": ""}, "effective_from"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"currency": "EUR"}, "currency"),
    ],
)
def test_a_bad_price_is_refused_naming_the_field(world: World, change: dict[str, str], field: str) -> None:
    location = ClinicLocation.objects.get(slug="north")
    before = Price.objects.count()
    body = {
        "item": "kap",
        "code": "90837",
        "amount": "410",
        "currency": "USD",
        "effective_from": "2026-12-01",
    }
    response = world.client("admin.north").post(f"/billing/prices/{location.pk}/", {**body, **change})
    assert response.status_code == 422
    assert field in response.context["errors"]
    assert Price.objects.count() == before


def test_a_new_price_is_a_new_version(world: World) -> None:
    location = ClinicLocation.objects.get(slug="north")
    body = {
        "item": "kap",
        "code": "90837",
        "amount": "410",
        "currency": "USD",
        "effective_from": "2026-12-01",
    }
    assert world.client("admin.north").post(f"/billing/prices/{location.pk}/", body).status_code == 302
    assert Price.objects.filter(location=location, item="kap").count() == 2
    event = AuditEvent.objects.filter(action=Action.BILLING_PRICE).order_by("-seq").first()
    assert event is not None and event.actor_id == world.user("admin.north").pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "payment", "amount": "-5", "method": "cash", "received_on": "2026-01-02"}, "amount"),
        ({"kind": "payment", "amount": "5", "method": "", "received_on": "2026-01-02"}, "method"),
        ({"kind": "write_off", "amount": "5", "reason": ""}, "reason"),
        ({"kind": "refund", "amount": "5", "reason": "overpaid", "method": "cash"}, "amount"),
        ({"kind": "credit_note", "amount": "999999", "reason": "wrong code"}, "amount"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_field(world: World, body: dict[str, str], field: str) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        invoice = matrix.invoice_of(patient, clock)
        response = world.client("frontdesk.north").post(f"/billing/invoices/{invoice.pk}/entries/", body)
    assert response.status_code == 422, response.content[:300]
    assert field in response.context["errors"]
    assert not InvoiceEntry.objects.exists()


def test_payments_refunds_write_offs_and_credit_notes_move_the_balance(world: World) -> None:
    patient = world.patient("north")
    desk = world.user("frontdesk.north")
    with treatment_matrix.frozen(patient) as clock:
        invoice = matrix.invoice_of(patient, clock)
        invoice.patient, today = patient, clock.now.date()
        total = invoice.total
        paid = inputs.PaymentIn(amount=Decimal(100), method=PaymentMethod.CASH, received_on=today)
        actions.do_record_payment(invoice, paid, actor=desk)
        corrections = ((EntryKind.REFUND, "20"), (EntryKind.CREDIT_NOTE, "50"), (EntryKind.WRITE_OFF, "10"))
        for kind, amount in corrections:
            data = inputs.EntryIn(kind=kind, amount=Decimal(amount), reason="r", method=PaymentMethod.CASH)
            actions.do_record_entry(invoice, data, actor=desk)
        assert actions.balance_of(invoice) == total - 100 + 20 - 50 - 10
        page = world.client("frontdesk.north").get(f"/billing/patients/{patient.pk}/")
    assert page.status_code == 200 and invoice.number.encode() in page.content
    kinds = set(AuditEvent.objects.filter(patient_id=patient.pk).values_list("action", flat=True))
    assert {"billing.payment", "billing.refund", "billing.credit_note", "billing.write_off"} <= kinds


def test_the_portal_shows_the_patient_their_own_estimate(world: World) -> None:
    mine, other = world.patient("north", 0), world.patient("north", 1)
    prescriber = world.user("prescriber.north")
    with treatment_matrix.frozen(mine):
        for patient in (mine, other):
            actions.do_estimate(matrix.draft_plan(patient), inputs.EstimateIn(), actor=prescriber)
    client = signed_in(account_for(world, mine))
    response = client.get("/portal/estimate/")
    assert response.status_code == 200
    estimates = response.context["estimates"]
    assert len(estimates) == 1 and estimates[0][0].patient_id == mine.pk
    assert world.client("frontdesk.north").get("/portal/estimate/").status_code == 403
    from django.test import Client

    anonymous = Client().get("/portal/estimate/")
    assert anonymous.status_code == 302 and "/portal/sign-in/" in anonymous["Location"]


def test_the_chart_links_money_for_the_front_desk_only(world: World) -> None:
    patient = world.patient("north")
    coverage_url = f"/billing/patients/{patient.pk}/coverage/".encode()
    assert coverage_url in world.client("frontdesk.north").get(f"/patients/{patient.pk}/").content
    for who in ("nurse.north", "therapist.north", "prescriber.north"):
        chart = world.client(who).get(f"/patients/{patient.pk}/")
        assert chart.status_code == 200 and b"/billing/" not in chart.content, who
