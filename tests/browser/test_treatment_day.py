"""The treatment day in a browser at tablet width: the floor board shows today's sessions per chair, each in
its phase, and follows a session as it moves on without a reload.

The board's sessions are charted by `ketaclinic.floor.tests.chart` in the server's database; charting on the
session page itself, discharging and the REMS form are test_session_page.py's journeys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import TABLET


def assert_board_fits(page: Page) -> None:
    """The board itself never scrolls sideways (the top bar is the layout tests' concern)."""
    widths = page.evaluate("[document.querySelector('#floor-board').scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the board is {widths[0]} px wide in {widths[1]} px"


SEED = """
from django.utils import timezone
from ketaclinic.accounts.models import User
from ketaclinic.floor.tests.chart import STAGES, chart_session, make_chairs
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import TreatmentSession
nurse = User.objects.get(username="nurse.north")
patients = list(Patient.objects.filter(location__slug="north").order_by("mrn"))
chairs = make_chairs(patients[0].location, len(STAGES) + 2)
# The demo's own sessions sit in the demo's chairs; this journey's are in chairs of its own ("Chair 01", ...).
if not TreatmentSession.objects.filter(chair__in=chairs).exists():
    now = timezone.now()
    for i, stage in enumerate(STAGES):
        chart_session(patients[i % len(patients)], actor=nurse, now=now, stage=stage, chair=chairs[i])
"""

# Moves the "checked_in" session on by charting its pre-dose check (as the session page will).
ADVANCE = """
from django.utils import timezone
from ketaclinic.floor.tests.chart import _stamp
from ketaclinic.treatment.models import PreDoseCheck, TreatmentSession
s = TreatmentSession.objects.filter(
    status="checked_in", predose_checks=None, vitals=None, chair__name__startswith="Chair 0"
).get()
PreDoseCheck.objects.create(session=s, identity_confirmed=True, consent_current=True, fasting_confirmed=True,
    ride_home_arranged=True, medication_changes=False, **_stamp(s.monitored_by, timezone.now()))
"""


@pytest.fixture
def tablet(browser: Browser, server: str, console: Console) -> Iterator[Page]:
    context = browser.new_context(base_url=server, viewport=TABLET, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page
    context.close()
    unexpected = console.unexpected()
    if unexpected:
        pytest.fail("JavaScript errors in the browser:\n  " + "\n  ".join(unexpected), pytrace=False)


def test_the_floor_board_shows_every_phase_and_follows_a_session(
    tablet: Page, manage: Callable[..., str], screenshots: Path
) -> None:
    manage("shell", "-c", SEED)
    log_in(tablet, "nurse.north")
    tablet.goto("/floor/")
    expect(tablet.get_by_role("heading", level=1, name="Treatment floor")).to_be_visible()
    board = tablet.locator("#floor-board")
    for label in ("Checked in", "Pre-dose", "Dosing", "Monitoring", "Ready for discharge", "Discharged"):
        expect(board.locator(".floor-phase .badge", has_text=label).first).to_be_visible()
    expect(board.get_by_text("Free").first).to_be_visible()  # the chairs without a session
    expect(board.get_by_text("1 open alert")).to_be_visible()
    # The countdowns tick in the browser between refreshes.
    countdown = board.locator("time.countdown").first
    first = countdown.inner_text()
    tablet.wait_for_timeout(1500)
    assert countdown.inner_text() != first
    tablet.screenshot(path=screenshots / "floor-board-tablet.png", full_page=True)
    assert_board_fits(tablet)

    before = board.locator(".floor-phase .badge", has_text="Checked in")
    expect(before).to_have_count(1)
    manage("shell", "-c", ADVANCE)
    # The board refreshes itself (every 10 s): the session moves from checked in to pre-dose.
    expect(tablet.locator("#floor-board .floor-phase .badge", has_text="Checked in")).to_have_count(
        0, timeout=15_000
    )
    expect(tablet.locator("#floor-board .floor-phase .badge", has_text="Pre-dose")).to_have_count(2)

    tablet.set_viewport_size({"width": 1280, "height": 900})
    tablet.reload()
    assert_board_fits(tablet)
    tablet.screenshot(path=screenshots / "floor-board-desktop.png", full_page=True)
