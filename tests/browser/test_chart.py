"""The chart's sections: an "add" form loads when its section is opened, and what is saved shows up."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in


def open_first_chart(page: Page) -> None:
    page.get_by_role("link", name="Patients", exact=True).click()
    page.locator("#results a.row-link").first.click()
    page.wait_for_url(re.compile(r"/patients/[0-9a-f-]{36}/$"))


def test_nurse_adds_a_medication_from_the_chart(page: Page) -> None:
    log_in(page, "nurse.north")
    open_first_chart(page)
    section = page.locator("#add-medications")
    section.locator("summary").click()
    # The form arrives over HTMX when the section opens.
    expect(section.locator("#f-drug")).to_be_visible()
    section.locator("#f-drug").select_option("levothyroxine")
    section.locator("#f-dose").fill("88 mcg daily")
    section.get_by_role("button", name="Add medication").click()
    row = page.locator("#medications tbody tr", has_text="Levothyroxine")
    expect(row).to_contain_text("88 mcg daily")
    expect(row).to_contain_text("Levothyroxine / thyroid hormone")


def test_a_bad_measurement_comes_back_with_its_form_open(page: Page, console: Console) -> None:
    console.allow(r"status of 422")  # the browser logs the server's refusal of the form
    log_in(page, "nurse.north")
    open_first_chart(page)
    section = page.locator("#add-measurements")
    section.locator("summary").click()
    section.locator("#f-weight_kg").fill("71")
    section.locator("#f-measured_on").fill("2099-01-01")
    section.get_by_role("button", name="Save measurement").click()
    expect(page.locator("#e-measured_on")).to_contain_text("Cannot be in the future")
    expect(page.locator("#add-measurements")).to_have_attribute("open", "")


def test_therapist_sees_no_add_forms(page: Page) -> None:
    log_in(page, "therapist.north")
    open_first_chart(page)
    expect(page.locator("details.add")).to_have_count(0)
    expect(page.locator("#antidepressant_trials")).to_be_visible()


def test_chart_reads_go_through_the_audit_writer_and_the_chain_holds(
    page: Page, manage: Callable[..., str], server_env: dict[str, str]
) -> None:
    """The served chart's read event is committed by the audit writer before the page arrives."""
    log_in(page, "prescriber.north")
    open_first_chart(page)
    chart_path = page.url.removeprefix(page.url.split("/patients/")[0])
    patient_id = chart_path.strip("/").split("/")[1]
    shown = manage(
        "shell",
        "-c",
        "from ketaclinic.audit.models import AuditEvent as E; "
        f"print(E.objects.filter(action='patient.read', patient_id='{patient_id}', "
        "actor__username='prescriber.north', via='web').count())",
    )
    assert int(shown.split()[-1]) >= 1  # the shell prints a line about its imports first
    assert "intact" in manage("verify_audit")
    # The workers reached the writer: none of them fell back to committing events itself.
    log = (Path(server_env["KETACLINIC_DATA_DIR"]) / "server.log").read_text()
    assert "audit writer" not in log
