"""The assessments API: record (201 + Location, the contract's fields, 422 naming the item and nothing
saved), list (paged, by instrument), one response with its item-level answers, and the episode."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from conftest import World
from ketaclinic.assessments.models import Assessment
from ketaclinic.audit.actions import verify_chain
from ketaclinic.audit.models import Action, AuditEvent


def _post(world: World, who: str, url: str, body: Any, **headers: str) -> Any:
    return world.api(who).post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_record_answers_the_contract(world: World) -> None:
    p = world.patient("north")
    r = _post(
        world,
        "nurse.north",
        f"/api/v1/patients/{p.pk}/assessments",
        {"instrument": "phq9", "answers": [2] * 9},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == {"id", "instrument", "total", "band", "flags", "codes", "taken_at"}
    assert r["Location"] == f"/api/v1/patients/{p.pk}/assessments/{body['id']}"
    assert (
        body["total"] == 18 and body["band"] == "moderately_severe" and body["flags"] == ["suicidal_ideation"]
    )
    assert body["codes"]["panel"] == "44249-1" and len(body["codes"]["items"]) == 9


def test_record_writes_its_events_and_its_read_event_in_order_on_the_chain(world: World) -> None:
    """The response, its safety alert and the answer's read event: one append, in that order, all named as
    the API request that made them."""
    p = world.patient("north")
    nurse = world.user("nurse.north")
    api = world.api("nurse.north")  # its token made (and audited) first
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    body = json.dumps({"instrument": "phq9", "answers": [2] * 9})
    r = api.post(f"/api/v1/patients/{p.pk}/assessments", body, content_type="application/json")
    assert r.status_code == 201, r.content
    events = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq"))
    assert [e.action for e in events] == [
        Action.ASSESSMENT_RECORD,
        Action.SAFETY_ALERT_RAISE,
        Action.PATIENT_READ,
    ]
    assert [e.seq for e in events] == [last + 1, last + 2, last + 3]
    record, alert, read = events
    assert record.object_id == read.object_id == str(r.json()["id"]) and read.object_type == "Assessment"
    assert alert.object_type == "SafetyAlert"
    assert {e.actor_id for e in events} == {nurse.pk} and {e.via for e in events} == {"api"}
    assert {e.patient_id for e in events} == {p.pk} and len({e.request_id for e in events}) == 1
    assert verify_chain().ok


def test_a_bad_item_is_422_naming_it_and_nothing_is_saved(world: World) -> None:
    p = world.patient("north")
    before = Assessment.objects.count()
    answers = {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "6": 0, "7": 0, "8": 0, "9": 7}
    r = _post(
        world,
        "nurse.north",
        f"/api/v1/patients/{p.pk}/assessments",
        {"instrument": "phq9", "answers": answers},
    )
    assert r.status_code == 422
    assert "answers.9" in r.json()["errors"]
    r = _post(
        world, "nurse.north", f"/api/v1/patients/{p.pk}/assessments", {"instrument": "phq10", "answers": []}
    )
    assert r.status_code == 422 and "instrument" in r.json()["errors"]
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    r = _post(
        world,
        "nurse.north",
        f"/api/v1/patients/{p.pk}/assessments",
        {"instrument": "gad7", "answers": [0] * 7, "taken_at": later},
    )
    assert r.status_code == 422 and "taken_at" in r.json()["errors"]
    assert Assessment.objects.count() == before


def test_a_double_submit_with_one_key_stores_one_response(world: World) -> None:
    p = world.patient("north")
    url = f"/api/v1/patients/{p.pk}/assessments"
    body = {"instrument": "gad7", "answers": [1] * 7}
    first = _post(world, "nurse.north", url, body, **{"Idempotency-Key": "k-gad7-1"})
    again = _post(world, "nurse.north", url, body, **{"Idempotency-Key": "k-gad7-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Assessment.objects.filter(patient=p, instrument="gad7").count() == 1


def test_list_is_paged_and_filters_by_instrument(world: World) -> None:
    p = world.patient("north")
    url = f"/api/v1/patients/{p.pk}/assessments"
    for n in range(3):
        _post(world, "nurse.north", url, {"instrument": "phq9", "answers": [n] * 9})
    _post(world, "nurse.north", url, {"instrument": "gad7", "answers": [1] * 7})
    r = world.api("therapist.north").get(f"{url}?instrument=phq9&limit=2")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3 and body["limit"] == 2 and body["offset"] == 0 and len(body["items"]) == 2
    assert {i["instrument"] for i in body["items"]} == {"phq9"}
    assert world.api("therapist.north").get(f"{url}?instrument=nope").status_code == 422


def test_one_response_shows_its_item_answers_and_writes_a_read_event(world: World) -> None:
    p = world.patient("north")
    made = _post(
        world,
        "nurse.north",
        f"/api/v1/patients/{p.pk}/assessments",
        {"instrument": "phq9", "answers": [1, 2, 3, 0, 1, 2, 3, 0, 0]},
    )
    aid = made.json()["id"]
    reads = AuditEvent.objects.filter(action=Action.PATIENT_READ, object_id=str(aid))
    before = reads.count()
    r = world.api("frontdesk.north").get(f"/api/v1/patients/{p.pk}/assessments/{aid}")
    assert r.status_code == 200
    assert r.json()["item_scores"] == [1, 2, 3, 0, 1, 2, 3, 0, 0] and r.json()["source"] == "clinic"
    assert reads.count() == before + 1


def test_another_patients_assessment_id_is_404_and_audited(world: World) -> None:
    p, other = world.patient("north", 0), world.patient("north", 1)
    made = _post(
        world,
        "nurse.north",
        f"/api/v1/patients/{other.pk}/assessments",
        {"instrument": "gad7", "answers": [1] * 7},
    )
    denied = AuditEvent.objects.filter(action=Action.ACCESS_DENIED).count()
    r = world.api("nurse.north").get(f"/api/v1/patients/{p.pk}/assessments/{made.json()['id']}")
    assert r.status_code == 404
    assert AuditEvent.objects.filter(action=Action.ACCESS_DENIED).count() == denied + 1


def test_episode_answers_the_contract(world: World) -> None:
    p = world.patient("north")
    url = f"/api/v1/patients/{p.pk}/assessments"
    start = timezone.now() - dt.timedelta(days=60)
    for week, total in enumerate([20, 16, 12, 9, 4]):
        answers = [min(3, max(0, total - 3 * i)) for i in range(9)]
        answers[8] = 0
        taken = (start + dt.timedelta(days=7 * week)).isoformat()
        r = _post(world, "nurse.north", url, {"instrument": "phq9", "answers": answers, "taken_at": taken})
        assert r.status_code == 201, r.content
    r = world.api("therapist.north").get(f"/api/v1/patients/{p.pk}/episode")
    assert r.status_code == 200
    body = r.json()
    assert {
        "instrument",
        "baseline_total",
        "latest_total",
        "change_percent",
        "status",
        "time_to_response_days",
    } <= body.keys()
    assert body["instrument"] == "phq9"
    assert body["baseline_total"] is not None and body["latest_total"] is not None
    assert (
        world.api("therapist.north").get(f"/api/v1/patients/{p.pk}/episode?instrument=gad7").status_code
        == 422
    )


def test_episode_of_a_patient_without_scores(world: World) -> None:
    p = world.patient("north", 2)
    body = world.api("nurse.north").get(f"/api/v1/patients/{p.pk}/episode?instrument=madrs").json()
    assert body["status"] == "no_scores" and body["baseline_total"] is None and body["instrument"] == "madrs"


@pytest.mark.parametrize(
    "taken_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1899-12-31T12:00:00+00:00"]
)
def test_a_moment_at_the_edge_of_the_calendar_is_refused_by_name(world: World, taken_at: str) -> None:
    p = world.patient("north")
    body = {"instrument": "gad7", "answers": [0] * 7, "taken_at": taken_at}
    r = _post(world, "nurse.north", f"/api/v1/patients/{p.pk}/assessments", body)
    assert r.status_code == 422 and "taken_at" in r.json()["errors"]


@pytest.mark.parametrize(
    "answers",
    [[1.0] * 9, [True] * 9, [[0]] * 9, {"1": None}, [10**30] * 9, None, {"01": 0}, {"１": 0}],
)
def test_answers_of_any_shape_are_refused_naming_answers(world: World, answers: object) -> None:
    p = world.patient("north")
    r = _post(
        world,
        "nurse.north",
        f"/api/v1/patients/{p.pk}/assessments",
        {"instrument": "phq9", "answers": answers},
    )
    assert r.status_code == 422
    assert any(k == "answers" or k.startswith("answers.") for k in r.json()["errors"])
