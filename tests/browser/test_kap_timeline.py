"""Issue 11, items 5 and 6 in a browser: a KAP patient's first dose, its integration and the timeline.

A patient registered yesterday, cleared for esketamine, with a therapist on the care team and a plan whose
first session is today. The therapist records yesterday's preparation session and signs its note (the first
dose of a KAP plan waits for it); the nurse charts the dose session on the session page from check-in to
sign-off (back-charted from about two and a half hours ago); the therapist finds the integration due on the
worklist, records the integration session from there (kind and dose session filled in), writes its note and
signs it; the item leaves the worklist; the timeline shows the preparation, the dose with its facts and the
integration with its signed note. Screenshots at 1280 and 820 px go to docs/screenshots (kap-*.png).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import TABLET

DESKTOP: ViewportSize = {"width": 1280, "height": 900}

SEED = """
import datetime as dt, json, random
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.clock import local_now
from ketaclinic.demo import data
from ketaclinic.patients.actions import do_register_patient
from ketaclinic.therapy import actions as therapy
from ketaclinic.therapy.inputs import CareTeamIn
from ketaclinic.treatment import demo
rng = random.Random()
# A location whose day has run long enough to back-chart 150 minutes: north and south are three hours apart,
# so one of them always has.
location = next(loc for loc in ClinicLocation.objects.order_by("slug") if local_now(loc).hour >= 3)
prescriber, nurse, therapist, desk = (
    User.objects.get(username=f"{role}.{location.slug}")
    for role in ("prescriber", "nurse", "therapist", "frontdesk")
)
demo._stock(location, prescriber)
yesterday = local_now(location).date() - dt.timedelta(days=1)
with demo._clock_at(demo._local(location, yesterday, 9)):
    first = rng.randint(100_000, 800_000)
    for index in range(first, first + 40):
        new = data._patient(index, location.slug, rng, yesterday)
        new = new.model_copy(update={"family_name": "Lindgren", "given_name": "Astrid"})
        patient = do_register_patient(new, actor=desk)
        if demo._cleared(patient, "esketamine_nasal", prescriber, nurse):
            break
    team = {"members": [
        {"user": f"therapist.{location.slug}", "role": "therapist"},
        {"user": f"nurse.{location.slug}", "role": "nurse"},
    ]}
    therapy.do_set_care_team(patient, CareTeamIn.model_validate(team), actor=therapist)
session = demo._plan(patient, "esketamine_nasal", prescriber)
print(json.dumps({
    "patient": str(patient.pk), "session": str(session.pk), "zone": location.time_zone,
    "location": location.slug,
    "yesterday": yesterday.isoformat(), "name": f"{patient.family_name}, {patient.given_name}",
    "lot": demo.LOT_ESKETAMINE,
}))
"""


def _page(browser: Browser, server: str, console: Console, viewport: ViewportSize) -> Page:
    context = browser.new_context(base_url=server, viewport=viewport, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    return page


def _shot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"kap-{name}.png"), full_page=True)


def _fits(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in {widths[1]} px"


def _preparation(page: Page, seeded: dict[str, str]) -> None:
    """The therapist records yesterday's preparation session and signs its note."""
    page.goto(f"/therapy/patients/{seeded['patient']}/")
    page.locator("#f-kind").select_option("preparation")
    page.locator("#f-starts_at").fill(f"{seeded['yesterday']}T15:00")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("heading", name=f"Preparation · {seeded['yesterday']}")).to_be_visible()
    page.get_by_label("Intentions").fill("To feel less flat; to be kinder to myself")
    page.get_by_label("Set and setting").fill("Eyeshade, quiet music, partner drives home")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.locator("#note .badge")).to_have_text("Signed")


