"""The data of DEA Form 106 (theft or significant loss of controlled substances) for one loss report, as the
security-checks document asks for its export (CS-08): the registrant's location, the type of loss, the dates
(discovery, the written notice's due date and when it was sent, Form 106's due date), and for each lot the
substance, form and strength, NDC, lot number and the quantity in the product's unit, mg, mL and containers.
Form 106 itself is filed on the DEA's web site; this is what the person filing it copies in. No patient is
named: a loss has none.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.ledger.models import LedgerEvent, LossReport, LossStep, Unit

COLUMNS = (
    "location",
    "network",
    "loss_report_id",
    "loss_type",
    "discovered_at",
    "notice_due_on",
    "notice_sent_at",
    "notice_reference",
    "form_106_due_on",
    "form_106_filed_at",
    "form_106_confirmation",
    "substance",
    "form_strength",
    "ndc",
    "lot_number",
    "lot_expires_on",
    "quantity",
    "unit",
    "quantity_mg",
    "quantity_ml",
    "containers",
    "description",
)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def containers(event: LedgerEvent) -> Decimal:
    """The quantity as containers (vials may be part-used, so a fraction; devices are whole)."""
    product = event.product
    if product.unit == Unit.DEVICE:
        return abs(event.delta)
    return (abs(event.delta) / product.mg_per_container).quantize(Decimal("0.001"))


def rows(report: LossReport) -> list[dict[str, str]]:
    zone = location_zone(report.location)
    steps: dict[str, LossStep] = {step.step: step for step in report.steps.all()}
    notice, filed = steps.get("notice"), steps.get("form_106")
    common = {
        "location": report.location.name,
        "network": report.location.network.name,
        "loss_report_id": str(report.pk),
        "loss_type": report.loss_type,
        "discovered_at": report.discovered_at.astimezone(zone).isoformat(timespec="seconds"),
        "notice_due_on": report.notice_due_on.isoformat(),
        "notice_sent_at": notice.done_at.astimezone(zone).isoformat(timespec="seconds") if notice else "",
        "notice_reference": notice.reference if notice else "",
        "form_106_due_on": report.form_106_due_on.isoformat(),
        "form_106_filed_at": filed.done_at.astimezone(zone).isoformat(timespec="seconds") if filed else "",
        "form_106_confirmation": filed.reference if filed else "",
        "description": report.description,
    }
    out = []
    for event in report.events.select_related("product", "lot").order_by("id"):
        product = event.product
        out.append(
            {
                **common,
                "substance": product.substance,
                "form_strength": product.form,
                "ndc": product.ndc,
                "lot_number": event.lot.lot_number,
                "lot_expires_on": event.lot.expires_on.isoformat(),
                "quantity": _plain(abs(event.delta)),
                "unit": product.unit,
                "quantity_mg": _plain(event.amount_mg),
                "quantity_ml": _plain(event.volume_ml),
                "containers": _plain(containers(event)),
            }
        )
    return out


def _safe(cell: str) -> str:
    """A cell a spreadsheet would run as a formula starts with a quote (CSV injection)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def to_csv(report: LossReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows(report):
        writer.writerow([_safe(row[name]) for name in COLUMNS])
    return out.getvalue().encode("utf-8")
