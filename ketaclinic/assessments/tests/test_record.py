"""do_record_assessment: scored by the clinical library under the location's policy, stored with its codes,
one audit row; bad answers name the item and save nothing; a request is answered once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models.signals import post_save
from django.utils import timezone

from conftest import World
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import Assessment, AssessmentRequest, RequestReason, RequestStatus, Source
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.errors import InvalidInput, Refused


def _phq9(answers: object, **extra: object) -> AssessmentIn:
    return AssessmentIn.model_validate({"instrument": "phq9", "answers": answers, **extra})


def test_a_phq9_is_scored_stored_with_its_codes_and_audited(world: World) -> None:
    patient = world.patient("north")
    nurse = world.user("nurse.north")
    before = AuditEvent.objects.filter(action=Action.ASSESSMENT_RECORD).count()
    a = do_record_assessment(patient, _phq9([3, 3, 2, 2, 2, 2, 1, 1, 1]), actor=nurse, source=Source.CLINIC)
    a.refresh_from_db()
    assert a.total == 17 and a.band == "moderately_severe"
    assert a.flags == ["suicidal_ideation"]
    assert a.item_scores == [3, 3, 2, 2, 2, 2, 1, 1, 1]
    assert a.codes["panel"] == "44249-1" and a.codes["total"] == "44261-6"
    assert a.codes["items"][8] == "44260-8"
    assert a.created_by == nurse and a.location_id == patient.location_id
    rows = AuditEvent.objects.filter(action=Action.ASSESSMENT_RECORD)
    assert rows.count() == before + 1
    row = rows.latest("seq")
    assert row.patient_id == patient.pk and row.actor_id == nurse.pk and "total" in row.changed_fields


def test_the_stored_row_is_what_save_stores(world: World) -> None:
    """The response goes in over a prepared INSERT (ketaclinic/prepared.py): every column as save() writes."""
    patient = world.patient("north")
    nurse = world.user("nurse.north")
    taken = timezone.now() - dt.timedelta(hours=3)
    a = do_record_assessment(
        patient,
        _phq9([3, 3, 2, 2, 2, 2, 1, 1, 1], taken_at=taken.isoformat()),
        actor=nurse,
        source=Source.CLINIC,
    )
    assert a.pk is not None and not a._state.adding
    twin = Assessment(
        **{f.attname: getattr(a, f.attname) for f in Assessment._meta.concrete_fields if not f.primary_key}
    )
    twin.save()
    fields = [f.attname for f in Assessment._meta.concrete_fields if not f.primary_key]
    stored = Assessment.objects.filter(pk__in=[a.pk, twin.pk]).order_by("pk").values_list(*fields)
    mine, saved = list(stored)
    assert mine == saved
    assert dict(zip(fields, mine, strict=True))["taken_at"] == taken
    assert Assessment.objects.get(pk=a.pk).created_by == nurse


def test_a_listener_for_the_save_signals_is_refused_before_anything_is_written(world: World) -> None:
    """The prepared INSERT sends no save signals: a listener would be skipped silently, so it is refused."""
    patient = world.patient("north")
    count = Assessment.objects.count()

    def listener(**kwargs: object) -> None:
        raise AssertionError("not reached")

    post_save.connect(listener, sender=Assessment)
    try:
        with pytest.raises(RuntimeError, match="save signals"):
            do_record_assessment(
                patient, _phq9([0] * 9), actor=world.user("nurse.north"), source=Source.CLINIC
            )
    finally:
        post_save.disconnect(listener, sender=Assessment)
    assert Assessment.objects.count() == count


def test_answers_keyed_by_item_number_as_json_text_are_read_as_numbers(world: World) -> None:
    answers = {str(n): 1 for n in range(1, 10)}
    a = do_record_assessment(
        world.patient("north"), _phq9(answers), actor=world.user("nurse.north"), source=Source.CLINIC
    )
    assert a.total == 9


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ([0, 1, 2, 3, 4, 0, 0, 0, 0], "answers.5"),
        ([0, 1, 2], "answers.4"),
        ({str(n): 0 for n in range(1, 9)}, "answers.9"),
        ({"1": 0, "x": 1}, "answers.x"),
        ("zero", "answers"),
    ],
)
def test_a_bad_item_is_named_and_nothing_is_saved(world: World, answers: object, field: str) -> None:
    count = Assessment.objects.count()
    with pytest.raises(InvalidInput) as caught:
        do_record_assessment(
            world.patient("north"), _phq9(answers), actor=world.user("nurse.north"), source=Source.CLINIC
        )
    assert field in caught.value.errors
    assert Assessment.objects.count() == count


def test_taken_at_cannot_be_in_the_future(world: World) -> None:
    later = timezone.now() + dt.timedelta(hours=1)
    with pytest.raises(InvalidInput) as caught:
        do_record_assessment(
            world.patient("north"),
            _phq9([0] * 9, taken_at=later),
            actor=world.user("nurse.north"),
            source=Source.CLINIC,
        )
    assert "taken_at" in caught.value.errors


def test_cssrs_keeps_its_yes_no_answers(world: World) -> None:
    data = AssessmentIn.model_validate(
        {"instrument": "cssrs_screen", "answers": {"q1": True, "q2": False, "q6": False}}
    )
    a = do_record_assessment(world.patient("north"), data, actor=world.user("prescriber.north"))
    assert a.total is None and a.band == "low" and a.extra_answers == {"q1": True, "q2": False, "q6": False}


def test_a_self_report_answers_its_request_once(world: World) -> None:
    patient = world.patient("north")
    now = timezone.now()
    req = AssessmentRequest.objects.create(
        patient=patient,
        location_id=patient.location_id,
        instrument="phq9",
        reason=RequestReason.ONE_OFF,
        due_at=now,
        created_at=now,
    )
    a = do_record_assessment(patient, _phq9([1] * 9), actor=None, source=Source.SELF_REPORT, request=req)
    req.refresh_from_db()
    assert req.status == RequestStatus.COMPLETED and req.completed_at is not None
    assert a.created_by is None and a.request == req
    with pytest.raises(Refused):
        do_record_assessment(patient, _phq9([1] * 9), actor=None, source=Source.SELF_REPORT, request=req)
    assert Assessment.objects.filter(request=req).count() == 1


def test_a_request_of_another_patient_is_refused(world: World) -> None:
    patient, other = world.patient("north", 0), world.patient("north", 1)
    now = timezone.now()
    req = AssessmentRequest.objects.create(
        patient=other,
        location_id=other.location_id,
        instrument="phq9",
        reason=RequestReason.ONE_OFF,
        due_at=now,
        created_at=now,
    )
    with pytest.raises(InvalidInput):
        do_record_assessment(patient, _phq9([1] * 9), actor=None, source=Source.PORTAL, request=req)
    req.refresh_from_db()
    assert req.status == RequestStatus.PENDING
