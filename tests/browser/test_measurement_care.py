"""Measurement-based care's alert flow in a browser, end to end on the served demo clinic.

On a phone (390 px) the patient opens the self-report link a nurse made, gives their date of birth, answers a
PHQ-9 with item 9 positive and sees the crisis resources (988, 911). At tablet width (820 px) the prescriber
finds the task at the top of the worklist and as a banner on the chart, completes the C-SSRS screener (a high
result here), sees the URGENT banner, records the safety plan that closes it, and sees the patient's trend
chart with the new PHQ-9 on it. Screenshots of each step go to docs/screenshots (measurement-*.png).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import TABLET

PHONE: ViewportSize = {"width": 390, "height": 844}

# A one-off PHQ-9 request with its link, made through the action as the request API makes it, for a north
# patient without an open safety alert, given months of a responder's scores first (the demo's own course,
# through do_record_assessment) so the trend chart has a history: prints the link's path, the patient's id,
# name and birth date.
MAKE_LINK = """
import json, random
from django.utils import timezone
from ketaclinic.accounts.models import User
from ketaclinic.assessments import demo
from ketaclinic.assessments.actions import do_request_assessment
from ketaclinic.assessments.inputs import AssessmentRequestIn
from ketaclinic.assessments.links import PATH_PREFIX
from ketaclinic.assessments.models import SafetyAlert
from ketaclinic.patients.models import Patient
alerted = SafetyAlert.objects.filter(status="open").values_list("patient_id", flat=True)
patient = Patient.objects.filter(location__slug="north").exclude(pk__in=alerted).order_by("mrn").first()
nurse = User.objects.get(username="nurse.north")
staff = {"nurse": nurse, "prescriber": User.objects.get(username="prescriber.north")}
if patient.assessments.filter(instrument="phq9").count() < 5:
    demo.history(patient, demo._responder, timezone.localdate(), random.Random(10), staff)
request, token = do_request_assessment(
    patient, AssessmentRequestIn.model_validate({"instrument": "phq9", "channel": "none"}), actor=nurse
)
print(json.dumps({"path": f"{PATH_PREFIX}{token}/", "id": str(patient.pk),
    "name": f"{patient.family_name}, {patient.given_name}", "dob": patient.date_of_birth.isoformat()}))
