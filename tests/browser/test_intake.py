"""Front desk registers a patient through the real intake form and finds them on the chart.

Issue journey: "front desk logs in, registers a patient with two antidepressant trials, and sees them on
the chart". Every step goes through the UI a clinic user sees: the login form, the nav, the intake form
(with its HTMX "Add another" rows), the chart, and the patient list search.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.support import DEMO_PASSWORD, Console

pytestmark = pytest.mark.browser

FRONT_DESK = "frontdesk.north"
CHART_URL = re.compile(r"/patients/[0-9a-f-]{36}/$")


@dataclass(frozen=True)
class Trial:
    drug: str  # vocabulary code (the <option> value)
    name: str  # as displayed
    dose_mg: str
    weeks: str
    adequate: str  # "yes" / "no"
    outcome: str  # TrialOutcome value
    outcome_label: str
    current: str  # "yes" / "no"


SERTRALINE = Trial("sertraline", "Sertraline", "200", "8", "yes", "none", "No response", "yes")
VENLAFAXINE = Trial("venlafaxine", "Venlafaxine", "225", "10", "yes", "partial", "Partial response", "yes")
BUPROPION = Trial("bupropion", "Bupropion", "150", "3", "no", "intolerance", "Stopped for intolerance", "yes")


def log_in(page: Page, username: str = FRONT_DESK) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def open_intake(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Register patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a patient")
    # A front desk clerk with one location gets it preselected.
    expect(page.locator("#f-location")).to_have_value("north")


def fill_identity(
    page: Page, *, external_mrn: str, given: str, family: str, born: str, sex: str = "female"
) -> None:
    page.locator("#f-external_mrn").fill(external_mrn)
    page.locator("#f-given_name").fill(given)
    page.locator("#f-family_name").fill(family)
    page.locator("#f-date_of_birth").fill(born)
    page.locator("#f-sex").select_option(sex)


def fill_trial(page: Page, index: int, trial: Trial) -> None:
    prefix = f"#f-antidepressant_trials-{index}-"
    page.locator(prefix + "drug").select_option(trial.drug)
    page.locator(prefix + "max_daily_dose_mg").fill(trial.dose_mg)
    page.locator(prefix + "weeks_at_dose").fill(trial.weeks)
    page.locator(prefix + "adequate_dose").select_option(trial.adequate)
    page.locator(prefix + "outcome").select_option(trial.outcome)
    page.locator(prefix + "current_episode").select_option(trial.current)


def submit(page: Page) -> None:
    page.locator("#intake").get_by_role("button", name="Register patient").click()


def trial_rows(page: Page) -> Locator:
    return page.locator("#antidepressant_trials table tbody tr")


def expect_trial_listed(page: Page, trial: Trial) -> None:
    row = trial_rows(page).filter(has_text=trial.name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(trial.outcome_label)
    expect(row).to_contain_text(f"{trial.dose_mg} mg")
    expect(row.locator("td").nth(3)).to_contain_text("Yes" if trial.adequate == "yes" else "No")
    expect(row).to_contain_text("Current" if trial.current == "yes" else "Earlier")


def kpi(page: Page, label: str) -> Locator:
    return page.locator(".kpi").filter(has=page.locator(".k", has_text=label)).locator(".v")


def search_patients(page: Page, query: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    page.get_by_role("searchbox").fill(query)
    with page.expect_response(lambda r: r.url.endswith("/patients/") and r.request.method == "POST"):
        page.get_by_role("search").get_by_role("button", name="Search").click()


def test_front_desk_registers_patient_with_two_trials(page: Page, screenshots: Path) -> None:
    log_in(page)
    # The front desk lands on North's patient list; other journeys of the run may have added patients to it.
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    listed_before = page.locator("#results tbody tr").count()
    assert listed_before >= 5  # at least the demo's patients at North
    open_intake(page)
    fill_identity(page, external_mrn="N200001", given="Harriet", family="Quinlan", born="1984-03-14")
    page.locator("#f-weight_kg").fill("72.5")
    page.locator("#f-height_cm").fill("168")
    page.get_by_role("checkbox", name="Major depressive disorder").check()
    fill_trial(page, 0, SERTRALINE)
    fill_trial(page, 1, VENLAFAXINE)
    submit(page)

    page.wait_for_url(CHART_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Quinlan, Harriet")
    expect(page.locator(".patient-head")).to_contain_text(re.compile(r"MRN KC-\d{6}"))
    expect(page.locator("#conditions")).to_contain_text("Major depressive disorder")
    expect(kpi(page, "Weight")).to_have_text("72.5 kg")
    expect(kpi(page, "Height")).to_have_text("168 cm")
    expect(page.locator("#antidepressant_trials header")).to_contain_text("2 trials")
    expect(trial_rows(page)).to_have_count(2)
    expect_trial_listed(page, SERTRALINE)
    expect_trial_listed(page, VENLAFAXINE)
    # Both are adequate, failed (no or partial response) trials in the current episode.
    expect(kpi(page, "Adequate failed trials")).to_have_text("2")
    page.screenshot(path=screenshots / "chart.png", full_page=True)

    search_patients(page, "N200001")
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("Quinlan, Harriet")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page.locator("#results tbody tr")).to_have_count(listed_before + 1)  # and Harriet
    page.screenshot(path=screenshots / "patients.png", full_page=True)


def test_invalid_intake_shows_inline_errors_and_saves_nothing(page: Page, console: Console) -> None:
    # The server answers an invalid form with 422, which Chromium logs as a failed resource load.
    console.allow(r"status of 422")
    log_in(page)
    open_intake(page)
    next_year = (dt.date.today() + dt.timedelta(days=365)).isoformat()
    fill_identity(page, external_mrn="N200002", given="Ivo", family="", born=next_year, sex="male")
    fill_trial(page, 0, SERTRALINE)
    submit(page)

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Not saved")
    expect(summary.get_by_role("link", name="Family name")).to_be_visible()
    expect(summary.get_by_role("link", name="Date of birth")).to_be_visible()
    expect(page.locator("#e-family_name")).to_be_visible()
    expect(page.locator("#e-date_of_birth")).to_contain_text("future")
    expect(page.locator("#f-family_name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-date_of_birth")).to_have_attribute("aria-invalid", "true")
    # Still on the form, with what was typed kept.
    expect(page).to_have_url(re.compile(r"/patients/new/$"))
    expect(page.locator("#f-external_mrn")).to_have_value("N200002")
    expect(page.locator("#f-date_of_birth")).to_have_value(next_year)
    expect(page.locator("#f-antidepressant_trials-0-drug")).to_have_value("sertraline")

    search_patients(page, "N200002")
    expect(page.locator("#results tbody tr")).to_have_count(0)
    expect(page.locator("#results")).to_contain_text("No patients match that search.")


def test_add_another_trial_row_is_saved(page: Page) -> None:
    log_in(page)
    open_intake(page)
    fill_identity(page, external_mrn="N200003", given="Tobias", family="Wren", born="1979-11-02", sex="male")
    fill_trial(page, 0, SERTRALINE)
    fill_trial(page, 1, VENLAFAXINE)
    expect(page.locator("#antidepressant_trials-rows > .row-card")).to_have_count(2)
    page.locator("#add-antidepressant_trials").click()
    expect(page.locator("#antidepressant_trials-rows > .row-card")).to_have_count(3)
    expect(page.locator("#f-antidepressant_trials-2-drug")).to_be_visible()
    fill_trial(page, 2, BUPROPION)
    submit(page)

    page.wait_for_url(CHART_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Wren, Tobias")
    expect(page.locator("#antidepressant_trials header")).to_contain_text("3 trials")
    expect(trial_rows(page)).to_have_count(3)
    for trial in (SERTRALINE, VENLAFAXINE, BUPROPION):
        expect_trial_listed(page, trial)
    # Bupropion was not at an adequate dose, so it does not count.
    expect(kpi(page, "Adequate failed trials")).to_have_text("2")
