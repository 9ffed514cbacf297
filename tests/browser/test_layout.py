"""Pages fit a tablet: at 820 px nothing scrolls sideways and the navigation stays on one line.

Also the rules page's filter, which only a browser runs, and the API docs page drawn in the app's layout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in

TABLET: ViewportSize = {"width": 820, "height": 1180}


@pytest.fixture
def tablet(browser: Browser, server: str, console: Console) -> Iterator[Page]:
    """A fresh, logged-out page at tablet width; fails the test on any JavaScript error it logged."""
    context = browser.new_context(base_url=server, viewport=TABLET, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page
    context.close()
    unexpected = console.unexpected()
    if unexpected:
        pytest.fail("JavaScript errors in the browser:\n  " + "\n  ".join(unexpected), pytrace=False)


def assert_fits(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths[0]} px wide in {widths[1]} px"
    tops = page.evaluate(
        "Array.from(document.querySelectorAll('nav[aria-label=Main] a'))"
        ".map(a => Math.round(a.getBoundingClientRect().top))"
    )
    assert len(tops) >= 3 and len(set(tops)) == 1, f"the navigation wraps on {page.url}: link tops {tops}"
    # Every link is in view: none hidden past the edge of a bar that scrolls.
    rights = page.evaluate(
        "Array.from(document.querySelectorAll('nav[aria-label=Main] a'))"
        ".map(a => Math.round(a.getBoundingClientRect().right))"
    )
    assert max(rights) <= widths[1], f"a navigation link is out of view on {page.url}: right edges {rights}"


@pytest.mark.parametrize("path", ["/rules/", "/audit/", "/staff/"])
def test_clinic_admin_pages_fit_a_tablet(tablet: Page, path: str) -> None:
    log_in(tablet, "admin.north")
    tablet.goto(path)
    expect(tablet.get_by_role("heading", level=1)).to_be_visible()
    assert_fits(tablet)


# A north patient with a ketamine-assisted psychotherapy session and an integration one booked; prints the id.
THERAPY = """
import datetime as dt
from django.utils import timezone
from ketaclinic.accounts.models import User
from ketaclinic.patients.models import Patient
from ketaclinic.therapy import actions, inputs
therapist = User.objects.get(username="therapist.north")
patient = Patient.objects.filter(location__slug="north").order_by("created_at").first()
for kind, days in (("kap", 3), ("integration", 5)):
    data = inputs.TherapySessionIn(
        kind=kind, starts_at=timezone.now() + dt.timedelta(days=days), duration_minutes=120, mode="video"
    )
    actions.do_schedule_session(patient, data, actor=therapist)
print(patient.pk)
"""


def test_a_patients_therapy_sessions_fit_a_tablet(tablet: Page, manage: Callable[..., str]) -> None:
    """The care team and the sessions' table stack at tablet width: side by side, the table (a kind of
    session as long as "Ketamine-assisted psychotherapy") pushed the page 234 px wider than the screen."""
    patient = manage("shell", "-c", THERAPY).strip().splitlines()[-1]
    log_in(tablet, "therapist.north")
    tablet.goto(f"/therapy/patients/{patient}/")
    expect(tablet.locator("#therapy-sessions tbody tr", has_text="Ketamine-assisted").first).to_be_visible()
    assert_fits(tablet)


def test_audit_rows_with_long_field_lists_fit_a_tablet(tablet: Page) -> None:
    log_in(tablet, "admin.north")
    tablet.goto("/audit/")
    tablet.get_by_label("Action").select_option("patient.create")  # rows list every field registered
    tablet.get_by_role("button", name="Apply filters").click()
    expect(tablet.locator("table.trail tbody tr").first).to_contain_text("Patient registered")
    assert_fits(tablet)


def test_the_longest_navigation_fits_a_tablet(tablet: Page) -> None:
    # Patients, Register patient, Floor, Ledger, Emergency access, REMS, Clinical rules, API
    log_in(tablet, "nurse.north")
    for path in ("/rules/", "/api/docs"):
        tablet.goto(path)
        assert_fits(tablet)


def test_rules_filter_narrows_rules_by_id_text_or_source(tablet: Page) -> None:
    log_in(tablet, "nurse.north")
    tablet.goto("/rules/")
    box = tablet.get_by_label("Filter rules")
    expect(box).to_be_visible()  # shown by the script; hidden without it
    box.fill("ELIG-ALL-ACK-PREGNANCY")
    expect(tablet.locator("[data-filter-row]:visible")).to_have_count(1)
    expect(tablet.locator("#ELIG-ALL-ACK-PREGNANCY")).to_be_visible()
    expect(tablet.locator("#area-dosing")).to_be_hidden()
    box.fill("Janssen")  # in no rule's text: only in the full citations its source tags link to
    expect(tablet.locator("#ELIG-ALL-ACK-SUBSTANCE-USE")).to_be_visible()  # cites S3a, a Janssen page
    expect(tablet.locator("#ELIG-ALL-ACK-HEPATIC-SEVERE")).to_be_visible()
    expect(tablet.locator("#rule-filter-count")).to_contain_text("match")
    box.fill("")
    expect(tablet.locator("[data-filter-row][hidden]")).to_have_count(0)
    tablet.locator("#ELIG-ALL-ACK-PREGNANCY .sources a").first.click()
    assert "#src-" in tablet.url
    assert_fits(tablet)


def test_api_docs_keep_the_navigation(tablet: Page) -> None:
    log_in(tablet, "nurse.north")
    tablet.get_by_role("navigation", name="Main").get_by_role("link", name="API").click()
    expect(tablet.locator("#swagger-ui .opblock").first).to_be_visible()
    expect(tablet.get_by_role("link", name="Patients", exact=True)).to_be_visible()
    assert_fits(tablet)
