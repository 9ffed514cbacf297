"""The chart's sections: an "add" form loads when its section is opened, and what is saved shows up."""

from __future__ import annotations

import re

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
    expect(page.locator("#trials")).to_be_visible()