class Chart:
    """The nurse's session page, its times counted from a check-in 150 minutes ago (location clock)."""

    def __init__(self, page: Page, seeded: dict[str, str]) -> None:
        self.page, self.session, self.lot = page, seeded["session"], seeded["lot"]
        now = dt.datetime.now(ZoneInfo(seeded["zone"]))
        self.start = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=150)

    def at(self, minutes: int) -> str:
        return (self.start + dt.timedelta(minutes=minutes)).strftime("%H:%M")

    def vitals(self, minutes: int, systolic: int, diastolic: int) -> None:
        form = self.page.locator(f'form[action="/treatment/sessions/{self.session}/vitals/"]').first
        form.locator('input[name="taken_at"]').fill(self.at(minutes))
        form.get_by_label("Systolic (mmHg)").fill(str(systolic))
        form.get_by_label("Diastolic (mmHg)").fill(str(diastolic))
        form.get_by_label("Heart rate (/min)").fill("74")
        form.get_by_label("SpO2 (%)").fill("98")
        form.get_by_role("button", name="Record vitals").click()
        expect(self.page.locator("#vitals table.flowsheet")).to_contain_text(f"{systolic}/{diastolic}")

    def moaas(self, level: int, minutes: int) -> None:
        page = self.page
        form = page.locator("#observation form").filter(has=page.locator('input[value="moaas"]'))
        form.get_by_label("MOAA/S").select_option(str(level))
        form.locator('input[name="taken_at"]').fill(self.at(minutes))
        form.get_by_role("button", name="Record MOAA/S").click()

    def run(self) -> None:
        page, base = self.page, f"/treatment/sessions/{self.session}"
        page.goto(f"{base}/")
        check_in = page.locator(f'form[action="{base}/check-in/"]').first
        check_in.locator('input[name="checked_in_at"]').fill(self.at(0))
        check_in.get_by_role("button", name="Check in").click()
        checks = page.locator(f'form[action="{base}/pre-dose/"]').first
        checks.get_by_label("Identity confirmed (name and date of birth)").check()
        checks.get_by_label("Fasting as instructed").select_option("yes")
        checks.get_by_label("Ride home with a responsible adult arranged").check()
        checks.get_by_role("button", name="Record checks").click()
        expect(page.locator("#pre-dose .checklist")).to_contain_text("Yes: consent current")
        self.vitals(5, 124, 80)
        dose = page.locator(f'form[action="{base}/dose/"]').first
        dose.locator('input[name="lot_number"]').fill(self.lot)
        dose.locator('input[name="started_at"]').fill(self.at(10))
        dose.get_by_role("button", name="Record dose").click()
        device = page.locator("#dose form.device-use")
        device.get_by_label("Device 2 used at").fill(self.at(15))
        device.get_by_role("button", name="Record use").click()
        expect(page.locator("#dose tbody tr").nth(1)).to_contain_text(self.at(15))
        self.vitals(50, 146, 88)
        for alert in page.locator("#alerts form.alert-answer").all():
            alert.get_by_label("Decision").select_option(index=1)
            alert.get_by_label("Reason or what was done").fill("Reassessed at the chair")
            alert.get_by_role("button", name="Answer").click()
        self.moaas(4, 51)
        self.vitals(140, 126, 80)
        self.moaas(5, 141)
        expect(page.locator("#discharge .notice.ok")).to_contain_text("Discharge criteria met")
        leave = page.locator(f'form[action="{base}/discharge/"]').first
        leave.locator('input[name="discharged_at"]').fill(self.at(145))
        leave.locator('input[name="ready_to_leave_minutes"]').fill("75")
        leave.locator('input[name="escort_name"]').fill("Sam Rivera")
        leave.get_by_role("button", name="Discharge").click()
        page.locator("#sign").get_by_role("button", name="Sign session").click()
        expect(page.locator("#amend h2")).to_contain_text("Signed")


def _integration(page: Page, seeded: dict[str, str], screenshots: Path) -> None:
    """From the worklist: the integration due after the dose, recorded and its note signed."""
    page.goto("/worklist/")
    row = page.locator('tr[data-kind="integration_due"]', has_text=seeded["name"])
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Integration session due after a dose")
    _shot(page, screenshots, "worklist-desktop")
    row.get_by_role("link", name="Record the integration").click()
    expect(page.locator("#f-kind")).to_have_value("integration")
    expect(page.locator("#f-dose_session_id")).to_have_value(seeded["session"])
    later = dt.datetime.now(ZoneInfo(seeded["zone"])) + dt.timedelta(hours=1)
    page.locator("#f-starts_at").fill(later.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#f-mode").select_option("video")
    page.get_by_role("button", name="Schedule").click()
    page.get_by_label("Experience").fill("A sense of floating above a familiar street")
    page.get_by_label("Homework").fill("Ten minutes of journalling after waking")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.locator("#note .badge")).to_have_text("Signed")
    page.goto("/worklist/")
    expect(page.locator('tr[data-kind="integration_due"]', has_text=seeded["name"])).to_have_count(0)


def test_preparation_dose_integration_and_the_timeline(
    browser: Browser, server: str, console: Console, manage: Callable[..., str], screenshots: Path
) -> None:
    seeded = json.loads(manage("shell", "-c", SEED).strip().splitlines()[-1])
    therapist = _page(browser, server, console, DESKTOP)
    log_in(therapist, f"therapist.{seeded['location']}")
    _preparation(therapist, seeded)

    nurse = _page(browser, server, console, TABLET)
    log_in(nurse, f"nurse.{seeded['location']}")
    Chart(nurse, seeded).run()

    _integration(therapist, seeded, screenshots)
    therapist.goto(f"/patients/{seeded['patient']}/")
    therapist.locator("#therapy-panel").get_by_role("link", name="Timeline").click()
    items = therapist.locator("#timeline ol.timeline li")
    entry = '#timeline li[data-kind="{}"]'.format
    expect(therapist.locator(entry("preparation"))).to_contain_text("preparation note (signed)")
    dose = therapist.locator(entry("dose"))
    expect(dose).to_contain_text("Dose session 1")
    expect(dose).to_contain_text("56 mg")
    expect(dose).to_contain_text("peak BP 146/88")
    expect(dose).to_contain_text("MOAA/S 4")
    expect(therapist.locator(entry("integration"))).to_contain_text("integration note (signed)")
    expect(therapist.locator("#timeline-trend svg")).to_be_visible()
    _fits(therapist)
    _shot(therapist, screenshots, "timeline-desktop")
    therapist.get_by_role("link", name="Dose sessions").click()
    expect(items).to_have_count(1)
    therapist.context.close()

    nurse.goto(f"/therapy/patients/{seeded['patient']}/timeline/")
    expect(nurse.locator(entry("integration"))).to_contain_text("integration note (signed)")
    _fits(nurse)
    _shot(nurse, screenshots, "timeline-tablet")
    nurse.context.close()

    desk = _page(browser, server, console, DESKTOP)
    log_in(desk, f"frontdesk.{seeded['location']}")
    desk.goto(f"/therapy/patients/{seeded['patient']}/timeline/")
    expect(desk.locator("#timeline ol.timeline li").first).to_be_visible()
    expect(desk.locator("#timeline")).not_to_contain_text("mg")
    expect(desk.locator("#timeline-trend")).to_have_count(0)
    _shot(desk, screenshots, "timeline-frontdesk")
    desk.context.close()
