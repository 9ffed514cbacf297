"""The screening API: run, read (stale), acknowledge (the gate's refusals), REMS enrolment; bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import World
from ketaclinic.screening.models import Acknowledgement, RemsEnrolment, Screening
from ketaclinic.screening.tests import helpers as h


def _post(world: World, who: str, url: str, body: Any, **headers: str) -> Any:
    return world.api(who).post(url, json.dumps(body), content_type="application/json", headers=headers)


def test_run_answers_the_contract_and_keeps_the_judgement(world: World) -> None:
    p = h.patient(conditions=("major_depressive_disorder", "psychosis_history"))
    r = _post(world, "prescriber.north", f"/api/v1/patients/{p.pk}/screenings", {"modality": "iv_ketamine"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert r["Location"] == f"/api/v1/screenings/{body['id']}"
    assert {"id", "modality", "decision", "findings", "trd", "ruleset_version", "stale"} <= body.keys()
    assert body["modality"] == "iv_ketamine" and body["stale"] is False
    assert body["decision"] == "needs_review"
    assert set(body["trd"]) == {"adequate_failures", "is_trd", "mgh_score", "maudsley_score", "maudsley_band"}
    assert body["trd"]["adequate_failures"] == 2 and body["trd"]["is_trd"] is True
    psychosis = next(f for f in body["findings"] if f["rule_id"] == "ELIG-ALL-ACK-PSYCHOSIS")
    assert psychosis["level"] == "acknowledge" and psychosis["sources"] and psychosis["message"]
    stored = Screening.objects.get(pk=body["id"])
    assert stored.policy and stored.ruleset_version == body["ruleset_version"]


def test_a_screening_read_after_a_chart_change_is_stale(world: World) -> None:
    p = h.patient()
    s = h.screen(p, "iv_ketamine")
    read = world.api("nurse.north").get(f"/api/v1/screenings/{s.pk}")
    assert read.status_code == 200 and read.json()["stale"] is False
    h.add_condition(p, "hypertension")
    assert world.api("nurse.north").get(f"/api/v1/screenings/{s.pk}").json()["stale"] is True


def test_a_change_screening_does_not_read_leaves_it_current(world: World) -> None:
    from ketaclinic.patients.actions import do_update_patient
    from ketaclinic.patients.inputs import PatientUpdate

    p = h.patient()
    s = h.screen(p, "iv_ketamine")
    do_update_patient(
        p, PatientUpdate(phone="555-0199"), actor=h.user("frontdesk.north"), expected_version=p.version
    )
    assert world.api("nurse.north").get(f"/api/v1/screenings/{s.pk}").json()["stale"] is False


@pytest.mark.parametrize("who", ["nurse.north", "therapist.north", "frontdesk.north", "admin.north"])
def test_only_a_prescriber_runs_a_screening(world: World, who: str) -> None:
    p = h.patient()
    r = _post(world, who, f"/api/v1/patients/{p.pk}/screenings", {"modality": "iv_ketamine"})
    assert r.status_code == 403
    assert not Screening.objects.filter(patient=p).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"modality": "ketamine_lozenge"}, "modality"),
        ({}, "modality"),
        ({"modality": "iv_ketamine", "decision": "eligible"}, "decision"),
    ],
)
def test_bad_screening_input_names_the_field(world: World, body: dict[str, Any], field: str) -> None:
    p = h.patient()
    r = _post(world, "prescriber.north", f"/api/v1/patients/{p.pk}/screenings", body)
    assert r.status_code == 422 and field in r.json()["errors"], r.content
    assert not Screening.objects.filter(patient=p).exists()


def _ack(world: World, s: Screening, rule_id: str, reason: str = "Discussed; benefit outweighs risk.") -> Any:
    return _post(
        world,
        "prescriber.north",
        f"/api/v1/screenings/{s.pk}/acknowledgements",
        {"rule_id": rule_id, "reason": reason},
    )


def test_acknowledging_a_finding(world: World) -> None:
    p = h.patient(conditions=("major_depressive_disorder", "psychosis_history"))
    s = h.screen(p, "iv_ketamine")
    r = _ack(world, s, "ELIG-ALL-ACK-PSYCHOSIS")
    assert r.status_code == 201, r.content
    assert r.json()["rule_id"] == "ELIG-ALL-ACK-PSYCHOSIS" and r.json()["screening_id"] == s.pk
    read = world.api("nurse.north").get(f"/api/v1/screenings/{s.pk}").json()
    assert read["acknowledged"] == ["ELIG-ALL-ACK-PSYCHOSIS"]


def test_a_contraindication_cannot_be_acknowledged(world: World) -> None:
    p = h.patient(conditions=("major_depressive_disorder", "aneurysmal_vascular_disease"))
    s = h.screen(p, "esketamine_nasal")
    r = _ack(world, s, "ELIG-ESK-CI-ANEURYSM")
    assert r.status_code == 409, r.content
    assert r.json()["reasons"] and "ELIG-ESK-CI-ANEURYSM" in r.json()["reasons"][0]
    assert not Acknowledgement.objects.exists()


def test_acknowledging_twice_is_refused_and_the_first_reason_stands(world: World) -> None:
    p = h.patient(conditions=("major_depressive_disorder", "psychosis_history"))
    s = h.screen(p, "iv_ketamine")
    assert _ack(world, s, "ELIG-ALL-ACK-PSYCHOSIS", "First reason.").status_code == 201
    again = _ack(world, s, "ELIG-ALL-ACK-PSYCHOSIS", "Second reason.")
    assert again.status_code == 409 and again.json()["reasons"]
    assert list(Acknowledgement.objects.values_list("reason", flat=True)) == ["First reason."]


def test_a_stale_screening_cannot_be_acknowledged(world: World) -> None:
    p = h.patient(conditions=("major_depressive_disorder", "psychosis_history"))
    s = h.screen(p, "iv_ketamine")
    h.add_condition(p, "hypertension")
    assert _ack(world, s, "ELIG-ALL-ACK-PSYCHOSIS").status_code == 409
    assert not Acknowledgement.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rule_id": "ELIG-NOPE-NOTHING", "reason": "x"}, "rule_id"),
        ({"rule_id": "ELIG-ALL-ACK-PSYCHOSIS", "reason": "   "}, "reason"),
        ({"rule_id": "ELIG-ALL-ACK-PSYCHOSIS"}, "reason"),
        ({"rule_id": "ELIG-ALL-ACK-PSYCHOSIS", "reason": "x" * 2001}, "reason"),
        ({"rule_id": "ELIG-ALL-ACK-PSYCHOSIS", "reason": "ok", "by": "someone"}, "by"),
    ],
)
def test_bad_acknowledgement_names_the_field(world: World, body: dict[str, Any], field: str) -> None:
    p = h.patient(conditions=("major_depressive_disorder", "psychosis_history"))
    s = h.screen(p, "iv_ketamine")
    r = _post(world, "prescriber.north", f"/api/v1/screenings/{s.pk}/acknowledgements", body)
    assert r.status_code == 422 and field in r.json()["errors"], r.content
    assert not Acknowledgement.objects.exists()


def test_a_finding_for_information_needs_no_acknowledgement(world: World) -> None:
    p = h.patient()
    s = h.screen(p, "esketamine_nasal")
    info = [f["rule_id"] for f in s.findings if f["level"] in ("caution", "info")]
    if not info:
        pytest.skip("no caution or info finding for this chart")
    r = _ack(world, s, info[0])
    assert r.status_code == 422 and "rule_id" in r.json()["errors"]


def test_rems_enrolment(world: World) -> None:
    p = h.patient()
    url = f"/api/v1/patients/{p.pk}/rems-enrolment"
    r = _post(world, "prescriber.north", url, {"enrolled_on": "2026-01-05", "rems_patient_id": "SPR-77"})
    assert r.status_code == 201, r.content
    assert r.json()["rems_patient_id"] == "SPR-77" and r.json()["enrolled_on"] == "2026-01-05"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enrolled_on": "2999-01-01", "rems_patient_id": "SPR-1"}, "enrolled_on"),
        ({"enrolled_on": "yesterday", "rems_patient_id": "SPR-1"}, "enrolled_on"),
        ({"enrolled_on": "2026-01-05", "rems_patient_id": " "}, "rems_patient_id"),
        ({"enrolled_on": "2026-01-05", "rems_patient_id": "x" * 41}, "rems_patient_id"),
    ],
)
def test_bad_enrolment_names_the_field(world: World, body: dict[str, Any], field: str) -> None:
    p = h.patient()
    r = _post(world, "prescriber.north", f"/api/v1/patients/{p.pk}/rems-enrolment", body)
    assert r.status_code == 422 and field in r.json()["errors"], r.content
    assert not RemsEnrolment.objects.exists()


def test_a_retried_screening_with_the_same_key_is_one_screening(world: World) -> None:
    p = h.patient()
    client = world.api("prescriber.north")
    url, body = f"/api/v1/patients/{p.pk}/screenings", json.dumps({"modality": "iv_ketamine"})
    first = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "k1"})
    again = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201 and first.content == again.content
    assert Screening.objects.filter(patient=p).count() == 1


def test_a_prescriber_who_only_reads_here_cannot_screen_here(world: World) -> None:
    """Roles are per location: a therapist at north who prescribes at south screens south's patients only."""
    from ketaclinic.accounts.actions import do_grant_role
    from ketaclinic.accounts.models import ClinicLocation

    user = h.user("therapist.north")
    do_grant_role(user, ClinicLocation.objects.get(slug="south"), "prescriber", actor=h.user("admin.south"))
    north, south = h.patient("north"), h.patient("south")
    assert (
        _post(
            world, "therapist.north", f"/api/v1/patients/{north.pk}/screenings", {"modality": "iv_ketamine"}
        ).status_code
        == 403
    )
    assert (
        _post(
            world, "therapist.north", f"/api/v1/patients/{south.pk}/screenings", {"modality": "iv_ketamine"}
        ).status_code
        == 201
    )
    s = h.screen(north, "iv_ketamine")
    assert world.api("therapist.north").get(f"/api/v1/screenings/{s.pk}").status_code == 200
