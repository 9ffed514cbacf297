"""The self-report link's security rules and the patient's form: date of birth first, wrong ones counted
then locked, one clear page for every link that does not work, items named, one response per link, crisis
resources after a positive suicide item, no-store and same-origin referrers only, an audit row for each
event."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import World
from ketaclinic.assessments import links
from ketaclinic.assessments.actions import do_request_assessment
from ketaclinic.assessments.inputs import AssessmentRequestIn
from ketaclinic.assessments.models import Assessment, AssessmentRequest, RequestStatus, Source
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.patients.models import Patient


def _link(
    world: World, instrument: str = "phq9", patient: Patient | None = None
) -> tuple[str, AssessmentRequest]:
    patient = patient or world.patient("north")
    made, token = do_request_assessment(
        patient, AssessmentRequestIn(instrument=instrument), actor=world.user("nurse.north")
    )
    assert token is not None
    return f"/r/{token}/", made


def _dob(patient: Patient, **change: int) -> dict[str, str]:
    born = patient.date_of_birth
    values = {"day": born.day, "month": born.month, "year": born.year, **change}
    return {"step": "dob", **{k: str(v) for k, v in values.items()}}


def _wrong(patient: Patient) -> dict[str, str]:
    return _dob(patient, year=patient.date_of_birth.year - 1)


def _answers(*scores: int) -> dict[str, str]:
    return {"step": "answers", **{f"item-{n}": str(s) for n, s in enumerate(scores, start=1)}}


def _verified(world: World, url: str, patient: Patient) -> Client:
    """A browser that opened the link (its CSRF cookie set) and gave the right date of birth."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(url)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert token is not None
    client.defaults["HTTP_X_CSRFTOKEN"] = token.group(1).decode()
    response = client.post(url, _dob(patient))
    assert response.status_code == 303 and response["Location"] == url
    return client


def _shows_nothing(response: Any, patient: Patient) -> None:
    body = response.content
    for value in (patient.family_name, patient.given_name, patient.mrn, patient.email):
        assert value.encode() not in body


def test_the_link_asks_for_the_date_of_birth_before_showing_anything(world: World) -> None:
    url, made = _link(world)
    patient = made.patient
    response = Client().get(url)
    assert response.status_code == 200
    assert b"Date of birth" in response.content and b"Little interest" not in response.content
    _shows_nothing(response, patient)
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"  # never to another site; Origin kept for CSRF
    assert "Content-Security-Policy" in response and response["X-Frame-Options"] == "DENY"
    assert AuditEvent.objects.filter(action=Action.SELF_REPORT_OPEN, object_id=str(made.pk)).count() == 1
    client = _verified(world, url, patient)
    cookie = client.cookies["ketaclinic_self_report"]
    assert cookie["httponly"] and cookie["path"] == "/r/" and cookie["samesite"] == "Strict"
    form = client.get(url)
    assert form.status_code == 200 and b"Little interest or pleasure" in form.content
    assert b'type="radio"' in form.content and b"<legend>" in form.content
    _shows_nothing(form, patient)
    assert AuditEvent.objects.filter(action=Action.SELF_REPORT_VERIFY, object_id=str(made.pk)).count() == 1


def test_the_verification_is_for_this_link_only(world: World) -> None:
    url, made = _link(world)
    other_url, _ = _link(world, patient=world.patient("north", 1))
    client = _verified(world, url, made.patient)
    assert b"Date of birth" in client.get(other_url).content


def test_wrong_dates_of_birth_are_counted_then_lock_the_link(world: World) -> None:
    url, made = _link(world)
    patient = made.patient
    client = Client()
    for _ in range(DEFAULT_POLICY.self_report_dob_attempts - 1):
        response = client.post(url, _wrong(patient))
        assert response.status_code == 422 and b"does not match" in response.content
        _shows_nothing(response, patient)
    response = client.post(url, _wrong(patient))
    assert response.status_code == 404 and b"This link does not work" in response.content
    made.refresh_from_db()
    assert made.status == RequestStatus.LOCKED and made.locked_at is not None
    assert made.dob_failures == DEFAULT_POLICY.self_report_dob_attempts
    # Locked: even the right date of birth opens nothing.
    assert Client().post(url, _dob(patient)).status_code == 404
    events = AuditEvent.objects.filter(object_id=str(made.pk))
    assert (
        events.filter(action=Action.SELF_REPORT_DOB_FAILED).count()
        == DEFAULT_POLICY.self_report_dob_attempts - 1
    )
    assert events.filter(action=Action.SELF_REPORT_LOCK).count() == 1


def test_wrong_dates_of_birth_from_one_address_are_rate_limited(world: World, settings: Any) -> None:
    settings.KETACLINIC_SIGNIN_RATE_PER_IP = 3
    client = Client()
    for index in range(3):
        url, made = _link(world, patient=world.patient("north", index % 2))
        assert client.post(url, _wrong(made.patient)).status_code == 422
    url, made = _link(world)
    response = client.post(url, _dob(made.patient))  # even a right one waits for the window
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    made.refresh_from_db()
    assert made.dob_failures == 0


