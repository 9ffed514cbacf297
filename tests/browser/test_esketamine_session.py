"""A nurse charts a complete esketamine session on a tablet (820x1180), from check-in to sign-off, on the
session page: check-in, pre-dose checks, the BP gate, the devices with their 5-minute rest, vital signs at
the time points, MOAA/S and CADSS, discharge refused and then allowed, and sign-off. She then downloads the
session's REMS Patient Monitoring Form as a PDF. At each step the floor board shows the patient's tile in
the phase the chart has reached.

The session's times are back-charted from about two and a half hours ago (on the location's own day), so the
2-hour minimum has passed when she discharges. A screenshot of every step is saved under /tmp/shots-day9.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import TABLET

SHOTS = Path("/tmp/shots-day9")

# Registers a patient of its own at a location whose day has run long enough to back-chart 2.5 hours, clears
# them for esketamine (screening, REMS enrolment, consent) and approves a plan whose first session is today.
SEED = """
import datetime as dt, json, random
from django.utils import timezone
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.clinicpolicy.clock import local_now
from ketaclinic.demo import data
from ketaclinic.patients.actions import do_register_patient
from ketaclinic.treatment import demo
rng = random.Random()
location = next(
    loc for loc in ClinicLocation.objects.order_by("slug") if local_now(loc).hour >= 3
)
prescriber = User.objects.get(username=f"prescriber.{location.slug}")
nurse = User.objects.get(username=f"nurse.{location.slug}")
registrar = User.objects.get(username=f"frontdesk.{location.slug}")
demo._stock(location, prescriber)
first = rng.randint(100_000, 800_000)
for index in range(first, first + 40):
    new = data._patient(index, location.slug, rng, local_now(location).date())
    new = new.model_copy(update={"family_name": "Halvorsen", "given_name": "Ingrid"})
    patient = do_register_patient(new, actor=registrar)
    if demo._cleared(patient, "esketamine_nasal", prescriber, nurse):
        break
session = demo._plan(patient, "esketamine_nasal", prescriber)
print(json.dumps({
    "location": location.slug, "zone": location.time_zone, "session": str(session.pk),
    "family": patient.family_name, "given": patient.given_name, "lot": demo.LOT_ESKETAMINE,
}))
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


