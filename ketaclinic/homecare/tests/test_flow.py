"""The hold flow end to end, through the patient's portal pages and the prescriber's pages: a dose taken, a
check-in with a severe answer, the hold with its reason on the worklist, the chart and the API, and its
release; a missing check-in; a blood pressure too high to dose; double submits."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from conftest import World
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.homecare.models import DoseOutcome, HomeCheckIn, HomeDose
from ketaclinic.homecare.tests import helpers
from ketaclinic.portal.tests.helpers import account_for, signed_in
from ketaclinic.treatment.tests.helpers import Clock

pytestmark = pytest.mark.django_db


def test_severe_checkin_holds_the_next_dose_until_a_prescriber_releases_it(
    world: World, clock: Clock
) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    phone = signed_in(account)

    page = phone.get("/portal/home-dose/")
    assert page.status_code == 200 and b"Before your dose" in page.content
    key = page.context["submit_key"]
    form = {**helpers.PRE_DOSE, "submit_key": key}
    assert phone.post("/portal/home-dose/", form).status_code == 302
    assert phone.post("/portal/home-dose/", form).status_code == 302  # a double submit
    assert HomeDose.objects.filter(patient=patient).count() == 1
    page = phone.get("/portal/home-dose/")
    assert b"You may take your dose" in page.content and b"100 mg" in page.content
    dose = HomeDose.objects.get(patient=patient)
    assert dose.outcome == DoseOutcome.CLEARED

    at = page.context["now_clock"]
    assert (
        phone.post(f"/portal/home-dose/{dose.pk}/taken/", {"taken_at": at, "taken_mg": "100"}).status_code
        == 302
    )
    dose.refresh_from_db()
    assert dose.outcome == DoseOutcome.TAKEN
    assert b"Your check-in opens at" in phone.get("/portal/home-dose/").content

    clock.advance(hours=2, minutes=5)
    assert b"Start my check-in" in phone.get("/portal/home-dose/").content
    severe = {**helpers.CHECKIN_OK, "dissociation": "severe"}
    done = phone.post(f"/portal/home-dose/{dose.pk}/check-in/", severe)
    assert done.status_code == 200
    assert b"988" in done.content and b"Your next dose is on hold" in done.content
    phone.post(f"/portal/home-dose/{dose.pk}/check-in/", severe)  # a double submit stores one
    assert HomeCheckIn.objects.filter(dose=dose).count() == 1

    clock.advance(days=3)
    phone = signed_in(account)  # the idle timeout signed the phone out meanwhile
    held = phone.get("/portal/home-dose/")
    assert b"Your next dose is on hold" in held.content and b"dissociation rated severe" in held.content
    assert b"Before your dose" not in held.content

    prescriber = world.client("prescriber.north")
    items = world.api("prescriber.north").get("/api/v1/worklist").json()["items"]
    mine = [i for i in items if i["patient_id"] == str(patient.pk) and i["kind"] == "home_hold"]
    assert len(mine) == 1 and "dissociation rated severe" in mine[0]["detail"]
    assert patient.family_name not in mine[0]["detail"]
    worklist = prescriber.get("/worklist/")
    assert b"Home dose held" in worklist.content
    chart = prescriber.get(f"/patients/{patient.pk}/")
    assert b"Next home dose held" in chart.content and b"dissociation rated severe" in chart.content
    api = world.api("prescriber.north").get(f"/api/v1/patients/{patient.pk}/home-program").json()
    assert api["hold"]["held"] and api["hold"]["reasons"][0].endswith(
        "check-in failed, dissociation rated severe"
    )

    released = prescriber.post(
        f"/home-programs/patients/{patient.pk}/release/", {"reason": "Spoke with patient"}
    )
    assert released.status_code == 302
    assert AuditEvent.objects.filter(action=Action.HOME_HOLD_RELEASE, patient=patient).count() == 1
    assert b"Before your dose" in phone.get("/portal/home-dose/").content
    items = world.api("prescriber.north").get("/api/v1/worklist").json()["items"]
    assert not [i for i in items if i["patient_id"] == str(patient.pk) and i["kind"].startswith("home_")]


def test_blood_pressure_above_the_limit_means_no_dose_today_and_the_clinic_is_told(
    world: World, clock: Clock
) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    phone = signed_in(account)
    key = phone.get("/portal/home-dose/").context["submit_key"]
    phone.post("/portal/home-dose/", {**helpers.PRE_DOSE, "systolic_mmhg": "150", "submit_key": key})
    page = phone.get("/portal/home-dose/")
    assert b"Do not take your dose today" in page.content and b"Your clinic has been told" in page.content
    assert b"I took my dose" not in page.content and b"Before your dose" not in page.content
    dose = HomeDose.objects.get(patient=patient)
    refused = phone.post(f"/portal/home-dose/{dose.pk}/taken/", {"taken_at": "09:00", "taken_mg": "100"})
    assert refused.status_code == 302
    dose.refresh_from_db()
    assert dose.outcome == DoseOutcome.BP_TOO_HIGH and dose.taken_at is None
    items = world.api("nurse.north").get("/api/v1/worklist").json()["items"]
    assert [i["kind"] for i in items if i["patient_id"] == str(patient.pk)] == ["home_hold"]


def test_a_missing_checkin_holds_and_is_on_the_worklist(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    helpers.dosed(account, clock.now)
    clock.advance(hours=25)
    items = world.api("prescriber.north").get("/api/v1/worklist").json()["items"]
    mine = [i for i in items if i["patient_id"] == str(patient.pk)]
    assert [i["kind"] for i in mine] == ["home_checkin_missing"]
    assert "check-in missing" in mine[0]["detail"] and mine[0]["due_at"] is not None
    page = signed_in(account).get("/portal/home-dose/")
    assert b"Your next dose is on hold" in page.content and b"check-in missing" in page.content


def test_a_different_amount_is_recorded_as_such_and_holds(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    dose = helpers.taken(account, helpers.pre_dose(account, clock.now), clock.now, mg="150")
    assert dose.taken_mg == helpers.mg("150") and dose.prescribed_mg == helpers.mg("100")
    clock.advance(hours=3)
    helpers.checkin(account, dose, clock.now)
    api = world.api("prescriber.north").get(f"/api/v1/patients/{patient.pk}/home-program").json()
    assert api["hold"]["reasons"] == [f"{dose.day.isoformat()}: took 150 mg, prescribed 100 mg"]


def test_the_next_dose_waits_the_prescribed_days(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    dose = helpers.dosed(account, clock.now)
    clock.advance(hours=3)
    helpers.checkin(account, dose, clock.now)
    page = signed_in(account).get("/portal/home-dose/")
    assert b"Your next dose is from" in page.content
    clock.advance(days=3)
    assert b"Before your dose" in signed_in(account).get("/portal/home-dose/").content


def test_checkin_closed_after_due_and_not_before_open(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    dose = helpers.dosed(account, clock.now)
    phone = signed_in(account)
    early = phone.post(f"/portal/home-dose/{dose.pk}/check-in/", helpers.CHECKIN_OK)
    assert early.status_code == 422 and b"not open yet" in early.content
    clock.advance(hours=25)
    phone = signed_in(account)
    late = phone.post(f"/portal/home-dose/{dose.pk}/check-in/", helpers.CHECKIN_OK)
    assert late.status_code == 422 and not HomeCheckIn.objects.filter(dose=dose).exists()


def test_bad_input_names_the_field_and_saves_nothing(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    phone = signed_in(account_for(world, patient))
    key = phone.get("/portal/home-dose/").context["submit_key"]
    bad = phone.post("/portal/home-dose/", {**helpers.PRE_DOSE, "systolic_mmhg": "900", "submit_key": key})
    assert bad.status_code == 422 and "systolic_mmhg" in bad.context["errors"]
    unsafe = {**helpers.PRE_DOSE, "submit_key": key}
    del unsafe["confirmed_safe"]
    refused = phone.post("/portal/home-dose/", unsafe)
    assert refused.status_code == 422 and "confirmed_safe" in refused.context["errors"]
    assert not HomeDose.objects.filter(patient=patient).exists()


def test_timezone_of_taken_is_the_locations(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    dose = helpers.pre_dose(account, clock.now)
    phone = signed_in(account)
    at = phone.get("/portal/home-dose/").context["now_clock"]
    phone.post(f"/portal/home-dose/{dose.pk}/taken/", {"taken_at": at, "taken_mg": "100"})
    dose.refresh_from_db()
    assert dose.taken_at is not None
    assert abs(dose.taken_at - clock.now) < dt.timedelta(minutes=1)
    # The prescriber's page shows it on the clinic's clock (north is in Los Angeles), not in UTC.
    page = world.client("prescriber.north").get(f"/home-programs/patients/{patient.pk}/").content.decode()
    local = dose.taken_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert f"at {local:%Y-%m-%d %H:%M} {local.tzname()}" in page
    assert " UTC" not in page


def test_the_worklist_cost_of_home_programs_is_flat(world: World, clock: Clock) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        client = world.client("prescriber.north")
        client.get("/worklist/")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/worklist/").status_code == 200
        return len(ctx.captured_queries)

    start = clock.now
    for index in (0, 1):
        patient = world.patient("north", index)
        helpers.program_for(world, patient)
        helpers.dosed(account_for(world, patient), start)
    clock.advance(hours=25)
    two = count()
    for index in (2, 3):
        patient = world.patient("north", index)
        helpers.program_for(world, patient, start=start.date() - dt.timedelta(days=1))
        helpers.dosed(account_for(world, patient), start)
    assert count() == two
    body = world.client("prescriber.north").get("/worklist/").content
    assert body.count(b'data-kind="home_checkin_missing"') == 4


def test_the_clinic_policy_sets_the_home_thresholds(world: World, clock: Clock) -> None:
    from ketaclinic.clinicpolicy.actions import do_change_policy
    from ketaclinic.clinicpolicy.inputs import PolicyChangeIn

    patient = world.patient("north")
    change = PolicyChangeIn(
        values={"home_bp_max": {"systolic": 160, "diastolic": 100}, "home_fail_dissociation_level": 2},
        reason="Clinical lead approved the home protocol",
    )
    do_change_policy(patient.location, change, actor=world.user("admin.north"), expected_version=0)
    page = world.client("admin.north").get(f"/clinic/{patient.location_id}/")
    assert b"home_bp_max" in page.content and b"home_checkin_due_hours" in page.content
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    dose = helpers.pre_dose(account, clock.now, systolic_mmhg=150, diastolic_mmhg=95)
    assert dose.outcome == DoseOutcome.CLEARED  # under 160/100
    helpers.taken(account, dose, clock.now)
    clock.advance(hours=2)
    checkin = helpers.checkin(account, dose, clock.now, dissociation="moderate")
    assert checkin.failed_reasons == ["dissociation rated moderate"]


def test_a_pre_dose_step_sent_while_held_is_recorded_as_held(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    helpers.dosed(account, clock.now)
    clock.advance(days=4)
    dose = helpers.pre_dose(account, clock.now)
    assert dose.outcome == DoseOutcome.HELD and "check-in missing" in dose.outcome_reason
    refused = signed_in(account).post(
        f"/portal/home-dose/{dose.pk}/taken/", {"taken_at": "10:00", "taken_mg": "100"}
    )
    assert refused.status_code == 302
    dose.refresh_from_db()
    assert dose.taken_at is None


def test_the_pre_dose_page_tells_the_patient_the_limit(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    page = signed_in(account_for(world, patient)).get("/portal/home-dose/")
    assert b"Do not take your dose if it is above 140/90" in page.content
