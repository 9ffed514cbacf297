"""The clinical picture: TRD status, a decision per modality and safety flags, from data already loaded."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from ketaclinic.clinical import eligibility
from ketaclinic.clinical.common import Modality
from ketaclinic.clinical.eligibility import Decision
from ketaclinic.clinical.policy import DEFAULT_POLICY
from ketaclinic.clinical.sources import SOURCES
from ketaclinic.demo import data as demo
from ketaclinic.patients import actions, inputs, picture, schemas
from ketaclinic.patients.models import (
    Allergy,
    AllergyCategory,
    AntidepressantTrial,
    BodyMeasurement,
    Condition,
    EntryStatus,
    Medication,
    Patient,
    PatientListFacts,
    PregnancyStatus,
    SubstanceUse,
)

if TYPE_CHECKING:
    from conftest import World

IV, IM, ESK, ORAL, HOME = (
    Modality.IV_KETAMINE,
    Modality.IM_KETAMINE,
    Modality.ESKETAMINE_NASAL,
    Modality.ORAL_KETAMINE,
    Modality.HOME_KETAMINE,
)
ELIGIBLE, REVIEW, INELIGIBLE = Decision.ELIGIBLE, Decision.NEEDS_REVIEW, Decision.INELIGIBLE
_counter = iter(range(100000, 999999))


def _failed(drug: str, weeks: int = 8, **extra: Any) -> dict[str, Any]:
    return {
        "drug": drug,
        "max_daily_dose_mg": "100",
        "weeks_at_dose": str(weeks),
        "adequate_dose": True,
        "outcome": "none",
        "current_episode": True,
        **extra,
    }


def _register(
    world: World, *, age: int = 40, bp: tuple[int, int] | None = (118, 76), **profile: Any
) -> Patient:
    """A patient registered through the actions: MDD, two adequate failed trials, a normal resting BP."""
    today = timezone.localdate()
    measurement: dict[str, Any] = {"weight_kg": "70"}
    if bp is not None:
        measurement.update(systolic_mmhg=bp[0], diastolic_mmhg=bp[1], heart_rate_bpm=72)
    fields: dict[str, Any] = {
        "location": "north",
        "confirm_duplicate": True,
        "given_name": "Test",
        "family_name": "Patient",
        "date_of_birth": today.replace(year=today.year - age) - dt.timedelta(days=10),
        "sex": "female",
        "measurement": measurement,
        "conditions": [{"code": "major_depressive_disorder"}],
        "medications": [{"drug": "escitalopram"}],
        "antidepressant_trials": [
            _failed("sertraline"),
            _failed("venlafaxine", weeks=12, dose_optimised=True),
        ],
    }
    fields.update(profile)
    return actions.do_register_patient(
        inputs.PatientCreate.model_validate(fields), actor=world.user("frontdesk.north")
    )


def _loaded(patient: Patient) -> dict[str, Any]:
    """What a chart loads: every entry of the patient, and the recent measurements."""
    return {
        "conditions": list(Condition.objects.filter(patient=patient)),
        "medications": list(Medication.objects.filter(patient=patient)),
        "allergies": list(Allergy.objects.filter(patient=patient)),
        "trials": list(AntidepressantTrial.objects.filter(patient=patient)),
        "measurements": list(BodyMeasurement.objects.filter(patient=patient)),
        "substance_uses": list(SubstanceUse.objects.filter(patient=patient)),
    }


def _picture(patient: Patient) -> picture.Picture:
    return picture.clinical_picture(patient, **_loaded(patient), today=timezone.localdate())


def _decisions(p: picture.Picture) -> dict[Modality, Decision]:
    return {cell.modality: cell.decision for cell in p.modalities}


def _flags(p: picture.Picture) -> dict[str, picture.Flag]:
    return {f.key: f for f in p.flags}


def _rule_ids(items: Any) -> set[str]:
    return {f.rule_id for f in items}


def test_a_clearly_eligible_patient_is_eligible_everywhere_with_no_flags(world: World) -> None:
    p = _picture(_register(world))
    assert _decisions(p) == dict.fromkeys(Modality, ELIGIBLE)
    assert p.flags == ()
    assert [c.tone for c in p.modalities] == [picture.Tone.OK] * 5
    assert p.trd.meets_definition and p.trd.current_episode_failures == 2
    assert p.trd.mgh_score == Decimal("2.5")  # 1 + (1 + 0.5 dose-optimised)
    # The record has no episode length or baseline severity, so Maudsley cannot be staged: say why.
    assert p.trd.maudsley_score is None and "episode_months" in p.trd.maudsley_missing
    assert {"TRD-DEFINITION", "TRD-MGH-S", "TRD-MSM"} <= _rule_ids(p.trd.rules)
    assert p.resting is not None and (p.resting.systolic_mmhg, p.resting.heart_rate_bpm) == (118, 72)
    assert p.age == 40


def test_too_few_adequate_trials_needs_review_with_the_trd_rule_first(world: World) -> None:
    trials = [_failed("sertraline"), _failed("citalopram", weeks=3)]
    p = _picture(_register(world, antidepressant_trials=trials))
    assert not p.trd.meets_definition and p.trd.current_episode_failures == 1
    assert _decisions(p) == dict.fromkeys(Modality, REVIEW)
    esk = next(c for c in p.modalities if c.modality is ESK)
    assert esk.first_reason.startswith("The TRD indication is not met")
    assert esk.findings[0].rule_id == "ELIG-ESK-TRD-NOT-MET"


@pytest.mark.parametrize("code", ["aneurysmal_vascular_disease", "arteriovenous_malformation"])
def test_a_label_contraindication_makes_esketamine_ineligible_and_raises_a_danger_flag(
    world: World, code: str
) -> None:
    p = _picture(_register(world, conditions=[{"code": "major_depressive_disorder"}, {"code": code}]))
    decisions = _decisions(p)
    assert decisions[ESK] is INELIGIBLE
    esk = next(c for c in p.modalities if c.modality is ESK)
    assert esk.tone is picture.Tone.DANGER and "label contraindication" in esk.first_reason
    assert esk.findings[0].level_label == "Contraindicated"
    flag = _flags(p)["contraindication"]
    assert flag.level is picture.Tone.DANGER and "Esketamine nasal" in flag.detail
    esk_rule = "ELIG-ESK-CI-ANEURYSM" if code.startswith("aneurysm") else "ELIG-ESK-CI-AVM"
    assert esk_rule in _rule_ids(flag.findings)
    cited = next(f for f in flag.findings if f.rule_id == esk_rule)
    assert [s.tag for s in cited.sources] == ["S7", "S9", "S23"]
    assert cited.sources[0].citation == SOURCES["S7"]


def test_levothyroxine_and_a_benzodiazepine_raise_one_flag_per_class(world: World) -> None:
    meds = [{"drug": "escitalopram"}, {"drug": "levothyroxine"}, {"drug": "clonazepam"}]
    p = _picture(_register(world, medications=meds))
    flags = _flags(p)
    assert set(flags) == {"medication:levothyroxine", "medication:benzodiazepine"}
    assert _rule_ids(flags["medication:levothyroxine"].findings) == {"ELIG-KET-DDI-LEVOTHYROXINE"}
    assert _rule_ids(flags["medication:benzodiazepine"].findings) == {"ELIG-ALL-DDI-BENZODIAZEPINE"}
    assert flags["medication:benzodiazepine"].detail == "Clonazepam."
    assert all(f.level is picture.Tone.WARN for f in flags.values())
    # Cautions do not block in clinic; at home the clinic policy asks for acknowledgement.
    assert _decisions(p) == {IV: ELIGIBLE, IM: ELIGIBLE, ESK: ELIGIBLE, ORAL: ELIGIBLE, HOME: REVIEW}
    home = next(c for c in p.modalities if c.modality is HOME)
    assert all(
        f.escalated_by_policy for f in home.findings if f.rule_id.endswith(("BENZODIAZEPINE", "THYROXINE"))
    )


@pytest.mark.parametrize("drug", ["methylphenidate", "phenelzine"])
def test_stimulants_and_maois_raise_their_class_flag(world: World, drug: str) -> None:
    flags = _flags(_picture(_register(world, medications=[{"drug": drug}])))
    key = "medication:psychostimulant" if drug == "methylphenidate" else "medication:maoi"
    assert key in flags and flags[key].level is picture.Tone.WARN


def test_resting_bp_above_the_deferral_level_is_a_danger_flag_and_contraindicates_ketamine(
    world: World,
) -> None:
    limit = DEFAULT_POLICY.ketamine_bp_defer
    p = _picture(_register(world, bp=(limit.systolic + 6, limit.diastolic + 4)))
    flag = _flags(p)["blood_pressure"]
    assert flag.level is picture.Tone.DANGER
    assert f"{limit.systolic + 6}/{limit.diastolic + 4} mmHg" in flag.detail
    assert "ELIG-KET-CI-RESTING-BP" in _rule_ids(flag.findings)
    assert _decisions(p)[IV] is INELIGIBLE and _decisions(p)[ESK] is REVIEW
    assert "contraindication" in _flags(p)


def test_resting_bp_above_the_acknowledgement_level_is_a_warning(world: World) -> None:
    ack = DEFAULT_POLICY.ketamine_bp_acknowledge
    p = _picture(_register(world, bp=(ack.systolic + 2, ack.diastolic - 5)))
    flag = _flags(p)["blood_pressure"]
    assert flag.level is picture.Tone.WARN
    assert {"ELIG-KET-BP-ACKNOWLEDGE", "ELIG-ESK-BP-ACKNOWLEDGE"} <= _rule_ids(flag.findings)
    assert _decisions(p) == dict.fromkeys(Modality, REVIEW)


def test_the_latest_resting_bp_counts_and_a_coded_uncontrolled_hypertension_flags_without_one(
    world: World,
) -> None:
    limit = DEFAULT_POLICY.ketamine_bp_defer
    patient = _register(world, bp=(limit.systolic + 20, limit.diastolic + 10))
    nurse = world.user("nurse.north")
    later = inputs.MeasurementIn(systolic_mmhg=120, diastolic_mmhg=78)
    actions.do_record_measurement(patient, later, actor=nurse)
    assert "blood_pressure" not in _flags(_picture(patient))
    coded = _register(world, bp=None, conditions=[{"code": "uncontrolled_hypertension"}])
    flag = _flags(_picture(coded))["blood_pressure"]
    assert flag.level is picture.Tone.WARN and _rule_ids(flag.findings) == {"ELIG-ALL-ACK-UNCONTROLLED-BP"}


def test_pregnancy_and_breastfeeding_are_flagged_and_need_review(world: World) -> None:
    p = _picture(_register(world, pregnancy_status="pregnant"))
    flag = _flags(p)["pregnancy"]
    assert flag.level is picture.Tone.DANGER and _rule_ids(flag.findings) == picture.PREGNANCY_RULES
    assert _decisions(p) == dict.fromkeys(Modality, REVIEW)
    p = _picture(_register(world, breastfeeding=True))
    flag = _flags(p)["breastfeeding"]
    assert flag.level is picture.Tone.WARN and _rule_ids(flag.findings) == picture.BREASTFEEDING_RULES
    assert _decisions(p)[ESK] is REVIEW


def test_the_named_rule_ids_exist_in_the_library() -> None:
    known = {r.id for r in eligibility.RULES}
    assert known.issuperset(picture.PREGNANCY_RULES | picture.BREASTFEEDING_RULES)


def test_a_ketamine_allergy_is_a_danger_flag_and_a_contraindication(world: World) -> None:
    allergy = {
        "substance": "Ketamine",
        "category": "medication",
        "reaction": "Hives",
        "ketamine_related": True,
    }
    p = _picture(_register(world, allergies=[allergy]))
    flag = _flags(p)["ketamine_allergy"]
    assert flag.level is picture.Tone.DANGER and flag.detail == "Ketamine: Hives"
    assert {"ELIG-ESK-CI-HYPERSENSITIVITY", "ELIG-KET-CI-HYPERSENSITIVITY"} <= _rule_ids(flag.findings)
    assert _decisions(p) == dict.fromkeys(Modality, INELIGIBLE)
    other = {"substance": "Penicillin", "category": "medication", "ketamine_related": False}
    assert _picture(_register(world, allergies=[other])).flags == ()


def test_a_psychosis_history_is_flagged(world: World) -> None:
    conditions = [{"code": "major_depressive_disorder"}, {"code": "psychosis_history"}]
    p = _picture(_register(world, conditions=conditions))
    flag = _flags(p)["psychosis_history"]
    assert flag.level is picture.Tone.WARN and _rule_ids(flag.findings) == {"ELIG-ALL-ACK-PSYCHOSIS"}
    assert _decisions(p) == dict.fromkeys(Modality, REVIEW)


def test_a_substance_use_disorder_entry_counts_as_the_condition(world: World) -> None:
    use = [{"substance": "alcohol", "use_status": "past", "use_disorder": True}]
    p = _picture(_register(world, substance_use=use))
    esk = next(c for c in p.modalities if c.modality is ESK)
    assert "ELIG-ALL-ACK-SUBSTANCE-USE" in _rule_ids(esk.findings)


def test_entries_no_longer_active_do_not_count(world: World) -> None:
    conditions = [{"code": "major_depressive_disorder"}, {"code": "aneurysmal_vascular_disease"}]
    patient = _register(world, conditions=conditions, medications=[{"drug": "clonazepam"}])
    nurse = world.user("prescriber.north")
    wrong = inputs.StatusChange(status=EntryStatus.ENTERED_IN_ERROR, reason="another patient's")
    actions.do_change_entry_status(
        patient.conditions.get(code="aneurysmal_vascular_disease"), wrong, actor=nurse
    )
    stopped = inputs.StatusChange(status=EntryStatus.RESOLVED)
    actions.do_change_entry_status(patient.medications.get(), stopped, actor=nurse)
    p = _picture(patient)
    assert p.flags == () and _decisions(p)[ESK] is ELIGIBLE


def test_every_finding_carries_its_sources_with_citations(world: World) -> None:
    meds = [{"drug": "levothyroxine"}, {"drug": "clonazepam"}]
    p = _picture(_register(world, medications=meds, pregnancy_status="pregnant"))
    findings = [f for cell in p.modalities for f in cell.findings] + [
        f for fl in p.flags for f in fl.findings
    ]
    assert findings
    for f in findings:
        assert f.sources and all(s.citation == SOURCES[s.tag] for s in f.sources), f.rule_id


def test_the_picture_issues_no_query_given_the_loaded_data(
    world: World, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    meds = [{"drug": "levothyroxine"}, {"drug": "clonazepam"}]
    patient = _register(world, medications=meds, pregnancy_status="pregnant")
    patient = Patient.objects.get(pk=patient.pk)
    loaded = _loaded(patient)
    with django_assert_num_queries(0):
        p = picture.clinical_picture(patient, **loaded, today=timezone.localdate())
    assert p.flags


def _page(count: int) -> list[str]:
    # The demo's later archetypes (contraindications, interactions, pregnancy...) come last in MRN order
    # among those front desk registered (the outcome report's past courses come after them, bulk-made).
    registered = Patient.objects.filter(created_by__username__startswith="frontdesk.")
    return [str(pk) for pk in registered.order_by("-mrn").values_list("pk", flat=True)[:count]]


def test_the_list_flags_cost_a_fixed_number_of_queries_and_match_the_chart(db: None) -> None:
    today = timezone.localdate()
    demo.load(today, patients_per_location=len(demo.ARCHETYPES))
    for size in (1, 25):
        ids = _page(size)
        with CaptureQueriesContext(connection) as ctx:
            flags = picture.flags_for_patients(ids, today=today)
        assert len(ctx.captured_queries) == picture.FLAGS_QUERIES, size
        assert set(flags) == set(ids)
    for pid in _page(25):
        patient = Patient.objects.get(pk=pid)
        assert flags[pid] == list(_picture(patient).flags), patient.mrn
    keys = {f.key for fl in flags.values() for f in fl}
    assert {"contraindication", "pregnancy", "blood_pressure", "medication:benzodiazepine"} <= keys, keys
    assert picture.flags_for_patients([], today=today) == {}


def test_the_list_flags_follow_each_change_despite_their_cache(world: World) -> None:
    """The list's flags are cached by what they are computed from, never by patient: a change to any of
    it shows at once, and entries that are not active do not count."""
    today = timezone.localdate()
    patient = _register(world)
    pid = str(patient.pk)
    nurse = world.user("nurse.north")

    def keys() -> set[str]:
        return {f.key for f in picture.flags_for_patients([pid], today=today)[pid]}

    assert keys() == set()
    medication = actions.do_add_history_entry(patient, inputs.MedicationIn(drug="clonazepam"), actor=nurse)
    assert "medication:benzodiazepine" in keys()
    actions.do_change_entry_status(
        medication, inputs.StatusChange(status=EntryStatus.RESOLVED, reason="stopped"), actor=nurse
    )
    assert "medication:benzodiazepine" not in keys()
    actions.do_record_measurement(
        patient, inputs.MeasurementIn(systolic_mmhg=185, diastolic_mmhg=112), actor=nurse
    )
    assert "blood_pressure" in keys()
    actions.do_add_history_entry(
        patient,
        inputs.AllergyIn(
            substance="Ketamine", category=AllergyCategory.MEDICATION, reaction="rash", ketamine_related=True
        ),
        actor=nurse,
    )
    flags = {f.key: f for f in picture.flags_for_patients([pid], today=today)[pid]}
    assert flags["ketamine_allergy"].detail == "Ketamine: rash"
    update = inputs.PatientUpdate(pregnancy_status=PregnancyStatus.PREGNANT)
    patient = actions.do_update_patient(patient, update, actor=nurse)
    assert "pregnancy" in keys()
    assert picture.flags_for_patients([pid], today=today)[pid] == list(_picture(patient).flags)


def _search_chips(world: World, patient: Patient) -> list[tuple[str, str]]:
    """The chips the search page shows beside the patient, found by its MRN (the only match)."""
    page = world.client("nurse.north").post("/patients/", {"q": patient.mrn}).content.decode()
    rows = page.split('class="row-link"')[1:]
    assert len(rows) == 1, page
    name_cell = rows[0].split("</td>")[0]
    return re.findall(r'<span class="badge (\w+)">([^<]*)</span>', name_cell)


def _chart_chips(patient: Patient) -> list[tuple[str, str]]:
    return [(str(f.level), f.label) for f in _picture(Patient.objects.get(pk=patient.pk)).flags]


def test_the_search_page_chips_follow_each_action_through_the_stored_facts(world: World) -> None:
    """The search page computes its chips from the list facts the actions store (no entry is read for the
    page): after each kind of write they are the chart's, and they change with it."""
    patient = _register(world)
    nurse = world.user("nurse.north")

    def labels() -> set[str]:
        shown = _search_chips(world, patient)
        assert shown == _chart_chips(patient)
        return {label for _, label in shown}

    assert labels() == set()
    medication = actions.do_add_history_entry(patient, inputs.MedicationIn(drug="clonazepam"), actor=nurse)
    assert "Benzodiazepine" in labels()
    actions.do_change_entry_status(
        medication, inputs.StatusChange(status=EntryStatus.RESOLVED, reason="stopped"), actor=nurse
    )
    assert "Benzodiazepine" not in labels()
    actions.do_record_measurement(
        patient, inputs.MeasurementIn(systolic_mmhg=185, diastolic_mmhg=112), actor=nurse
    )
    assert "Blood pressure" in labels()
    allergy = inputs.AllergyIn(
        substance="Ketamine", category=AllergyCategory.MEDICATION, reaction="rash", ketamine_related=True
    )
    actions.do_add_history_entry(patient, allergy, actor=nurse)
    assert "Ketamine allergy" in labels()
    actions.do_add_history_entry(patient, inputs.ConditionIn(code="psychosis_history"), actor=nurse)
    assert "Psychosis history" in labels()
    # Pregnancy is the patient's own column, read with the row.
    patient = actions.do_update_patient(
        patient, inputs.PatientUpdate(pregnancy_status=PregnancyStatus.PREGNANT), actor=nurse
    )
    assert "Pregnant" in labels()


