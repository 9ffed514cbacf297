"""The clinician worklist: what is on it, for whom, in which order, with no names in the API's detail, at a
pinned query count that does not grow with the patients listed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import World
from ketaclinic.accounts.models import User
from ketaclinic.assessments.models import AssessmentRequest, RequestReason, Source
from ketaclinic.assessments.tests.test_safety import CSSRS_HIGH, ITEM9_POSITIVE, record
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import PlanStatus, SessionPhase, TreatmentPlan, TreatmentSession


def _phq9(total: int) -> list[int]:
    items = [0] * 9
    for i in range(total):
        items[i % 8] += 1
    return items


def _plan(patient: Patient, started_days_ago: int, *, maintenance_from_days_ago: int | None = None) -> None:
    """An active IV plan that started `started_days_ago` at the patient's location, with a maintenance session
    on the day given. Written as the treatment day leaves it (as the REMS tests do): the gates that approve
    a plan are treatment's own tests."""
    prescriber = User.objects.get(username=f"prescriber.{patient.location.slug}")
    now = timezone.now()
    today = local_today(patient.location)
    stamp = {"created_at": now, "created_by": prescriber, "updated_at": now, "updated_by": prescriber}
    plan = TreatmentPlan.objects.create(
        patient=patient,
        location_id=patient.location_id,
        modality="iv_ketamine",
        protocol="iv_twice_weekly_3w",
        dose_mg_per_kg=Decimal("0.5"),
        start_date=today - dt.timedelta(days=started_days_ago),
        clinic_days=[0, 1, 2, 3, 4],
        status=PlanStatus.ACTIVE,
        approved_at=now,
        approved_by=prescriber,
        **stamp,
    )
    if maintenance_from_days_ago is not None:
        TreatmentSession.objects.create(
            plan=plan,
            patient=patient,
            location_id=patient.location_id,
            number=7,
            date=today - dt.timedelta(days=maintenance_from_days_ago),
            phase=SessionPhase.MAINTENANCE,
            **stamp,
        )


def _scores(patient: Patient, totals: list[int], every_days: int = 7) -> None:
    nurse = User.objects.get(username=f"nurse.{patient.location.slug}")
    start = timezone.now() - dt.timedelta(days=every_days * (len(totals) - 1) + 1)
    for n, total in enumerate(totals):
        record(patient, "phq9", _phq9(total), actor=nurse, taken_at=start + dt.timedelta(days=every_days * n))


def _request(patient: Patient, due_at: dt.datetime) -> AssessmentRequest:
    # A one-off request as staff make it (the request actions are the self-report link's work).
    return AssessmentRequest.objects.create(
        patient=patient,
        location_id=patient.location_id,
        instrument="gad7",
        reason=RequestReason.ONE_OFF,
        due_at=due_at,
        created_at=timezone.now(),
        created_by=User.objects.get(username=f"nurse.{patient.location.slug}"),
    )


def _items(world: World, who: str) -> list[dict[str, Any]]:
    response = world.api(who).get("/api/v1/worklist")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _of(items: list[dict[str, Any]], patient: Patient) -> list[dict[str, Any]]:
    return [i for i in items if i["patient_id"] == str(patient.pk)]


def test_a_positive_suicide_item_is_on_the_worklist_of_its_location_only(world: World) -> None:
    patient = world.patient("north")
    record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    [item] = _of(_items(world, "prescriber.north"), patient)
    assert item["kind"] == "suicide_item" and item["priority"] == "high"
    assert set(item) == {"kind", "patient_id", "priority", "due_at", "detail", "dose_session_id"}
    assert item["dose_session_id"] is None
    assert patient.family_name not in item["detail"] and patient.given_name not in item["detail"]
    assert "item 9 scored 2" in item["detail"]
    assert _of(_items(world, "nurse.north"), patient) == [item]
    assert _of(_items(world, "prescriber.south"), patient) == []


