"""The treatment day through the API: an esketamine session from check-in to sign-off, and each refusal
the issue names (impossible vitals, a dose outside the policy, writes to a signed session, roles)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.db.models.signals import post_save

from ketaclinic.audit.actions import verify_chain
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.clinical import dosing
from ketaclinic.clinical.policy import BloodPressure, policy_to_json
from ketaclinic.treatment.actions import do_record_vitals, latest_weight_kg, session_policy
from ketaclinic.treatment.inputs import VitalsIn
from ketaclinic.treatment.models import Dose, SessionAlert, SessionStatus, TreatmentSession, VitalSigns
from ketaclinic.treatment.tests.helpers import LOT_KETAMINE, Clock, checked_in, iso, plan_today, ready_to_dose

if TYPE_CHECKING:
    from django.test import Client

    from conftest import World


def _post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def test_a_nurse_charts_an_esketamine_session_from_check_in_to_sign_off(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = plan.sessions.get(number=1)
    api = world.api("nurse.north")
    base = f"/api/v1/sessions/{session.pk}"

    response = _post(api, f"{base}/check-in", {"checked_in_at": iso(clock.advance(minutes=-10))})
    assert response.status_code == 201, response.content
    assert response.json()["stage"] == "checked_in"
    clock.advance(minutes=10)
    body = {
        "identity_confirmed": True,
        "fasting_confirmed": True,
        "ride_home_arranged": True,
        "medication_changes": False,
    }
    assert _post(api, f"{base}/pre-dose-checks", body).status_code == 201
    vitals = {
        "taken_at": iso(clock.now),
        "systolic_mmhg": 150,
        "diastolic_mmhg": 85,
        "heart_rate_bpm": 70,
        "spo2_percent": 98,
    }
    response = _post(api, f"{base}/vitals", vitals)
    assert response.status_code == 201, response.content
    gate = response.json()["alerts"]
    assert [a["rule_id"] for a in gate] == ["BP-PREDOSE-ESK-ACK"]
    dose = {"amount_mg": "56", "lot_number": "ESK-1", "started_at": iso(clock.advance(minutes=2))}
    refused = _post(api, f"{base}/doses", dose)
    assert refused.status_code == 409
    assert any("BP-PREDOSE-ESK-ACK" in r for r in refused.json()["reasons"])
    answer = {"answer": "acknowledged", "note": "Usual for this patient; benefit outweighs the rise"}
    assert _post(api, f"{base}/alerts/{gate[0]['id']}/answer", answer).status_code == 200

    response = _post(api, f"{base}/doses", dose)
    assert response.status_code == 201, response.content
    devices = response.json()["devices"]
    assert [d["number"] for d in devices] == [1, 2]
    assert response.json()["next_device_due_at"] == devices[1]["due_at"]
    early = _post(api, f"{base}/devices/2", {"used_at": iso(clock.advance(minutes=3))})
    assert early.status_code == 422 and "used_at" in early.json()["errors"]
    assert _post(api, f"{base}/devices/2", {"used_at": iso(clock.advance(minutes=2))}).status_code == 200
    read = api.get(base).json()
    assert read["stage"] == "monitoring"
    assert read["next_vitals"]["what"] == "40 minutes after dosing"

    clock.advance(minutes=40)
    vitals.update(taken_at=iso(clock.now), systolic_mmhg=160, diastolic_mmhg=90)
    assert _post(api, f"{base}/vitals", vitals).json()["time_point"] == "post_dose"
    moaas = {"instrument": "moaas", "answers": [5], "taken_at": iso(clock.now)}
    assert _post(api, f"{base}/observations", moaas).json()["total"] == 5
    event = {
        "code": "nausea",
        "severity": "mild",
        "onset_at": iso(clock.now),
        "action_taken": "Reassurance, water",
        "outcome": "resolved",
    }
    assert _post(api, f"{base}/adverse-events", event).status_code == 201

    leave = {"ready_to_leave_minutes": 60, "escort_name": "Sam Rivera"}
    early_leave = _post(api, f"{base}/discharge", leave)
    assert early_leave.status_code == 409
    reasons = early_leave.json()["reasons"]
    assert any("DISCHARGE-ESK-MIN-120" in r for r in reasons) and any(
        "DISCHARGE-BP-STABLE" in r for r in reasons
    )
    clock.advance(minutes=80)
    vitals.update(taken_at=iso(clock.now), systolic_mmhg=130, diastolic_mmhg=82)
    assert _post(api, f"{base}/vitals", vitals).json()["time_point"] == "pre_discharge"
    assert api.get(base).json()["stage"] == "ready_for_discharge"
    response = _post(api, f"{base}/discharge", leave)
    assert response.status_code == 201, response.content
    assert response.json()["minutes_observed"] >= 120

    assert _post(api, f"{base}/sign", {}).status_code == 200
    locked = _post(api, f"{base}/vitals", vitals)
    assert locked.status_code == 409
    amendment = {"reason": "Late entry", "note": "Phoned at 18:00: home safely"}
    assert _post(api, f"{base}/amendments", amendment).status_code == 201
    final = api.get(base).json()
    assert final["status"] == "signed" and len(final["amendments"]) == 1
    assert len(final["vitals"]) == 3


def test_impossible_vitals_are_refused_naming_the_field_and_nothing_is_saved(
    world: World, clock: Clock
) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = checked_in(plan, world.user("nurse.north"))
    assert session.checked_in_at is not None
    api = world.api("nurse.north")
    good: dict[str, Any] = {
        "taken_at": iso(clock.now),
        "systolic_mmhg": 120,
        "diastolic_mmhg": 80,
        "heart_rate_bpm": 70,
        "spo2_percent": 98,
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"systolic_mmhg": 80, "diastolic_mmhg": 80}, "diastolic_mmhg"),
        ({"spo2_percent": 101}, "spo2_percent"),
        ({"heart_rate_bpm": 0}, "heart_rate_bpm"),
        ({"taken_at": iso(clock.now.replace(year=clock.now.year + 1))}, "taken_at"),
        (
            {"taken_at": iso(session.checked_in_at.replace(microsecond=0) - dt.timedelta(minutes=1))},
            "taken_at",
        ),
        ({"taken_at": "2026-01-01T09:00:00"}, "taken_at"),
    ]
    for change, field in cases:
        response = _post(api, f"/api/v1/sessions/{session.pk}/vitals", {**good, **change})
        assert response.status_code == 422, (change, response.content)
        assert field in response.json()["errors"], (change, response.json())
    # A number of seconds is refused as not a written moment, whatever moment it would make.
    for seconds in (0, int(clock.now.timestamp()) + 60):
        response = _post(api, f"/api/v1/sessions/{session.pk}/vitals", {**good, "taken_at": seconds})
        assert response.status_code == 422, (seconds, response.content)
        assert "ISO 8601" in str(response.json()["errors"]["taken_at"]), response.json()
    assert not VitalSigns.objects.filter(session=session).exists()


def test_84_mg_as_a_first_esketamine_dose_is_refused(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = ready_to_dose(plan, world.user("nurse.north"), clock)
    api = world.api("nurse.north")
    dose = {"amount_mg": "84", "lot_number": "ESK-1", "started_at": iso(clock.advance(minutes=1))}
    response = _post(api, f"/api/v1/sessions/{session.pk}/doses", dose)
    assert response.status_code == 422
    assert "DOSE-ESK-FIRST-56" in response.json()["errors"]["amount_mg"]
    assert not Dose.objects.filter(session=session).exists()


def test_a_plan_for_84_mg_is_refused_before_any_esketamine_dose(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    api = world.api("prescriber.north")
    body = {
        "modality": "esketamine_nasal",
        "protocol": "esketamine_trd",
        "start_date": "2099-01-05",
        "dose_mg": "84",
    }
    response = _post(api, f"/api/v1/patients/{patient.pk}/treatment-plans", body)
    assert response.status_code == 422
    assert "dose_mg" in response.json()["errors"]


def test_front_desk_checks_in_but_cannot_dose(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = plan.sessions.get(number=1)
    desk = world.api("frontdesk.north")
    assert _post(desk, f"/api/v1/sessions/{session.pk}/check-in", {}).status_code == 201
    dose = {"amount_mg": "56", "lot_number": "ESK-1", "started_at": iso(clock.now)}
    assert _post(desk, f"/api/v1/sessions/{session.pk}/doses", dose).status_code == 403
    assert not Dose.objects.filter(session=session).exists()


def test_a_nurse_cannot_approve_a_plan(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"), approve=False)
    response = _post(world.api("nurse.north"), f"/api/v1/treatment-plans/{plan.pk}/approve", {})
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_two_nurses_charting_one_session_keep_each_others_readings(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = checked_in(plan, world.user("nurse.north"))
    first, second = world.api("nurse.north"), world.api("prescriber.north")
    reading = {
        "taken_at": iso(clock.now),
        "systolic_mmhg": 120,
        "diastolic_mmhg": 80,
        "heart_rate_bpm": 70,
        "spo2_percent": 98,
    }
    read = first.get(f"/api/v1/sessions/{session.pk}")
    assert _post(first, f"/api/v1/sessions/{session.pk}/vitals", reading).status_code == 201
    assert (
        _post(second, f"/api/v1/sessions/{session.pk}/vitals", {**reading, "heart_rate_bpm": 75}).status_code
        == 201
    )
    assert VitalSigns.objects.filter(session=session).count() == 2
    # A change of the session row itself, from a stale read, is refused.
    stale = read["ETag"] if "ETag" in read else read.headers["ETag"]
    assert (
        _post(second, f"/api/v1/sessions/{session.pk}/assignment", {"monitored_by_me": True}).status_code
        == 200
    )
    response = _post(
        first, f"/api/v1/sessions/{session.pk}/assignment", {"monitored_by_me": True}, **{"If-Match": stale}
    )
    assert response.status_code == 412


def test_a_retried_vitals_post_with_the_same_idempotency_key_records_one_reading(
    world: World, clock: Clock
) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = checked_in(plan, world.user("nurse.north"))
    api = world.api("nurse.north")
    reading = {
        "taken_at": iso(clock.now),
        "systolic_mmhg": 120,
        "diastolic_mmhg": 80,
        "heart_rate_bpm": 70,
        "spo2_percent": 98,
    }
    one = _post(api, f"/api/v1/sessions/{session.pk}/vitals", reading, **{"Idempotency-Key": "vitals-1"})
    two = _post(api, f"/api/v1/sessions/{session.pk}/vitals", reading, **{"Idempotency-Key": "vitals-1"})
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] == two.json()["id"]
    assert VitalSigns.objects.filter(session=session).count() == 1


def test_a_reading_writes_its_event_and_its_read_event_in_order_on_the_chain(
    world: World, clock: Clock
) -> None:
    """The reading's chart event and the answer's read event: one append, in that order, named as the API
    request that made them; the gate alert the reading raised is answered with it."""
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = checked_in(plan, world.user("nurse.north"))
    nurse = world.user("nurse.north")
    api = world.api("nurse.north")  # its token made (and audited) first
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    reading = {
        "taken_at": iso(clock.now),
        "systolic_mmhg": 150,
        "diastolic_mmhg": 85,
        "heart_rate_bpm": 70,
        "spo2_percent": 98,
    }
    response = _post(api, f"/api/v1/sessions/{session.pk}/vitals", reading)
    assert response.status_code == 201, response.content
    assert [a["rule_id"] for a in response.json()["alerts"]] == ["BP-PREDOSE-ESK-ACK"]
    events = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq"))
    assert [e.action for e in events] == [Action.SESSION_CHART, Action.PATIENT_READ]
    assert [e.seq for e in events] == [last + 1, last + 2]
    chart, read = events
    assert chart.object_type == "VitalSigns" and chart.object_id == str(response.json()["id"])
    assert read.object_type == "TreatmentSession" and read.object_id == str(session.pk)
    assert {e.actor_id for e in events} == {nurse.pk} and {e.via for e in events} == {"api"}
    assert {e.patient_id for e in events} == {patient.pk} and len({e.request_id for e in events}) == 1
    assert verify_chain().ok


def test_the_stored_reading_is_what_save_stores(world: World, clock: Clock) -> None:
    """The reading goes in over a prepared INSERT (ketaclinic/prepared.py): every column as Model.save
    writes it."""
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    nurse = world.user("nurse.north")
    session = checked_in(plan, nurse)
    data = VitalsIn(
        taken_at=clock.now, systolic_mmhg=150, diastolic_mmhg=85, heart_rate_bpm=70, spo2_percent=98
    )
    reading = do_record_vitals(session, data, actor=nurse)
    assert reading.pk is not None and not reading._state.adding
    fields = [f.attname for f in VitalSigns._meta.concrete_fields if not f.primary_key]
    twin = VitalSigns(**{name: getattr(reading, name) for name in fields})
    twin.save()
    mine, saved = VitalSigns.objects.filter(pk__in=[reading.pk, twin.pk]).order_by("pk").values_list(*fields)
    assert mine == saved
    stored = dict(zip(fields, mine, strict=True))
    assert stored["taken_at"] == clock.now and stored["time_point"] == "pre_dose"
    assert stored["created_by_id"] == nurse.pk and stored["session_id"] == session.pk


def test_a_reading_is_judged_under_the_locked_sessions_policy_not_a_stale_copy(
    world: World, clock: Clock
) -> None:
    """The policy is read before the lock from the session the caller holds; when the locked row keeps
    another snapshot (a check-in or a change since), the reading is judged under the locked row's."""
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    nurse = world.user("nurse.north")
    session = checked_in(plan, nurse)
    stale = TreatmentSession.objects.select_related("plan", "location").get(pk=session.pk)
    higher = dataclasses.replace(
        session_policy(stale),
        esketamine_bp_acknowledge=BloodPressure(200, 120),
        esketamine_bp_defer=BloodPressure(220, 130),
    )
    TreatmentSession.objects.filter(pk=session.pk).update(policy=policy_to_json(higher))
    data = VitalsIn(
        taken_at=clock.now, systolic_mmhg=150, diastolic_mmhg=85, heart_rate_bpm=70, spo2_percent=98
    )
    reading = do_record_vitals(stale, data, actor=nurse)
    assert list(reading.alerts.all()) == []  # under the stale snapshot: the acknowledge gate at 150/85
    assert not SessionAlert.objects.filter(session=session).exists()


