"""The safety pages and API: the C-SSRS page closes the suicide-item task and leads a high result to the
safety plan, the chart's URGENT banner stays until the plan is recorded, bad input names the field and saves
nothing, another patient's alert is not found, and a POST replayed with its Idempotency-Key records one
plan."""

from __future__ import annotations

import json

from conftest import World
from ketaclinic.assessments.models import AlertKind, AlertStatus, Assessment, SafetyAlert, SafetyPlan, Source
from ketaclinic.assessments.tests.safety_matrix import worsening_alert
from ketaclinic.assessments.tests.test_safety import ITEM9_POSITIVE, record
from ketaclinic.audit.models import AuditEvent, Outcome

HIGH_FORM = {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "yes", "q5": "no", "q6": "no"}
LOW_FORM = {"q1": "yes", "q2": "no", "q6": "no"}


def test_the_cssrs_page_closes_the_task_and_the_banner_goes(world: World) -> None:
    patient = world.patient("north")
    record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    client = world.client("prescriber.north")
    chart = client.get(f"/patients/{patient.pk}/").content.decode()
    assert 'id="safety-alert-suicide_item"' in chart and f"/safety/patients/{patient.pk}/cssrs/" in chart
    page = client.get(f"/safety/patients/{patient.pk}/cssrs/").content.decode()
    assert "Any actual thoughts of killing yourself" in page and 'name="q6_past_3_months"' in page
    response = client.post(f"/safety/patients/{patient.pk}/cssrs/", LOW_FORM)
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    screener = Assessment.objects.get(patient=patient, instrument="cssrs_screen")
    assert screener.band == "low" and screener.created_by == world.user("prescriber.north")
    assert not SafetyAlert.objects.filter(patient=patient, status=AlertStatus.OPEN).exists()
    assert 'id="safety-alert-' not in client.get(f"/patients/{patient.pk}/").content.decode()


def test_a_high_cssrs_shows_an_urgent_banner_until_the_safety_plan(world: World) -> None:
    patient = world.patient("north")
    client = world.client("prescriber.north")
    response = client.post(f"/safety/patients/{patient.pk}/cssrs/", HIGH_FORM)
    assert response["Location"] == f"/safety/patients/{patient.pk}/safety-plan/"
    for who in ("prescriber.north", "nurse.north", "therapist.north"):
        chart = world.client(who).get(f"/patients/{patient.pk}/").content.decode()
        assert 'id="safety-alert-cssrs_high"' in chart and "URGENT" in chart, who
    nurse_chart = world.client("nurse.north").get(f"/patients/{patient.pk}/").content.decode()
    assert "/safety-plan/" not in nurse_chart  # the step is the prescriber's
    plan_page = client.get(f"/safety/patients/{patient.pk}/safety-plan/").content.decode()
    assert "988" in plan_page and 'id="open-cssrs_high"' in plan_page
    response = client.post(f"/safety/patients/{patient.pk}/safety-plan/", {"plan_text": "Call or text 988."})
    assert response.status_code == 302
    assert not SafetyAlert.objects.filter(patient=patient, kind=AlertKind.CSSRS_HIGH, status="open").exists()
    assert "URGENT" not in client.get(f"/patients/{patient.pk}/").content.decode()


def test_cssrs_answers_that_break_the_screeners_skips_name_the_question_and_save_nothing(
    world: World,
) -> None:
    patient = world.patient("north")
    client = world.client("prescriber.north")
    cases = [
        ({}, "q1"),
        ({"q1": "no", "q2": "yes", "q6": "no"}, "q3"),
        ({"q1": "no", "q2": "no", "q4": "yes", "q6": "no"}, "q4"),
        ({"q1": "maybe", "q2": "no", "q6": "no"}, "q1"),
        ({"q1": "no", "q2": "no", "q6": "yes"}, "q6_past_3_months"),
    ]
    for form, field in cases:
        response = client.post(f"/safety/patients/{patient.pk}/cssrs/", form)
        assert response.status_code == 422, form
        assert f'id="{field}-error"' in response.content.decode(), form
    assert not Assessment.objects.filter(patient=patient).exists()


def test_an_empty_safety_plan_is_refused_naming_the_field(world: World) -> None:
    patient = world.patient("north")
    page = world.client("prescriber.north").post(
        f"/safety/patients/{patient.pk}/safety-plan/", {"plan_text": " "}
    )
    assert page.status_code == 422 and 'id="plan_text-error"' in page.content.decode()
    api = world.api("prescriber.north")
    answer = api.post(
        f"/api/v1/patients/{patient.pk}/safety-plans",
        data=json.dumps({"plan_text": ""}),
        content_type="application/json",
    )
    assert answer.status_code == 422 and "plan_text" in answer.json()["errors"]
    assert not SafetyPlan.objects.filter(patient=patient).exists()


