"""The demo clinic a newcomer gets from `make run`: loaded once, every persona, varied histories."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from ketaclinic.accounts.models import Membership, User
from ketaclinic.audit.actions import verify_chain
from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.demo import data
from ketaclinic.patients.models import Medication, Patient
from ketaclinic.patients.picture import flags_for_patients


@override_settings(KETACLINIC_DEMO=True)
def test_load_demo_once_with_every_persona_and_forty_patients_each(db: None) -> None:
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "loaded" in out.getvalue() and "frontdesk.south" in out.getvalue()
    counts = {slug: Patient.objects.filter(location__slug=slug).count() for slug in ("north", "south")}
    # Forty each, the patient of each location's ketamine-assisted psychotherapy course (therapy/demo.py),
    # and the 180 past courses of the outcome report (outcomes/demo.py).
    assert counts == {"north": 221, "south": 221}
    assert sorted(User.objects.values_list("username", flat=True)) == sorted([*data.logins(), data.DIRECTOR])
    assert f"director of every location (the network's outcome report): {data.DIRECTOR}" in out.getvalue()
    for user in User.objects.exclude(username=data.DIRECTOR):
        role = user.username.split(".")[0]
        assert Membership.objects.filter(user=user).count() == 1, role
        assert authenticate(username=user.username, password=data.PASSWORD) == user
    again = StringIO()
    call_command("load_demo", stdout=again)
    assert "already loaded" in again.getvalue()
    assert Patient.objects.count() == 442
    assert verify_chain().ok


@override_settings(KETACLINIC_DEMO=True)
def test_demo_histories_cover_the_cases_a_clinic_meets(db: None) -> None:
    call_command("load_demo", stdout=StringIO())
    codes = set(Patient.objects.values_list("conditions__code", flat=True))
    assert codes & {
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_hemorrhage_history",
    }
    assert {
        "psychosis_history",
        "substance_use_disorder",
        "ketamine_hypersensitivity",
        "uncontrolled_hypertension",
        "obsessive_compulsive_disorder",
    } <= codes
    drugs = set(Medication.objects.values_list("drug", flat=True))
    assert {"levothyroxine", "clonazepam", "phenelzine", "naltrexone", "lamotrigine"} <= drugs
    assert Patient.objects.filter(pregnancy_status="pregnant").exists()
    trd = [
        p
        for p in Patient.objects.all()
        if p.antidepressant_trials.filter(
            adequate_dose=True, current_episode=True, outcome__in=["none", "partial"]
        ).count()
        >= 2
    ]
    assert len(trd) > 30
    too_few = [
        p for p in Patient.objects.all() if p.antidepressant_trials.filter(adequate_dose=True).count() == 1
    ]
    assert too_few


def test_demo_patients_have_resting_vitals_and_one_archetype_has_uncontrolled_blood_pressure(
    db: None,
) -> None:
    data.load(timezone.localdate(), patients_per_location=len(data.ARCHETYPES))
    ack, defer = DEFAULT_POLICY.ketamine_bp_acknowledge, DEFAULT_POLICY.ketamine_bp_defer
    # The archetypes' patients (the therapy demo's KAP patients, registered apart, have no external MRN).
    for patient in Patient.objects.exclude(external_mrn=""):
        kind = data.ARCHETYPES[int(patient.external_mrn[1:]) - 100001]
        bp = patient.measurements.get()
        assert bp.systolic_mmhg and bp.diastolic_mmhg and bp.heart_rate_bpm, patient.mrn
        if kind == "hypertension":
            assert defer.exceeded_by(bp.systolic_mmhg, bp.diastolic_mmhg), patient.mrn
        else:
            assert not ack.exceeded_by(bp.systolic_mmhg, bp.diastolic_mmhg), patient.mrn
    flagged = {
        pid
        for pid, flags in flags_for_patients(
            Patient.objects.values_list("pk", flat=True), today=timezone.localdate()
        ).items()
        if any(f.key == "blood_pressure" and f.level == "danger" for f in flags)
    }
    hypertensive = {p.pk for p in Patient.objects.filter(conditions__code="uncontrolled_hypertension")}
    assert {str(pk) for pk in hypertensive} == flagged


@override_settings(KETACLINIC_DEMO=False)
def test_the_demo_is_refused_outside_demo_mode(db: None) -> None:
    with pytest.raises(CommandError, match="KETACLINIC_DEMO"):
        call_command("load_demo")
