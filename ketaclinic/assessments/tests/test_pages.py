"""Assessment pages: entering a clinician's MADRS from the chart, the item-level answers of a response with
who, when and how, the chart's trend panel (loaded after the chart, its query count flat with history), and
the read event each page writes."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import World
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import Assessment, Source
from ketaclinic.audit.models import Action, AuditEvent

MADRS = {f"item-{n}": str(v) for n, v in enumerate([4, 4, 3, 3, 2, 3, 3, 3, 2, 1], 1)}


def _phq9(world: World, patient: object, total_each: int, days_ago: int) -> Assessment:
    data = AssessmentIn.model_validate(
        {
            "instrument": "phq9",
            "answers": [total_each] * 8 + [0],
            "taken_at": timezone.now() - dt.timedelta(days=days_ago),
        }
    )
    return do_record_assessment(patient, data, actor=world.user("nurse.north"), source=Source.CLINIC)  # type: ignore[arg-type]


def test_a_prescriber_enters_a_madrs_from_the_chart(world: World) -> None:
    p = world.patient("north")
    client = world.client("prescriber.north")
    form = client.get(f"/assessments/patients/{p.pk}/new/madrs/")
    assert form.status_code == 200
    assert b"Apparent sadness" in form.content and form.content.count(b"<fieldset") == 10
    r = client.post(f"/assessments/patients/{p.pk}/new/madrs/", MADRS)
    assert r.status_code == 302
    a = Assessment.objects.get(patient=p, instrument="madrs")
    assert a.total == 28 and a.band == "moderate" and a.created_by == world.user("prescriber.north")
    page = client.get(r["Location"])
    assert page.status_code == 200
    assert b"Apparent sadness" in page.content and b"Entered in the clinic" in page.content


def test_a_missing_item_is_named_beside_it_and_nothing_is_saved(world: World) -> None:
    p = world.patient("north")
    answers = dict(MADRS)
    del answers["item-7"]
    r = world.client("nurse.north").post(f"/assessments/patients/{p.pk}/new/madrs/", answers)
    assert r.status_code == 422
    assert b'id="e-item-7"' in r.content and b"Choose an answer" in r.content
    assert r.content.count(b'class="field-error"') == 1  # only item 7 is marked
    # What was chosen stays chosen.
    assert b'name="item-1" value="4" checked' in r.content
    assert not Assessment.objects.filter(patient=p).exists()


def test_every_unanswered_item_is_named_and_an_out_of_range_one_by_the_library(world: World) -> None:
    p = world.patient("north")
    client = world.client("nurse.north")
    r = client.post(f"/assessments/patients/{p.pk}/new/phq9/", {"item-1": "1"})
    assert (
        r.status_code == 422 and r.content.count(b"Choose an answer") == 8 * 2
    )  # beside it and in the summary
    answers = {f"item-{n}": "0" for n in range(1, 10)} | {"item-9": "5"}
    r = client.post(f"/assessments/patients/{p.pk}/new/phq9/", answers)
    assert r.status_code == 422 and b"Score 5 is outside 0-3" in r.content
    assert not Assessment.objects.filter(patient=p).exists()


def test_an_unknown_instrument_is_404(world: World) -> None:
    p = world.patient("north")
    assert world.client("nurse.north").get(f"/assessments/patients/{p.pk}/new/cadss9/").status_code == 404


def test_the_item_level_view_says_who_and_writes_a_read_event(world: World) -> None:
    p = world.patient("north")
    a = _phq9(world, p, 2, 3)
    reads = AuditEvent.objects.filter(action=Action.PATIENT_READ, object_id=str(a.pk))
    r = world.client("therapist.north").get(f"/assessments/patients/{p.pk}/{a.pk}/")
    assert r.status_code == 200
    assert b"More than half the days" in r.content and b"44250-9" in r.content
    assert str(world.user("nurse.north")).encode() in r.content
    assert reads.count() == 1


def test_a_self_report_shows_the_patient_as_its_author(world: World) -> None:
    p = world.patient("north")
    data = AssessmentIn.model_validate({"instrument": "gad7", "answers": [1] * 7})
    a = do_record_assessment(p, data, actor=None, source=Source.SELF_REPORT)
    r = world.client("nurse.north").get(f"/assessments/patients/{p.pk}/{a.pk}/")
    assert b"The patient" in r.content and b"self-report link" in r.content


def test_the_chart_loads_the_trend_panel_after_it(world: World) -> None:
    p = world.patient("north")
    chart = world.client("nurse.north").get(f"/patients/{p.pk}/")
    assert f'hx-get="/assessments/patients/{p.pk}/panel/"'.encode() in chart.content


def test_the_panel_draws_the_trend_and_the_table_and_writes_a_read_event(world: World) -> None:
    p = world.patient("north")
    for n, each in enumerate([3, 2, 1, 1, 0]):
        _phq9(world, p, each, 40 - 7 * n)
    reads = AuditEvent.objects.filter(action=Action.PATIENT_READ, patient=p, changed_fields=["episode"])
    r = world.client("therapist.north").get(f"/assessments/patients/{p.pk}/panel/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<svg" in html and "<polyline" in html
    marks = html.split('<path d="', 1)[1].split('"', 1)[0]
    assert marks.count("M") == 5  # a circle at every score
    assert "Response ≤ 12" in html and "Remission ≤ 4" in html
    assert "<table>" in html and "Baseline" in html and "Remission" in html
    assert reads.count() == 1


def test_with_nothing_to_draw_the_panel_says_so_instead_of_an_empty_chart(world: World) -> None:
    p = world.patient("north")
    empty = world.client("nurse.north").get(f"/assessments/patients/{p.pk}/panel/").content.decode()
    assert "No PHQ-9 scores and no dose sessions yet." in empty
    assert "<svg" not in empty and "as a table" not in empty
    _phq9(world, p, 2, 3)
    drawn = world.client("nurse.north").get(f"/assessments/patients/{p.pk}/panel/").content.decode()
    assert "<svg" in drawn and "No PHQ-9 scores" not in drawn


def test_the_panel_query_count_is_flat_as_history_grows(world: World) -> None:
    p = world.patient("north")
    client = world.client("nurse.north")
    _phq9(world, p, 2, 30)
    client.get(f"/assessments/patients/{p.pk}/panel/")  # warm the policy and grants caches
    with CaptureQueriesContext(connection) as few:
        client.get(f"/assessments/patients/{p.pk}/panel/")
    for n in range(20):
        _phq9(world, p, n % 3, 29 - n)
    with CaptureQueriesContext(connection) as many:
        client.get(f"/assessments/patients/{p.pk}/panel/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_assessments_page_lists_responses_and_offers_entry_to_clinicians(world: World) -> None:
    p = world.patient("north")
    _phq9(world, p, 1, 2)
    r = world.client("nurse.north").get(f"/assessments/patients/{p.pk}/")
    assert r.status_code == 200 and b"PHQ-9" in r.content and b"Enter an assessment" in r.content
    r = world.client("frontdesk.north").get(f"/assessments/patients/{p.pk}/")
    assert r.status_code == 200 and b"Enter an assessment" not in r.content


def test_another_patients_response_under_a_patient_the_user_may_see_is_404_and_audited(world: World) -> None:
    mine, other = world.patient("north", 0), world.patient("north", 1)
    theirs = _phq9(world, other, 2, 1)
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    r = world.client("nurse.north").get(f"/assessments/patients/{mine.pk}/{theirs.pk}/")
    assert r.status_code == 404
    assert other.family_name.encode() not in r.content
    events = AuditEvent.objects.filter(seq__gt=last)
    assert [(e.action, e.patient_id, e.object_id) for e in events] == [
        (Action.ACCESS_DENIED, mine.pk, str(theirs.pk))
    ]


def test_a_reader_here_who_records_elsewhere_only_reads_here(world: World) -> None:
    """Roles are per location: front desk at north (reads) who is a nurse at south (records)."""
    from ketaclinic.accounts.actions import do_grant_role
    from ketaclinic.accounts.models import ClinicLocation

    user = world.user("frontdesk.north")
    do_grant_role(user, ClinicLocation.objects.get(slug="south"), "nurse", actor=world.user("admin.south"))
    north, south = world.patient("north"), world.patient("south")
    client = world.client("frontdesk.north")
    assert client.get(f"/assessments/patients/{north.pk}/").status_code == 200
    assert client.get(f"/assessments/patients/{north.pk}/new/madrs/").status_code == 403
    assert client.post(f"/assessments/patients/{north.pk}/new/madrs/", MADRS).status_code == 403
    assert client.post(f"/assessments/patients/{south.pk}/new/madrs/", MADRS).status_code == 302
    api = world.api("frontdesk.north")
    body = '{"instrument": "gad7", "answers": [1, 1, 1, 1, 1, 1, 1]}'
    assert (
        api.post(
            f"/api/v1/patients/{north.pk}/assessments", body, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        api.post(
            f"/api/v1/patients/{south.pk}/assessments", body, content_type="application/json"
        ).status_code
        == 201
    )
    assert not Assessment.objects.filter(patient=north).exists()
    assert Assessment.objects.filter(patient=south).count() == 2
