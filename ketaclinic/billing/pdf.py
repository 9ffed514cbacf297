"""Printable billing documents (reportlab's platypus, US Letter): a superbill and a prior-authorisation
packet. Every text goes through `_p`, which escapes it, so a name or a note is printed as written and never
read as markup; nothing here reads the database."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_STYLES = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=8.5, leading=10.5)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9, textColor=colors.Color(0.3, 0.3, 0.3))
H1 = ParagraphStyle("h1", parent=_STYLES["Heading1"], fontSize=15, leading=18, spaceAfter=2)
H2 = ParagraphStyle("h2", parent=_STYLES["Heading2"], fontSize=10.5, leading=13, spaceBefore=8, spaceAfter=3)
NUM = ParagraphStyle("num", parent=BODY, alignment=2)
WARN = ParagraphStyle("warn", parent=BODY, textColor=colors.Color(0.65, 0.05, 0.05))
DASH = "\u2014"
WIDTH = LETTER[0] - 1.2 * inch


def _p(text: object, style: ParagraphStyle = BODY) -> Paragraph:
    shown = DASH if text is None or text == "" else str(text)
    return Paragraph(escape(shown), style)


def facts(pairs: Sequence[tuple[str, object]], columns: int = 2) -> Table:
    """Label-value pairs in `columns` columns of label and value."""
    cells = [[_p(label, SMALL), _p(value)] for label, value in pairs]
    rows: list[list[Any]] = [
        [cell for pair in cells[i : i + columns] for cell in pair] for i in range(0, len(cells), columns)
    ]
    if rows and len(rows[-1]) < 2 * columns:
        rows[-1] += [""] * (2 * columns - len(rows[-1]))
    label_w, value_w = WIDTH / columns * 0.34, WIDTH / columns * 0.66
    table = Table(rows, colWidths=[label_w, value_w] * columns, hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return table


def grid(
    head: Sequence[str],
    rows: Iterable[Sequence[object]],
    widths: Sequence[float],
    numeric: Iterable[int] = (),
) -> Table:
    """A ruled table; `widths` are shares of the page width; `numeric` columns are right-aligned."""
    right = set(numeric)
    body = [
        [_p(h, SMALL) for h in head],
        *[[_p(c, NUM if i in right else BODY) for i, c in enumerate(row)] for row in rows],
    ]
    table = Table(body, colWidths=[WIDTH * w for w in widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.Color(0.75, 0.75, 0.75)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def heading(text: str) -> Paragraph:
    return _p(text, H2)


def line(text: object, style: ParagraphStyle = BODY) -> Paragraph:
    return _p(text, style)


def render(title: str, subtitle: str, story: list[Flowable], footer: str) -> bytes:
    """The document as PDF bytes, its title in the file's metadata and a footer with the page number."""
    buffer = io.BytesIO()

    def page_footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.Color(0.35, 0.35, 0.35))
        canvas.drawString(0.6 * inch, 0.45 * inch, footer)
        canvas.drawRightString(LETTER[0] - 0.6 * inch, 0.45 * inch, f"Page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=0.6 * inch,
        rightMargin=0.6 * inch,
        topMargin=0.6 * inch,
        bottomMargin=0.7 * inch,
        title=title,
        invariant=1,
        pageCompression=0,
    )
    doc.build(
        [_p(title, H1), _p(subtitle, SMALL), Spacer(1, 6), *story],
        onFirstPage=page_footer,
        onLaterPages=page_footer,
    )
    return buffer.getvalue()
