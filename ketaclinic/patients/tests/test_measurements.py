"""Resting vitals on a measurement: checked at entry with a named field, refused by the database too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import ValidationError

from ketaclinic.audit.models import AuditEvent
from ketaclinic.errors import InvalidInput, field_errors
from ketaclinic.patients import actions, inputs
from ketaclinic.patients.models import BodyMeasurement

if TYPE_CHECKING:
    from conftest import World


def _errors(**values: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        inputs.MeasurementIn.model_validate(values)
    return field_errors(caught.value)


def test_blood_pressure_and_heart_rate_alone_make_a_measurement_dated_today() -> None:
    data = inputs.MeasurementIn.model_validate({"systolic_mmhg": 128, "diastolic_mmhg": 82})
    assert (data.systolic_mmhg, data.diastolic_mmhg, data.heart_rate_bpm) == (128, 82, None)
    assert data.measured_on == timezone.localdate() and not data.is_empty
    assert inputs.MeasurementIn(heart_rate_bpm=72).measured_on == timezone.localdate()
    undated = inputs.MeasurementIn.model_validate({"measured_on": None, "heart_rate_bpm": 72})
    assert undated.measured_on == timezone.localdate()
    assert inputs.MeasurementIn().is_empty


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"systolic_mmhg": 130}, "diastolic_mmhg", "with the systolic"),
        ({"diastolic_mmhg": 80}, "systolic_mmhg", "with the diastolic"),
        ({"systolic_mmhg": 80, "diastolic_mmhg": 80}, "diastolic_mmhg", "below the systolic"),
        ({"systolic_mmhg": 80, "diastolic_mmhg": 120}, "diastolic_mmhg", "below the systolic"),
        ({"systolic_mmhg": 1300, "diastolic_mmhg": 80}, "systolic_mmhg", "between 50 and 300"),
        ({"systolic_mmhg": 49, "diastolic_mmhg": 30}, "systolic_mmhg", "between 50 and 300"),
        ({"systolic_mmhg": 130, "diastolic_mmhg": 19}, "diastolic_mmhg", "between 20 and 200"),
        ({"systolic_mmhg": 300, "diastolic_mmhg": 201}, "diastolic_mmhg", "between 20 and 200"),
        ({"heart_rate_bpm": 19}, "heart_rate_bpm", "between 20 and 250"),
        ({"heart_rate_bpm": 251}, "heart_rate_bpm", "between 20 and 250"),
        ({"heart_rate_bpm": "fast"}, "heart_rate_bpm", "whole number"),
        ({"systolic_mmhg": "12.5", "diastolic_mmhg": 8}, "systolic_mmhg", ""),
    ],
)
def test_bad_vitals_are_refused_naming_the_field(values: dict[str, Any], field: str, words: str) -> None:
    errors = _errors(**values)
    assert field in errors, errors
    assert words in errors[field]


@pytest.mark.parametrize(
    "values",
    [
        {"systolic_mmhg": 50, "diastolic_mmhg": 20, "heart_rate_bpm": 20},
        {"systolic_mmhg": 300, "diastolic_mmhg": 200, "heart_rate_bpm": 250},
    ],
)
def test_the_plausibility_bounds_are_inclusive(values: dict[str, int]) -> None:
    assert inputs.MeasurementIn.model_validate(values).systolic_mmhg == values["systolic_mmhg"]


def test_a_measurement_in_the_future_is_refused() -> None:
    errors = _errors(measured_on=timezone.localdate() + dt.timedelta(days=1), heart_rate_bpm=70)
    assert "measured_on" in errors


def test_recording_vitals_saves_them_and_names_them_in_the_audit_row(world: World) -> None:
    patient = world.patient("north")
    nurse = world.user("nurse.north")
    data = inputs.MeasurementIn(systolic_mmhg=142, diastolic_mmhg=91, heart_rate_bpm=88)
    saved = actions.do_record_measurement(patient, data, actor=nurse)
    saved.refresh_from_db()
    assert (saved.systolic_mmhg, saved.diastolic_mmhg, saved.heart_rate_bpm) == (142, 91, 88)
    assert saved.weight_kg is None and saved.measured_on == timezone.localdate()
    event = AuditEvent.objects.filter(patient_id=patient.pk).order_by("-id").first()
    assert event is not None
    assert sorted(event.changed_fields) == ["diastolic_mmhg", "heart_rate_bpm", "systolic_mmhg"]


def test_an_empty_measurement_saves_nothing(world: World) -> None:
    patient = world.patient("north")
    before = (BodyMeasurement.objects.count(), AuditEvent.objects.count())
    with pytest.raises(InvalidInput) as caught:
        actions.do_record_measurement(patient, inputs.MeasurementIn(), actor=world.user("nurse.north"))
    assert "weight_kg" in caught.value.errors
    assert (BodyMeasurement.objects.count(), AuditEvent.objects.count()) == before


def test_the_api_refuses_half_a_blood_pressure_and_saves_nothing(world: World) -> None:
    patient = world.patient("north")
    before = BodyMeasurement.objects.count()
    response = world.api("nurse.north").post(
        f"/api/v1/patients/{patient.pk}/measurements",
        {"systolic_mmhg": 150},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "diastolic_mmhg" in response.json()["errors"]
    assert BodyMeasurement.objects.count() == before


def test_the_api_records_and_returns_vitals(world: World) -> None:
    patient = world.patient("north")
    response = world.api("nurse.north").post(
        f"/api/v1/patients/{patient.pk}/measurements",
        {"systolic_mmhg": 118, "diastolic_mmhg": 76, "heart_rate_bpm": 64},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["systolic_mmhg"], body["diastolic_mmhg"], body["heart_rate_bpm"]) == (118, 76, 64)
    assert body["measured_on"] == timezone.localdate().isoformat()


# The database refuses what the input model would: a last line for writes that bypass the inputs.
@pytest.mark.parametrize(
    "values",
    [
        {},
        {"systolic_mmhg": 130},
        {"diastolic_mmhg": 80, "weight_kg": Decimal(70)},
        {"systolic_mmhg": 120, "diastolic_mmhg": 120},
        {"systolic_mmhg": 301, "diastolic_mmhg": 80},
        {"systolic_mmhg": 49, "diastolic_mmhg": 30},
        {"systolic_mmhg": 250, "diastolic_mmhg": 201},
        {"systolic_mmhg": 120, "diastolic_mmhg": 19},
        {"heart_rate_bpm": 251},
        {"heart_rate_bpm": 19},
    ],
)
def test_the_database_refuses_impossible_vitals(world: World, values: dict[str, Any]) -> None:
    patient = world.patient("north")
    author = patient.created_by
    now = timezone.now()
    stamp = {"created_at": now, "created_by": author, "updated_at": now, "updated_by": author}
    with pytest.raises(IntegrityError), transaction.atomic():
        BodyMeasurement.objects.create(patient=patient, measured_on=timezone.localdate(), **values, **stamp)


def test_the_database_takes_vitals_alone(world: World) -> None:
    patient = world.patient("north")
    author = patient.created_by
    now = timezone.now()
    stamp = {"created_at": now, "created_by": author, "updated_at": now, "updated_by": author}
    for values in ({"heart_rate_bpm": 60}, {"systolic_mmhg": 120, "diastolic_mmhg": 80}):
        BodyMeasurement.objects.create(patient=patient, measured_on=timezone.localdate(), **values, **stamp)
