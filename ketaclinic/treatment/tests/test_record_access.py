"""Record-level access: another session's alert under a session the nurse may chart is not found (and
audited), and someone who charts at one location and only reads at another can only read there."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ketaclinic.accounts.actions import do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.treatment import actions
from ketaclinic.treatment.models import SessionAlert, VitalSigns
from ketaclinic.treatment.tests.helpers import Clock, checked_in, plan_today, vitals

if TYPE_CHECKING:
    from conftest import World


def test_another_sessions_alert_is_not_found_under_a_session_the_nurse_may_chart(
    world: World, clock: Clock
) -> None:
    nurse, prescriber = world.user("nurse.north"), world.user("prescriber.north")
    mine = checked_in(plan_today(world.patient("north", 0), prescriber), nurse)
    other = checked_in(plan_today(world.patient("north", 1), prescriber), nurse)
    reading = actions.do_record_vitals(other, vitals(clock.now, systolic=150, diastolic=85), actor=nurse)
    alert = SessionAlert.objects.get(vitals=reading)
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    body = json.dumps({"answer": "deferred"})
    api = world.api("nurse.north")
    response = api.post(
        f"/api/v1/sessions/{mine.pk}/alerts/{alert.pk}/answer", data=body, content_type="application/json"
    )
    assert response.status_code == 404
    assert world.patient("north", 1).family_name.encode() not in response.content
    page = world.client("nurse.north").post(
        f"/treatment/sessions/{mine.pk}/alerts/{alert.pk}/", {"answer": "deferred"}
    )
    assert page.status_code == 404
    denied = AuditEvent.objects.filter(seq__gt=last, outcome=Outcome.DENIED)
    assert [(e.patient_id, e.object_id) for e in denied] == 2 * [(mine.patient_id, str(alert.pk))]
    alert.refresh_from_db()
    assert alert.answer == ""


def test_a_nurse_here_who_only_reads_there_charts_only_here(world: World, clock: Clock) -> None:
    user = world.user("nurse.north")
    do_grant_role(
        user, ClinicLocation.objects.get(slug="south"), "therapist", actor=world.user("admin.south")
    )
    south_patient = world.patient("south")
    session = checked_in(plan_today(south_patient, world.user("prescriber.south")), world.user("nurse.south"))
    api = world.api("nurse.north")
    assert api.get(f"/api/v1/sessions/{session.pk}").status_code == 200
    reading = {
        "taken_at": clock.now.isoformat(),
        "systolic_mmhg": 120,
        "diastolic_mmhg": 80,
        "heart_rate_bpm": 70,
        "spo2_percent": 98,
    }
    response = api.post(
        f"/api/v1/sessions/{session.pk}/vitals", data=json.dumps(reading), content_type="application/json"
    )
    assert response.status_code == 403
    assert not VitalSigns.objects.filter(session=session).exists()
