"""What the chart page shows: every section's rows, escaped, with the right controls for the reader."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from ketaclinic.patients import actions, inputs
from ketaclinic.patients.actions import HistoryInput
from ketaclinic.patients.models import (
    AllergyCategory,
    EntryStatus,
    Patient,
    PatientEntry,
    Substance,
    TrialOutcome,
    UseStatus,
)
from ketaclinic.patients.queries import SECTION_LIMIT
from ketaclinic.patients.sections import SECTIONS

if TYPE_CHECKING:
    from conftest import World

HOSTILE = '<script>alert("x")</script>&'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;"


def _add(patient: Patient, entry: HistoryInput) -> PatientEntry:
    return actions.do_add_history_entry(patient, entry, actor=patient.created_by)


def _fresh_patient(world: World) -> Patient:
    """A north patient with nothing in any history section yet."""
    patient = world.patient("north")
    for key in SECTIONS:
        for entry in getattr(patient, key).all():
            actions.do_change_entry_status(
                entry,
                inputs.StatusChange(status=EntryStatus.ENTERED_IN_ERROR, reason="test setup"),
                actor=patient.created_by,
            )
    return patient


def test_every_typed_value_is_escaped_on_the_chart(world: World) -> None:
    patient = _fresh_patient(world)
    _add(patient, inputs.ConditionIn(code="major_depressive_disorder", note=HOSTILE))
    _add(patient, inputs.MedicationIn(drug="other", other_name=HOSTILE, dose=HOSTILE))
    _add(patient, inputs.AllergyIn(substance=HOSTILE, category=AllergyCategory.MEDICATION, reaction=HOSTILE))
    _add(patient, inputs.SubstanceUseIn(substance=Substance.ALCOHOL, use_status=UseStatus.PAST, note=HOSTILE))
    trial = inputs.TrialIn(
        drug="other",
        other_name=HOSTILE,
        max_daily_dose_mg=Decimal("10"),
        weeks_at_dose=Decimal("2"),
        adequate_dose=False,
        augmented=True,
        augmentation_agent=HOSTILE,
        outcome=TrialOutcome.NONE,
        current_episode=True,
    )
    _add(patient, trial)
    html = world.client("nurse.north").get(f"/patients/{patient.pk}/").content.decode()
    assert "<script>" not in html
    # condition note, medication name and dose, allergy substance and reaction, substance note, trial name
    # and augmentation agent.
    assert html.count(ESCAPED) == 8


def test_trial_rows_show_doses_weeks_and_judgements_as_entered(world: World) -> None:
    patient = _fresh_patient(world)
    for dose, weeks, adequate, optimised, outcome, current in [
        ("150", "6", True, True, TrialOutcome.NONE, True),
        ("37.5", "4.5", False, False, TrialOutcome.PARTIAL, False),
    ]:
        _add(
            patient,
            inputs.TrialIn(
                drug="sertraline",
                max_daily_dose_mg=Decimal(dose),
                weeks_at_dose=Decimal(weeks),
                adequate_dose=adequate,
                dose_optimised=optimised,
                outcome=outcome,
                current_episode=current,
                started_year=2021,
            ),
        )
    html = world.client("nurse.north").get(f"/patients/{patient.pk}/").content.decode()
    rows = re.findall(r"<tr><td>Sertraline.*?</tr>", html, re.S)
    assert len(rows) == 2
    first, second = rows
    assert '<td class="num">150 mg</td><td class="num">6</td>' in first.replace("\n", "")
    assert '<span class="badge ok">Yes</span> <span class="muted small">optimised</span>' in first
    assert "<td>No response</td>\n<td>Current</td>" in first
    assert '<td class="num">37.50 mg</td><td class="num">4.5</td>' in second.replace("\n", "")
    assert '<span class="badge muted">No</span></td>' in second
    assert "<td>Partial response</td>\n<td>Earlier</td>" in second
    assert '<span class="muted small">2021</span>' in first


def test_writers_get_a_change_form_per_active_entry_and_readers_do_not(world: World) -> None:
    patient = _fresh_patient(world)
    medication = _add(patient, inputs.MedicationIn(drug="lorazepam", dose="1 mg"))
    stopped = _add(patient, inputs.MedicationIn(drug="sertraline", dose="50 mg"))
    actions.do_change_entry_status(
        stopped, inputs.StatusChange(status=EntryStatus.RESOLVED, reason="stopped"), actor=patient.created_by
    )
    chart = f"/patients/{patient.pk}/"
    nurse = world.client("nurse.north").get(chart).content.decode()
    assert f'action="{chart}medications/{medication.pk}/status/"' in nurse
    assert f'action="{chart}medications/{stopped.pk}/status/"' not in nurse
    assert '<option value="resolved">Stopped</option>' in nurse
    assert re.search(r'name="csrfmiddlewaretoken" value="\w{64}"', nurse)
    assert '<span class="badge muted">Stopped</span>' in nurse
    # Stopped medications sit below the current ones, under their own heading.
    assert nurse.index("Lorazepam") < nurse.index('scope="rowgroup">Stopped</th>') < nurse.index("Sertraline")
    assert "Benzodiazepine" in nurse  # the interaction class beside the drug

    therapist = world.client("therapist.north").get(chart).content.decode()
    assert "/status/" not in therapist
    assert '<span class="badge ok">Active</span>' in therapist


def test_a_capped_section_says_so_to_every_reader(world: World) -> None:
    patient = _fresh_patient(world)
    for i in range(SECTION_LIMIT + 3):
        _add(patient, inputs.AllergyIn(substance=f"Pollen {i}", category=AllergyCategory.ENVIRONMENT))
    for reader in ("nurse.north", "therapist.north"):
        html = world.client(reader).get(f"/patients/{patient.pk}/").content.decode()
        assert f"Showing {SECTION_LIMIT} of {SECTION_LIMIT + 3}." in html
        assert "?all=allergies#allergies" in html
        everything = world.client(reader).get(f"/patients/{patient.pk}/?all=allergies").content.decode()
        assert "Showing" not in everything and f"Pollen {SECTION_LIMIT + 2}<" in everything


def test_the_trial_count_is_of_every_trial_not_the_shown_ones(world: World) -> None:
    patient = _fresh_patient(world)
    for _ in range(SECTION_LIMIT + 1):
        _add(
            patient,
            inputs.TrialIn(
                drug="fluoxetine",
                max_daily_dose_mg=Decimal("20"),
                weeks_at_dose=Decimal("8"),
                adequate_dose=True,
                outcome=TrialOutcome.NONE,
                current_episode=False,
            ),
        )
    html = world.client("therapist.north").get(f"/patients/{patient.pk}/").content.decode()
    assert f'<span class="muted small">{SECTION_LIMIT + 1} trials</span>' in html


def test_safety_flags_stand_beside_the_name(world: World) -> None:
    patient = _fresh_patient(world)
    _add(
        patient,
        inputs.AllergyIn(substance="Ketamine", category=AllergyCategory.MEDICATION, ketamine_related=True),
    )
    _add(patient, inputs.ConditionIn(code="psychosis_history"))
    html = world.client("nurse.north").get(f"/patients/{patient.pk}/").content.decode()
    flags = html.split('<div class="flags">')[1].split("</div>")[0]
    assert re.search(r'<span class="badge danger" title="[^"]*">Ketamine allergy</span>', flags)
    assert re.search(r'<span class="badge warn" title="[^"]*">Psychosis history</span>', flags)


def test_a_refused_entry_comes_back_on_the_chart_with_its_error_and_its_form_open(world: World) -> None:
    patient = _fresh_patient(world)
    client = world.client("nurse.north")
    response = client.post(f"/patients/{patient.pk}/measurements/", {"weight_kg": "999"})
    assert response.status_code == 422
    html = response.content.decode()
    notice = html.split('<div class="notice error error-summary" role="alert" tabindex="-1" data-focus>')[1]
    notice = notice.split("</div>")[0]
    # The summary names the field by its label and links to it; the page's script focuses it.
    assert '<a href="#f-weight_kg">Weight (kg)</a>: Weight must be between' in notice
    assert '<details class="add" id="add-measurements" open>' in html
    assert 'value="999"' in html  # what the nurse typed is still there
    assert (
        '<details class="add" id="add-antidepressant_trials" hx-get=' in html
    )  # the other forms stay closed


def test_the_chart_url_shortcut_is_what_reverse_gives() -> None:
    import uuid

    from django.urls import reverse

    from ketaclinic.patients.views import _chart_url

    for pk in (uuid.uuid4(), uuid.UUID(int=0)):
        patient = type("P", (), {"pk": pk})()
        assert _chart_url(patient) == reverse("patients:chart", args=[pk])


def test_the_patient_list_shows_each_patients_safety_chips(world: World) -> None:
    patient = _fresh_patient(world)
    _add(
        patient,
        inputs.AllergyIn(substance="Ketamine", category=AllergyCategory.MEDICATION, ketamine_related=True),
    )
    html = world.client("frontdesk.north").post("/patients/", {"q": patient.family_name}).content.decode()
    rows = html.split("<tbody>")[1].split("<tr")
    row = next(r for r in rows if patient.family_name in r)
    assert '<span class="badge danger">Ketamine allergy</span>' in row
    others = [r for r in rows if "Ketamine allergy" in r and patient.family_name not in r]
    assert others == []  # only the patient who has it


def test_the_picture_band_follows_the_chart_though_it_is_drawn_once_per_picture(world: World) -> None:
    """The band is cached by the picture it shows: a change to the chart shows at once, and two charts
    with the same picture share one drawing without sharing anything else."""
    patient = _fresh_patient(world)
    nurse = world.client("nurse.north")

    def band() -> str:
        html = nurse.get(f"/patients/{patient.pk}/").content.decode()
        return html.split('<section class="pic"')[1].split("</section>")[0]

    before = band()
    assert "Benzodiazepine" not in before
    _add(patient, inputs.MedicationIn(drug="clonazepam"))
    after = band()
    assert "Benzodiazepine" in after and after != before
    assert band() == after
