"""The session page at tablet width, as a nurse charts on it: check-in, pre-dose checks, a reading, the dose
(its first device used with it, the second's form waiting) and a MOAA/S, the page never scrolling
sideways; and a session past its monitoring time discharged, with its Spravato REMS form opened and
downloaded. Every step is the page's own form; the server's clock is the real one, so every time is left
blank (now)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_intake import log_in
from tests.browser.test_treatment_day import tablet  # noqa: F401 - the fixture

# A new patient at the north location with an approved esketamine plan whose first session is today, and a lot
# of esketamine devices in stock; prints the session's id and the lot's number.
NEW_SESSION = """
import datetime as dt
from ketaclinic.accounts.models import User
from ketaclinic.patients import actions, inputs
from ketaclinic.treatment.tests.helpers import LOT_ESKETAMINE, plan_today
prescriber = User.objects.get(username="prescriber.north")
data = inputs.PatientCreate(location="north", given_name="Tablet", family_name="Journey",
    date_of_birth=dt.date(1980, 5, 17), sex="female", pregnancy_status="not_pregnant")
patient = actions.do_register_patient(data, actor=prescriber)
print(plan_today(patient, prescriber).sessions.get(number=1).pk, LOT_ESKETAMINE)
"""

# A session charted up to "ready for discharge" (dosed more than two hours ago) in a chair of its own.
READY = """
from django.utils import timezone
from ketaclinic.accounts.models import User
from ketaclinic.floor.tests.chart import chart_session, make_chairs
from ketaclinic.patients.models import Patient
nurse = User.objects.get(username="nurse.north")
patient = Patient.objects.filter(location__slug="north").order_by("-mrn").first()
chair = make_chairs(patient.location, 1, prefix="Discharge chair")[0]
print(chart_session(patient, actor=nurse, now=timezone.now(), stage="ready", chair=chair).pk)
"""


def _step(page: Page, section: str, button: str) -> None:
    page.locator(section).get_by_role("button", name=button).click()
    page.wait_for_load_state()
    refused = page.locator(".notice.error").all_inner_texts()
    assert not refused, f"{button}: {refused}"


def test_a_nurse_charts_a_session_on_the_tablet(
    tablet: Page,  # noqa: F811 - the fixture
    manage: Callable[..., str],
    screenshots: Path,
) -> None:
    session, lot = manage("shell", "-c", NEW_SESSION).strip().splitlines()[-1].split()
    log_in(tablet, "nurse.north")
    tablet.goto(f"/treatment/sessions/{session}/")
    expect(tablet.get_by_role("heading", level=1)).to_have_text("Journey, Tablet")
    stage = tablet.locator("#session header .badge")

    _step(tablet, "#check-in", "Check in")
    expect(tablet.locator("#check-in")).to_contain_text("Checked in at")
    tablet.get_by_label("Identity confirmed").check()
    tablet.locator("#f-fasting_confirmed").select_option("yes")
    tablet.get_by_label("Ride home with a responsible adult arranged").check()
    _step(tablet, "#pre-dose", "Record checks")
    expect(tablet.locator("#pre-dose")).to_contain_text("Yes: identity confirmed")
    vitals = tablet.locator("#vitals")
    for field, value in (("systolic_mmhg", "124"), ("diastolic_mmhg", "80"), ("heart_rate_bpm", "70")):
        vitals.locator(f"#f-{field}").fill(value)
    vitals.locator("#f-spo2_percent").fill("98")
    _step(tablet, "#vitals", "Record vitals")
    expect(vitals.locator("tbody tr")).to_have_count(1)
    expect(vitals.locator("tbody tr").first).to_contain_text("124/80")
    tablet.locator("#f-lot_number").fill(lot)
    _step(tablet, "#dose", "Record dose")
    expect(tablet.locator("#dose")).to_contain_text(f"lot {lot}")
    # The first device is used with the dose; the second is due after the 5-minute rest.
    expect(tablet.locator("#dose")).to_contain_text("Next device")
    expect(tablet.locator("#dose form.device-use")).to_have_count(1)
    expect(stage).to_have_text(re.compile("Dosing"))
    tablet.locator("#f-moaas_level").select_option("4")
    _step(tablet, "#observation", "Record MOAA/S")
    expect(tablet.locator("#observation tbody tr").first).to_contain_text("MOAA/S")
    tablet.screenshot(path=screenshots / "treatment-session-tablet.png", full_page=True)
    assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_nurse_discharges_a_session_and_opens_its_rems_form(
    tablet: Page,  # noqa: F811 - the fixture
    manage: Callable[..., str],
    screenshots: Path,
) -> None:
    session = manage("shell", "-c", READY).strip().splitlines()[-1]
    log_in(tablet, "nurse.north")
    tablet.goto(f"/treatment/sessions/{session}/")
    discharge = tablet.locator("#discharge")
    expect(discharge).to_contain_text("Discharge criteria met")
    discharge.locator("#f-ready_to_leave_minutes").fill("90")
    discharge.locator("#f-escort_name").fill("Sam Carter")
    _step(tablet, "#discharge", "Discharge")
    expect(discharge).to_contain_text("with Sam Carter after")
    expect(tablet.locator("#session header .badge")).to_have_text(re.compile("Discharged"))

    tablet.get_by_role("link", name="Spravato REMS monitoring form").click()
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("REMS")
    tablet.screenshot(path=screenshots / "treatment-rems-form-tablet.png", full_page=True)
    tablet.go_back()
    with tablet.expect_download() as download:
        tablet.get_by_role("link", name="PDF", exact=True).click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