def test_the_api_records_a_plan_closing_the_urgent_alert_once_per_idempotency_key(world: World) -> None:
    patient = world.patient("north")
    record(
        patient,
        "cssrs_screen",
        {"q1": True, "q2": True, "q3": False, "q4": False, "q5": True, "q6": False},
        actor=world.user("prescriber.north"),
    )
    urgent = SafetyAlert.objects.get(patient=patient, kind=AlertKind.CSSRS_HIGH)
    api = world.api("prescriber.north")
    url, body = f"/api/v1/patients/{patient.pk}/safety-plans", json.dumps({"plan_text": "Call or text 988."})
    key = {"Idempotency-Key": "plan-1"}
    first = api.post(url, data=body, content_type="application/json", headers=key)
    again = api.post(url, data=body, content_type="application/json", headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["closed_alert_ids"] == [urgent.pk]
    assert first["Location"] == f"/api/v1/patients/{patient.pk}/safety-plans/{first.json()['id']}"
    assert SafetyPlan.objects.filter(patient=patient).count() == 1
    read = api.get(first["Location"])
    assert read.status_code == 200 and read.json()["plan_text"] == "Call or text 988."
    alerts = api.get(f"/api/v1/patients/{patient.pk}/safety-alerts").json()
    assert alerts["count"] == 1 and alerts["items"][0]["status"] == "closed"


def test_closing_a_suicide_item_by_hand_is_refused_with_what_closes_it(world: World) -> None:
    patient = world.patient("north")
    record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    alert = SafetyAlert.objects.get(patient=patient)
    answer = world.api("prescriber.north").post(
        f"/api/v1/patients/{patient.pk}/safety-alerts/{alert.pk}/close",
        data=json.dumps({"note": "seen"}),
        content_type="application/json",
    )
    assert answer.status_code == 409 and "C-SSRS" in " ".join(answer.json()["reasons"])
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_another_patients_alert_is_not_found_under_a_patient_the_prescriber_may_see(world: World) -> None:
    mine, other = world.patient("north", 0), world.patient("north", 1)
    alert = worsening_alert(other)
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    api = world.api("prescriber.north")
    answer = api.post(
        f"/api/v1/patients/{mine.pk}/safety-alerts/{alert.pk}/close",
        data=json.dumps({"note": "x"}),
        content_type="application/json",
    )
    page = world.client("prescriber.north").post(
        f"/safety/patients/{mine.pk}/alerts/{alert.pk}/review/", {"note": "x"}
    )
    assert answer.status_code == page.status_code == 404
    assert other.family_name.encode() not in answer.content + page.content
    denied = AuditEvent.objects.filter(seq__gt=last, outcome=Outcome.DENIED)
    assert [(e.patient_id, e.object_id) for e in denied] == 2 * [(mine.pk, str(alert.pk))]
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_a_prescriber_elsewhere_who_only_reads_here_may_not_do_safety_work_here(world: World) -> None:
    """Roles are per location: a therapist here who is a prescriber at south reads this chart and its banner
    but may not enter a C-SSRS or a safety plan for it."""
    from ketaclinic.accounts.actions import do_grant_role
    from ketaclinic.accounts.models import ClinicLocation

    user = world.user("therapist.north")
    do_grant_role(
        user, ClinicLocation.objects.get(slug="south"), "prescriber", actor=world.user("admin.south")
    )
    north, south = world.patient("north"), world.patient("south")
    client = world.client("therapist.north")
    assert client.post(f"/safety/patients/{north.pk}/cssrs/", LOW_FORM).status_code == 403
    assert client.post(f"/safety/patients/{north.pk}/safety-plan/", {"plan_text": "x"}).status_code == 403
    assert client.post(f"/safety/patients/{south.pk}/cssrs/", LOW_FORM).status_code == 302
    assert not Assessment.objects.filter(patient=north).exists()
    assert Assessment.objects.filter(patient=south, instrument="cssrs_screen").exists()


def test_hostile_text_in_a_plan_and_a_review_is_shown_as_text(world: World) -> None:
    patient = world.patient("north")
    client = world.client("prescriber.north")
    markup = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post(f"/safety/patients/{patient.pk}/safety-plan/", {"plan_text": markup})
    page = client.get(f"/safety/patients/{patient.pk}/safety-plan/").content.decode()
    assert markup not in page and "&lt;script&gt;" in page
    alert = worsening_alert(patient)
    client.post(f"/safety/patients/{patient.pk}/alerts/{alert.pk}/review/", {"note": markup})
    review = client.get(f"/safety/patients/{patient.pk}/alerts/{alert.pk}/review/").content.decode()
    assert markup not in review and "&lt;img" in review
