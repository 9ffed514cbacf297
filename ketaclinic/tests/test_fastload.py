"""fastload builds the same instances as the ORM, value for value and type for type, on every database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic import fastload
from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients import actions, inputs
from ketaclinic.patients.models import (
    Allergy,
    AntidepressantTrial,
    BodyMeasurement,
    Condition,
    Medication,
    Patient,
    SubstanceUse,
)

MODELS = [
    Patient,
    ClinicLocation,
    User,
    AuditEvent,
    Condition,
    Medication,
    Allergy,
    SubstanceUse,
    AntidepressantTrial,
    BodyMeasurement,
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_row_loads_exactly_as_the_orm_loads_it(world, model):
    patient = world.patient("north")
    actions.do_record_measurement(
        patient,
        inputs.MeasurementIn(weight_kg=Decimal("70.5"), height_cm=Decimal("171.2")),
        actor=patient.created_by,
    )
    actions.do_add_history_entry(
        patient,
        inputs.SubstanceUseIn(substance="alcohol", use_status="past", last_used_on="2020-02-03"),
        actor=patient.created_by,
    )
    actions.do_add_history_entry(
        patient, inputs.AllergyIn(substance="Latex", category="environment"), actor=patient.created_by
    )
    expected = list(model.objects.order_by("pk"))
    loaded = fastload.fetch(model, "1 = 1", [], order_by=model._meta.pk.column)
    assert expected, model
    assert len(loaded) == len(expected)
    for want, got in zip(expected, loaded, strict=True):
        for field in model._meta.concrete_fields:
            a, b = getattr(want, field.attname), getattr(got, field.attname)
            assert (a, type(a)) == (b, type(b)), (model.__name__, field.name)


def test_fetch_one_and_parameters(world):
    patient = world.patient("south")
    found = fastload.fetch_one(Patient, "id = %s", [fastload.param(Patient, "id", patient.pk)])
    assert found == patient and found.get_sex_display() == patient.get_sex_display()
    assert fastload.fetch_one(Patient, "mrn = %s", ["nobody"]) is None
