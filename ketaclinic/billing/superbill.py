"""A superbill: what a patient (or the clinic) sends a payer to claim for services given. One invoice's
session, or every invoice of a patient in a period, with the practice's and rendering clinicians'
identifiers, the patient and their insurance, the ICD-10-CM diagnoses of the chart's active conditions (as
the location codes them), each CPT/HCPCS line with its modifiers, units, charge and place of service, and
what was paid. Whatever the records lack is listed under `missing`, never guessed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ketaclinic.billing import coding, pdf
from ketaclinic.billing.models import (
    ClinicianIdentity,
    Coverage,
    DiagnosisCode,
    EntryKind,
    Invoice,
    InvoiceEntry,
    InvoiceLine,
    PracticeIdentity,
)
from ketaclinic.clinical.vocab import CONDITIONS
from ketaclinic.patients.models import Condition, EntryStatus, Patient

POINTERS = "ABCDEFGHIJKL"  # a claim names at most twelve diagnoses, lettered


def practice_of(location: Any) -> dict[str, Any]:
    row = PracticeIdentity.objects.filter(location=location).first()
    return {
        "name": row.practice_name if row else location.name,
        "npi": row.npi if row else "",
        "tax_id": row.tax_id if row else "",
        "address": row.address if row else "",
        "phone": row.phone if row else "",
    }


def diagnoses_of(patient: Patient) -> list[dict[str, Any]]:
    """The patient's active conditions with the ICD-10-CM code the location bills each under (psychiatric
    first, as the chart lists them); a condition the location has not coded has an empty `icd10`."""
    codes = {row.condition: row for row in DiagnosisCode.objects.filter(location_id=patient.location_id)}
    conditions = Condition.objects.filter(patient=patient, status=EntryStatus.ACTIVE).order_by(
        "created_at", "pk"
    )
    out = []
    for condition in conditions:
        known = CONDITIONS.get(condition.code)
        coded = codes.get(condition.code)
        out.append(
            {
                "condition": condition.code,
                "display": known.display if known else condition.code,
                "psychiatric": bool(known and known.category == "psychiatric"),
                "icd10": coded.icd10 if coded else "",
                "icd10_description": coded.description if coded else "",
            }
        )
    out.sort(key=lambda d: (not d["psychiatric"], not d["icd10"]))
    coded_rows = [d for d in out if d["icd10"]]
    for pointer, row in zip(POINTERS, coded_rows, strict=False):
        row["pointer"] = pointer
    return out


def coverage_detail(coverage: Coverage | None) -> dict[str, Any] | None:
    if coverage is None:
        return None
    return {
        "payer": coverage.payer,
        "payer_id": coverage.payer_id,
        "plan": coverage.plan,
        "member_id": coverage.member_id,
        "group_number": coverage.group_number,
        "subscriber_name": coverage.subscriber_name,
        "subscriber_relationship": coverage.subscriber_relationship,
    }


def superbill(patient: Patient, invoices: list[Invoice], *, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The superbill's content as plain data (the PDF draws it; tests read it)."""
    ids = [i.pk for i in invoices]
    lines = list(InvoiceLine.objects.filter(invoice_id__in=ids).order_by("invoice_id", "number"))
    entries: dict[Any, list[tuple[str, Decimal]]] = {i: [] for i in ids}
    for invoice_id, kind, amount in InvoiceEntry.objects.filter(invoice_id__in=ids).values_list(
        "invoice_id", "kind", "amount"
    ):
        entries[invoice_id].append((kind, amount))
    clinicians = {i.rendering_clinician_id for i in invoices}
    npis = {c.user_id: c for c in ClinicianIdentity.objects.filter(user_id__in=clinicians)}
    diagnoses = diagnoses_of(patient)
    pointers = "".join(d["pointer"] for d in diagnoses if d.get("pointer"))[:4]
    coverage = next((i.coverage for i in invoices if i.coverage_id), None)
    by_invoice: dict[Any, list[InvoiceLine]] = {}
    for row in lines:
        by_invoice.setdefault(row.invoice_id, []).append(row)
    services: list[dict[str, Any]] = []
    for invoice in sorted(invoices, key=lambda i: (i.service_date, i.number)):
        clinician = invoice.rendering_clinician
        identity = npis.get(invoice.rendering_clinician_id)
        for row in by_invoice.get(invoice.pk, []):
            services.append(
                {
                    "invoice": invoice.number,
                    "service_date": invoice.service_date,
                    "place_of_service": row.place_of_service,
                    "code": row.code,
                    "modifiers": list(row.modifiers),
                    "description": row.description,
                    "units": row.units,
                    "charge": row.amount,
                    "diagnosis_pointer": pointers,
                    "rendering_clinician": clinician.get_full_name() or clinician.username,
                    "rendering_npi": identity.npi if identity else "",
                    "credentials": identity.credentials if identity else "",
                }
            )
    currency = invoices[0].currency if invoices else ""
    charged = sum((i.total for i in invoices), Decimal(0))
    paid = sum(
        (
            a if k == EntryKind.PAYMENT else -a
            for e in entries.values()
            for k, a in e
            if k in ("payment", "refund")
        ),
        Decimal(0),
    )
    balance = sum((coding.balance(i.total, entries[i.pk]) for i in invoices), Decimal(0))
    practice = practice_of(patient.location)
    missing = _missing(practice, coverage, diagnoses, services)
    return {
        "start": start,
        "end": end,
        "practice": practice,
        "patient": {
            "name": patient.full_name,
            "mrn": patient.mrn,
            "date_of_birth": patient.date_of_birth,
            "sex": patient.get_sex_display(),
            "address": patient.address,
            "phone": patient.phone,
        },
        "insurance": coverage_detail(coverage),
        "diagnoses": diagnoses,
        "services": services,
        "currency": currency,
        "total_charges": charged,
        "amount_paid": paid,
        "adjustments": charged - paid - balance,
        "balance": balance,
        "missing": missing,
    }


