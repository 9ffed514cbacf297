"""FHIR bulk export in the browser: a prescriber exports north's charts from the exports page and watches
it finish (the task runner of the served app runs it), on a desktop and on a tablet."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_intake import log_in
from tests.browser.test_layout import assert_fits, tablet

__all__ = ["tablet"]  # the tablet page fixture


def _export(page: Page) -> None:
    page.goto("/fhir/exports/")
    expect(page.get_by_role("heading", name="FHIR exports")).to_be_visible()
    page.locator("#location").select_option("north")
    page.get_by_label("Patient", exact=True).check()
    page.get_by_label("Condition", exact=True).check()
    page.get_by_label("MedicationRequest", exact=True).check()
    page.get_by_role("button", name="Start export").click()
    # The page reloads itself every 3 s while an export runs.
    expect(page.locator("#jobs tbody tr").first).to_contain_text("Complete", timeout=30_000)
    expect(page.locator("#jobs tbody tr").first.locator(".file").first).to_have_attribute(
        "title", "Patient-1.ndjson"
    )


def test_prescriber_exports_a_location(page: Page, server: str, screenshots: Path) -> None:
    log_in(page, "prescriber.north")
    _export(page)
    assert_fits(page)
    page.screenshot(path=str(screenshots / "fhir-exports-1280.png"), full_page=True)


def test_exports_page_on_a_tablet(tablet: Page, server: str, screenshots: Path) -> None:
    log_in(tablet, "prescriber.north")
    _export(tablet)
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "fhir-exports-820.png"), full_page=True)
