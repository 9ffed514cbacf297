"""Ketamine-assisted psychotherapy in a browser, on the served demo clinic.

The demo's KAP course is loaded at north (a patient with a care team, preparation, KAP and integration
sessions with signed notes and one psychotherapy note). The therapist opens the chart and sees the care
team and therapy panel, schedules a preparation session from the therapy page, writes the preparation note
and signs it. A nurse reads the integration note but the psychotherapy note is not found for them. Screenshots
at desktop (1280) and tablet (820) widths go to docs/screenshots (therapy-*.png).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.support import Console
from tests.browser.test_intake import log_in
from tests.browser.test_layout import TABLET

DESKTOP: ViewportSize = {"width": 1280, "height": 900}

# The demo's KAP course at north, through the therapy demo's actions: prints the patient's id and the ids of
# the integration note and the psychotherapy note.
LOAD_COURSE = """
import json, random
from django.utils import timezone
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.therapy import demo
from ketaclinic.therapy.models import TherapyNote
def course():  # the demo course's session with an integration note and a psychotherapy note
    north = TherapyNote.objects.filter(session__patient__location__slug="north")
    for private in north.filter(psychotherapy_note=True):
        ordinary = TherapyNote.objects.filter(session=private.session, psychotherapy_note=False).first()
        if ordinary is not None:
            return private, ordinary
    return None
if course() is None:  # other journeys on this server may have written notes of their own
    demo.load([ClinicLocation.objects.get(slug="north")], timezone.localdate(), random.Random(3))
private, ordinary = course()
print(json.dumps({"patient": str(private.patient_id), "note": str(ordinary.pk), "private": str(private.pk),
    "session": str(private.session_id)}))
"""


def _shot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"therapy-{name}.png"), full_page=True)


def _new_page(browser: Browser, server: str, console: Console, viewport: ViewportSize) -> Page:
    context = browser.new_context(base_url=server, viewport=viewport, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    return page


def test_a_therapist_schedules_writes_and_signs_and_the_privacy_holds(
    browser: Browser, server: str, console: Console, manage: Callable[..., str], screenshots: Path
) -> None:
    made = json.loads(manage("shell", "-c", LOAD_COURSE).strip().splitlines()[-1])
    for width, viewport in (("desktop", DESKTOP), ("tablet", TABLET)):
        page = _new_page(browser, server, console, viewport)
        log_in(page, "therapist.north")
        page.goto(f"/patients/{made['patient']}/")
        panel = page.locator("#therapy-panel")
        expect(panel.get_by_text("Care team", exact=True)).to_be_visible()
        expect(panel.get_by_text("Therapist (integration)")).to_be_visible()
        expect(panel.get_by_role("link", name="Open therapy")).to_be_visible()
        panel.scroll_into_view_if_needed()
        _shot(page, screenshots, f"chart-panel-{width}")
        page.goto(f"/therapy/sessions/{made['session']}/")
        expect(page.get_by_text("psychotherapy note (private)")).to_be_visible()
        _shot(page, screenshots, f"session-{width}")
        page.goto(f"/therapy/notes/{made['note']}/")
        expect(page.get_by_text("Kindness towards a younger self")).to_be_visible()
        _shot(page, screenshots, f"note-{width}")
        page.context.close()

    page = _new_page(browser, server, console, DESKTOP)
    log_in(page, "therapist.north")
    page.goto(f"/therapy/patients/{made['patient']}/")
    page.locator("#f-kind").select_option("preparation")
    page.locator("#f-starts_at").fill("2031-03-04T15:00")
    page.locator("#f-mode").select_option("video")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("heading", name="Preparation · 2031-03-04")).to_be_visible()
    page.get_by_label("Intentions").fill("Meet the grief with curiosity")
    page.get_by_label("Set and setting").fill("Music, eyeshade, partner drives home")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Meet the grief with curiosity")).to_be_visible()
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.locator("#note .badge")).to_have_text("Signed")
    expect(page.get_by_role("heading", name="Amend")).to_be_visible()
    page.context.close()

    nurse = _new_page(browser, server, console, DESKTOP)
    log_in(nurse, "nurse.north")
    nurse.goto(f"/therapy/notes/{made['note']}/")
    expect(nurse.get_by_text("Kindness towards a younger self")).to_be_visible()
    answer = nurse.goto(f"/therapy/notes/{made['private']}/")
    assert answer is not None and answer.status == 404
    nurse.context.close()