def test_a_listener_for_the_save_signals_is_refused_before_anything_is_written(
    world: World, clock: Clock
) -> None:
    """The prepared INSERT sends no save signals: a listener would be skipped silently, so it is refused."""
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    nurse = world.user("nurse.north")
    session = checked_in(plan, nurse)
    data = VitalsIn(
        taken_at=clock.now, systolic_mmhg=120, diastolic_mmhg=80, heart_rate_bpm=70, spo2_percent=98
    )
    before = VitalSigns.objects.count(), AuditEvent.objects.count()

    def listener(**kwargs: object) -> None:
        raise AssertionError("not reached")

    post_save.connect(listener, sender=VitalSigns)
    try:
        with pytest.raises(RuntimeError, match="save signals"):
            do_record_vitals(session, data, actor=nurse)
    finally:
        post_save.disconnect(listener, sender=VitalSigns)
    assert (VitalSigns.objects.count(), AuditEvent.objects.count()) == before


def test_another_locations_staff_see_nothing(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = plan.sessions.get(number=1)
    south = world.api("nurse.south")
    before = AuditEvent.objects.filter(outcome="denied").count()
    response = south.get(f"/api/v1/sessions/{session.pk}")
    assert response.status_code == 404
    assert patient.family_name.encode() not in response.content
    assert _post(south, f"/api/v1/sessions/{session.pk}/check-in", {}).status_code == 404
    assert AuditEvent.objects.filter(outcome="denied").count() == before + 2
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_each_dose_takes_its_devices_from_the_ledger_lot_in_the_same_transaction(
    world: World, clock: Clock
) -> None:
    from ketaclinic.ledger.models import Lot

    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = ready_to_dose(plan, world.user("nurse.north"), clock)
    api = world.api("nurse.north")
    before = Lot.objects.get(location=patient.location, lot_number="ESK-1").balance
    unknown = {"amount_mg": "56", "lot_number": "NOPE-1", "started_at": iso(clock.advance(minutes=1))}
    response = _post(api, f"/api/v1/sessions/{session.pk}/doses", unknown)
    assert response.status_code == 422 and "lot_number" in response.json()["errors"]
    assert not Dose.objects.filter(session=session).exists()
    good = {**unknown, "lot_number": "ESK-1"}
    assert _post(api, f"/api/v1/sessions/{session.pk}/doses", good).status_code == 201
    after = Lot.objects.get(location=patient.location, lot_number="ESK-1").balance
    assert before - after == 2  # two 28 mg devices


def test_a_refused_approval_lists_every_reason_and_changes_nothing(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"), approve=False)
    response = _post(world.api("prescriber.north"), f"/api/v1/treatment-plans/{plan.pk}/approve", {})
    assert response.status_code == 409
    reasons = " ".join(response.json()["reasons"])
    assert "No screening" in reasons
    assert "REMS" in reasons
    assert "consent" in reasons.lower()
    plan.refresh_from_db()
    assert plan.status == "draft" and plan.approved_at is None


def test_a_stale_plan_change_is_refused_with_412(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    api = world.api("prescriber.north")
    etag = api.get(f"/api/v1/treatment-plans/{plan.pk}")["ETag"]
    assert (
        _post(
            api, f"/api/v1/treatment-plans/{plan.pk}/pause", {"reason": "Away"}, **{"If-Match": etag}
        ).status_code
        == 200
    )
    stale = _post(api, f"/api/v1/treatment-plans/{plan.pk}/end", {"reason": "Done"}, **{"If-Match": etag})
    assert stale.status_code == 412
    plan.refresh_from_db()
    assert plan.status == "paused"


def _weight(patient: Any) -> Decimal:
    weight = latest_weight_kg(patient)
    assert weight is not None
    return weight


def test_an_iv_infusion_shows_the_policy_readings_due_during_and_after_it(world: World, clock: Clock) -> None:
    patient = world.patient("north")
    nurse = world.user("nurse.north")
    plan = plan_today(patient, world.user("prescriber.north"), modality="iv_ketamine")
    session = ready_to_dose(plan, nurse, clock)
    api = world.api("nurse.north")
    base = f"/api/v1/sessions/{session.pk}"
    started = clock.advance(minutes=2)
    amount = str(dosing.iv_ketamine(_weight(patient), Decimal("0.5")).dose_mg)
    response = _post(
        api, f"{base}/doses", {"amount_mg": amount, "lot_number": LOT_KETAMINE, "started_at": iso(started)}
    )
    assert response.status_code == 201, response.content
    due = api.get(base).json()["next_vitals"]
    assert due["what"] == "10 minutes into the infusion" and due["overdue"] is False
    assert dt.datetime.fromisoformat(due["due_at"]) == started + dt.timedelta(minutes=10)
    clock.advance(minutes=12)
    assert api.get(base).json()["next_vitals"]["overdue"] is True
    reading = {
        "taken_at": iso(clock.now),
        "systolic_mmhg": 130,
        "diastolic_mmhg": 82,
        "heart_rate_bpm": 74,
        "spo2_percent": 98,
    }
    assert _post(api, f"{base}/vitals", reading).json()["time_point"] == "during_infusion"
    assert api.get(base).json()["next_vitals"]["what"] == "20 minutes into the infusion"

    clock.advance(minutes=30)
    end = {"ended_at": iso(started + dt.timedelta(minutes=40))}
    assert _post(api, f"{base}/dose-end", end).status_code in (200, 201)
    # The 20- and 30-minute readings were missed; the earliest open one is shown, overdue.
    due = api.get(base).json()["next_vitals"]
    assert due["what"] == "20 minutes into the infusion" and due["overdue"] is True
    for _ in range(2):
        reading["taken_at"] = iso(clock.now)
        assert _post(api, f"{base}/vitals", reading).json()["time_point"] == "during_infusion"
    due = api.get(base).json()["next_vitals"]
    assert due["what"] == "15 minutes after the infusion" and due["overdue"] is False
    assert dt.datetime.fromisoformat(due["due_at"]) == started + dt.timedelta(minutes=55)


def test_im_ketamine_readings_follow_the_location_policy(world: World, clock: Clock) -> None:
    from ketaclinic.clinicpolicy import actions as policy_actions
    from ketaclinic.clinicpolicy.inputs import PolicyChangeIn

    patient = world.patient("north")
    nurse = world.user("nurse.north")
    admin = world.user("admin.north")
    policy_actions.do_change_policy(
        patient.location,
        PolicyChangeIn(
            values={"ketamine_vitals_after_dose_minutes": 20},
            reason="Local protocol: every 20 minutes after IM",
        ),
        actor=admin,
        expected_version=0,
    )
    plan = plan_today(patient, world.user("prescriber.north"), modality="im_ketamine")
    session = ready_to_dose(plan, nurse, clock)
    api = world.api("nurse.north")
    base = f"/api/v1/sessions/{session.pk}"
    given = clock.advance(minutes=2)
    amount = str(dosing.im_ketamine(_weight(patient), Decimal("0.5")).dose_mg)
    response = _post(
        api, f"{base}/doses", {"amount_mg": amount, "lot_number": LOT_KETAMINE, "started_at": iso(given)}
    )
    assert response.status_code == 201, response.content
    due = api.get(base).json()["next_vitals"]
    assert due["what"] == "20 minutes after the injection"
    assert dt.datetime.fromisoformat(due["due_at"]) == given + dt.timedelta(minutes=20)
    clock.advance(minutes=25)
    assert api.get(base).json()["next_vitals"]["overdue"] is True


def test_a_reading_reads_the_same_few_earlier_ones_however_long_the_flowsheet(
    world: World, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time point and the pre-dose reading come from the scheduled readings and the latest one at or
    before the dose, whatever its time point; any-time readings after the dose are not read again."""
    from ketaclinic import fastload
    from ketaclinic.clinical.vitals import RULE_ALERT_BP_RISE

    patient = world.patient("north")
    plan = plan_today(patient, world.user("prescriber.north"))
    session = ready_to_dose(plan, world.user("nurse.north"), clock, systolic=128)  # 128/80 at pre_dose
    api = world.api("nurse.north")
    base = f"/api/v1/sessions/{session.pk}"
    reading: dict[str, Any] = {"heart_rate_bpm": 72, "spo2_percent": 98}
    usual = {**reading, "systolic_mmhg": 125, "diastolic_mmhg": 78}
    # Charted by hand as "any time", before the dose: it is the latest pre-dose reading.
    clock.advance(minutes=2)
    early = {**reading, "taken_at": iso(clock.now), "systolic_mmhg": 120, "diastolic_mmhg": 75}
    assert _post(api, f"{base}/vitals", {**early, "time_point": "any_time"}).status_code == 201
    dose = {"amount_mg": "56", "lot_number": "ESK-1", "started_at": iso(clock.advance(minutes=1))}
    assert _post(api, f"{base}/doses", dose).status_code == 201

    read: list[int] = []
    fetch = fastload.fetch

    def counted(model: Any, **kwargs: Any) -> Any:
        rows = fetch(model, **kwargs)
        read.append(len(rows) if model is VitalSigns else 0)
        return rows

    monkeypatch.setattr(fastload, "fetch", counted)
    rows_read = []
    for _ in range(25):  # any-time readings before the 40-minute one falls due
        read.clear()
        answer = _post(api, f"{base}/vitals", {**usual, "taken_at": iso(clock.advance(minutes=1))}).json()
        assert answer["time_point"] == "any_time" and answer["alerts"] == []
        rows_read.append(sum(read))
    assert rows_read[1] == rows_read[-1], rows_read

    clock.advance(minutes=16)  # 40 minutes after the dose
    late = {**reading, "taken_at": iso(clock.now), "systolic_mmhg": 160, "diastolic_mmhg": 100}
    answer = _post(api, f"{base}/vitals", late).json()
    assert answer["time_point"] == "post_dose"
    # A rise of 40/25 over the any-time 120/75, which is later than the scheduled 128/80 (a rise of 32/20).
    assert RULE_ALERT_BP_RISE.id in [a["rule_id"] for a in answer["alerts"]]
