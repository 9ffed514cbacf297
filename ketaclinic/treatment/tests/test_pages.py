"""The session page and the plan pages: a nurse charts through the forms, a refused step shows why, and
every free-text value of the chart is shown escaped."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.db import models

from ketaclinic.audit.models import AuditEvent
from ketaclinic.clinicpolicy.clock import local_today, location_zone
from ketaclinic.clinicpolicy.models import Chair
from ketaclinic.treatment import models as m
from ketaclinic.treatment.tests.helpers import Clock, clear, plan_today, ready_to_dose

if TYPE_CHECKING:
    from conftest import World

ATTACK = '"><img src=x onerror=alert(1)><script>alert("{tag}")</script>'


def test_a_nurse_charts_a_session_through_the_page(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = plan.sessions.get(number=1)
    chair = Chair.objects.create(location=patient.location, name="Recliner Z9")
    page = world.client("nurse.north")
    url = f"/treatment/sessions/{session.pk}/"
    assert page.get(url).status_code == 200
    response = page.post(f"{url}check-in/", {"chair_id": str(chair.pk)})
    assert response.status_code == 302, response.content[:500]
    clock.advance(minutes=5)
    checks = {"identity_confirmed": "on", "ride_home_arranged": "on", "fasting_confirmed": "yes"}
    assert page.post(f"{url}pre-dose/", checks).status_code == 302
    bad = page.post(
        f"{url}vitals/",
        {"systolic_mmhg": "80", "diastolic_mmhg": "90", "heart_rate_bpm": "70", "spo2_percent": "98"},
    )
    assert bad.status_code == 422
    assert b"be below the systolic pressure" in bad.content
    vitals = {"systolic_mmhg": "124", "diastolic_mmhg": "80", "heart_rate_bpm": "70", "spo2_percent": "98"}
    assert page.post(f"{url}vitals/", vitals).status_code == 302
    refused = page.post(f"{url}dose/", {"amount_mg": "84", "lot_number": "ESK-1"})
    assert refused.status_code == 422 and b"DOSE-ESK-FIRST-56" in refused.content
    assert page.post(f"{url}dose/", {"amount_mg": "56", "lot_number": "ESK-1"}).status_code == 302
    shown = page.get(url)
    assert b"Next device" in shown.content and b"Recliner Z9" in shown.content
    assert b"Dosing" in shown.content
    early = page.post(f"{url}discharge/", {"ready_to_leave_minutes": "60", "escort_name": "Sam"})
    assert early.status_code == 409
    assert b"DISCHARGE-ESK-MIN-120" in early.content
    assert b'name="escort_name" type="text" value="Sam"' in early.content  # kept for the next try
    assert not m.Discharge.objects.filter(session=session).exists()


def test_front_desk_sees_the_check_in_but_no_charting_forms(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = plan.sessions.get(number=1)
    page = world.client("frontdesk.north")
    html = page.get(f"/treatment/sessions/{session.pk}/").content
    assert b"Check in</button>" in html and b"Record vitals" not in html
    dose = page.post(f"/treatment/sessions/{session.pk}/dose/", {"amount_mg": "56", "lot_number": "X"})
    assert dose.status_code == 403


def test_a_prescriber_creates_and_approves_a_plan_on_the_pages(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    page = world.client("prescriber.north")
    url = f"/treatment/patients/{patient.pk}/plans/"
    assert page.get(url).status_code == 200
    today = clock.now.astimezone(__import__("zoneinfo").ZoneInfo(patient.location.time_zone)).date()
    body = {
        "modality": "esketamine_nasal",
        "protocol": "esketamine_trd",
        "dose": "56",
        "start_date": today.isoformat(),
        "clinic_days": [str(today.weekday()), str((today.weekday() + 3) % 7)],
    }
    response = page.post(url, body)
    assert response.status_code == 302, response.content[:800]
    plan = m.TreatmentPlan.objects.get(patient=patient)
    assert plan.sessions.count() == 12
    refused = page.post(f"/treatment/plans/{plan.pk}/approve/", {"version": str(plan.version)})
    assert refused.status_code == 409 and b"No screening" in refused.content
    clear(patient, "esketamine_nasal")
    assert (
        page.post(f"/treatment/plans/{plan.pk}/approve/", {"version": str(plan.version)}).status_code == 302
    )
    plan.refresh_from_db()
    assert plan.status == "active"
    assert b": Approved</li>" in page.get(f"/treatment/plans/{plan.pk}/").content  # the change, by its name
    stale = page.post(f"/treatment/plans/{plan.pk}/pause/", {"version": "1", "reason": "Away"})
    assert stale.status_code == 409 and b"changed this plan" in stale.content
    nurse = world.client("nurse.north")
    assert nurse.post(f"/treatment/plans/{plan.pk}/approve/", {}).status_code == 403


def _free_text(model: type[models.Model]) -> list[Any]:
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField) and not f.choices and f.name not in {"rule_id"}
    ]


def test_every_free_text_value_of_the_chart_is_shown_escaped(world: World, clock: Clock) -> None:
    """Markup planted in every free-text column of every treatment model, found from the models."""
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = ready_to_dose(plan, world.user("nurse.north"), clock, systolic=150)
    chart = [
        m.PreDoseCheck,
        m.VitalSigns,
        m.Dose,
        m.DoseDevice,
        m.Observation,
        m.AdverseEvent,
        m.SessionAlert,
        m.Discharge,
        m.Amendment,
    ]
    planted = 0
    for model in chart:
        for field in _free_text(model):
            rows = model._default_manager.filter(
                **({"dose__session": session} if model is m.DoseDevice else {"session": session})
            )
            value = ATTACK.format(tag=f"{model.__name__}.{field.name}")[: field.max_length or 500]
            planted += rows.update(**{field.name: value})
    assert planted  # the pre-dose check and the gate alert at least
    m.SessionAlert.objects.filter(session=session).update(answer="")
    html = world.client("nurse.north").get(f"/treatment/sessions/{session.pk}/").content.decode()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_the_session_page_writes_its_read_event(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = plan.sessions.get(number=1)
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert world.client("therapist.north").get(f"/treatment/sessions/{session.pk}/").status_code == 200
    events = AuditEvent.objects.filter(seq__gt=last, action="patient.read")
    assert [e.patient_id for e in events] == [patient.pk]


def _ready(world: World, patient: Any, clock: Clock) -> m.TreatmentSession:
    plan = plan_today(patient, world.user("prescriber.north"))
    return ready_to_dose(plan, world.user("nurse.north"), clock)


def test_the_session_page_gives_each_field_its_own_id(world: World, clock: Clock) -> None:
    """Three of its forms have a time field: each has its own id, so each label names its own field."""
    patient = world.patient("north")
    session = _ready(world, patient, clock)
    html = world.client("nurse.north").get(f"/treatment/sessions/{session.pk}/").content.decode()
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert [i for i in set(ids) if ids.count(i) > 1] == []
    assert {"f-taken_at", "f-moaas-taken_at", "f-cadss-taken_at"} <= set(ids)
    assert re.findall(r'<label for="f-moaas-taken_at">', html)


def test_a_refused_reading_shows_its_error_in_its_own_form_only(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    session = _ready(world, patient, clock)
    later = (clock.now + dt.timedelta(hours=1)).astimezone(location_zone(patient.location)).strftime("%H:%M")
    sent = {"taken_at": later, "systolic_mmhg": "120", "diastolic_mmhg": "80", "heart_rate_bpm": "70"}
    response = world.client("nurse.north").post(
        f"/treatment/sessions/{session.pk}/vitals/", {**sent, "spo2_percent": "98"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert html.count('class="field-error"') == 1
    assert 'id="e-taken_at">Cannot be in the future</div>' in html
    assert f'id="f-taken_at" name="taken_at" type="time" value="{later}"' in html
    assert 'id="f-moaas-taken_at" name="taken_at" type="time" value=""' in html
    assert html.count('aria-invalid="true"') == 1


def test_a_refused_moaas_shows_its_error_in_its_own_form_and_the_summary_links_there(
    world: World, clock: Clock
) -> None:
    patient = world.patient("north")
    session = _ready(world, patient, clock)
    later = (clock.now + dt.timedelta(hours=1)).astimezone(location_zone(patient.location)).strftime("%H:%M")
    sent = {"instrument": "moaas", "moaas_level": "5", "taken_at": later}
    response = world.client("nurse.north").post(f"/treatment/sessions/{session.pk}/observation/", sent)
    assert response.status_code == 422
    html = response.content.decode()
    assert '<a href="#f-moaas-taken_at">' in html
    assert f'id="f-moaas-taken_at" name="taken_at" type="time" value="{later}"' in html
    assert 'id="e-moaas-taken_at"' in html and 'id="e-taken_at"' not in html
    assert 'id="f-taken_at" name="taken_at" type="time" value=""' in html  # the reading's, untouched
    assert 'id="f-cadss-taken_at" name="taken_at" type="time" value=""' in html


def test_the_plan_page_gives_each_reason_its_own_id_and_error(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    page = world.client("prescriber.north")
    html = page.get(f"/treatment/plans/{plan.pk}/").content.decode()
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert [i for i in set(ids) if ids.count(i) > 1] == []
    refused = page.post(f"/treatment/plans/{plan.pk}/end/", {"reason": ""})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert '<a href="#f-end-reason">' in html
    assert html.count('class="field-error"') == 1 and 'id="e-end-reason"' in html


def test_the_session_badge_says_discharged_until_signed(world: World) -> None:
    from ketaclinic.rems.tests.sessions import charted_session, plan_for

    patient, nurse = world.patient("north"), world.user("nurse.north")
    day = local_today(patient.location) - dt.timedelta(days=1)
    plan = plan_for(patient, nurse)
    for number, status, label in ((1, "discharged", "Discharged"), (2, "signed", "Signed")):
        session = charted_session(plan, nurse, day - dt.timedelta(days=number), number=number, status=status)
        html = world.client("nurse.north").get(f"/treatment/sessions/{session.pk}/").content.decode()
        assert f'<span class="badge stage-discharged">{label}</span>' in html
