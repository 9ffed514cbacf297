"""Issue 11, item 6: one timeline of the patient's course (API and page): what each role sees, that a
psychotherapy note never shows more than its title (and only to those who may read it), paging and kind
filters, the read events, and a query count that does not grow with the history."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.assessments.models import Source
from ketaclinic.assessments.tests.test_safety import ITEM9_POSITIVE, record
from ketaclinic.audit.models import AuditEvent
from ketaclinic.therapy.tests.helpers import MARKER, note, staff
from ketaclinic.therapy.tests.kap_helpers import (
    dose_through_signature,
    kap_clock,
    plan,
    prepared,
    therapy_at,
    with_therapist,
)

if TYPE_CHECKING:
    from conftest import World


@pytest.fixture
def course(world: World, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Screening, consent and an approved plan; a signed preparation; a dose charted to signature; a PHQ-9
    with a positive suicide item (a safety alert); an integration with a note of the record and the
    therapist's psychotherapy note holding the marker."""
    patient = world.patient("north")
    clock = kap_clock(monkeypatch, patient)
    with_therapist(patient)
    preparation = prepared(patient, clock)
    dose = dose_through_signature(plan(patient), clock)
    clock.advance(hours=2)
    record(patient, "phq9", ITEM9_POSITIVE, source=Source.SELF_REPORT, taken_at=clock.now)
    clock.advance(days=2)
    integration = therapy_at(patient, "integration", clock.now, dose=dose)
    note(integration, sign=True, experience="Felt spacious")
    note(integration, psychotherapy=True, experience=f"Process notes {MARKER}")
    clock.advance(hours=2)
    return {"patient": patient, "dose": dose, "integration": integration, "preparation": preparation}


def _get(world: World, who: str | None, patient: Any, query: str = "") -> Any:
    return world.api(who).get(f"/api/v1/patients/{patient.pk}/timeline{query}")


