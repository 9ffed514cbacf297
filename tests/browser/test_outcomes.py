"""Outcome analytics in the browser: a clinic admin opens the outcome report, filters it to IV ketamine,
and sees the durability curve and the published figure beside the clinic's, on a desktop and a tablet."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_intake import log_in
from tests.browser.test_layout import assert_fits, tablet

__all__ = ["tablet"]  # the tablet page fixture


@pytest.fixture(scope="module")
def history(manage: Callable[..., str], server: str) -> str:
    return manage("load_outcome_history", "--per-location", "150")


def test_an_admin_filters_outcomes_to_iv_ketamine(page: Page, screenshots: Path, history: str) -> None:
    log_in(page, "admin.north")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcomes")
    page.locator("#f-modality").select_option("iv_ketamine")
    page.get_by_role("button", name="Show outcomes").click()
    expect(page).to_have_url(re.compile(r"modality=iv_ketamine"))
    expect(page.get_by_test_id("km-curve")).to_be_visible()
    expect(page.locator("path.km")).to_have_count(1)
    compare = page.get_by_test_id("compare")
    expect(compare.get_by_test_id("benchmark")).to_contain_text("McInnes 2022")
    expect(compare).to_contain_text("53.6%")
    expect(compare.locator("tr.clinic").first).to_contain_text("%")
    expect(page.get_by_test_id("landmarks")).to_contain_text("about 80.0%")
    assert_fits(page)
    page.screenshot(path=str(screenshots / "outcomes-desktop.png"), full_page=True)


def test_the_report_fits_a_tablet(tablet: Page, screenshots: Path, history: str) -> None:
    log_in(tablet, "admin.north")
    tablet.goto("/outcomes/?instrument=madrs&modality=esketamine_nasal")
    expect(tablet.get_by_test_id("compare")).to_contain_text("ESCAPE-TRD")
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "outcomes-tablet.png"), full_page=True)