def test_a_date_that_is_not_a_date_is_named_and_not_counted(world: World) -> None:
    url, made = _link(world)
    response = Client().post(url, {"step": "dob", "day": "31", "month": "2", "year": "1990"})
    assert response.status_code == 422 and b"day, month and year" in response.content
    made.refresh_from_db()
    assert made.dob_failures == 0


def _gone_page(response: Any) -> bytes:
    """The page, less the per-browser CSRF token every page carries."""
    assert response.status_code == 404
    return re.sub(rb'"X-CSRFToken": "[^"]*"', b"", bytes(response.content))


def test_expired_used_forged_locked_and_replaced_links_show_one_page(world: World) -> None:
    patient = world.patient("north")
    pages = []
    # Forged: a token with a bad signature; and a well-signed one that names no request.
    url, _ = _link(world)
    pages.append(_gone_page(Client().get(url[:-3] + "xx/")))
    pages.append(_gone_page(Client().get(f"/r/{links.new_token()}/")))
    # Expired.
    url, made = _link(world)
    AssessmentRequest.objects.filter(pk=made.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    pages.append(_gone_page(Client().get(url)))
    # Used: answered by one browser, opened by another.
    url, made = _link(world)
    _verified(world, url, patient).post(url, _answers(0, 0, 0, 0, 0, 0, 0, 0, 0))
    pages.append(_gone_page(Client().get(url)))
    # Locked.
    url, made = _link(world)
    AssessmentRequest.objects.filter(pk=made.pk).update(status=RequestStatus.LOCKED)
    pages.append(_gone_page(Client().get(url)))
    assert len(set(pages)) == 1
    for page in pages:
        assert patient.family_name.encode() not in page and b"This link does not work" in page
    assert AuditEvent.objects.filter(action=Action.SELF_REPORT_REFUSED).count() >= 4


def test_missing_or_out_of_range_answers_name_the_item_and_save_nothing(world: World) -> None:
    url, made = _link(world)
    client = _verified(world, url, made.patient)
    missing = _answers(1, 1, 1, 1, 1, 1, 1, 1)  # no item 9
    response = client.post(url, missing)
    assert response.status_code == 422 and b"Question 9" in response.content
    assert b'id="f-answers.9"' in response.content and b'aria-invalid="true"' in response.content
    wild = _answers(1, 1, 7, 1, 1, 1, 1, 1, 1)
    response = client.post(url, wild)
    assert response.status_code == 422 and b"Question 3" in response.content
    assert not Assessment.objects.filter(request=made).exists()
    made.refresh_from_db()
    assert made.status == RequestStatus.PENDING


def test_a_double_submit_stores_one_response(world: World) -> None:
    url, made = _link(world, "gad7")
    client = _verified(world, url, made.patient)
    answers = _answers(1, 2, 1, 0, 0, 1, 1)
    first = client.post(url, answers)
    second = client.post(url, answers)
    assert first.status_code == second.status_code == 200
    assert b"Thank you" in first.content and b"Thank you" in second.content
    (saved,) = Assessment.objects.filter(patient=made.patient, source=Source.SELF_REPORT)
    assert saved.request_id == made.pk and saved.instrument == "gad7" and saved.total == 6
    assert saved.created_by is None
    made.refresh_from_db()
    assert made.status == RequestStatus.COMPLETED
    assert AuditEvent.objects.filter(action=Action.ASSESSMENT_RECORD, object_id=str(saved.pk)).count() == 1


@pytest.mark.parametrize(
    ("instrument", "answers", "crisis"),
    [
        ("phq9", (0, 0, 0, 0, 0, 0, 0, 0, 1), True),
        ("phq9", (3, 3, 3, 3, 3, 3, 3, 3, 0), False),
        ("qids_sr16", (0,) * 11 + (1,) + (0,) * 4, True),
    ],
)
def test_a_positive_suicide_item_shows_crisis_resources(
    world: World, instrument: str, answers: tuple[int, ...], crisis: bool
) -> None:
    url, made = _link(world, instrument)
    response = _verified(world, url, made.patient).post(url, _answers(*answers))
    assert response.status_code == 200 and b"Thank you" in response.content
    assert (b'href="tel:988"' in response.content) and (
        b"Help is available now" in response.content
    ) == crisis
    _shows_nothing(response, made.patient)


def test_the_clinic_policy_sets_the_link_lifetime_and_attempts(world: World) -> None:
    from ketaclinic.clinicpolicy.actions import do_change_policy
    from ketaclinic.clinicpolicy.inputs import PolicyChangeIn

    patient = world.patient("north")
    values: dict[str, Any] = {"self_report_link_hours": 2, "self_report_dob_attempts": 1}
    change = PolicyChangeIn(values=values, reason="shorter links")
    do_change_policy(patient.location, change, actor=world.user("admin.north"), expected_version=0)
    url, made = _link(world, patient=patient)
    assert made.expires_at is not None
    assert abs(made.expires_at - (timezone.now() + dt.timedelta(hours=2))) < dt.timedelta(minutes=1)
    assert Client().post(url, _wrong(patient)).status_code == 404  # locked at the first wrong one
    made.refresh_from_db()
    assert made.status == RequestStatus.LOCKED
