"""The portal's pages: upcoming sessions with their preparation, answering a questionnaire, score history;
always the signed-in patient's own, never another patient's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ketaclinic.assessments.models import Assessment, RequestStatus, Source
from ketaclinic.clinical.preparation import CLINIC_INSTRUCTIONS, ESKETAMINE_PREPARATION
from ketaclinic.clinical.scales import INSTRUMENTS, Instrument
from ketaclinic.clinical.sources import SOURCES
from ketaclinic.portal.tests.helpers import account_for, request_for, signed_in
from ketaclinic.treatment.tests.helpers import plan_today

if TYPE_CHECKING:
    from conftest import World

PHQ9_KEYS = [f"item-{item.key}" for item in INSTRUMENTS[Instrument.PHQ9].items]


def _answers(*scores: int) -> dict[str, str]:
    return {key: str(score) for key, score in zip(PHQ9_KEYS, scores, strict=True)}


def test_preparation_facts_cite_known_sources() -> None:
    for instruction in ESKETAMINE_PREPARATION:
        assert instruction.sources
        for tag in instruction.sources:
            assert tag.split()[0] in SOURCES, tag
    assert CLINIC_INSTRUCTIONS.sources == ()


def test_upcoming_esketamine_session_shows_its_preparation(world: World) -> None:
    patient = world.patient("north")
    plan_today(patient, world.user("prescriber.north"))
    html = signed_in(account_for(world, patient)).get("/portal/").content.decode()
    assert "Upcoming sessions" in html and "Esketamine nasal spray" in html
    for instruction in ESKETAMINE_PREPARATION:
        assert instruction.text in html
    assert "at least 2 hours" in html and "at least 30 minutes" in html


def test_upcoming_iv_session_points_to_the_clinics_instructions(world: World) -> None:
    patient = world.patient("north", 1)
    plan_today(patient, world.user("prescriber.north"), modality="iv_ketamine")
    html = signed_in(account_for(world, patient)).get("/portal/").content.decode()
    assert CLINIC_INSTRUCTIONS.text in html
    assert ESKETAMINE_PREPARATION[0].text not in html


def test_only_the_patients_own_sessions_and_questionnaires_are_listed(world: World) -> None:
    mine, other = world.patient("north", 0), world.patient("north", 1)
    plan_today(other, world.user("prescriber.north"))
    theirs = request_for(other)
    html = signed_in(account_for(world, mine)).get("/portal/").content.decode()
    assert "No sessions are booked" in html
    assert f"/portal/questionnaires/{theirs.pk}/" not in html
    assert f"{other.given_name} {other.family_name}" not in html


def test_answering_a_questionnaire_scores_it_once_as_a_portal_response(world: World) -> None:
    patient = world.patient("north")
    asked = request_for(patient)
    client = signed_in(account_for(world, patient))
    home = client.get("/portal/").content.decode()
    assert f"/portal/questionnaires/{asked.pk}/" in home
    form = client.get(f"/portal/questionnaires/{asked.pk}/").content.decode()
    assert INSTRUMENTS[Instrument.PHQ9].items[0].label in form and "Nearly every day" in form
    assert form.count("<fieldset") == 9 and form.count("<legend") == 9
    response = client.post(f"/portal/questionnaires/{asked.pk}/", _answers(1, 1, 1, 1, 1, 1, 1, 1, 0))
    assert response.status_code == 200 and b"Thank you" in response.content
    assert b"988" in response.content  # always in the footer
    assert b"help is available now" not in response.content
    saved = Assessment.objects.get(patient=patient)
    assert (saved.source, saved.total, saved.request_id, saved.created_by) == (
        Source.PORTAL,
        8,
        asked.pk,
        None,
    )
    asked.refresh_from_db()
    assert asked.status == RequestStatus.COMPLETED
    again = client.post(f"/portal/questionnaires/{asked.pk}/", _answers(1, 1, 1, 1, 1, 1, 1, 1, 0))
    assert again.status_code == 404
    assert Assessment.objects.filter(patient=patient).count() == 1
    assert f"/portal/questionnaires/{asked.pk}/" not in client.get("/portal/").content.decode()


def test_a_positive_suicide_item_shows_the_crisis_resources(world: World) -> None:
    patient = world.patient("north")
    asked = request_for(patient)
    client = signed_in(account_for(world, patient))
    response = client.post(f"/portal/questionnaires/{asked.pk}/", _answers(0, 0, 0, 0, 0, 0, 0, 0, 1))
    html = response.content.decode()
    assert "help is available now" in html and 'href="tel:988"' in html and 'href="tel:911"' in html


def test_a_missing_answer_is_named_and_nothing_is_saved(world: World) -> None:
    patient = world.patient("north")
    asked = request_for(patient)
    client = signed_in(account_for(world, patient))
    answers = _answers(1, 1, 1, 1, 1, 1, 1, 1, 1)
    del answers[PHQ9_KEYS[8]]
    response = client.post(f"/portal/questionnaires/{asked.pk}/", answers)
    assert response.status_code == 422
    assert set(response.context["errors"]) == {"answers.9"}
    assert not Assessment.objects.filter(patient=patient).exists()
    out_of_range = client.post(f"/portal/questionnaires/{asked.pk}/", {**_answers(1, 1, 7, 1, 1, 1, 1, 1, 1)})
    assert out_of_range.status_code == 422
    assert set(out_of_range.context["errors"]) == {"answers.3"}
    asked.refresh_from_db()
    assert asked.status == RequestStatus.PENDING and not Assessment.objects.filter(patient=patient).exists()


def test_staff_only_instruments_are_not_offered(world: World) -> None:
    patient = world.patient("north")
    madrs = request_for(patient, "madrs")
    client = signed_in(account_for(world, patient))
    assert f"/portal/questionnaires/{madrs.pk}/" not in client.get("/portal/").content.decode()
    assert client.get(f"/portal/questionnaires/{madrs.pk}/").status_code == 404


def test_score_history_shows_only_the_patients_own_scores(world: World) -> None:
    mine, other = world.patient("north", 0), world.patient("north", 1)
    for patient, scores in ((mine, (2, 2, 2, 2, 2, 2, 1, 0, 0)), (other, (3, 3, 3, 3, 3, 3, 3, 3, 0))):
        asked = request_for(patient)
        account = account_for(world, patient)
        signed_in(account).post(f"/portal/questionnaires/{asked.pk}/", _answers(*scores))
    html = signed_in(mine.portal_account).get("/portal/history/").content.decode()
    assert "PHQ-9" in html and ">13<" in html
    assert "<svg" in html and "PHQ-9 over time" in html  # the clinicians' trend chart, server-drawn
    assert ">24<" not in html and f"{other.given_name} {other.family_name}" not in html


def test_the_patients_own_text_is_shown_as_text(world: World) -> None:
    from ketaclinic.patients.actions import do_update_patient
    from ketaclinic.patients.inputs import PatientUpdate

    patient = world.patient("north")
    hostile = "<b>Bold</b>&lt;"
    patient = do_update_patient(
        patient,
        PatientUpdate(given_name=hostile),
        actor=world.user("nurse.north"),
        expected_version=patient.version,
    )
    client = signed_in(account_for(world, patient))
    for url in ("/portal/", "/portal/history/", f"/portal/questionnaires/{request_for(patient).pk}/"):
        html = client.get(url).content.decode()
        assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt;&amp;lt;" in html, url


def test_the_clinic_words_iv_preparation_and_its_patients_read_it(world: World) -> None:
    patient = world.patient("north", 1)
    plan_today(patient, world.user("prescriber.north"), modality="iv_ketamine")
    page = f"/portal-staff/preparation/{patient.location_id}/"
    admin = world.client("admin.north")
    assert ESKETAMINE_PREPARATION[0].text.encode() in admin.get(page).content
    words = "No food for 6 hours before your infusion. <b>Bring</b> a friend."
    response = admin.post(page, {"modality": "iv_ketamine", "text": words, "version": "0"})
    assert response.status_code == 200 and response.context["saved"] == "iv_ketamine"
    stale = admin.post(page, {"modality": "iv_ketamine", "text": "Other words", "version": "0"})
    assert stale.status_code == 409
    html = signed_in(account_for(world, patient)).get("/portal/").content.decode()
    assert "No food for 6 hours before your infusion. &lt;b&gt;Bring&lt;/b&gt; a friend." in html
    assert CLINIC_INSTRUCTIONS.text not in html


def test_the_sourced_esketamine_preparation_cannot_be_reworded(world: World) -> None:
    from ketaclinic.audit.models import Action, AuditEvent
    from ketaclinic.portal.models import PreparationText

    location_id = world.patient("north").location_id
    page = f"/portal-staff/preparation/{location_id}/"
    admin = world.client("admin.north")
    response = admin.post(page, {"modality": "esketamine_nasal", "text": "Eat first.", "version": "0"})
    assert response.status_code == 422 and set(response.context["errors"]) == {"modality"}
    empty = admin.post(page, {"modality": "im_ketamine", "text": "   ", "version": "0"})
    assert empty.status_code == 422 and set(empty.context["errors"]) == {"text"}
    assert world.client("nurse.north").post(page, {"modality": "im_ketamine", "text": "x"}).status_code == 403
    assert not PreparationText.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.PORTAL_PREPARATION).exists()
