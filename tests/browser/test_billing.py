"""Billing in the browser: the front desk records a patient's coverage and a benefits check from the chart,
on a desktop; a clinic admin reads and adds to the price list on a tablet. Nothing scrolls sideways."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import assert_fits, tablet

__all__ = ["tablet"]  # the tablet page fixture


def test_front_desk_records_coverage_and_a_benefits_check(page: Page, screenshots: Path) -> None:
    log_in(page, "frontdesk.north")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.locator("table a").first.click()
    page.get_by_role("link", name="Coverage").click()
    expect(page.get_by_role("heading", name="Record coverage")).to_be_visible()
    page.locator("#f-payer").fill("Harbour Health PPO")
    page.locator("#f-member_id").fill("HH-2231")
    page.locator("#f-group_number").fill("GRP-4410")
    page.get_by_label("Behavioural-health carve-out").check()
    page.get_by_role("button", name="Save coverage").click()
    expect(page.get_by_role("heading", name="Harbour Health PPO")).to_be_visible()
    page.locator("#f-copay").fill("40")
    page.locator("#f-coinsurance_percent").fill("20")
    page.locator("#f-deductible_remaining").fill("300")
    page.get_by_label("Covered", exact=True).check()
    page.get_by_role("button", name="Record check").click()
    expect(page.locator("td", has_text="Covered").first).to_be_visible()
    assert_fits(page)
    page.screenshot(path=str(screenshots / "billing-coverage-desktop.png"), full_page=True)


def test_a_price_needs_its_code_on_a_tablet(tablet: Page, screenshots: Path, console: Console) -> None:
    console.allow("status of 422")  # the refused form comes back as a 422 page
    log_in(tablet, "admin.north")
    tablet.get_by_role("navigation", name="Main").get_by_role("link", name="Prices").click()
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("Price list")
    assert_fits(tablet)
    tablet.locator("#f-item").select_option("kap")
    tablet.locator("#f-amount").fill("410")
    tablet.get_by_role("button", name="Add price").click()
    expect(tablet.locator("#f-code:invalid")).to_have_count(1)  # the browser asks for it first
    tablet.locator("#f-code").fill("90837")
    tablet.get_by_role("button", name="Add price").click()
    expect(tablet.locator("#prices")).to_contain_text("410.00")
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "billing-prices-tablet.png"), full_page=True)


# The demo's newest signed esketamine session not yet invoiced, at either location: today's discharged
# session where the location's day has run long enough to hold one (it starts 200 minutes before the demo
# loads), else one of the earlier sessions whose monitoring forms wait.
SIGNED = """
import json
from ketaclinic.treatment.models import TreatmentSession
s = (
    TreatmentSession.objects.filter(status="signed", plan__modality="esketamine_nasal", invoice__isnull=True)
    .select_related("patient", "location").order_by("-signed_at").first()
)
print(json.dumps({"location": s.location.slug, "patient": str(s.patient_id), "plan": str(s.plan_id),
                  "number": s.number}))
"""


def test_front_desk_invoices_a_signed_session_takes_a_payment_and_prints_the_superbill(
    page: Page, screenshots: Path, manage: Callable[..., str]
) -> None:
    """The demo's signed esketamine session: the front desk opens it from the patient's chart and plan,
    invoices it, records a cash payment, and prints the superbill (a PDF naming the codes)."""
    signed = json.loads(manage("shell", "-c", SIGNED).strip().splitlines()[-1])
    log_in(page, f"frontdesk.{signed['location']}")
    page.goto(f"/patients/{signed['patient']}/")
    page.get_by_role("link", name="Open treatment plans").click()
    page.locator(f"table a[href*='{signed['plan']}']").first.click()
    page.locator("#sessions").get_by_role("link", name=str(signed["number"]), exact=True).click()
    page.locator("#invoice-session").get_by_role("button", name="Invoice this session").click()
    expect(page.locator("#invoice h2")).to_contain_text("Invoice INV-")
    expect(page.locator("#invoice")).to_contain_text("J0013")
    page.locator("#f-amount").fill("100")
    page.locator("#f-method").select_option("cash")
    page.locator("#add-entry").get_by_role("button", name="Record").click()
    expect(page.locator("#entries")).to_contain_text("100.00")
    assert_fits(page)
    page.screenshot(path=str(screenshots / "billing-invoice-desktop.png"), full_page=True)
    href = page.locator("#print-superbill").get_attribute("href")
    assert href is not None and href.endswith("/superbill/")
    printed = page.request.get(href)
    assert printed.status == 200 and printed.headers["content-type"] == "application/pdf"
    body = printed.body()
    assert body.startswith(b"%PDF-") and b"J0013" in body and b"Superbill" in body
