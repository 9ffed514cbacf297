"""The at-home program at phone size: a prescriber prescribes a home program from the chart; the patient signs
in to the portal on a phone, records their blood pressure, names the monitor, confirms the dose taken, and
later does the check-in with a severe answer; the prescriber sees the hold and its reason on the worklist
and the chart (desktop and tablet)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in

PHONE: ViewportSize = {"width": 390, "height": 844}
TABLET: ViewportSize = {"width": 820, "height": 1180}
EMAIL = "home.journey@example.org"
PASSWORD = "a long home passphrase"

# A north patient of the demo, invited to the portal with a password set (the portal journey
# covers the invitation itself).
SEED = f"""
from ketaclinic.accounts.models import User
from ketaclinic.patients.models import Patient
from ketaclinic.portal.actions import do_accept_invitation, do_invite_patient
from ketaclinic.portal.inputs import InviteIn, PasswordIn
def free(x):
    return not hasattr(x, "portal_account") or x.portal_account.email_key == "{EMAIL}"
# Past the portal journey's patient ([1]); one without another portal account.
p = next(x for x in Patient.objects.filter(location__slug="north").order_by("mrn")[2:] if free(x))
nurse = User.objects.get(username="nurse.north")
if not hasattr(p, "portal_account"):
    _, secret = do_invite_patient(p, InviteIn(email="{EMAIL}"), actor=nurse)
    do_accept_invitation(secret, PasswordIn(password="{PASSWORD}", password_again="{PASSWORD}"))
print(p.pk)
"""
# "Later": the dose was taken three hours ago, so its check-in is open (the server's clock is the real one).
LATER = """
import datetime as dt
from ketaclinic.homecare.models import HomeDose
d = HomeDose.objects.filter(patient_id="{pid}", outcome="taken").latest("recorded_at")
back = dt.timedelta(hours=3)
HomeDose.objects.filter(pk=d.pk).update(recorded_at=d.recorded_at - back, taken_at=d.taken_at - back,
    checkin_opens_at=d.checkin_opens_at - back, checkin_due_at=d.checkin_due_at - back)
"""


@pytest.fixture
def phone(browser: Browser, server: str, console: Console) -> Iterator[Page]:
    context = browser.new_context(base_url=server, viewport=PHONE, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page
    context.close()
    assert console.unexpected() == []


def _fits(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in {widths[1]} px"


def test_home_dose_check_in_with_a_severe_answer_holds_the_next_dose(
    page: Page, phone: Page, manage: Callable[..., str], screenshots: Path
) -> None:
    patient_id = manage("shell", "-c", SEED).strip().splitlines()[-1]

    log_in(page, "prescriber.north")
    page.goto(f"/patients/{patient_id}/")
    page.get_by_role("link", name="Open at-home program").click()
    page.get_by_label("Route *").select_option("sublingual")
    page.get_by_label("Dose (mg) *").fill("100")
    page.get_by_label("Days between doses (at least) *").fill("3")
    page.get_by_label("Expected monitor").fill("Sam Rivera")
    page.get_by_role("button", name="Prescribe").click()
    expect(page.get_by_role("status")).to_contain_text("Home program prescribed")
    page.screenshot(path=str(screenshots / "home-program-prescribed-1280.png"), full_page=True)

    phone.goto("/portal/sign-in/")
    phone.get_by_label("E-mail address").fill(EMAIL)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.get_by_role("heading", name="Today's dose")).to_be_visible()
    phone.screenshot(path=str(screenshots / "home-portal-card-390.png"), full_page=True)
    phone.get_by_role("link", name="Open today's dose").click()

    phone.get_by_label("Top number (systolic)").fill("124")
    phone.get_by_label("Bottom number (diastolic)").fill("78")
    phone.get_by_label("Pulse").fill("72")
    expect(phone.get_by_label("Your monitor's name")).to_have_value("Sam Rivera")
    phone.get_by_label("They are your").select_option("partner")
    phone.get_by_label("I will not drive today").check()
    _fits(phone)
    phone.screenshot(path=str(screenshots / "home-pre-dose-390.png"), full_page=True)
    phone.get_by_role("button", name="Check my blood pressure").click()

    expect(phone.get_by_role("heading", name="You may take your dose")).to_be_visible()
    expect(phone.locator("#may-dose")).to_contain_text("100 mg")
    _fits(phone)
    phone.screenshot(path=str(screenshots / "home-may-dose-390.png"), full_page=True)
    phone.get_by_role("button", name="I took my dose").click()
    expect(phone.locator("#checkin-wait")).to_contain_text("Your check-in opens at")
    phone.screenshot(path=str(screenshots / "home-checkin-wait-390.png"), full_page=True)

    manage("shell", "-c", LATER.replace("{pid}", patient_id))
    phone.reload()
    phone.get_by_role("link", name="Start my check-in").click()
    phone.get_by_label("Nausea").check()
    phone.get_by_role("group", name="How bad were the side effects?").get_by_label("Mild").check()
    dissociated = phone.get_by_role("group", name="How dissociated did you feel", exact=False)
    dissociated.get_by_label("Severe").check()
    phone.get_by_label("Top number (systolic)").fill("130")
    phone.get_by_label("Bottom number (diastolic)").fill("82")
    _fits(phone)
    phone.screenshot(path=str(screenshots / "home-checkin-390.png"), full_page=True)
    phone.get_by_role("button", name="Send my check-in").click()
    expect(phone.locator("#checkin-held")).to_contain_text("Your next dose is on hold")
    expect(phone.locator(".crisis")).to_contain_text("988")
    phone.screenshot(path=str(screenshots / "home-checkin-thanks-390.png"), full_page=True)
    phone.goto("/portal/home-dose/")
    expect(phone.locator("#checkin-open, #dose-held, #checkin-wait").first).to_be_visible()

    page.goto("/worklist/")
    row = page.locator('tr[data-kind="home_hold"]').filter(has_text="dissociation rated severe")
    expect(row).to_have_count(1)
    page.screenshot(path=str(screenshots / "home-worklist-1280.png"), full_page=True)
    row.get_by_role("link").first.click()
    expect(page.locator("#home-hold")).to_contain_text("check-in failed, dissociation rated severe")
    page.screenshot(path=str(screenshots / "home-chart-hold-1280.png"), full_page=True)
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(screenshots / "home-chart-hold-820.png"), full_page=True)
    page.get_by_role("link", name="Review and release").click()
    expect(page.locator("#home-doses")).to_contain_text("dissociation severe")
    page.screenshot(path=str(screenshots / "home-program-hold-820.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(screenshots / "home-program-hold-1280.png"), full_page=True)
