"""Who may reach the home-program pages and endpoints: anonymous, wrong role, other location, a patient
record of another patient, and portal patient A against patient B's dose."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import World
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.homecare.models import HoldRelease, HomeCheckIn, HomeDose, HomeProgram
from ketaclinic.homecare.tests import helpers
from ketaclinic.portal.tests.helpers import account_for, signed_in
from ketaclinic.treatment.tests.helpers import Clock

PROGRAM_BODY = {"route": "oral", "dose_mg": "150", "min_days_between_doses": 7, "start_date": "2026-12-01"}


def _denials() -> int:
    return AuditEvent.objects.filter(outcome=Outcome.DENIED).count()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("prescriber.north", 200),
        ("nurse.north", 200),
        ("therapist.north", 200),
        ("admin.north", 403),
        ("prescriber.south", 404),
        (None, 302),
    ],
)
def test_program_page(world: World, who: str | None, status: int) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    response = world.client(who).get(f"/home-programs/patients/{patient.pk}/")
    assert response.status_code == status
    if status != 200:
        assert patient.family_name.encode() not in response.content


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("prescriber.north", 302),
        ("nurse.north", 403),
        ("admin.north", 403),
        ("prescriber.south", 404),
        (None, 302),
    ],
)
def test_prescribe_page(world: World, who: str | None, status: int) -> None:
    patient = world.patient("north")
    before = _denials()
    response = world.client(who).post(f"/home-programs/patients/{patient.pk}/", PROGRAM_BODY)
    assert response.status_code == status
    assert HomeProgram.objects.filter(patient=patient).exists() is (status == 302 and who is not None)
    if status in (403, 404):
        assert _denials() == before + 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("prescriber.north", 201),
        ("nurse.north", 403),
        ("therapist.north", 403),
        ("prescriber.south", 404),
        (None, 401),
    ],
)
def test_prescribe_api(world: World, who: str | None, status: int) -> None:
    patient = world.patient("north")
    response = world.api(who).post(
        f"/api/v1/patients/{patient.pk}/home-program",
        json.dumps(PROGRAM_BODY),
        content_type="application/json",
    )
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    if status == 201:
        body = response.json()
        assert (
            body["modality"] == "home_ketamine"
            and body["drug"] == "ketamine"
            and body["hold"]["held"] is False
        )


def test_esketamine_is_refused_by_name_and_nothing_saved(world: World) -> None:
    patient = world.patient("north")
    api = world.api("prescriber.north")
    body = {**PROGRAM_BODY, "drug": "esketamine"}
    response = api.post(
        f"/api/v1/patients/{patient.pk}/home-program", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422
    assert "drug" in response.json()["errors"] and "esketamine" in response.json()["errors"]["drug"]
    page = world.client("prescriber.north").post(f"/home-programs/patients/{patient.pk}/", body)
    assert page.status_code == 422 and b"never be dispensed for home use" in page.content
    assert not HomeProgram.objects.filter(patient=patient).exists()


def test_a_second_program_in_force_is_refused(world: World) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    api = world.api("prescriber.north")
    response = api.post(
        f"/api/v1/patients/{patient.pk}/home-program",
        json.dumps(PROGRAM_BODY),
        content_type="application/json",
    )
    assert response.status_code == 409 and response.json()["reasons"]


def test_idempotent_prescribe(world: World) -> None:
    patient = world.patient("north")
    api = world.api("prescriber.north")
    sent = [
        api.post(
            f"/api/v1/patients/{patient.pk}/home-program",
            json.dumps(PROGRAM_BODY),
            content_type="application/json",
            headers={"Idempotency-Key": "home-1"},
        )
        for _ in range(2)
    ]
    assert [r.status_code for r in sent] == [201, 201] and sent[0].json() == sent[1].json()
    assert HomeProgram.objects.filter(patient=patient).count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("prescriber.north", 200),
        ("frontdesk.north", 200),
        ("admin.north", 403),
        ("nurse.south", 404),
        (None, 401),
    ],
)
def test_read_api(world: World, who: str | None, status: int) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    for path in ("home-program", "home-program/doses"):
        response = world.api(who).get(f"/api/v1/patients/{patient.pk}/{path}")
        assert response.status_code == status, (path, response.content)


def test_no_program_is_404_json(world: World) -> None:
    response = world.api("prescriber.north").get(f"/api/v1/patients/{world.patient('north').pk}/home-program")
    assert response.status_code == 404 and response.json()["detail"]


def _held(world: World, clock: Clock) -> tuple[Any, Any]:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    account = account_for(world, patient)
    helpers.dosed(account, clock.now)
    clock.advance(hours=25)
    return patient, account


@pytest.mark.parametrize(
    ("who", "status"),
    [("prescriber.north", 201), ("nurse.north", 403), ("prescriber.south", 404), (None, 401)],
)
def test_release_api(world: World, clock: Clock, who: str | None, status: int) -> None:
    patient, _ = _held(world, clock)
    response = world.api(who).post(
        f"/api/v1/patients/{patient.pk}/home-program/release-hold",
        json.dumps({"reason": "Called the patient"}),
        content_type="application/json",
    )
    assert response.status_code == status, response.content
    assert HoldRelease.objects.exists() is (status == 201)
    if status == 201:
        assert response.json()["reasons_released"][0].endswith(
            "check-in missing (due within 24 hours of the dose)"
        )
        again = world.api(who).post(
            f"/api/v1/patients/{patient.pk}/home-program/release-hold",
            json.dumps({"reason": "again"}),
            content_type="application/json",
        )
        assert again.status_code == 409


@pytest.mark.parametrize(
    ("who", "status"),
    [("prescriber.north", 302), ("nurse.north", 403), ("prescriber.south", 404), (None, 302)],
)
def test_release_page(world: World, clock: Clock, who: str | None, status: int) -> None:
    patient, _ = _held(world, clock)
    response = world.client(who).post(f"/home-programs/patients/{patient.pk}/release/", {"reason": "Called"})
    assert response.status_code == status
    assert HoldRelease.objects.exists() is (who == "prescriber.north")


def test_release_needs_a_reason(world: World, clock: Clock) -> None:
    patient, _ = _held(world, clock)
    response = world.client("prescriber.north").post(
        f"/home-programs/patients/{patient.pk}/release/", {"reason": " "}
    )
    assert response.status_code == 422 and not HoldRelease.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("prescriber.north", 200), ("nurse.north", 403), ("prescriber.south", 404)]
)
def test_status_api(world: World, who: str, status: int) -> None:
    patient = world.patient("north")
    helpers.program_for(world, patient)
    response = world.api(who).post(
        f"/api/v1/patients/{patient.pk}/home-program/status",
        json.dumps({"status": "paused", "reason": "Travelling"}),
        content_type="application/json",
    )
    assert response.status_code == status
    assert (HomeProgram.objects.get(patient=patient).status == "paused") is (status == 200)


def test_status_page(world: World) -> None:
    patient = world.patient("north")
    program = helpers.program_for(world, patient)
    url = f"/home-programs/patients/{patient.pk}/status/"
    body = {"status": "ended", "reason": "Course complete", "version": str(program.version)}
    assert world.client("nurse.north").post(url, body).status_code == 403
    assert world.client("prescriber.north").post(url, body).status_code == 302
    assert HomeProgram.objects.get(pk=program.pk).status == "ended"


# --- The patient's own pages ---------------------------------------------------------------------------


def test_portal_pages_need_a_patient_sign_in(world: World) -> None:
    for url in ("/portal/home-dose/", "/portal/home-dose/1/check-in/"):
        response = world.client(None).get(url)
        assert response.status_code == 302 and response["Location"].startswith("/portal/sign-in/")
    # A staff session never opens a portal page.
    assert world.client("prescriber.north").get("/portal/home-dose/").status_code == 403


def test_patient_a_cannot_reach_patient_b_dose(world: World, clock: Clock) -> None:
    a, b = world.patient("north", 0), world.patient("north", 2)  # 0 and 1 share a family name
    helpers.program_for(world, a)
    helpers.program_for(world, b)
    account_a, account_b = account_for(world, a), account_for(world, b)
    dose_b = helpers.dosed(account_b, clock.now)
    clock.advance(hours=3)
    phone_a = signed_in(account_a)
    assert phone_a.get(f"/portal/home-dose/{dose_b.pk}/check-in/").status_code == 404
    posted = phone_a.post(f"/portal/home-dose/{dose_b.pk}/check-in/", helpers.CHECKIN_OK)
    assert posted.status_code == 404
    taken = phone_a.post(f"/portal/home-dose/{dose_b.pk}/taken/", {"taken_at": "09:00", "taken_mg": "100"})
    assert taken.status_code == 404
    assert not HomeCheckIn.objects.filter(dose=dose_b).exists()
    assert HomeDose.objects.get(pk=dose_b.pk).outcome == "taken"
    assert b.family_name.encode() not in phone_a.get("/portal/home-dose/").content


def test_portal_home_shows_todays_dose_card(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    phone = signed_in(account_for(world, patient))
    assert b"Today&#39;s dose" not in phone.get("/portal/").content
    helpers.program_for(world, patient)
    home = phone.get("/portal/")
    assert b"Today&#39;s dose" in home.content and b"/portal/home-dose/" in home.content


def test_a_patient_without_a_program_sees_a_plain_page(world: World) -> None:
    phone = signed_in(account_for(world, world.patient("north")))
    page = phone.get("/portal/home-dose/")
    assert page.status_code == 200 and b"no at-home program" in page.content
