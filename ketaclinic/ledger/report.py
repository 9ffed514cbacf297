"""The ledger report for a date range, as CSV and PDF, laid out for a DEA inspection (21 CFR 1304.22(c)).

Days are the location's own (`clinicpolicy.clock`). For each lot: the opening balance (the sum of its
events before the first day), every event of the range with every required column, and the closing
balance. Patients are named (with their address and MRN) for readers who may read the location's charts;
for others those columns are empty and the report says so (`ledger.read` is not a PHI permission).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinicpolicy.clock import day_bounds, location_zone
from ketaclinic.ledger.actions import as_mg_and_ml
from ketaclinic.ledger.models import LedgerEvent, Lot
from ketaclinic.ledger.queries import balance_at, event_status

COLUMNS = (
    "date_time",
    "event_id",
    "event",
    "status",
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
    "balance_after",
    "patient_name",
    "patient_address",
    "patient_mrn",
    "session_ref",
    "person",
    "witness",
    "witnessed_at",
    "supplier_name",
    "supplier_address",
    "supplier_dea_number",
    "counted",
    "book_balance",
    "discrepancy",
    "corrects_event_id",
    "disposal_manner",
    "distributor_name",
    "distributor_address",
    "distributor_dea_number",
    "transfer_location",
    "transfer_of_event_id",
    "loss_report_id",
    "reason",
)


@dataclass
class LotSection:
    lot: Lot
    opening: Decimal
    closing: Decimal
    rows: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Report:
    location: ClinicLocation
    since: dt.date
    until: dt.date
    generated_at: dt.datetime
    generated_by: str
    names_shown: bool
    lots: list[LotSection]

    @property
    def row_count(self) -> int:
        return sum(len(section.rows) for section in self.lots)


def _plain(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _person(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def _row(event: LedgerEvent, zone: Any, names_shown: bool) -> dict[str, str]:
    product, lot, patient = event.product, event.lot, event.patient
    witness = getattr(event, "witness", None)
    units = event.counted if event.kind == "count" and event.counted is not None else event.delta
    mg, ml = as_mg_and_ml(product, units)
    return {
        "date_time": event.occurred_at.astimezone(zone).isoformat(timespec="seconds"),
        "event_id": str(event.pk),
        "event": event.kind,
        "status": event_status(event),
        "substance": product.substance,
        "form_strength": product.form,
        "ndc": product.ndc,
        "lot_number": lot.lot_number,
        "lot_expires_on": lot.expires_on.isoformat(),
        "quantity": _plain(event.delta),
        "unit": product.unit,
        "quantity_mg": _plain(mg),
        "quantity_ml": _plain(ml),
        "containers": "" if event.containers is None else str(event.containers),
        "balance_after": _plain(event.balance_after),
        "patient_name": f"{patient.given_name} {patient.family_name}" if patient and names_shown else "",
        "patient_address": patient.address if patient and names_shown else "",
        "patient_mrn": patient.mrn if patient and names_shown else "",
        "session_ref": event.session_ref,
        "person": _person(event.recorded_by),
        "witness": _person(witness.witnessed_by) if witness else "",
        "witnessed_at": witness.witnessed_at.astimezone(zone).isoformat(timespec="seconds")
        if witness
        else "",
        "supplier_name": event.supplier_name,
        "supplier_address": event.supplier_address,
        "supplier_dea_number": event.supplier_dea_number,
        "counted": _plain(event.counted),
        "book_balance": _plain(event.book_balance),
        "discrepancy": _plain(event.discrepancy),
        "corrects_event_id": "" if event.corrects_id is None else str(event.corrects_id),
        "disposal_manner": event.manner,
        "distributor_name": event.distributor_name,
        "distributor_address": event.distributor_address,
        "distributor_dea_number": event.distributor_dea_number,
        "transfer_location": event.counterpart_location.name if event.counterpart_location else "",
        "transfer_of_event_id": "" if event.transfer_of_id is None else str(event.transfer_of_id),
        "loss_report_id": "" if event.loss_report_id is None else str(event.loss_report_id),
        "reason": event.reason,
    }


def build(
    location: ClinicLocation, since: dt.date, until: dt.date, *, user: Any, names_shown: bool
) -> Report:
    """Every lot of the location with events up to the range's end: opening, events, closing."""
    start, end = day_bounds(location, since)[0], day_bounds(location, until)[1]
    zone = location_zone(location)
    lots = list(
        Lot.objects.filter(location=location, events__occurred_at__lt=end)
        .distinct()
        .select_related("product")
        .order_by("product__code", "lot_number")
    )
    opening, closing = balance_at([lot.pk for lot in lots], start), balance_at([lot.pk for lot in lots], end)
    sections = {
        lot.pk: LotSection(lot, opening.get(lot.pk, Decimal(0)), closing.get(lot.pk, Decimal(0)))
        for lot in lots
    }
    events = (
        LedgerEvent.objects.filter(location=location, occurred_at__gte=start, occurred_at__lt=end)
        .select_related(
            "product", "lot", "patient", "recorded_by", "witness__witnessed_by", "counterpart_location"
        )
        .order_by("occurred_at", "id")
    )
    for event in events:
        sections[event.lot_id].rows.append(_row(event, zone, names_shown))
    return Report(
        location=location,
        since=since,
        until=until,
        generated_at=dt.datetime.now(zone).replace(microsecond=0),
        generated_by=_person(user if isinstance(user, get_user_model()) else None),
        names_shown=names_shown,
        lots=list(sections.values()),
    )


