"""What billing pages and the API show: plain dicts built from a few queries each (no N+1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.billing import coding
from ketaclinic.billing.models import (
    BenefitCheck,
    CardSide,
    Coverage,
    CoverageCard,
    Estimate,
    Invoice,
    InvoiceEntry,
    Price,
    PriceItem,
)
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import TreatmentPlan

PRICE_FIELDS = ("id", "item", "code", "amount", "currency", "effective_from", "place_of_service")


def price_list(location: ClinicLocation) -> list[dict[str, Any]]:
    """Every price of the location, newest first within each item, marked whether it is in force today."""
    rows = list(
        Price.objects.filter(location=location)
        .order_by("item", "code", "-effective_from")
        .values(*PRICE_FIELDS)
    )
    return rows


def mark_in_force(rows: list[dict[str, Any]], today: Any) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["item"], row["code"])
        row["in_force"] = key not in seen and row["effective_from"] <= today
        if row["effective_from"] <= today:
            seen.add(key)
        row["item_label"] = PriceItem(row["item"]).label
    return rows


def coverage_detail(coverage: Coverage) -> dict[str, Any]:
    checks = list(BenefitCheck.objects.filter(coverage=coverage).order_by("-checked_at"))
    sides = set(CoverageCard.objects.filter(coverage=coverage).values_list("side", flat=True))
    return {
        "id": coverage.pk,
        "patient_id": coverage.patient_id,
        "payer": coverage.payer,
        "payer_kind": coverage.payer_kind,
        "payer_id": coverage.payer_id,
        "plan": coverage.plan,
        "member_id": coverage.member_id,
        "group_number": coverage.group_number,
        "subscriber_name": coverage.subscriber_name,
        "subscriber_relationship": coverage.subscriber_relationship,
        "carve_out": coverage.carve_out,
        "split_billing": coverage.split_billing,
        "ended_on": coverage.ended_on,
        "cards": [side for side in CardSide.values if side in sides],
        "benefit_checks": [benefit_detail(c) for c in checks],
    }


def benefit_detail(check: BenefitCheck) -> dict[str, Any]:
    return {
        "id": check.pk,
        "coverage_id": check.coverage_id,
        "modality": check.modality,
        "covered": check.covered,
        "copay": check.copay,
        "coinsurance_percent": check.coinsurance_percent,
        "deductible_remaining": check.deductible_remaining,
        "prior_auth_required": check.prior_auth_required,
        "checked_at": check.checked_at,
        "checked_by": check.checked_by_id,
    }


def coverages_of(patient: Patient) -> list[dict[str, Any]]:
    return [coverage_detail(c) for c in Coverage.objects.filter(patient=patient).order_by("-created_at")]


def _lines(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**row, **{k: Decimal(row[k]) for k in ("amount", "unit_amount", "insurer", "patient") if k in row}}
        for row in rows
    ]


def estimate_detail(estimate: Estimate) -> dict[str, Any]:
    return {
        "id": estimate.pk,
        "plan_id": estimate.plan_id,
        "version": estimate.version,
        "currency": estimate.currency,
        "total": estimate.total,
        "insurer_expected": estimate.insurer_expected,
        "patient_share": estimate.patient_share,
        "self_pay_total": estimate.self_pay_total,
        "payer": estimate.payer,
        "integration_per_session": estimate.integration_per_session,
        "lines": _lines(estimate.lines),
        "self_pay_lines": _lines(estimate.self_pay_lines),
        "created_at": estimate.created_at,
    }


def latest_estimate(plan: TreatmentPlan) -> Estimate | None:
    return Estimate.objects.filter(plan=plan).order_by("-version").first()


def estimates_of(plan: TreatmentPlan) -> list[Estimate]:
    return list(Estimate.objects.filter(plan=plan).order_by("-version"))


def status_of(total: Decimal, balance: Decimal, credited: bool) -> str:
    if balance < 0:
        return "credit"
    if balance == 0:
        return "credited" if credited and total else "paid"
    return "partly_paid" if balance < total else "open"


def invoice_detail(invoice: Invoice) -> dict[str, Any]:
    entries = list(InvoiceEntry.objects.filter(invoice=invoice).order_by("created_at", "pk"))
    pairs = [(e.kind, e.amount) for e in entries]
    balance = coding.balance(invoice.total, pairs)
    credited = any(k == "credit_note" for k, _ in pairs)
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "patient_id": invoice.patient_id,
        "session_id": invoice.session_id,
        "service_date": invoice.service_date,
        "currency": invoice.currency,
        "status": status_of(invoice.total, balance, credited),
        "total": invoice.total,
        "balance": balance,
        "payer": invoice.coverage.payer if invoice.coverage_id and invoice.coverage else "",
        "rendering_clinician": invoice.rendering_clinician_id,
        "lines": [
            {
                "code": line.code,
                "description": line.description,
                "item": line.item,
                "modifiers": line.modifiers,
                "units": line.units,
                "unit_amount": line.unit_amount,
                "amount": line.amount,
                "place_of_service": line.place_of_service,
            }
            for line in invoice.lines.all()
        ],
        "entries": [
            {
                "id": e.pk,
                "kind": e.kind,
                "amount": e.amount,
                "method": e.method,
                "received_on": e.received_on,
                "reason": e.reason,
                "as_credit": e.as_credit,
                "created_at": e.created_at,
            }
            for e in entries
        ],
    }


def patient_account(patient: Patient) -> dict[str, Any]:
    """The patient's invoices with their balances, and the balance of them all (below zero: a credit)."""
    invoices = list(
        Invoice.objects.filter(patient=patient)
        .select_related("coverage")
        .order_by("-service_date", "-created_at")
    )
    entries: dict[Any, list[tuple[str, Decimal]]] = {i.pk: [] for i in invoices}
    for invoice_id, kind, amount in InvoiceEntry.objects.filter(invoice__patient=patient).values_list(
        "invoice_id", "kind", "amount"
    ):
        entries[invoice_id].append((kind, amount))
    rows: list[dict[str, Any]] = []
    for invoice in invoices:
        balance = coding.balance(invoice.total, entries[invoice.pk])
        credited = any(k == "credit_note" for k, _ in entries[invoice.pk])
        rows.append(
            {
                "id": invoice.pk,
                "number": invoice.number,
                "service_date": invoice.service_date,
                "currency": invoice.currency,
                "total": invoice.total,
                "balance": balance,
                "status": status_of(invoice.total, balance, credited),
            }
        )
    by_currency: dict[str, Decimal] = {}
    for row in rows:
        by_currency[row["currency"]] = by_currency.get(row["currency"], Decimal(0)) + row["balance"]
    return {"invoices": rows, "balances": by_currency}
