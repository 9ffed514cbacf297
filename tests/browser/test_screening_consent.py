"""Screening from the chart, and a consent signed on a tablet with a drawn signature and a witness."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_chart import open_first_chart
from tests.browser.test_intake import log_in


def test_prescriber_screens_from_the_chart(page: Page, screenshots: Path) -> None:
    log_in(page, "prescriber.north")
    open_first_chart(page)
    panel = page.locator("#screening-panel")
    expect(panel.locator("table.screenings")).to_be_visible()  # loaded over HTMX after the chart
    panel.get_by_role("link", name="Open screenings").click()
    page.locator("#f-modality").select_option("iv_ketamine")
    page.get_by_role("button", name="Run screening").click()
    page.wait_for_url(re.compile(r"/screening/patients/[0-9a-f-]{36}/\d+/$"))
    expect(page.locator("#findings")).to_be_visible()
    for width, name in ((1280, "desktop"), (820, "tablet")):
        page.set_viewport_size({"width": width, "height": 1000})
        page.screenshot(path=str(screenshots / f"screening-{name}.png"), full_page=True)


def test_patient_signs_on_a_tablet_and_the_nurse_witnesses(page: Page, screenshots: Path) -> None:
    page.set_viewport_size({"width": 820, "height": 1180})
    log_in(page, "nurse.north")
    open_first_chart(page)
    name = page.locator("h1").first.inner_text()  # "Family, Given"
    family, given = (part.strip() for part in name.split(",", 1))
    page.goto(page.url.replace("/patients/", "/consent/patients/"))
    page.locator("table a.button").first.click()
    expect(page.locator("#signature-pad")).to_be_visible()
    page.get_by_label("Your full name *").fill(f"{given} {family}")
    box = page.locator("#signature-pad").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 40, box["y"] + 60)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 40 + step * 30, box["y"] + 60 + (step % 3) * 20)
    page.mouse.up()
    page.screenshot(path=str(screenshots / "consent-sign-tablet.png"), full_page=True)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Confirm and save").click()
    expect(page.locator(".notice.ok")).to_contain_text("Consent signed and witnessed")
    expect(page.locator("table")).to_contain_text("Current")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(screenshots / "consent-patient-desktop.png"), full_page=True)
