"""The calendar on a desktop and a tablet: front desk sees the week by chair with the holiday, opens a plan's
course, sees a booking on the holiday refused with its rule and books it with an override reason; the clinic
admin's resources page. Nothing scrolls sideways."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import assert_fits, tablet

__all__ = ["tablet"]  # the tablet page fixture

# The small demo of the browser tests has no nurse ratio or booked courses; the full demo's steps add them.
SETUP = (
    "from ketaclinic.accounts.models import ClinicLocation\n"
    "from ketaclinic.scheduling import demo\n"
    "from ketaclinic.scheduling.models import Appointment\n"
    "if not Appointment.objects.exists():\n"
    "    for location in ClinicLocation.objects.order_by('slug'):\n"
    "        demo.ratio(location)\n"
    "        demo.courses(location)\n"
)


def _week_with_the_holiday(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedule").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Schedule")
    holiday = page.evaluate(
        "() => { const d = new Date(); d.setDate(d.getDate() + 3); return d.toISOString().slice(0, 10) }"
    )
    page.locator("#s-start").fill(holiday)
    page.get_by_label("Span").select_option("7")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".sched-closed")).to_contain_text("Staff training day")


def test_front_desk_week_and_course(page: Page, screenshots: Path, manage: Callable[..., str]) -> None:
    manage("shell", "-c", SETUP)
    log_in(page, "frontdesk.north")
    _week_with_the_holiday(page)
    assert_fits(page)
    page.screenshot(path=str(screenshots / "schedule-week-desktop.png"), full_page=False)
    page.locator(".wk-cell.course").first.click()  # a course's visit in the week's grid, then its course
    page.get_by_role("link", name=re.compile(r"session \d+")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Book the course")
    expect(page.locator(".course-table")).to_contain_text("booked")
    assert_fits(page)
    page.screenshot(path=str(screenshots / "schedule-course-desktop.png"), full_page=True)


def test_a_booking_on_the_holiday_is_refused_then_overridden_on_a_tablet(
    tablet: Page, screenshots: Path, console: Console, manage: Callable[..., str]
) -> None:
    console.allow("status of 409")  # the refused booking comes back as a 409 page
    manage("shell", "-c", SETUP)
    log_in(tablet, "frontdesk.north")
    _week_with_the_holiday(tablet)
    tablet.locator(".wk-cell.course").first.click()  # the visit's page names the patient's MRN
    mrn = re.search(r"KC-\d{6}", tablet.locator("main").inner_text())
    assert mrn is not None
    _week_with_the_holiday(tablet)
    closed = tablet.locator(".wk-dayhead.closed a").first.get_attribute("href") or ""
    holiday = closed.split("start=")[1][:10]
    tablet.locator("#f-patient_mrn").fill(mrn.group(0))
    tablet.locator("#f-kind").select_option("consultation")
    tablet.locator("#f-date").fill(holiday)
    tablet.locator("#f-time").fill("12:00")
    tablet.get_by_role("button", name="Book", exact=True).click()
    expect(tablet.locator(".sched-conflicts")).to_contain_text("SCHED-CLOSURE")
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "schedule-refused-tablet.png"), full_page=False)
    tablet.locator("#f-override_reason").fill("Director sees the patient on the training day")
    tablet.get_by_role("button", name="Book", exact=True).click()
    expect(tablet.get_by_role("status").first).to_contain_text("against the rules shown")


def test_resources_on_a_tablet(tablet: Page, screenshots: Path) -> None:
    log_in(tablet, "admin.north")
    tablet.get_by_role("navigation", name="Main").get_by_role("link", name="Clinic", exact=True).click()
    tablet.get_by_role("link", name="Hours and shifts").click()
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("Schedule resources")
    expect(tablet.locator("main")).to_contain_text("Staff training day")
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "schedule-resources-tablet.png"), full_page=False)
