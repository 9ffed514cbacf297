"""The printable Patient Monitoring Form: one US Letter page, the form's fields in its order (reportlab).

Long values wrap; when the whole form would not fit, the type shrinks step by step, and a value that still
would not fit is cut with an ellipsis, so the form stays one page whatever the chart holds.
"""

from __future__ import annotations

import io

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from ketaclinic.rems.form import MonitoringForm

MARGIN = 40
LABEL_SHARE = 0.52
MAX_LINES_PER_VALUE = 3
GREY = Color(0.35, 0.35, 0.35)
RED = Color(0.7, 0.05, 0.05)
FONT, BOLD = "Helvetica", "Helvetica-Bold"


def _lines(text: str, font: str, size: float, width: float, limit: int) -> list[str]:
    lines = simpleSplit(text, font, size, width) or [""]
    if len(lines) > limit:
        lines = lines[:limit]
        lines[-1] = lines[-1][: max(len(lines[-1]) - 1, 0)] + "\u2026"
    return lines


class _Page:
    def __init__(self, form: MonitoringForm, title: str, size: float) -> None:
        self.form, self.title, self.size = form, title, size
        self.width, self.height = LETTER
        self.inner = self.width - 2 * MARGIN
        self.label_w = self.inner * LABEL_SHARE - 6
        self.value_w = self.inner * (1 - LABEL_SHARE)

    def layout(self) -> list[tuple[str, float, float, str, float, object]]:
        """Every text run as (font, x, y, text, size, colour); y may fall below the margin (no fit)."""
        s = self.size
        lead = s * 1.25
        ops: list[tuple[str, float, float, str, float, object]] = []
        y = self.height - MARGIN
        ops.append((BOLD, MARGIN, y, "SPRAVATO REMS Patient Monitoring Form", s + 4, black))
        y -= lead + 4
        ops.append((FONT, MARGIN, y, self.title, s, GREY))
        y -= lead
        for notice in (*self.form.notices, *self.form.warnings):
            colour = RED if notice in self.form.warnings else GREY
            for line in _lines(notice, FONT, s - 1.5, self.inner, 3):
                ops.append((FONT, MARGIN, y, line, s - 1.5, colour))
                y -= (s - 1.5) * 1.2
        for section in self.form.sections:
            y -= lead * 0.5
            ops.append((BOLD, MARGIN, y, section.title, s + 1, black))
            y -= lead + 1
            for f in section.fields:
                labels = _lines(f.label, FONT, s, self.label_w, MAX_LINES_PER_VALUE)
                values = _lines(f.value, BOLD, s, self.value_w, MAX_LINES_PER_VALUE)
                for i, line in enumerate(labels):
                    ops.append((FONT, MARGIN, y - i * lead, line, s, GREY))
                for i, line in enumerate(values):
                    ops.append(
                        (
                            BOLD,
                            MARGIN + self.inner * LABEL_SHARE,
                            y - i * lead,
                            line,
                            s,
                            RED if f.missing else black,
                        )
                    )
                y -= max(len(labels), len(values)) * lead + 1
        return ops

    def fits(self) -> bool:
        return min(op[2] for op in self.layout()) >= MARGIN


def render_pdf(form: MonitoringForm, *, title: str) -> bytes:
    """The form as a one-page PDF. `title` is the line under the heading (session and date, no more)."""
    size = 9.0
    page = _Page(form, title, size)
    while not page.fits() and size > 5.5:
        size -= 0.5
        page = _Page(form, title, size)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, pageCompression=0, invariant=1)
    canvas.setTitle("SPRAVATO REMS Patient Monitoring Form")
    for font, x, y, text, font_size, colour in page.layout():
        if y < MARGIN / 2:
            break
        canvas.setFont(font, font_size)
        canvas.setFillColor(colour)
        canvas.drawString(x, y, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