def test_the_list_without_a_query_flags_its_patients_from_their_entries(world: World) -> None:
    patient = _register(world, medications=[{"drug": "clonazepam"}])
    page = world.client("nurse.north").get("/patients/").content.decode()
    row = next(r for r in page.split("<tr>") if patient.mrn in r)
    name_cell = row.split("</td>")[0]
    shown = re.findall(r'<span class="badge (\w+)">([^<]*)</span>', name_cell)
    assert "Benzodiazepine" in {label for _, label in shown}
    assert shown == _chart_chips(patient)


def test_a_patient_without_stored_list_facts_is_flagged_from_its_entries(world: World) -> None:
    patient = _register(world, medications=[{"drug": "clonazepam"}])
    stored = _search_chips(world, patient)
    assert "Benzodiazepine" in {label for _, label in stored}
    PatientListFacts.objects.filter(patient=patient).delete()
    assert _search_chips(world, patient) == stored == _chart_chips(patient)


def test_the_picture_serialises_for_the_api(world: World) -> None:
    meds = [{"drug": "levothyroxine"}, {"drug": "clonazepam"}]
    p = _picture(_register(world, medications=meds))
    out = schemas.picture_out(p)
    assert json.loads(json.dumps(out, default=str)) is not None
    assert [m["modality"] for m in out["modalities"]] == [m.value for m in Modality]
    assert (
        type(out["modalities"][0]["decision"]) is str and out["modalities"][4]["decision"] == "needs_review"
    )
    assert out["trd"]["meets_definition"] is True and out["trd"]["mgh_score"] == Decimal("2.5")
    flag = next(f for f in out["flags"] if f["key"] == "medication:levothyroxine")
    assert flag["findings"][0]["sources"][0] == {"tag": "K18", "citation": SOURCES["K18"]}
    assert out["resting"]["systolic_mmhg"] == 118
    assert schemas.flags_out(p.flags) == out["flags"]
    assert schemas.ClinicalPictureOut.model_validate(out).model_dump() == out