def _items(world: World, who: str, patient: Any, query: str = "") -> list[dict[str, Any]]:
    response = _get(world, who, patient, query)
    assert response.status_code == 200, response.content
    assert MARKER not in response.content.decode()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _of(items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [i for i in items if i["kind"] == kind]


def test_a_clinician_sees_the_whole_course_in_time_order(world: World, course: dict[str, Any]) -> None:
    response = _get(world, "therapist.north", course["patient"], "?limit=100")
    body = response.json()
    assert set(body) == {"count", "limit", "offset", "items"} and body["count"] == len(body["items"])
    items = body["items"]
    assert {"kind", "at", "title", "ref"} <= set(items[0])
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    kinds = {i["kind"] for i in items}
    assert {"screening", "consent", "plan_change", "preparation", "dose", "integration"} <= kinds
    assert {"questionnaire", "alert"} <= kinds
    [dose] = _of(items, "dose")
    assert dose["ref"] == str(course["dose"].pk)
    for fact in ("56 mg", "peak BP 148/92", "MOAA/S 4", "CADSS 6", "1 adverse event", "signed"):
        assert fact in dose["title"], (fact, dose["title"])
    [phq9] = _of(items, "questionnaire")
    assert "PHQ-9 total 10" in phq9["title"]
    [alert] = _of(items, "alert")
    assert "suicide item" in alert["title"] and "open" in alert["title"]
    [plan_change] = _of(items, "plan_change")
    assert plan_change["title"].startswith("Plan approved")


def test_the_author_sees_a_psychotherapy_notes_title_never_its_text(
    world: World, course: dict[str, Any]
) -> None:
    [integration] = _of(_items(world, "therapist.north", course["patient"]), "integration")
    assert integration["ref"] == str(course["integration"].pk)
    assert "integration note (signed)" in integration["title"]
    assert "psychotherapy note (draft)" in integration["title"]
    assert "for dose session 1" in integration["title"]
    assert "Felt spacious" not in integration["title"]


def test_a_nurse_sees_integration_note_titles_but_no_psychotherapy_note(
    world: World, course: dict[str, Any]
) -> None:
    [integration] = _of(_items(world, "nurse.north", course["patient"]), "integration")
    assert "integration note (signed)" in integration["title"]
    assert "psychotherapy" not in integration["title"]
    page = world.client("nurse.north").get(f"/therapy/patients/{course['patient'].pk}/timeline/")
    text = page.content.decode()
    assert page.status_code == 200 and MARKER not in text and "psychotherapy note" not in text
    assert "integration note (signed)" in text


def test_the_front_desk_sees_the_schedule_and_nothing_clinical(world: World, course: dict[str, Any]) -> None:
    patient = course["patient"]
    items = _items(world, "frontdesk.north", patient, "?limit=100")
    assert {i["kind"] for i in items} == {"preparation", "dose", "integration"}
    text = " ".join(i["title"] for i in items)
    for clinical in ("mg", "peak BP", "MOAA/S", "CADSS", "adverse", "note", "PHQ-9"):
        assert clinical not in text, clinical
    assert all(i["url"] is None for i in _of(items, "dose"))
    empty = _get(world, "frontdesk.north", patient, "?kind=questionnaire").json()
    assert empty["count"] == 0 and empty["items"] == []
    page = world.client("frontdesk.north").get(f"/therapy/patients/{patient.pk}/timeline/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "peak BP" not in text and "<svg" not in text and "PHQ-9 total" not in text


@pytest.mark.parametrize(
    ("who", "status"), [("therapist.south", 404), ("nurse.south", 404), ("admin.north", 403), (None, 401)]
)
def test_others_see_nothing(world: World, course: dict[str, Any], who: str | None, status: int) -> None:
    response = _get(world, who, course["patient"])
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert "title" not in response.content.decode()


@pytest.mark.parametrize(("who", "status"), [("therapist.south", 404), ("admin.north", 403)])
def test_the_page_is_refused_to_others(world: World, course: dict[str, Any], who: str, status: int) -> None:
    response = world.client(who).get(f"/therapy/patients/{course['patient'].pk}/timeline/")
    assert response.status_code == status
    assert MARKER not in response.content.decode()


def test_the_page_asks_anonymous_users_to_sign_in(world: World, course: dict[str, Any]) -> None:
    response = world.client(None).get(f"/therapy/patients/{course['patient'].pk}/timeline/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_pages_and_kinds(world: World, course: dict[str, Any]) -> None:
    patient = course["patient"]
    everything = _items(world, "prescriber.north", patient, "?limit=100")
    pages = [_items(world, "prescriber.north", patient, f"?limit=3&offset={o}") for o in range(0, 30, 3)]
    assert [i for page in pages for i in page] == everything
    only = _get(world, "prescriber.north", patient, "?kind=dose").json()
    assert only["count"] == 1 and [i["kind"] for i in only["items"]] == ["dose"]
    for bad, field in (("?kind=notes", "kind"), ("?limit=0", "limit"), ("?offset=-1", "offset")):
        response = _get(world, "prescriber.north", patient, bad)
        assert response.status_code == 422, bad
        assert field in response.content.decode()


def test_every_read_writes_its_read_event(world: World, course: dict[str, Any]) -> None:
    patient = course["patient"]
    before = AuditEvent.objects.filter(action="patient.read").count()
    _items(world, "frontdesk.north", patient)
    world.client("nurse.north").get(f"/therapy/patients/{patient.pk}/timeline/")
    events = list(AuditEvent.objects.filter(action="patient.read").order_by("-seq")[:2])
    assert AuditEvent.objects.filter(action="patient.read").count() == before + 2
    assert [e.actor.username if e.actor else "" for e in events] == ["nurse.north", "frontdesk.north"]
    assert all("timeline" in e.changed_fields and e.patient_id == patient.pk for e in events)


def test_the_chart_links_the_timeline(world: World, course: dict[str, Any]) -> None:
    patient = course["patient"]
    panel = world.client("nurse.north").get(f"/therapy/patients/{patient.pk}/panel/").content.decode()
    assert f"/therapy/patients/{patient.pk}/timeline/" in panel


def test_the_clinicians_page_draws_the_trend_above_the_timeline(world: World, course: dict[str, Any]) -> None:
    page = world.client("therapist.north").get(f"/therapy/patients/{course['patient'].pk}/timeline/")
    text = page.content.decode()
    assert text.index("<svg") < text.index('id="timeline"')
    assert "psychotherapy note (draft)" in text and MARKER not in text


def _queries(world: World, patient: Any) -> int:
    api = world.api("prescriber.north")
    api.get(f"/api/v1/patients/{patient.pk}/timeline")
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(f"/api/v1/patients/{patient.pk}/timeline").status_code == 200
    return len(ctx.captured_queries)


def test_the_query_count_does_not_grow_with_history(
    world: World, course: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = course["patient"]
    first = _queries(world, patient)
    for n in range(30):
        at = course["integration"].starts_at + dt.timedelta(days=7 * (n + 1))
        therapy_at(patient, "integration", at, dose=course["dose"])
        taken = course["integration"].starts_at - dt.timedelta(minutes=n + 1)
        record(patient, "phq9", [1] * 9, actor=staff(patient, "nurse"), taken_at=taken)
    assert _queries(world, patient) <= first
