"""A therapist turns on two-step sign-in, signs in with a code, and both pages fit a tablet.

The demo clinic requires no second factor (README), so this is the voluntary path through the real stack:
the QR code drawn as an SVG data URI under the strict CSP, the enrolment form, the recovery codes shown
once, and the code page at the next sign-in. The persona is reset at the end for the other journeys.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterator

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests.browser.support import DEMO_PASSWORD
from tests.browser.test_layout import assert_fits, tablet

pytestmark = pytest.mark.browser
__all__ = ["tablet"]  # the tablet-width page fixture

PERSONA = "therapist.south"  # no other journey signs in as this persona


def code_for(secret: str, *, ahead: int = 0) -> str:
    """What an authenticator app shows for the key typed by hand from the page."""
    key = secret.replace(" ", "")
    totp = TOTP(base64.b32decode(key + "=" * (-len(key) % 8)))
    totp.time = time.time() + 30 * ahead
    return f"{totp.token():06d}"


def password_step(page: Page) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(PERSONA)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.fixture
def reset_after(manage: Callable[..., str]) -> Iterator[None]:
    yield
    manage("reset_mfa", PERSONA)


@pytest.mark.usefixtures("reset_after")
def test_a_therapist_turns_on_two_step_sign_in_and_signs_in_with_a_code(tablet: Page) -> None:
    password_step(tablet)
    expect(tablet.get_by_role("button", name="Log out")).to_be_visible()
    tablet.goto("/mfa/")
    tablet.get_by_role("link", name="Set up an authenticator app").click()
    expect(tablet.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
    qr = tablet.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    assert tablet.evaluate("img => img.naturalWidth > 100", qr.element_handle())  # drawn despite the CSP
    assert_fits(tablet)
    secret = tablet.locator(".mfa-secret").inner_text()
    tablet.get_by_label("Code from the app").fill(code_for(secret))
    tablet.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(tablet.get_by_role("heading", level=1)).to_have_text("Two-step sign-in is on")
    expect(tablet.locator(".mfa-codes li")).to_have_count(10)
    tablet.get_by_role("link", name="I have saved them, continue").click()
    tablet.get_by_role("button", name="Log out").click()

    password_step(tablet)
    expect(tablet.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    widths = tablet.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1]
    tablet.get_by_label("Code").fill(code_for(secret, ahead=1))
    tablet.get_by_role("button", name="Continue").click()
    expect(tablet).to_have_url(re.compile(r"/patients/$"))
    assert_fits(tablet)
