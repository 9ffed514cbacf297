"""The week's proposal in the browser: front desk opens Plan a week from the schedule, asks for next week,
sees the proposal solving in the task runner and then the visits it adds, accepts one, then all, on a
desktop; the same proposal on a tablet. Nothing scrolls sideways."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_intake import log_in
from tests.browser.test_layout import assert_fits, tablet

__all__ = ["tablet"]  # the tablet page fixture

# The browser tests' small demo has no nurse ratio: set the demo's, and leave the courses unbooked.
SETUP = (
    "from ketaclinic.accounts.models import ClinicLocation\n"
    "from ketaclinic.clinicpolicy.queries import policy_for\n"
    "from ketaclinic.scheduling import demo\n"
    "for location in ClinicLocation.objects.order_by('slug'):\n"
    "    if policy_for(location).nurse_monitoring_ratio is None:\n"
    "        demo.ratio(location)\n"
)

# A new north patient cleared for esketamine with a plan from today: its twice-weekly induction runs through
# the week after next, which the tablet asks for, whatever else the demo (smaller when loaded soon after the
# location's midnight) and the journeys before this one left unbooked there.
COURSE = """
import random
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.clock import local_now
from ketaclinic.demo import data
from ketaclinic.patients.actions import do_register_patient
from ketaclinic.treatment import demo
rng = random.Random()
north = ClinicLocation.objects.get(slug="north")
prescriber, nurse, desk = (
    User.objects.get(username=f"{role}.north") for role in ("prescriber", "nurse", "frontdesk")
)
first = rng.randint(100_000, 800_000)
for index in range(first, first + 40):
    patient = do_register_patient(data._patient(index, "north", rng, local_now(north).date()), actor=desk)
    if demo._cleared(patient, "esketamine_nasal", prescriber, nurse):
        demo._plan(patient, "esketamine_nasal", prescriber)
        break
"""


def _ask(page: Page, *, weeks_later: int = 0) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedule").click()
    page.get_by_role("link", name="Plan a week").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Plan a week")
    if weeks_later:  # the form offers next week; move it on
        page.locator("#f-week_start").evaluate(
            f"el => {{ const d = new Date(el.value); d.setDate(d.getDate() + {7 * weeks_later}); "
            "el.value = d.toISOString().slice(0, 10) }"
        )
    page.locator("#f-time_limit_seconds").fill("3")
    page.get_by_role("button", name="Ask for the proposal").click()
    # The task runner solves it; the page reloads itself until the answer is there.
    expect(page.get_by_role("heading", level=2).first).to_contain_text("visits placed", timeout=30_000)


def test_front_desk_asks_for_the_week_and_accepts_it(
    page: Page, screenshots: Path, manage: Callable[..., str]
) -> None:
    manage("shell", "-c", SETUP)
    log_in(page, "frontdesk.north")
    _ask(page)
    assert_fits(page)
    page.screenshot(path=str(screenshots / "schedule-proposal-desktop.png"), full_page=True)
    rows = page.locator(".proposal-table tbody tr")
    count = rows.count()
    assert count >= 1
    page.locator("input[name=visit]").first.check()
    page.get_by_role("button", name="Accept the ticked visits").click()
    expect(page.locator(".notice.ok")).to_contain_text("Accepted")
    expect(page.locator(".proposal-table .badge.ok")).to_have_count(1)
    if count > 1:
        page.get_by_role("button", name="Accept all").click()
        expect(page.locator(".proposal-table .badge.ok")).to_have_count(count)
    page.get_by_role("link", name="The week's schedule").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Schedule")
    expect(page.locator(".wk-cell").first).to_be_visible()  # the booked visits in the week's grid


def test_the_proposal_on_a_tablet(tablet: Page, screenshots: Path, manage: Callable[..., str]) -> None:
    manage("shell", "-c", SETUP)
    manage("shell", "-c", COURSE)
    log_in(tablet, "frontdesk.north")
    _ask(tablet, weeks_later=1)
    expect(tablet.locator(".proposal-table tbody tr").first).to_be_visible()
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "schedule-proposal-tablet.png"), full_page=True)
