"""Every free-text value a page shows is escaped: the fields come from the models, not from a hand list.

Each text column without choices of the patient and of every history section's model holds markup that
would run or break out of an attribute if it were not escaped; the pages that show them must show it as
text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from ketaclinic.patients.models import Patient
from ketaclinic.patients.sections import SECTIONS

if TYPE_CHECKING:
    from conftest import World

ATTACK = '"><img src=x onerror=alert(1)><script>alert("{tag}")</script>'
# Columns the application sets itself, never typed by a person.
SYSTEM_SET = {"search_name"}


def _free_text(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices and f.name not in SYSTEM_SET
    ]


def _hostile(field: models.Field[Any, Any], tag: str) -> str:
    return ATTACK.format(tag=tag)[: field.max_length or 500]


def _plant(world: World) -> Patient:
    """A north patient whose every free-text value, and one entry per section's, is hostile."""
    patient = world.patient("north")
    Patient.objects.filter(pk=patient.pk).update(
        **{f.name: _hostile(f, f"patient.{f.name}") for f in _free_text(Patient) if f.name != "email"}
    )
    for key, section in SECTIONS.items():
        # Every section's model has `patient`; their abstract base, which mypy sees here, does not.
        entries = section.model._default_manager.filter(patient=patient)  # type: ignore[misc]
        entry = entries.first() or _any_entry(patient, section.model)
        for f in _free_text(section.model):
            setattr(entry, f.name, _hostile(f, f"{key}.{f.name}"))
        for f in section.model._meta.concrete_fields:
            # Text shown only for "other" (a drug's own name) or beside a yes (an augmenting agent).
            if f.choices and "other" in dict(f.choices):
                setattr(entry, f.name, "other")
            elif isinstance(f, models.BooleanField) and f.name not in {"current_episode"}:
                setattr(entry, f.name, True)
        entry.save()
    return patient


def _any_entry(patient: Patient, model: type[models.Model]) -> Any:
    """A row of `model` with the first choice of every choice column and a value for every required one."""
    values: dict[str, Any] = {"patient": patient, "created_by": patient.created_by}
    values.update(updated_by=patient.created_by, created_at=patient.created_at, updated_at=patient.created_at)
    for f in model._meta.concrete_fields:
        if f.name in values or f.primary_key or f.has_default() or f.null:
            continue
        if f.choices:
            values[f.name] = f.choices[0][0]
        elif isinstance(f, models.BooleanField):
            values[f.name] = False
        elif isinstance(f, models.DecimalField | models.IntegerField):
            values[f.name] = 1
        elif isinstance(f, models.CharField | models.TextField):
            values[f.name] = "x"
    return model._default_manager.create(**values)


def _assert_escaped(html: str) -> None:
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_the_chart_shows_every_hostile_value_as_text(world: World) -> None:
    patient = _plant(world)
    for who in ("nurse.north", "therapist.north"):
        html = world.client(who).get(f"/patients/{patient.pk}/").content.decode()
        _assert_escaped(html)
    # Every section's free text reached the page (escaped), so the check above saw it.
    html = world.client("nurse.north").get(f"/patients/{patient.pk}/").content.decode()
    assert {key for key in SECTIONS if f"alert(&#34;{key}." in html} == set(SECTIONS)
    assert "alert(&#34;patient.family_name" in html


def test_the_edit_form_and_the_patient_list_show_hostile_values_as_text(world: World) -> None:
    patient = _plant(world)
    client = world.client("nurse.north")
    _assert_escaped(client.get(f"/patients/{patient.pk}/edit/").content.decode())
    _assert_escaped(client.get("/patients/").content.decode())


def test_an_open_form_shows_what_was_typed_as_text(world: World) -> None:
    patient = world.patient("north")
    client = world.client("nurse.north")
    typed = {"substance": ATTACK.format(tag="typed"), "category": "nonsense"}
    response = client.post(f"/patients/{patient.pk}/allergies/", typed)
    assert response.status_code == 422
    _assert_escaped(response.content.decode())
