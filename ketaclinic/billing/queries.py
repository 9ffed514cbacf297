"""What billing pages and the API show: plain dicts built from a few queries each (no N+1)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.billing import coding
from ketaclinic.billing.models import (
    BenefitCheck,
    CardSide,
    ClinicianIdentity,
    Coverage,
    CoverageCard,
    DiagnosisCode,
    Estimate,
    Invoice,
    InvoiceEntry,
    PracticeIdentity,
    Price,
    PriceItem,
    PriorAuthorization,
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


def authorization_detail(a: Any) -> dict[str, Any]:
    return {
        "id": a.pk,
        "plan_id": a.plan_id,
        "number": a.number,
        "approved_from": a.approved_from,
        "approved_to": a.approved_to,
        "approved_sessions": a.approved_sessions,
        "note": a.note,
        "payer": a.coverage.payer if a.coverage_id and a.coverage else "",
        "created_at": a.created_at,
    }


def plan_authorizations(plan: TreatmentPlan, today: Any) -> dict[str, Any]:
    """The plan's authorisations, newest first, and the one in force today with its use."""
    from ketaclinic.billing import authorizations

    rows = list(
        PriorAuthorization.objects.filter(plan=plan).select_related("coverage").order_by("-created_at")
    )
    found = authorizations.standing(plan, today) if rows else None
    return {
        "items": [authorization_detail(a) for a in rows],
        "in_force": found.as_dict() if found else None,
    }


def identifiers_of(location: ClinicLocation) -> dict[str, Any]:
    """The location's practice identity, its clinicians with their NPIs, and its diagnosis codes."""
    from ketaclinic.accounts.models import Membership
    from ketaclinic.billing.actions import CLINICIAN_ROLES

    members = (
        Membership.objects.filter(location=location, role__in=CLINICIAN_ROLES, user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user_id")
    )
    people: dict[int, Any] = {}
    roles: dict[int, list[str]] = {}
    for m in members:
        people.setdefault(m.user_id, m.user)
        roles.setdefault(m.user_id, []).append(m.get_role_display())
    known = {c.user_id: c for c in ClinicianIdentity.objects.filter(user_id__in=list(people))}
    return {
        "practice": PracticeIdentity.objects.filter(location=location).first(),
        "clinicians": [
            {
                "id": uid,
                "name": user.get_full_name() or user.username,
                "roles": ", ".join(roles[uid]),
                "npi": known[uid].npi if uid in known else "",
                "credentials": known[uid].credentials if uid in known else "",
            }
            for uid, user in people.items()
        ],
        "diagnoses": list(DiagnosisCode.objects.filter(location=location).order_by("condition")),
    }


def expiring_rows(location: ClinicLocation, today: Any, *, named: bool) -> list[dict[str, Any]]:
    """Authorisations ending within 30 days, with their use; the patient (and name) only when `named`."""
    from ketaclinic.billing import authorizations, reports

    rows = []
    for a in reports.expiring(location, today):
        found = authorizations.standing(a.plan, a.approved_to) if a.approved_from <= a.approved_to else None
        use = found.as_dict() if found and found.authorization.pk == a.pk else {}
        rows.append(
            {
                "number": a.number,
                "payer": a.coverage.payer if a.coverage_id and a.coverage else "",
                "modality": a.plan.modality,
                "plan_id": a.plan_id,
                "approved_from": a.approved_from,
                "approved_to": a.approved_to,
                "days_left": (a.approved_to - today).days,
                "approved_sessions": a.approved_sessions,
                "sessions_given": use.get("sessions_given", 0),
                "sessions_remaining": use.get("sessions_remaining", a.approved_sessions),
                "patient": a.patient if named else None,
                "patient_name": f"{a.patient.family_name}, {a.patient.given_name}" if named else "",
                "mrn": a.patient.mrn if named else "",
            }
        )
    return rows


REVENUE_HEAD = ["invoices", "charged", "credited", "net", "collected", "written_off", "outstanding"]


def report_table(report: str, data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """A report as the CSV's header and rows (amounts in plain notation, with their currency)."""
    if report == "revenue":
        head = ["month", "modality", "payer", "currency", *REVENUE_HEAD]
        return head, [[r[k] for k in head] for r in data["revenue"]]
    if report == "ageing":
        from ketaclinic.billing.reports import AGE_BUCKETS

        head = ["payer", "currency", "invoices", *[b[0] for b in AGE_BUCKETS], "total"]
        return head, [[r[k] for k in head] for r in data["ageing"]]
    head = [
        "number",
        "payer",
        "modality",
        "approved_from",
        "approved_to",
        "days_left",
        "approved_sessions",
        "sessions_given",
        "sessions_remaining",
    ]
    if data["names_patients"]:
        head += ["patient_name", "mrn"]
    return head, [[r[k] for k in head] for r in data["expiring"]]