class Journey:
    """The session page and the floor board of one seeded session, with the session's back-charted clock."""

    def __init__(self, page: Page, seeded: dict[str, str]) -> None:
        self.page = page
        self.session = seeded["session"]
        self.location = seeded["location"]
        self.name = f"{seeded['family']}, {seeded['given']}"
        self.lot = seeded["lot"]
        zone = ZoneInfo(seeded["zone"])
        now = dt.datetime.now(zone)
        # Whole minutes, 150 minutes ago: the check-in, and every step after it counted from there.
        self.start = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=150)
        self.step = 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def at(self, minutes: int) -> str:
        """The HH:MM the time fields take, `minutes` after the check-in (the location's clock)."""
        return (self.start + dt.timedelta(minutes=minutes)).strftime("%H:%M")

    def open(self) -> None:
        self.page.goto(f"/treatment/sessions/{self.session}/")
        expect(self.page.locator("#session")).to_be_visible()

    def form(self, step: str) -> Locator:
        return self.page.locator(f'form[action="/treatment/sessions/{self.session}/{step}/"]').first

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=SHOTS / f"{self.step:02d}-{name}.png", full_page=True)

    def floor_phase(self, phase: str, name: str) -> None:
        """The floor board's tile of this patient shows `phase`; back to the session page after."""
        self.page.goto(f"/floor/?location={self.location}")
        tile = self.page.locator("#floor-board .floor-session", has_text=self.name)
        expect(tile).to_have_count(1)
        expect(tile.locator(".floor-phase .badge")).to_have_text(phase)
        tile.scroll_into_view_if_needed()
        self.shot(f"floor-{name}")
        widths = self.page.evaluate("[document.querySelector('#floor-board').scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"the board is {widths[0]} px wide in {widths[1]} px"
        self.open()

    def vitals(self, when: str, systolic: int, diastolic: int, heart_rate: int = 74, spo2: int = 98) -> None:
        form = self.form("vitals")
        form.locator('input[name="taken_at"]').fill(when)
        form.get_by_label("Systolic (mmHg)").fill(str(systolic))
        form.get_by_label("Diastolic (mmHg)").fill(str(diastolic))
        form.get_by_label("Heart rate (/min)").fill(str(heart_rate))
        form.get_by_label("SpO2 (%)").fill(str(spo2))
        form.get_by_role("button", name="Record vitals").click()
        expect(self.page.locator("#vitals table.flowsheet")).to_contain_text(f"{systolic}/{diastolic}")

    def moaas(self, level: int, when: str) -> None:
        form = self.page.locator("#observation form").filter(has=self.page.locator('input[value="moaas"]'))
        form.get_by_label("MOAA/S").select_option(str(level))
        form.locator('input[name="taken_at"]').fill(when)
        form.get_by_role("button", name="Record MOAA/S").click()

    def discharge(self, when: str) -> None:
        form = self.form("discharge")
        form.locator('input[name="discharged_at"]').fill(when)
        form.locator('input[name="ready_to_leave_minutes"]').fill("75")
        form.locator('input[name="escort_name"]').fill("Sam Rivera")
        form.get_by_role("button", name="Discharge").click()


def pdf_text(body: bytes) -> str:
    """The text runs of an uncompressed PDF's pages (the REMS writer turns page compression off)."""
    runs = re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", body)
    return " ".join(r.decode("latin-1").replace("\\(", "(").replace("\\)", ")") for r in runs)


def test_a_nurse_charts_an_esketamine_session_from_check_in_to_sign_off_on_a_tablet(
    tablet: Page, manage: Callable[..., str], console: Console
) -> None:
    # The two refusals the nurse meets on purpose answer 422 and 409, which the browser logs.
    console.allow(r"status of 422 .*/device/")
    console.allow(r"status of 409 .*/discharge/")
    seeded = json.loads(manage("shell", "-c", SEED).strip().splitlines()[-1])
    page = tablet
    log_in(page, f"nurse.{seeded['location']}")
    journey = Journey(page, seeded)
    journey.open()
    expect(page.locator("#session .badge")).to_have_text("Scheduled")
    journey.shot("scheduled")

    # 1. Check-in, back-charted 150 minutes.
    form = journey.form("check-in")
    form.locator('input[name="checked_in_at"]').fill(journey.at(0))
    form.locator('select[name="chair_id"]').select_option(index=1)
    form.get_by_role("button", name="Check in").click()
    expect(page.locator("#check-in")).to_contain_text(f"Checked in at {journey.at(0)}")
    assign = page.locator("#assign")
    assign.get_by_label("I am monitoring this patient").check()
    assign.get_by_role("button", name="Assign").click()
    expect(page.locator("#session .facts")).to_contain_text("Nurse")
    expect(page.locator("#next-vitals")).to_contain_text("Before dosing, due now")
    journey.shot("checked-in")
    journey.floor_phase("Checked in", "checked-in")

    # 2. Pre-dose checks.
    form = journey.form("pre-dose")
    form.get_by_label("Identity confirmed (name and date of birth)").check()
    form.get_by_label("Fasting as instructed").select_option("yes")
    form.get_by_label("Ride home with a responsible adult arranged").check()
    form.get_by_role("button", name="Record checks").click()
    expect(page.locator("#pre-dose .checklist")).to_contain_text("Yes: identity confirmed")
    expect(page.locator("#pre-dose .checklist")).to_contain_text("Yes: consent current")
    journey.floor_phase("Pre-dose", "pre-dose")

    # 3. The BP gate: 150/85 is above the label's 140/90 example, so the nurse acknowledges before dosing.
    journey.vitals(journey.at(5), 150, 85)
    expect(page.locator("#vitals table.flowsheet")).to_contain_text("Before dosing")
    alert = page.locator("#alerts form.alert-answer").first
    expect(alert).to_contain_text("BP-PREDOSE-ESK-ACK")
    expect(page.locator("#next-vitals")).to_have_count(0)  # the pre-dose reading is charted
    journey.shot("bp-gate")
    alert.get_by_label("Decision").select_option("acknowledged")
    alert.get_by_label("Reason or what was done").fill("Usual for this patient; benefit outweighs the rise")
    alert.get_by_role("button", name="Answer").click()
    expect(page.locator("#alerts")).to_have_count(0)
    expect(page.locator("#vitals table.flowsheet .badge.ok")).to_have_text("BP-PREDOSE-ESK-ACK")

    # 4. The dose: device 1 at 10 minutes, device 2 due after the 5-minute rest.
    form = journey.form("dose")
    expect(form.locator('input[name="amount_mg"]')).to_have_value("56")
    form.locator('input[name="lot_number"]').fill(journey.lot)
    form.locator('input[name="started_at"]').fill(journey.at(10))
    form.get_by_role("button", name="Record dose").click()
    dose = page.locator("#dose")
    expect(dose).to_contain_text(f"due {journey.at(15)} (5-minute rest)")
    expect(dose.locator("tbody tr")).to_have_count(2)
    journey.shot("dosing")
    journey.floor_phase("Dosing", "dosing")
    # A device before its rest is over is refused; at the end of the rest it is recorded.
    device = page.locator("#dose form.device-use")
    device.get_by_label("Device 2 used at").fill(journey.at(13))
    device.get_by_role("button", name="Record use").click()
    expect(page.locator(".error-summary")).to_contain_text("Used at")
    journey.shot("device-too-early")
    journey.open()
    device = page.locator("#dose form.device-use")
    device.get_by_label("Device 2 used at").fill(journey.at(15))
    device.get_by_role("button", name="Record use").click()
    expect(page.locator("#dose tbody tr").nth(1)).to_contain_text(journey.at(15))
    expect(page.locator("#next-vitals")).to_contain_text("40 minutes after dosing")
    journey.floor_phase("Monitoring", "monitoring")

    # 5. Vital signs 40 minutes after dosing, MOAA/S and CADSS.
    journey.vitals(journey.at(50), 160, 90)
    rows = page.locator("#vitals table.flowsheet tbody tr")
    expect(rows.nth(1)).to_contain_text("After dosing (scheduled)")
    expect(page.locator("#next-vitals")).to_contain_text("Before discharge")
    journey.moaas(4, journey.at(51))
    cadss = page.locator("#observation form").filter(has=page.locator('input[value="cadss"]'))
    cadss.locator("summary").click()
    for item in (1, 2, 6):
        cadss.get_by_label(f"Item {item}", exact=True).select_option("1")
    cadss.locator('input[name="taken_at"]').fill(journey.at(52))
    cadss.get_by_role("button", name="Record CADSS").click()
    observations = page.locator("#observation table tbody tr")
    expect(observations).to_have_count(2)
    expect(observations.nth(1)).to_contain_text("CADSS")
    expect(observations.nth(1)).to_contain_text("3")
    journey.shot("observations")

    # 6. Discharge is refused, every unmet reason listed: BP still rising and sedation not resolved.
    journey.discharge(journey.at(145))
    refused = page.locator("#refused")
    expect(refused).to_contain_text("DISCHARGE-BP-STABLE")
    expect(refused).to_contain_text("DISCHARGE-SEDATION-RESOLVED")
    journey.shot("discharge-refused")
    journey.floor_phase("Monitoring", "still-monitoring")

    # 7. Before discharge: BP falling, MOAA/S 5; then discharge is allowed.
    journey.vitals(journey.at(140), 128, 80)
    expect(rows.nth(2)).to_contain_text("Before discharge")
    journey.moaas(5, journey.at(141))
    expect(page.locator("#discharge .notice.ok")).to_contain_text("Discharge criteria met")
    journey.shot("ready")
    journey.floor_phase("Ready for discharge", "ready")
    journey.discharge(journey.at(145))
    expect(page.locator("#discharge")).to_contain_text(f"Discharged at {journey.at(145)} with Sam Rivera")
    journey.floor_phase("Discharged", "discharged")

    # 8. Sign-off locks the session.
    page.locator("#sign").get_by_role("button", name="Sign session").click()
    expect(page.locator("#amend h2")).to_contain_text("Signed")
    expect(journey.form("vitals")).to_have_count(0)
    journey.shot("signed")

    # 9. The REMS Patient Monitoring Form, as a PDF with the patient's fields.
    link = page.locator("#session").get_by_role("link", name="PDF")
    response = page.request.get(link.get_attribute("href") or "")
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/pdf")
    body = response.body()
    assert body.startswith(b"%PDF-")
    text = pdf_text(body)
    for expected in (
        "SPRAVATO REMS Patient Monitoring Form",
        seeded["given"],
        seeded["family"],
        "150/85",
        "160/90",
        "128/80",
        seeded["lot"],
        "75",  # when the patient would have been ready to leave
    ):
        assert expected in text, expected
    (SHOTS / "rems-form.pdf").write_bytes(body)
    page.locator("#session").get_by_role("link", name="Spravato REMS monitoring form").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    journey.shot("rems-form")
