"""The printable form: one page, every label and value readable back from the PDF, in the form's order."""

from __future__ import annotations

import dataclasses

from ketaclinic.rems.form import FormInput, build_form
from ketaclinic.rems.pdf import render_pdf
from ketaclinic.rems.tests.pdftext import page_count, text_runs
from ketaclinic.rems.tests.test_form import FULL


def _text(pdf: bytes) -> str:
    return "\n".join(text_runs(pdf))


def test_every_label_and_value_is_printed_in_order_on_one_page() -> None:
    form = build_form(FULL)
    pdf = render_pdf(form, title="Session 4, 2026-11-20")
    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 1
    runs = text_runs(pdf)
    assert runs[0] == "SPRAVATO REMS Patient Monitoring Form"
    assert "Session 4, 2026-11-20" in runs
    text = _text(pdf)
    position = 0
    for f in form.fields():
        first_words = f.label.split()[0]
        found = text.find(first_words, position)
        assert found >= 0, f"label of {f.key} not printed after the previous field"
        position = found
        assert f.value in text, f"value of {f.key} not printed"
    for notice in form.notices:
        assert notice.split()[0] in text
    assert "UNVERIFIED" in text


def test_missing_fields_print_as_not_recorded() -> None:
    pdf = render_pdf(build_form(FormInput(patient_first_name="Ana")), title="t")
    assert "Not recorded" in text_runs(pdf)


def test_long_values_still_fit_one_page_and_print_as_text() -> None:
    hostile = dataclasses.replace(
        FULL,
        patient_last_name="(Quintero) \\ ) ( é",
        lot_numbers=tuple(f"LOT-{i:04d}" for i in range(80)),
        adverse_events=tuple(f"Event {i} with a long description" for i in range(60)),
        setting_address="Suite 4, " * 60,
        unclassified_medications=tuple(f"Drug {i}" for i in range(50)),
    )
    pdf = render_pdf(build_form(hostile), title="t")
    assert page_count(pdf) == 1
    assert "(Quintero) \\ ) ( é" in text_runs(pdf)
    assert "LOT-0000, LOT-0001" in _text(pdf)
