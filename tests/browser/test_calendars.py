"""Calendars, the waitlist and feeds in the browser: front desk books a plan's induction and sees the
occurrence on the holiday refused with its rule, opens the day's grid, a visit's page, capacity and the
waitlist; the nurse makes their calendar feed and it carries the visits without a patient's name; a patient
confirms a visit on a phone. Screenshots at 1280, 820 and 390 px."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import assert_fits, tablet

__all__ = ["tablet"]

# The small demo of the browser tests has no nurse ratio; set it, and free the first north plan's course
# (cancel what is booked of it) so that it can be booked here. Prints what the journey needs.
SETUP = """
import json
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import actions, demo
from ketaclinic.scheduling.models import HOLDING, Appointment, Closure
from ketaclinic.treatment.models import TreatmentPlan
for location in ClinicLocation.objects.order_by('slug'):
    if policy_for(location).nurse_monitoring_ratio is None:
        demo.ratio(location)
north = ClinicLocation.objects.get(slug='north')
holiday = Closure.objects.filter(location=north).order_by('date').first().date
desk = User.objects.get(username='frontdesk.north')
plans = TreatmentPlan.objects.filter(location=north, status='active').order_by('created_at')
plan = next(p for p in plans if p.sessions.filter(date=holiday).exists())
for a in Appointment.objects.filter(session__plan=plan, status__in=HOLDING):
    actions.do_cancel_appointment(a, 'Rebooking the course', actor=desk)
first = plan.sessions.filter(status='scheduled').order_by('number').first()
names = sorted({n for p in Patient.objects.all() for n in (p.given_name, p.family_name)})
print(json.dumps({'plan': str(plan.pk), 'first': first.date.isoformat(), 'holiday': holiday.isoformat(),
                  'north': north.pk, 'names': names}))
"""


def _setup(manage: Callable[..., str]) -> dict[str, object]:
    out = manage("shell", "-c", SETUP).strip().splitlines()[-1]
    loaded: dict[str, object] = json.loads(out)
    return loaded


def test_front_desk_books_an_induction_and_the_nurse_feed_has_no_names(
    page: Page, tablet: Page, screenshots: Path, manage: Callable[..., str], console: Console
) -> None:
    console.allow("status of 409")  # the refused move comes back as a 409 page
    facts = _setup(manage)
    log_in(page, "frontdesk.north")
    # Book the plan's induction: every occurrence checked; the one on the holiday refused with its rule.
    page.goto(f"/schedule/plans/{facts['plan']}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Book the course")
    page.locator("#f-date").fill(str(facts["first"]))
    page.locator("#f-time").fill("10:30")
    page.get_by_role("button", name=re.compile("Book")).click()
    notice = page.locator(".notice").first
    expect(notice).to_contain_text("could not be booked")
    expect(notice).to_contain_text("SCHED-CLOSURE")
    expect(notice).to_contain_text(str(facts["holiday"]))
    assert_fits(page)
    page.screenshot(path=str(screenshots / "calendars-course-holiday-desktop.png"), full_page=True)

    # The day of the first visit as a grid by chair; the visit's page with its move form.
    page.goto(f"/schedule/?location={facts['north']}&start={facts['first']}&days=1")
    expect(page.locator(".sched-grid")).to_be_visible()
    expect(page.locator(".sched-grid .sched-cell").first).to_be_visible()
    assert_fits(page)
    page.screenshot(path=str(screenshots / "calendars-day-grid-desktop.png"), full_page=True)
    page.locator(".sched-grid .sched-cell").first.click()
    expect(page.get_by_role("heading", name="Move the visit")).to_be_visible()
    # A move onto the holiday is refused naming the rule.
    page.locator("#f-date").fill(str(facts["holiday"]))
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator(".sched-conflicts")).to_contain_text("SCHED-CLOSURE")
    assert_fits(page)
    page.screenshot(path=str(screenshots / "calendars-move-refused-desktop.png"), full_page=True)

    page.goto(f"/schedule/capacity/?location={facts['north']}")
    expect(page.locator("#cap-esketamine_nasal .cap-big")).to_be_visible()  # and one per other modality
    expect(page.locator("main")).to_contain_text("How this is computed")
    assert_fits(page)
    page.screenshot(path=str(screenshots / "calendars-capacity-desktop.png"), full_page=True)

    # On a tablet: the day's grid and the waitlist.
    log_in(tablet, "frontdesk.north")
    tablet.goto(f"/schedule/?location={facts['north']}&start={facts['first']}&days=1")
    expect(tablet.locator(".sched-grid")).to_be_visible()
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "calendars-day-grid-tablet.png"), full_page=False)
    tablet.goto(f"/schedule/waitlist/?location={facts['north']}")
    expect(tablet.get_by_role("heading", name="Add to the waitlist")).to_be_visible()
    assert_fits(tablet)
    tablet.screenshot(path=str(screenshots / "calendars-waitlist-tablet.png"), full_page=False)

    # The nurse's feed: the visits of their shifts, no patient's name.
    page.get_by_role("button", name="Log out").click()
    log_in(page, "nurse.north")
    page.goto(f"/schedule/me/?start={facts['first']}")
    page.get_by_role("button", name="Make my feed address").click()
    url = page.locator(".feed-url").inner_text().strip()
    assert url.endswith(".ics")
    assert_fits(page)
    page.screenshot(path=str(screenshots / "calendars-my-calendar-desktop.png"), full_page=True)
    path = "/" + url.split("://", 1)[-1].split("/", 1)[1]
    feed = page.request.get(path)
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    text = feed.text()
    assert text.count("BEGIN:VEVENT") >= 2, text[:500]
    listed = facts["names"]
    assert isinstance(listed, list)
    names = [str(n) for n in listed]
    leaked = [n for n in names if re.search(rf"\b{re.escape(n)}\b", text)]
    assert leaked == [], leaked


def test_a_patient_confirms_a_visit_on_a_phone(
    browser: Browser, server: str, screenshots: Path, manage: Callable[..., str]
) -> None:
    script = """
import datetime as dt
from django.utils import timezone
from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.clock import local_today, location_zone
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling import actions, waitlist
from ketaclinic.scheduling.inputs import AppointmentIn
from ketaclinic.scheduling.models import Appointment, VisitConfirmation
a = Appointment.objects.filter(status='booked', starts_at__gt=timezone.now()).order_by('starts_at').first()
if a is None:
    p = Patient.objects.filter(location__slug='north').order_by('mrn').first()
    day = local_today(p.location) + dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(10), tzinfo=location_zone(p.location))
    data = AppointmentIn(patient_id=p.pk, kind='consultation', starts_at=start, override_reason='Journey')
    a = actions.do_book_appointment(p, data, actor=User.objects.get(username='frontdesk.north'))
secret = waitlist.new_secret()
VisitConfirmation.objects.update_or_create(
    appointment=a,
    defaults={'token_hash': waitlist.secret_hash(secret), 'sent_at': timezone.now(), 'confirmed_at': None},
)
print(secret)
"""
    secret = manage("shell", "-c", script).strip().splitlines()[-1]
    context = browser.new_context(
        base_url=server, viewport={"width": 390, "height": 844}, locale="en-US", timezone_id="UTC"
    )
    phone = context.new_page()
    phone.goto(f"/schedule/visit/{secret}/")
    expect(phone.get_by_role("button", name="I will come")).to_be_visible()
    phone.screenshot(path=str(screenshots / "calendars-confirm-phone.png"), full_page=True)
    phone.get_by_role("button", name="I will come").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("confirmed")
    widths = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1]
    context.close()