def _missing(
    practice: dict[str, Any], coverage: Any, diagnoses: list[dict[str, Any]], services: list[dict[str, Any]]
) -> list[str]:
    missing = []
    if not practice["npi"]:
        missing.append("the practice's NPI (billing settings)")
    if not practice["tax_id"]:
        missing.append("the practice's tax id (billing settings)")
    if coverage is None and services:
        missing.append("insurance: the invoices are self-pay")
    if not any(d["icd10"] for d in diagnoses):
        missing.append(
            "an ICD-10-CM diagnosis: no active condition of the chart has a code (billing settings)"
        )
    if any(not s["rendering_npi"] for s in services):
        missing.append("a rendering clinician's NPI (billing settings)")
    if any(not s["place_of_service"] for s in services):
        missing.append("a place of service on a price (price list)")
    return missing


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}".strip()


def render(data: dict[str, Any]) -> bytes:
    """The superbill as a PDF."""
    practice, patient, insurance = data["practice"], data["patient"], data["insurance"]
    cur = data["currency"]
    story: list[Any] = [
        pdf.heading("Practice"),
        pdf.facts(
            [
                ("Practice", practice["name"]),
                ("NPI", practice["npi"]),
                ("Tax id (EIN)", practice["tax_id"]),
                ("Phone", practice["phone"]),
                ("Address", practice["address"]),
            ]
        ),
        pdf.heading("Patient"),
        pdf.facts(
            [
                ("Name", patient["name"]),
                ("MRN", patient["mrn"]),
                ("Date of birth", patient["date_of_birth"].isoformat()),
                ("Sex", patient["sex"]),
                ("Address", patient["address"]),
                ("Phone", patient["phone"]),
            ]
        ),
        pdf.heading("Insurance"),
    ]
    if insurance:
        story.append(
            pdf.facts(
                [
                    ("Payer", insurance["payer"]),
                    ("Payer id", insurance["payer_id"]),
                    ("Plan", insurance["plan"]),
                    ("Member id", insurance["member_id"]),
                    ("Group number", insurance["group_number"]),
                    ("Subscriber", insurance["subscriber_name"] or "The patient"),
                    ("Relationship", insurance["subscriber_relationship"] or "Self"),
                ]
            )
        )
    else:
        story.append(pdf.line("Self-pay: no insurance was on record for these services."))
    story.append(pdf.heading("Diagnoses (ICD-10-CM)"))
    story.append(
        pdf.grid(
            ["Ptr", "ICD-10-CM", "Diagnosis"],
            [
                (d.get("pointer", ""), d["icd10"] or "not coded", d["icd10_description"] or d["display"])
                for d in data["diagnoses"]
            ]
            or [("", "", "No active condition on the chart")],
            [0.07, 0.16, 0.77],
        )
    )
    story.append(pdf.heading("Services"))
    story.append(
        pdf.grid(
            ["Date", "POS", "CPT/HCPCS", "Mod", "Description", "Dx", "Units", "Charge", "Rendering (NPI)"],
            [
                (
                    s["service_date"].isoformat(),
                    s["place_of_service"],
                    s["code"],
                    " ".join(s["modifiers"]),
                    s["description"],
                    s["diagnosis_pointer"],
                    s["units"],
                    _money(s["charge"], cur),
                    f"{s['rendering_clinician']} ({s['rendering_npi'] or 'no NPI'})",
                )
                for s in data["services"]
            ]
            or [("", "", "", "", "No invoiced service in this period", "", "", "", "")],
            [0.12, 0.06, 0.12, 0.06, 0.22, 0.05, 0.06, 0.13, 0.18],
            numeric=(6, 7),
        )
    )
    story.append(pdf.heading("Totals"))
    story.append(
        pdf.facts(
            [
                ("Total charges", _money(data["total_charges"], cur)),
                ("Paid", _money(data["amount_paid"], cur)),
                ("Adjustments", _money(data["adjustments"], cur)),
                ("Balance", _money(data["balance"], cur)),
            ]
        )
    )
    for gap in data["missing"]:
        story.append(pdf.line(f"Missing: {gap}", pdf.WARN))
    period = f"{data['start'].isoformat()} to {data['end'].isoformat()}"
    return pdf.render(
        "Superbill", f"{practice['name']} \u00b7 services {period}", story, "Superbill \u00b7 " + period
    )
