"""The clinic page on a desktop and a tablet: a clinic admin changes a policy value with a reason, resets it,
and manages chairs and rooms; nothing scrolls sideways and the navigation stays on one line."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import assert_fits, tablet

__all__ = ["tablet"]  # the tablet page fixture


def _open_clinic(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clinic", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("North Clinic")


def test_admin_changes_and_resets_a_policy_value(page: Page, screenshots: Path) -> None:
    log_in(page, "admin.south")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Clinic", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("South")
    assert_fits(page)
    page.locator("#f-spo2_alert_below").fill("92")
    page.locator("#f-reason").fill("Clinical lead: alarm one point earlier on our oximeters")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("1 value changed")
    expect(page.locator("#history")).to_contain_text("alarm one point earlier")
    page.screenshot(path=str(screenshots / "clinic-policy-desktop.png"), full_page=False)
    page.locator("#policy-spo2_alert_below").get_by_label("Reset to default").check()
    page.locator("#f-reason").fill("Back to the documented default")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#f-spo2_alert_below")).to_have_value("93")


def test_a_bad_value_is_named_on_a_tablet(tablet: Page, screenshots: Path, console: Console) -> None:
    console.allow("status of 422")  # the refused form comes back as a 422 page
    log_in(tablet, "admin.north")
    _open_clinic(tablet)
    assert_fits(tablet)
    tablet.locator("#f-madrs_remission_max").fill("ten")
    tablet.locator("#f-reason").fill("typo")
    tablet.get_by_role("button", name="Save changes").click()
    expect(tablet.locator(".error-summary")).to_contain_text("madrs_remission_max")
    expect(tablet.locator("#e-madrs_remission_max")).to_be_visible()
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "clinic-policy-tablet.png"), full_page=False)


def test_chairs_and_rooms_on_a_tablet(tablet: Page, screenshots: Path) -> None:
    log_in(tablet, "admin.north")
    _open_clinic(tablet)
    tablet.get_by_role("link", name="Chairs and rooms").click()
    tablet.locator("#f-name").fill("Chair 7")
    tablet.get_by_role("button", name="Add").click()
    expect(tablet.get_by_role("status")).to_contain_text("Added chair Chair 7")
    tablet.get_by_role("button", name="Retire Chair 7").click()
    expect(tablet.locator("table.chairs")).to_contain_text("retired")
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "clinic-chairs-tablet.png"), full_page=True)