"""


def _context_page(browser: Browser, server: str, console: Console, viewport: ViewportSize) -> Iterator[Page]:
    context = browser.new_context(base_url=server, viewport=viewport, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page
    context.close()


@pytest.fixture
def phone(browser: Browser, server: str, console: Console) -> Iterator[Page]:
    yield from _context_page(browser, server, console, PHONE)


@pytest.fixture
def tablet(browser: Browser, server: str, console: Console) -> Iterator[Page]:
    yield from _context_page(browser, server, console, TABLET)
    unexpected = console.unexpected()
    if unexpected:
        pytest.fail("JavaScript errors in the browser:\n  " + "\n  ".join(unexpected), pytrace=False)


def _fits(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in {widths[1]} px"


def test_a_positive_suicide_item_reaches_the_prescriber_who_completes_a_cssrs_and_a_safety_plan(
    phone: Page, tablet: Page, manage: Callable[..., str], screenshots: Path
) -> None:
    made = json.loads(manage("shell", "-c", MAKE_LINK).strip().splitlines()[-1])
    year, month, day = made["dob"].split("-")

    # The patient, on a phone: date of birth, then the PHQ-9 with item 9 at "more than half the days".
    phone.goto(made["path"])
    expect(phone.get_by_role("heading", level=1, name="Your questionnaire")).to_be_visible()
    assert made["name"].split(",")[0] not in phone.content()  # nothing about the patient before the DOB
    phone.get_by_label("Day").fill(str(int(day)))
    phone.get_by_label("Month").fill(str(int(month)))
    phone.get_by_label("Year").fill(year)
    phone.get_by_role("button", name="Continue").click()
    expect(phone.locator("fieldset.question").first).to_be_visible()
    answers = [1, 0, 1, 0, 0, 0, 0, 0, 2]  # a low total: the suicide item alone raises the task
    for number, score in enumerate(answers, start=1):
        phone.locator(f'input[name="item-{number}"][value="{score}"]').check()
    _fits(phone)
    phone.screenshot(path=str(screenshots / "measurement-phq9-phone.png"), full_page=True)
    phone.get_by_role("button", name="Send my answers").click()
    crisis = phone.locator(".crisis")
    expect(crisis).to_be_visible()
    expect(crisis.get_by_role("link", name="Call 988")).to_be_visible()
    expect(crisis.get_by_role("link", name="Text 988")).to_be_visible()
    expect(crisis.get_by_role("link", name="Call 911")).to_be_visible()
    _fits(phone)
    phone.screenshot(path=str(screenshots / "measurement-crisis-phone.png"), full_page=True)

    # The prescriber, on a tablet: the worklist's first high-priority task, then the chart's banner.
    log_in(tablet, "prescriber.north")
    tablet.get_by_role("navigation", name="Main").get_by_role("link", name="Worklist").click()
    expect(tablet.get_by_role("heading", level=1, name="Worklist")).to_be_visible()
    row = tablet.locator("tr[data-kind=suicide_item]", has_text=made["name"])
    expect(row).to_be_visible()
    expect(row.get_by_text("item 9 scored 2")).to_be_visible()
    tablet.screenshot(path=str(screenshots / "measurement-worklist-tablet.png"), full_page=True)
    _fits(tablet)
    row.get_by_role("link", name=made["name"]).click()
    banner = tablet.locator("#safety-alert-suicide_item")
    expect(banner).to_be_visible()
    tablet.screenshot(path=str(screenshots / "measurement-chart-alert-tablet.png"))

    # The C-SSRS screener: thoughts with intent, so the result is high.
    banner.get_by_role("link", name="Complete a C-SSRS").click()
    expect(tablet.get_by_role("heading", level=1, name="C-SSRS screener")).to_be_visible()
    for key, value in (
        ("q1", "yes"),
        ("q2", "yes"),
        ("q3", "yes"),
        ("q4", "yes"),
        ("q5", "no"),
        ("q6", "no"),
    ):
        tablet.locator(f'input[name="{key}"][value="{value}"]').check()
    tablet.screenshot(path=str(screenshots / "measurement-cssrs-tablet.png"), full_page=True)
    tablet.get_by_role("button", name="Save the C-SSRS").click()

    # High: the safety plan page, with the urgent alert open; the chart shows URGENT until the plan is saved.
    expect(tablet.get_by_role("heading", level=1, name="Safety plan")).to_be_visible()
    expect(tablet.locator("#open-cssrs_high")).to_contain_text("URGENT")
    tablet.goto(f"/patients/{made['id']}/")
    urgent = tablet.locator("#safety-alert-cssrs_high")
    expect(urgent).to_contain_text("URGENT")
    expect(tablet.locator("#safety-alert-suicide_item")).to_have_count(0)  # the C-SSRS closed the task
    tablet.screenshot(path=str(screenshots / "measurement-chart-urgent-tablet.png"))
    urgent.get_by_role("link", name="Record a safety plan").click()
    tablet.get_by_label("The safety plan").fill(
        "Warning signs: not sleeping, pulling away. Coping: walk, music. Call sister. "
        "Crisis: call or text 988; 911 in immediate danger. Medicines locked away by partner."
    )
    tablet.get_by_role("button", name="Record the safety plan").click()

    # Back on the chart: no safety banner, and the trend chart with the PHQ-9 just answered.
    expect(tablet.locator("#safety-alert-cssrs_high")).to_have_count(0)
    expect(tablet.locator("#safety-alert-suicide_item")).to_have_count(0)
    panel = tablet.locator("#assessments-panel")
    expect(panel.locator("svg[role=img]")).to_be_visible()
    expect(panel.locator("#trend-title")).to_have_text("PHQ-9 scores over time")
    panel.scroll_into_view_if_needed()
    tablet.screenshot(path=str(screenshots / "measurement-chart-trend-tablet.png"), full_page=True)
    tablet.goto("/worklist/")
    expect(tablet.locator("tr[data-kind=cssrs_high]", has_text=made["name"])).to_have_count(0)
    expect(tablet.locator("tr[data-kind=suicide_item]", has_text=made["name"])).to_have_count(0)