def _csv_rows(report: Report) -> Iterator[list[str]]:
    yield ["KetaClinic controlled-substance record", report.location.name, report.location.slug]
    yield [
        "from",
        report.since.isoformat(),
        "to",
        report.until.isoformat(),
        "time zone",
        report.location.time_zone,
    ]
    yield ["generated at", report.generated_at.isoformat(), "by", report.generated_by]
    if not report.names_shown:
        yield ["patients withheld (name, address, MRN): the reader may not read this location's charts"]
    yield []
    yield ["lot_number", "product", "unit", "opening_balance", "closing_balance"]
    for section in report.lots:
        lot = section.lot
        yield [
            lot.lot_number,
            lot.product.code,
            lot.product.unit,
            _plain(section.opening),
            _plain(section.closing),
        ]
    yield []
    yield list(COLUMNS)
    for section in report.lots:
        for row in section.rows:
            yield [row[name] for name in COLUMNS]


def _safe(cell: str) -> str:
    """A cell a spreadsheet would run as a formula starts with a quote (CSV injection)."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(cell) else cell


def _number(cell: str) -> bool:
    try:
        Decimal(cell)
    except ArithmeticError:
        return False
    return True


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in _csv_rows(report):
        writer.writerow([_safe(cell) for cell in row])
    return out.getvalue().encode("utf-8")


# The PDF shows the columns an inspector reads first; the CSV carries every column.
PDF_COLUMNS = (
    ("date_time", "Date, time", 62),
    ("event", "Event", 40),
    ("quantity", "Qty", 30),
    ("quantity_mg", "mg", 30),
    ("quantity_ml", "mL", 28),
    ("containers", "Cont.", 24),
    ("balance_after", "Balance", 36),
    ("patient_name", "Patient", 70),
    ("patient_address", "Address", 88),
    ("person", "By", 62),
    ("witness", "Witness", 62),
    ("counterparty", "Supplier / distributor / location", 70),
    ("counterparty_dea", "DEA no.", 44),
    ("reason", "Reason / note", 100),
)


def to_pdf(report: Report) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=6.5, leading=8)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(letter),
        leftMargin=0.4 * inch,
        rightMargin=0.4 * inch,
        topMargin=0.4 * inch,
        bottomMargin=0.4 * inch,
        title="Controlled-substance record",
    )

    def p(text: str) -> Paragraph:
        return Paragraph(_escape(text), small)

    story: list[Any] = [
        Paragraph(f"Controlled-substance record: {_escape(report.location.name)}", styles["Heading2"]),
        Paragraph(
            _escape(
                f"{report.since.isoformat()} to {report.until.isoformat()} ({report.location.time_zone}). "
                f"Generated {report.generated_at.isoformat()} by {report.generated_by}."
            ),
            styles["BodyText"],
        ),
    ]
    if not report.names_shown:
        story.append(
            Paragraph(
                "Patients (name, address, MRN) are withheld: the reader may not read this location's charts.",
                small,
            )
        )
    for section in report.lots:
        lot, product = section.lot, section.lot.product
        story += [
            Spacer(1, 8),
            Paragraph(
                _escape(
                    f"{product.substance}: {product.form}"
                    + (f", NDC {product.ndc}" if product.ndc else "")
                    + f". Lot {lot.lot_number}, expires {lot.expires_on.isoformat()}. "
                    f"Opening balance {_plain(section.opening)} {product.unit}; "
                    f"closing balance {_plain(section.closing)} {product.unit}."
                ),
                styles["Heading5"],
            ),
        ]
        data = [[p(title) for _, title, _ in PDF_COLUMNS]]
        data += [[p(_pdf_cell(row, name)) for name, _, _ in PDF_COLUMNS] for row in section.rows] or [
            [p("No events in this range.")] + [p("")] * (len(PDF_COLUMNS) - 1)
        ]
        table = Table(data, colWidths=[width for _, _, width in PDF_COLUMNS], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
    if not report.lots:
        story.append(Paragraph("No controlled substance was held in this range.", styles["BodyText"]))
    doc.build(story)
    return buffer.getvalue()


def _pdf_cell(row: dict[str, str], name: str) -> str:
    """A PDF cell: the counterparty column names the supplier of a receipt, the reverse distributor of a
    disposal or the other location of a transfer."""
    if name == "counterparty":
        return row["supplier_name"] or row["distributor_name"] or row["transfer_location"]
    if name == "counterparty_dea":
        return row["supplier_dea_number"] or row["distributor_dea_number"]
    if name == "event" and row["disposal_manner"]:
        return f"{row['event']} ({row['disposal_manner'].replace('_', ' ')})"
    return row[name]


def _escape(text: str) -> str:
    from xml.sax.saxutils import escape

    return escape(text)
