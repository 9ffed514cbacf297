"""Issue 11, item 5: integration due on the worklist after each signed dose of a KAP patient, cleared by an
integration session linked to the dose; preparation gating a KAP plan's first dose."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from ketaclinic.accounts.models import User
from ketaclinic.clinicpolicy.actions import do_change_policy
from ketaclinic.clinicpolicy.inputs import PolicyChangeIn
from ketaclinic.clinicpolicy.queries import policy_version
from ketaclinic.errors import Refused
from ketaclinic.therapy.tests.helpers import note, staff
from ketaclinic.therapy.tests.kap_helpers import (
    dose_through_signature,
    kap_clock,
    plan,
    prepared,
    therapy_at,
    with_therapist,
)
from ketaclinic.treatment import actions as treatment
from ketaclinic.treatment import inputs as treatment_inputs
from ketaclinic.treatment.models import Dose
from ketaclinic.treatment.tests.helpers import Clock, ready_to_dose

if TYPE_CHECKING:
    from conftest import World


def _due(world: World, who: str) -> list[dict[str, Any]]:
    response = world.api(who).get("/api/v1/worklist")
    assert response.status_code == 200, response.content
    return [i for i in response.json()["items"] if i["kind"] == "integration_due"]


def _dosed_kap_patient(world: World, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, Clock]:
    patient = world.patient("north")
    clock = kap_clock(monkeypatch, patient)
    with_therapist(patient)
    prepared(patient, clock)
    session = dose_through_signature(plan(patient), clock)
    return patient, session, clock


def test_a_signed_dose_puts_integration_on_the_therapists_worklist(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient, session, clock = _dosed_kap_patient(world, monkeypatch)
    [item] = _due(world, "therapist.north")
    assert item["patient_id"] == str(patient.pk)
    assert item["dose_session_id"] == str(session.pk)
    assert item["priority"] == "low"  # within its 7 days
    dosed_at = Dose.objects.get(session=session).started_at
    due = dosed_at + dt.timedelta(days=7)
    # The API gives times to the millisecond (Django's JSON encoder), the database to the microsecond.
    to_the_millisecond = due.replace(microsecond=due.microsecond // 1000 * 1000)
    assert dt.datetime.fromisoformat(item["due_at"]) == to_the_millisecond
    assert patient.family_name not in item["detail"]
    # Past the policy's days it is overdue.
    clock.advance(days=8)
    [late] = _due(world, "therapist.north")
    assert late["priority"] == "medium" and "overdue" in late["detail"]
    # The nurse and the prescriber see it too; another location and the front desk do not.
    assert _due(world, "nurse.north") and _due(world, "prescriber.north")
    assert _due(world, "therapist.south") == []
    assert world.api("frontdesk.north").get("/api/v1/worklist").status_code == 403
    # The worklist page names the patient and offers the integration, with the dose session filled in.
    page = world.client("therapist.north").get("/worklist/").content.decode()
    assert f"{patient.family_name}, {patient.given_name}" in page
    assert f"dose_session={session.pk}" in page


def test_an_integration_linked_to_the_dose_clears_it(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    patient, session, clock = _dosed_kap_patient(world, monkeypatch)
    clock.advance(days=9)
    # An integration session that integrates nothing, or another kind linked to the dose, does not clear it.
    therapy_at(patient, "integration", clock.now)
    therapy_at(patient, "kap", clock.now + dt.timedelta(hours=2), dose=session)
    assert len(_due(world, "therapist.north")) == 1
    therapy_at(patient, "integration", clock.now + dt.timedelta(hours=4), dose=session)
    assert _due(world, "therapist.north") == []


def test_the_policy_sets_the_days(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    patient, _, clock = _dosed_kap_patient(world, monkeypatch)
    admin = world.user("admin.north")
    data = PolicyChangeIn(values={"integration_due_within_days": 3}, reason="Integrate within 3 days")
    do_change_policy(patient.location, data, actor=admin, expected_version=policy_version(patient.location))
    clock.advance(days=4)
    [item] = _due(world, "therapist.north")
    assert item["priority"] == "medium" and "within 3 days" in item["detail"]


def test_a_patient_without_a_therapist_has_no_integration_due(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = world.patient("north")
    clock = kap_clock(monkeypatch, patient)
    dose_through_signature(plan(patient), clock)  # no care-team therapist: not a KAP plan, no gate either
    clock.advance(days=10)
    assert _due(world, "therapist.north") == []


def _dose(session: Any, nurse: User, clock: Clock) -> Dose:
    given = treatment_inputs.AdministerIn(amount_mg=Decimal(56), lot_number="ESK-1", started_at=clock.now)
    return treatment.do_record_dose(session, given, actor=nurse)


def test_preparation_gates_a_kap_plans_first_dose(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    patient = world.patient("north")
    clock = kap_clock(monkeypatch, patient)
    with_therapist(patient)
    nurse = staff(patient, "nurse")
    session = ready_to_dose(plan(patient), nurse, clock)
    clock.advance(minutes=1)
    with pytest.raises(Refused) as refused:
        _dose(session, nurse, clock)
    [reason] = [r for r in refused.value.reasons if "preparation" in r]
    assert "KAP-PREPARATION-FIRST-DOSE" in reason
    assert not Dose.objects.filter(session=session).exists()
    # The API says the same by name (409), nothing saved.
    api = world.api("nurse.north")
    body = {"amount_mg": "56", "lot_number": "ESK-1", "started_at": clock.now.isoformat()}
    response = api.post(f"/api/v1/sessions/{session.pk}/doses", body, content_type="application/json")
    assert response.status_code == 409, response.content
    assert "preparation session" in response.content.decode()
    # A preparation session alone is not enough: its note must be signed.
    preparation = therapy_at(patient, "preparation", clock.now - dt.timedelta(hours=1))
    written = note(preparation, template="preparation", intentions="Feel lighter")
    with pytest.raises(Refused):
        _dose(session, nurse, clock)
    from ketaclinic.therapy.actions import do_sign_note

    do_sign_note(written, actor=staff(patient, "therapist"))
    assert _dose(session, nurse, clock).amount_mg == Decimal(56)


def test_preparation_is_a_clinic_policy(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    patient = world.patient("north")
    clock = kap_clock(monkeypatch, patient)
    with_therapist(patient)
    data = PolicyChangeIn(values={"kap_preparation_required": False}, reason="Preparation is optional here")
    location = patient.location
    do_change_policy(
        location, data, actor=world.user("admin.north"), expected_version=policy_version(location)
    )
    nurse = staff(patient, "nurse")
    session = ready_to_dose(plan(patient), nurse, clock)
    clock.advance(minutes=1)
    assert _dose(session, nurse, clock).pk


def test_a_plan_without_a_therapist_is_not_gated(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    patient = world.patient("north")
    clock = kap_clock(monkeypatch, patient)
    nurse = staff(patient, "nurse")
    session = ready_to_dose(plan(patient), nurse, clock)
    clock.advance(minutes=1)
    assert _dose(session, nurse, clock).pk
