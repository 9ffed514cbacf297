"""The week as a grid, a therapist booking their own session, and capacity per modality in the browser:
front desk reads the week (a column per day, each visit naming its chair); a therapist books an integration
session from their calendar and opens it; capacity shows esketamine and IV starts. Screenshots at 1280 and
820 px."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import assert_fits, tablet

__all__ = ["tablet"]

# The small demo of the browser tests has no nurse ratio; set it, and book next week's visits at north (those
# every rule allows). Prints that week, a north patient's MRN and a weekday for the therapist's session.
SETUP = """
import datetime as dt, json
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.errors import InvalidInput
from ketaclinic.scheduling import actions
from ketaclinic.scheduling.inputs import AppointmentIn
from ketaclinic.clinicpolicy.clock import local_today, location_zone
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import demo
for location in ClinicLocation.objects.order_by('slug'):
    if policy_for(location).nurse_monitoring_ratio is None:
        demo.ratio(location)
north = ClinicLocation.objects.get(slug='north')
zone, today = location_zone(north), local_today(north)
week = today + dt.timedelta(days=7 - today.weekday())
desk = User.objects.get(username='frontdesk.north')
patients = list(Patient.objects.filter(location=north).order_by('mrn')[:8])
kinds = ['iv_ketamine', 'esketamine_nasal', 'consultation', 'preparation']
for offset in range(5):
    for i, patient in enumerate(patients[1:]):
        hour = dt.time(8 + (i * 3 + offset) % 8)
        start = dt.datetime.combine(week + dt.timedelta(days=offset), hour, tzinfo=zone)
        data = AppointmentIn(patient_id=patient.pk, kind=kinds[(i + offset) % 4], starts_at=start)
        try:
            actions.do_book_appointment(patient, data, actor=desk)
        except (actions.BookingConflict, InvalidInput):
            pass
ahead = today + dt.timedelta(days=3)
while ahead.weekday() >= 5:
    ahead += dt.timedelta(days=1)
patient = Patient.objects.filter(location=north).order_by('mrn').first()
print(json.dumps({'north': north.pk, 'week': week.isoformat(), 'mrn': patient.mrn, 'day': ahead.isoformat()}))
"""


def _setup(manage: Callable[..., str]) -> dict[str, object]:
    out = manage("shell", "-c", SETUP).strip().splitlines()[-1]
    loaded: dict[str, object] = json.loads(out)
    return loaded


def test_the_week_grid_own_sessions_and_capacity(
    page: Page, tablet: Page, screenshots: Path, manage: Callable[..., str], console: Console
) -> None:
    facts = _setup(manage)
    week = f"/schedule/?location={facts['north']}&start={facts['week']}&days=7"
    log_in(page, "frontdesk.north")
    page.goto(week)
    expect(page.locator(".wk-grid")).to_be_visible()
    expect(page.locator(".wk-day")).to_have_count(7)
    assert page.locator(".wk-cell").count() > 0
    assert_fits(page)
    page.screenshot(path=str(screenshots / "schedule-week-grid-desktop.png"), full_page=True)
    log_in(tablet, "frontdesk.north")
    tablet.goto(week)
    expect(tablet.locator(".wk-grid")).to_be_visible()
    assert_fits(tablet)
    # A busy day widens its column (the week scrolls inside its card) rather than squeeze its lanes: every
    # visit keeps room for its start time and a short name, at tablet width as at desktop.
    for shown in (page, tablet):
        narrowest = shown.evaluate(
            "Math.min(...Array.from(document.querySelectorAll('.wk-day .wk-cell'))"
            ".map(c => c.getBoundingClientRect().width))"
        )
        assert narrowest >= 48, f"a visit block is {narrowest:.0f} px wide at {shown.viewport_size}"
    tablet.screenshot(path=str(screenshots / "schedule-week-grid-tablet.png"), full_page=False)

    # Capacity: esketamine and IV starts side by side.
    page.goto(f"/schedule/capacity/?location={facts['north']}")
    expect(page.locator("#cap-esketamine_nasal .cap-big")).to_be_visible()
    expect(page.locator("#cap-iv_ketamine .cap-big")).to_be_visible()
    assert_fits(page)
    page.screenshot(path=str(screenshots / "schedule-capacity-modalities-desktop.png"), full_page=True)
    tablet.goto(f"/schedule/capacity/?location={facts['north']}")
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "schedule-capacity-modalities-tablet.png"), full_page=False)

    # A therapist books their own integration session from their calendar, then opens it.
    page.context.clear_cookies()
    log_in(page, "therapist.north")
    page.goto(f"/schedule/me/?start={facts['day']}&days=1")
    form = page.locator("#book")
    form.get_by_label("Patient MRN").fill(str(facts["mrn"]))
    form.get_by_label("Kind").select_option("integration")
    form.get_by_label("Date").fill(str(facts["day"]))
    form.get_by_label("Time").fill("16:00")
    form.get_by_role("button", name="Book").click()
    expect(page.locator(".notice.ok")).to_contain_text("Booked integration")
    assert_fits(page)
    page.screenshot(path=str(screenshots / "schedule-therapist-booked-desktop.png"), full_page=True)
    page.locator(".wk-cell").first.click()
    expect(page.get_by_role("heading", name="Move the visit")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel visit")).to_be_visible()
    expect(page.get_by_role("button", name="No-show")).to_have_count(0)
    tablet.context.clear_cookies()
    log_in(tablet, "therapist.north")
    tablet.goto(f"/schedule/me/?start={facts['day']}&days=1")
    expect(tablet.locator("#book")).to_be_visible()
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "schedule-therapist-calendar-tablet.png"), full_page=False)
