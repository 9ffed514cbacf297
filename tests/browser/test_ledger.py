"""The ledger in a browser: a nurse receives stock and records a waste, a prescriber witnesses it from their
own sign-in with their password, and the pages fit a desktop and a tablet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import VIEWPORT
from tests.browser.support import DEMO_PASSWORD, Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import TABLET, assert_fits

LOT = "ESK-BROWSER-1"


def _receive_and_waste(page: Page) -> None:
    log_in(page, "nurse.north")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ledger").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Controlled-substance ledger")
    page.get_by_role("link", name="Receive stock").click()
    page.get_by_label("Product").select_option("esketamine-28")
    page.get_by_label("Lot number").fill(LOT)
    page.get_by_label("Containers received").fill("12")
    page.get_by_label("Lot expires on").fill((dt.date.today() + dt.timedelta(days=400)).isoformat())
    page.get_by_label("Supplier name").fill("Cascade Medical Supply")
    page.get_by_label("Supplier DEA number").fill("RC1234563")
    page.get_by_label("Supplier address").fill("1200 Harbor Way, Portland, OR 97201")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("12 devices").first).to_be_visible()
    page.get_by_role("link", name="Record a waste").click()
    page.get_by_label("Product").select_option("esketamine-28")
    page.get_by_label("Lot number").fill(LOT)
    page.get_by_label("Quantity wasted").fill("20")  # more than the lot holds: refused by name
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error-summary")).to_contain_text("below zero")
    page.get_by_label("Quantity wasted").fill("1")
    page.get_by_label("Note").fill("Device dropped on the floor before use")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Waiting for a witness")).to_be_visible()
    expect(page.get_by_text("Another clinician witnesses")).to_be_visible()


def test_a_waste_is_witnessed_by_another_clinician(page: Page, console: Console, screenshots: Path) -> None:
    # The refused forms answer 409 (a waste beyond the balance) and 422 (a wrong password), as they should.
    console.allow(r"status of 409 .*/ledger/record/waste/")
    console.allow(r"status of 422 .*/ledger/events/\d+/witness/")
    _receive_and_waste(page)
    page.screenshot(path=str(screenshots / "ledger-nurse-desktop.png"), full_page=True)
    page.get_by_role("button", name="Log out").click()

    log_in(page, "prescriber.north")
    page.goto("/ledger/")
    page.get_by_role("link", name="Witness").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Witness a waste")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Confirm as witness").click()
    expect(page.locator(".error-summary")).to_contain_text("not your password")
    page.get_by_label("Your password").fill(DEMO_PASSWORD)
    page.screenshot(path=str(screenshots / "ledger-witness-desktop.png"), full_page=True)
    page.get_by_role("button", name="Confirm as witness").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Controlled-substance ledger")
    page.goto("/ledger/events/")
    expect(page.locator("table").get_by_text("witnessed").first).to_be_visible()
    page.screenshot(path=str(screenshots / "ledger-events-desktop.png"), full_page=True)
    assert page.viewport_size == VIEWPORT


def test_the_ledger_pages_fit_a_tablet(browser: Browser, server: str, screenshots: Path) -> None:
    context = browser.new_context(base_url=server, viewport=TABLET, locale="en-US", timezone_id="UTC")
    tablet = context.new_page()
    log_in(tablet, "nurse.north")
    for path, name in (
        ("/ledger/", "ledger"),
        ("/ledger/events/", "ledger-events"),
        ("/ledger/record/receive/", "ledger-receive"),
        ("/ledger/report/", "ledger-report"),
        ("/ledger/record/breakage/", "ledger-breakage"),
        ("/ledger/record/dispose/", "ledger-dispose"),
        ("/ledger/record/transfer_out/", "ledger-transfer"),
        ("/ledger/losses/", "ledger-losses"),
        ("/ledger/losses/new/", "ledger-loss-new"),
    ):
        tablet.goto(path)
        expect(tablet.get_by_role("heading", level=1)).to_be_visible()
        tablet.screenshot(path=str(screenshots / f"{name}-tablet.png"), full_page=True)
        assert_fits(tablet)
    context.close()


def test_a_theft_is_reported_and_its_notice_recorded(page: Page, screenshots: Path) -> None:
    """South's demo ledger has a theft whose notice is sent; north reports its own and records the notice."""
    log_in(page, "nurse.north")
    page.goto("/ledger/record/receive/")
    page.get_by_label("Product").select_option("esketamine-28")
    page.get_by_label("Lot number").fill("ESK-BROWSER-2")
    page.get_by_label("Containers received").fill("6")
    page.get_by_label("Lot expires on").fill((dt.date.today() + dt.timedelta(days=400)).isoformat())
    page.get_by_label("Supplier name").fill("Cascade Medical Supply")
    page.get_by_label("Supplier DEA number").fill("RC1234563")
    page.get_by_label("Supplier address").fill("1200 Harbor Way, Portland, OR 97201")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Controlled-substance ledger")
    page.goto("/ledger/losses/new/")
    page.get_by_label("Type of loss").select_option("theft")
    discovered = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Discovered at").fill(discovered)
    page.get_by_label("Product").select_option("esketamine-28")
    page.get_by_label("Lot number").fill("ESK-BROWSER-2")
    page.get_by_label("Quantity lost").fill("2")
    page.get_by_label("What happened").fill("Locked drawer forced overnight; two devices missing at opening")
    page.get_by_role("button", name="Report the loss").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Theft: report")
    page.get_by_label("Step").select_option("notice")
    page.get_by_label("Done at").fill(discovered)
    page.get_by_label("Reference").fill("Seattle Field Division, by letter")
    page.get_by_role("button", name="Record the step").click()
    expect(page.get_by_text("Seattle Field Division, by letter")).to_be_visible()
    page.screenshot(path=str(screenshots / "ledger-loss-desktop.png"), full_page=True)
    page.goto("/ledger/")
    expect(page.get_by_text("Theft and loss: DEA steps open")).to_be_visible()
    page.screenshot(path=str(screenshots / "ledger-with-loss-desktop.png"), full_page=True)
