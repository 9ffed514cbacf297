"""The patient portal at phone size: a nurse invites a patient from the chart, the patient opens the link on a
phone, chooses a password, signs in, answers a PHQ-9 with the suicide item positive and sees the crisis
resources, then sees their scores; a staff login is refused the portal."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in

PHONE: ViewportSize = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("KETACLINIC_SHOTS", "/tmp/shots-portal10"))
PASSWORD = "a long phone passphrase"

# A pending PHQ-9 for the invited patient (the plan's schedule makes these; the journey needs one now).
SEED = """
from django.utils import timezone
from ketaclinic.assessments.models import AssessmentRequest
from ketaclinic.patients.models import Patient
p = Patient.objects.filter(location__slug="north").order_by("mrn")[1]
if not AssessmentRequest.objects.filter(patient=p, status="pending").exists():
    now = timezone.now()
    AssessmentRequest.objects.create(patient=p, location_id=p.location_id, instrument="phq9",
        reason="one_off", due_at=now, created_at=now)
print(p.pk)
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


def test_a_patient_is_invited_signs_in_on_a_phone_and_answers_a_questionnaire(
    page: Page, phone: Page, manage: Callable[..., str], console: Console
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    console.allow(r"status of 403 .*/portal/\)")  # the staff page refused the portal at the end
    patient_id = manage("shell", "-c", SEED).strip().splitlines()[-1]
    log_in(page, "nurse.north")
    page.goto(f"/patients/{patient_id}/")
    page.get_by_role("link", name="Invite to patient portal").click()
    page.get_by_label("E-mail address the patient signs in with").fill("journey.patient@example.org")
    page.get_by_role("button", name="Create invitation link").click()
    link = page.get_by_label("Invitation link").input_value()
    assert patient_id not in link
    page.screenshot(path=str(SHOTS / "staff-invite-1280.png"), full_page=True)

    phone.goto(link)
    phone.get_by_label("New password").fill(PASSWORD)
    phone.get_by_label("The same password again").fill(PASSWORD)
    phone.screenshot(path=str(SHOTS / "welcome-390.png"), full_page=True)
    phone.get_by_role("button", name="Set password").click()
    expect(phone.get_by_role("status")).to_contain_text("Your password is set")
    phone.get_by_label("E-mail address").fill("journey.patient@example.org")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.screenshot(path=str(SHOTS / "sign-in-390.png"), full_page=True)
    phone.get_by_role("button", name="Sign in").click()

    expect(phone.get_by_role("heading", name="Questionnaires to complete")).to_be_visible()
    _fits(phone)
    phone.screenshot(path=str(SHOTS / "home-390.png"), full_page=True)
    phone.get_by_role("link", name="PHQ-9").click()
    for number in range(1, 10):
        group = phone.get_by_role("group", name=f"{number}.", exact=False).first
        group.get_by_role("radio").nth(1 if number == 9 else 0).check()
    _fits(phone)
    phone.screenshot(path=str(SHOTS / "questionnaire-390.png"), full_page=True)
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.get_by_role("alert")).to_contain_text("988")
    phone.screenshot(path=str(SHOTS / "thanks-crisis-390.png"), full_page=True)

    phone.get_by_role("navigation", name="Portal").get_by_role("link", name="My scores").click()
    expect(phone.locator("table")).to_contain_text("PHQ-9")
    phone.screenshot(path=str(SHOTS / "history-390.png"), full_page=True)
    _fits(phone)

    page.goto("/portal/")
    expect(page.get_by_role("heading", name="This is the patient portal")).to_be_visible()
