"""Break-glass in a browser: a south nurse opens a north patient with a reason, reads the chart under the
banner, and north's admin reviews it; at desktop and tablet width, nothing scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import assert_fits

WIDTHS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "tablet": {"width": 820, "height": 1180},
}
# The demo registers north's patients first: KC-000001 is at north.
NORTH_MRN = "KC-000001"
REASON = "Collapsed in the south clinic waiting room; need allergies and current medications"


@pytest.fixture(params=list(WIDTHS))
def sized(request: pytest.FixtureRequest, browser: Browser, server: str, console: Console) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server, viewport=WIDTHS[request.param], locale="en-US", timezone_id="UTC"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page
    context.close()
    unexpected = console.unexpected()
    if unexpected:
        pytest.fail("JavaScript errors in the browser:\n  " + "\n  ".join(unexpected), pytrace=False)


def test_break_the_glass_read_under_the_banner_and_review(
    sized: Page, screenshots: Path, console: Console
) -> None:
    page = sized
    console.allow(r"status of 422")  # the form sent empty first, on purpose
    width = page.viewport_size["width"] if page.viewport_size else 0
    log_in(page, "nurse.south")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Emergency access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Emergency access")
    page.get_by_role("button", name="Open the chart under emergency access").click()  # nothing filled in
    expect(page.locator(".error-summary")).to_contain_text("Reason")
    expect(page.locator(".error-summary")).to_contain_text("Confirmation")
    nav.get_by_role("link", name="Emergency access").click()
    page.get_by_label("MRN").fill(NORTH_MRN)
    page.get_by_label("Reason").fill(REASON)
    page.get_by_label("I am treating this patient").check()
    assert_fits(page)
    page.screenshot(path=screenshots / f"emergency-request-{width}.png", full_page=True)
    page.get_by_role("button", name="Open the chart under emergency access").click()

    banner = page.locator(".emergency-banner")
    expect(banner).to_contain_text("Emergency access")
    expect(banner).to_contain_text("expires at")
    expect(banner).to_contain_text(REASON)
    expect(page.locator(".patient-head")).to_contain_text(NORTH_MRN)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    assert_fits(page)
    page.screenshot(path=screenshots / f"emergency-chart-{width}.png", full_page=True)

    page.get_by_role("button", name="Log out").click()
    log_in(page, "admin.north")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Emergency reviews").click()
    card = page.locator("article.grant").first
    expect(card).to_contain_text("nurse.south")
    expect(card).to_contain_text(REASON)
    card.locator("details.reads summary").click()
    expect(card).to_contain_text("chart and demographics")
    assert_fits(page)
    page.screenshot(path=screenshots / f"emergency-review-{width}.png", full_page=True)
    card.get_by_label("Review note").fill("Confirmed with the south clinic")
    card.get_by_role("button", name="Mark reviewed").click()
    expect(page.locator(f"article.grant:has-text('{REASON}')").first).to_contain_text("reviewed")