def test_the_urgent_alert_comes_first(world: World) -> None:
    first, second = world.patient("north", 0), world.patient("north", 1)
    record(first, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    record(second, "cssrs_screen", CSSRS_HIGH, actor=world.user("prescriber.north"))
    items = _items(world, "prescriber.north")
    assert items[0]["kind"] == "cssrs_high" and items[0]["priority"] == "urgent"
    assert items[0]["patient_id"] == str(second.pk)


def test_requests_due_today_and_overdue_are_listed_later_ones_are_not(world: World) -> None:
    patient = world.patient("north")
    now = timezone.now()
    _request(patient, now - dt.timedelta(days=2))
    _request(patient, now + dt.timedelta(days=3))
    kinds = [i["kind"] for i in _of(_items(world, "nurse.north"), patient)]
    assert kinds == ["assessment_overdue"]


def test_a_patient_not_responding_after_the_policys_days_is_listed(world: World) -> None:
    slow, early = world.patient("north", 0), world.patient("north", 1)
    _plan(slow, 30)
    _scores(slow, [20, 18, 16])
    _plan(early, 10)
    _scores(early, [20, 18])
    [item] = _of(_items(world, "prescriber.north"), slow)
    assert item["kind"] == "not_responding" and item["due_at"] is None
    assert "PHQ-9 16" in item["detail"] and "baseline of 20" in item["detail"]
    assert _of(_items(world, "prescriber.north"), early) == []


def test_a_responder_losing_response_in_maintenance_is_listed(world: World) -> None:
    lost, kept = world.patient("north", 0), world.patient("north", 1)
    _plan(lost, 60, maintenance_from_days_ago=7)
    _scores(lost, [20, 8, 9, 14])
    _plan(kept, 60, maintenance_from_days_ago=7)
    _scores(kept, [20, 8, 9, 8])
    [item] = _of(_items(world, "prescriber.north"), lost)
    assert item["kind"] == "loss_of_response"
    assert _of(_items(world, "prescriber.north"), kept) == []


def test_the_worklist_is_a_patient_list_in_the_audit_trail(world: World) -> None:
    from ketaclinic.audit.models import Action, AuditEvent

    before = AuditEvent.objects.filter(action=Action.PATIENT_LIST).count()
    world.api("prescriber.north").get("/api/v1/worklist")
    world.client("prescriber.north").get("/worklist/")
    assert AuditEvent.objects.filter(action=Action.PATIENT_LIST).count() == before + 2


def test_the_worklist_page_names_patients_and_links_the_next_step(world: World) -> None:
    patient = world.patient("north")
    record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    page = world.client("prescriber.north").get("/worklist/").content.decode()
    assert f"{patient.family_name}, {patient.given_name}" in page
    assert f"/safety/patients/{patient.pk}/cssrs/" in page
    nurse_page = world.client("nurse.north").get("/worklist/").content.decode()
    assert f"{patient.family_name}, {patient.given_name}" in nurse_page
    assert "/cssrs/" not in nurse_page  # a nurse sees the task, the prescriber does it
    # The prescriber's ways to the location's outcomes and its FHIR export; the nurse holds neither.
    assert 'href="/outcomes/"' in page and 'href="/fhir/exports/"' in page
    assert 'href="/outcomes/"' not in nurse_page and 'href="/fhir/exports/"' not in nurse_page


@pytest.mark.parametrize("who", ["prescriber.north", "nurse.north", "therapist.north"])
def test_the_top_bar_links_the_worklist_for_its_roles(world: World, who: str) -> None:
    assert 'href="/worklist/"' in world.client(who).get("/patients/").content.decode()


def test_the_top_bar_has_no_worklist_link_without_the_permission(world: World) -> None:
    assert 'href="/worklist/"' not in world.client("frontdesk.north").get("/patients/").content.decode()


def _count(world: World, url: str) -> int:
    client = world.client("prescriber.north")
    client.get(url)  # the first request sets the session's last-seen time
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# Session, user, grants, the locations; open alerts, pending requests; each location's policy stamp, the
# active plans, the candidates' scores; the active home programs (homecare's source); the dose sessions
# awaiting integration (therapy's source); the audit row (bump, insert, set head).
WORKLIST_PAGE_QUERIES = 14


def _on_the_worklist(patient: Patient) -> None:
    record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT)
    _plan(patient, 40, maintenance_from_days_ago=3)
    _scores(patient, [20, 8, 9, 15])
    _request(patient, timezone.now() - dt.timedelta(hours=1))


def test_the_worklist_page_query_count_is_pinned_and_flat(world: World) -> None:
    assert _count(world, "/worklist/") <= WORKLIST_PAGE_QUERIES  # no plans: no scores to read
    _on_the_worklist(world.patient("north", 0))
    one = _count(world, "/worklist/")
    for index in (1, 2, 3):
        _on_the_worklist(world.patient("north", index))
    assert _count(world, "/worklist/") == one == WORKLIST_PAGE_QUERIES
