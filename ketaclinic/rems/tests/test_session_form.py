"""The Patient Monitoring Form of a charted esketamine session: JSON, page, PDF, submission and access."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.patients import actions as patient_actions
from ketaclinic.patients import inputs as patient_inputs
from ketaclinic.rems.models import RemsSubmission
from ketaclinic.rems.tests.pdftext import page_count, text_runs
from ketaclinic.rems.tests.sessions import charted_session, plan_for
from ketaclinic.screening.actions import do_record_rems_enrolment
from ketaclinic.screening.inputs import RemsEnrolmentIn
from ketaclinic.treatment.models import SessionStatus, TreatmentSession

if TYPE_CHECKING:
    from conftest import World


def _session(world: World, location: str = "north", days_ago: int = 2, **kw: Any) -> TreatmentSession:
    patient = world.patient(location)
    nurse = world.user(f"nurse.{location}")
    day = local_today(patient.location) - dt.timedelta(days=days_ago)
    return charted_session(plan_for(patient, nurse), nurse, day, **kw)


def _values(body: dict[str, Any]) -> dict[str, str]:
    return {f["key"]: f["value"] for s in body["sections"] for f in s["fields"]}


def test_the_form_is_filled_from_the_chart(world: World) -> None:
    session = _session(world)
    patient = session.patient
    nurse = world.user("nurse.north")
    patient_actions.do_add_history_entry(patient, patient_inputs.MedicationIn(drug="alprazolam"), actor=nurse)
    enrol = RemsEnrolmentIn(enrolled_on=session.date - dt.timedelta(days=1), rems_patient_id="RP-4242")
    do_record_rems_enrolment(patient, enrol, actor=world.user("prescriber.north"))
    response = world.api("nurse.north").get(f"/api/v1/sessions/{session.pk}/rems-form")
    assert response.status_code == 200, response.content
    body = response.json()
    values = _values(body)
    assert values["patient_last_name"] == patient.family_name
    assert values["date_of_birth"] == patient.date_of_birth.isoformat()
    assert values["first_treatment"] == "Yes" and values["enrolled"] == "Yes"
    assert values["rems_patient_id"] == "RP-4242"
    assert values["concomitant_benzodiazepine"] == "Yes" and values["concomitant_opioid"] == "No"
    assert values["hcp_name"] == nurse.get_full_name()
    assert values["setting_name"] == "North Clinic"  # the demo's setting details
    assert values["treatment_date"] == session.date.isoformat()
    assert values["dose"] == "56 mg" and values["lot_numbers"] == "LOT-7781"
    assert values["total_monitoring_minutes"] == "125" and values["ready_to_leave_minutes"] == "90"
    assert values["bp_before_dosing"] == "128/82 mmHg"
    assert values["bp_after_dosing"] == "141/88 mmHg (taken at 42 minutes)"
    assert values["bp_before_end"] == "126/80 mmHg"
    assert values["vitals_in_range_before_dosing"] == "Yes" and values["vitals_in_range_before_end"] == "Yes"
    assert values["outcome_sedation"] == "No" and values["outcome_dissociation"] == "No"
    assert values["outcome_respiratory_depression"] == "No" and values["adverse_events"] == "None"
    assert body["missing"] == [] and body["warnings"] == []
    assert body["due_on"] == (session.date + dt.timedelta(days=7)).isoformat()
    assert body["days_left"] == 5 and body["status"] == "due" and body["submission"] is None
    assert any("UNVERIFIED" in n for n in body["notices"])


def test_alerts_and_coded_events_answer_the_outcome_questions(world: World) -> None:
    session = _session(
        world,
        moaas=((3, ["sedation_alert"]), (5, [])),
        cadss=((20, ["dissociation_alert"]),),
        events=("nausea", "respiratory_depression"),
        alert_on=(0, 2),
    )
    values = _values(world.api("nurse.north").get(f"/api/v1/sessions/{session.pk}/rems-form").json())
    assert values["outcome_sedation"] == "Yes" and values["outcome_dissociation"] == "Yes"
    assert values["outcome_respiratory_depression"] == "Yes"
    assert values["adverse_events"] == "Nausea (mild, resolved), Respiratory depression (mild, resolved)"
    assert values["vitals_in_range_before_dosing"] == "No" and values["vitals_in_range_before_end"] == "No"


def test_a_later_session_is_not_a_first_treatment_and_short_monitoring_is_warned(world: World) -> None:
    first = _session(world, days_ago=4)
    nurse = world.user("nurse.north")
    later = charted_session(
        first.plan, nurse, first.date + dt.timedelta(days=2), number=2, monitored_minutes=100
    )
    body = world.api("nurse.north").get(f"/api/v1/sessions/{later.pk}/rems-form").json()
    values = _values(body)
    assert values["first_treatment"] == "No" and values["enrolled"] == "Not applicable"
    assert any("100 minutes" in w for w in body["warnings"])
    unenrolled = world.api("nurse.north").get(f"/api/v1/sessions/{first.pk}/rems-form").json()
    assert _values(unenrolled)["enrolled"] == "No"
    assert any("enrolled" in w for w in unenrolled["warnings"])


def test_the_outcome_items_follow_the_settings_choice(world: World) -> None:
    from ketaclinic.rems.models import RemsSetting

    RemsSetting.objects.filter(location__slug="north").update(asks_respiratory_depression=False)
    session = _session(world)
    values = _values(world.api("nurse.north").get(f"/api/v1/sessions/{session.pk}/rems-form").json())
    assert "outcome_respiratory_depression" not in values and "outcome_sedation" in values


def test_the_pdf_is_one_page_with_the_charts_values(world: World) -> None:
    session = _session(world)
    api = world.api("prescriber.north")
    response = api.get(f"/api/v1/sessions/{session.pk}/rems-form", headers={"Accept": "application/pdf"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert page_count(pdf) == 1
    runs = text_runs(pdf)
    assert session.patient.family_name in runs and "LOT-7781" in runs and "128/82 mmHg" in runs
    page = world.client("nurse.north").get(f"/rems/sessions/{session.pk}/form.pdf")
    assert page.status_code == 200 and page_count(page.content) == 1


def test_each_form_read_writes_one_read_event_for_the_patient(world: World) -> None:
    session = _session(world)
    for url, client in (
        (f"/api/v1/sessions/{session.pk}/rems-form", world.api("nurse.north")),
        (f"/rems/sessions/{session.pk}/", world.client("nurse.north")),
        (f"/rems/sessions/{session.pk}/form.pdf", world.client("nurse.north")),
    ):
        last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        assert client.get(url).status_code == 200
        reads = AuditEvent.objects.filter(seq__gt=last, action=Action.PATIENT_READ)
        assert [e.patient_id for e in reads] == [session.patient_id], url


def _submit(world: World, who: str, session: TreatmentSession, **body: Any) -> Any:
    data = {"submitted_at": timezone.now().isoformat(), "confirmation_number": "CONF-1", **body}
    return world.api(who).post(
        f"/api/v1/sessions/{session.pk}/rems-form/submission",
        data=json.dumps(data),
        content_type="application/json",
    )


def test_a_submission_is_recorded_once_and_leaves_the_queue(world: World) -> None:
    session = _session(world)
    queue = world.api("nurse.north").get("/api/v1/rems/queue").json()
    assert [i["session_id"] for i in queue] == [str(session.pk)]
    first = _submit(world, "nurse.north", session)
    assert first.status_code == 201, first.content
    assert first["Location"] == f"/api/v1/sessions/{session.pk}/rems-form"
    assert first.json()["confirmation_number"] == "CONF-1"
    assert first.json()["recorded_by"] == world.user("nurse.north").get_full_name()
    second = _submit(world, "prescriber.north", session, confirmation_number="CONF-2")
    assert second.status_code == 409 and second.json()["reasons"]
    assert RemsSubmission.objects.get(session=session).confirmation_number == "CONF-1"
    event = AuditEvent.objects.get(action=Action.REMS_SUBMISSION)
    assert event.patient_id == session.patient_id and event.actor == world.user("nurse.north")
    assert world.api("nurse.north").get("/api/v1/rems/queue").json() == []
    form = world.api("nurse.north").get(f"/api/v1/sessions/{session.pk}/rems-form").json()
    assert form["status"] == "submitted" and form["submission"]["confirmation_number"] == "CONF-1"


def test_a_retried_submission_with_the_same_key_records_one(world: World) -> None:
    session = _session(world)
    api = world.api("nurse.north")
    data = json.dumps({"submitted_at": timezone.now().isoformat(), "confirmation_number": "CONF-9"})
    url = f"/api/v1/sessions/{session.pk}/rems-form/submission"
    answers = [
        api.post(url, data=data, content_type="application/json", headers={"Idempotency-Key": "rems-retry-1"})
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].content == answers[1].content
    assert RemsSubmission.objects.filter(session=session).count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("submitted_at", "2020-01-01T10:00:00+00:00", "before the session"),
        ("submitted_at", "2099-01-01T10:00:00+00:00", "future"),
        ("submitted_at", "2026-01-01T10:00:00", ""),
        ("confirmation_number", "  ", "required"),
        ("confirmation_number", "x" * 61, ""),
        ("extra", "x", "not allowed"),
    ],
)
def test_a_bad_submission_names_its_field_and_saves_nothing(
    world: World, field: str, value: str, message: str
) -> None:
    session = _session(world)
    response = _submit(world, "nurse.north", session, **{field: value})
    assert response.status_code == 422, response.content
    assert field in json.dumps(response.json()) and message in json.dumps(response.json())
    assert not RemsSubmission.objects.exists()


@pytest.mark.parametrize("status", [SessionStatus.CHECKED_IN, SessionStatus.SCHEDULED])
def test_a_session_the_patient_has_not_left_has_no_form(world: World, status: str) -> None:
    session = _session(world, status=status, devices=0)
    assert world.api("nurse.north").get(f"/api/v1/sessions/{session.pk}/rems-form").status_code == 404
    assert _submit(world, "nurse.north", session).status_code == 404
    assert world.api("nurse.north").get("/api/v1/rems/queue").json() == []


def test_an_iv_session_has_no_form(world: World) -> None:
    patient, nurse = world.patient("north"), world.user("nurse.north")
    day = local_today(patient.location) - dt.timedelta(days=1)
    session = charted_session(plan_for(patient, nurse, modality="iv_ketamine"), nurse, day, dose_mg="35")
    assert world.api("nurse.north").get(f"/api/v1/sessions/{session.pk}/rems-form").status_code == 404
    assert world.api("nurse.north").get("/api/v1/rems/queue").json() == []


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("nurse.south", 404),
        ("admin.south", 403),
        ("therapist.north", 403),
        ("frontdesk.north", 403),
        ("admin.north", 403),
    ],
)
def test_who_may_not_read_or_submit_a_form(world: World, who: str, status: int) -> None:
    session = _session(world)
    before = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
    assert world.api(who).get(f"/api/v1/sessions/{session.pk}/rems-form").status_code == status
    assert _submit(world, who, session).status_code == status
    assert world.client(who).get(f"/rems/sessions/{session.pk}/").status_code == status
    assert AuditEvent.objects.filter(outcome=Outcome.DENIED).count() == before + 3
    assert not RemsSubmission.objects.exists()


def test_a_nurse_here_who_only_reads_there_may_not_submit_there(world: World) -> None:
    """Roles are per location: a nurse at north who is a therapist at south reads south's queue nowhere
    and opens no south form, while north's form stays hers."""
    from ketaclinic.accounts.actions import do_grant_role
    from ketaclinic.accounts.models import ClinicLocation

    nurse = world.user("nurse.north")
    do_grant_role(
        nurse, ClinicLocation.objects.get(slug="south"), "therapist", actor=world.user("admin.south")
    )
    north, south = _session(world, "north"), _session(world, "south")
    api = world.api("nurse.north")
    assert api.get(f"/api/v1/sessions/{north.pk}/rems-form").status_code == 200
    assert api.get(f"/api/v1/sessions/{south.pk}/rems-form").status_code == 403
    assert _submit(world, "nurse.north", south).status_code == 403
    assert [i["session_id"] for i in api.get("/api/v1/rems/queue").json()] == [str(north.pk)]


def test_an_unknown_or_malformed_session_id_is_not_found(world: World) -> None:
    api = world.api("nurse.north")
    for sid in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        assert api.get(f"/api/v1/sessions/{sid}/rems-form").status_code == 404


def test_the_page_names_the_fields_the_chart_does_not_fill(world: World) -> None:
    session = _session(world, cadss=())  # no CADSS: whether the patient dissociated is not charted
    html = world.client("nurse.north").get(f"/rems/sessions/{session.pk}/").content.decode()
    assert "The chart does not fill 1 field:</strong> Did the patient experience dissociation?</div>" in html
