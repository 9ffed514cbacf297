"""Every resource the export can produce is valid R4 (fhir.resources' R4B models): random charts, row by
row, through each mapping, plus everything a charted patient of the demo clinic exports."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.clinical.scales import INSTRUMENTS
from ketaclinic.clinical.vocab import CONDITIONS, DRUGS
from ketaclinic.fhir.resources import (
    TYPES,
    administration,
    adverse_event,
    all_resources,
    allergy,
    condition,
    consent,
    encounter,
    medication_request,
    observation,
    patient,
    provenance,
    questionnaire,
)
from ketaclinic.fhir.tests.validate import validate
from ketaclinic.patients.models import AllergyCategory, EntryStatus, Severity, TrialOutcome
from ketaclinic.therapy.models import TherapyKind, TherapyMode, TherapyStatus
from ketaclinic.treatment.models import (
    AdverseEventCode,
    AdverseEventOutcome,
    AdverseEventSeverity,
    PlanModality,
    PlanStatus,
    SessionPhase,
    SessionStatus,
)

if TYPE_CHECKING:
    from ketaclinic.patients.models import Patient as PatientModel

TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FF, blacklist_characters="\x7f"), max_size=40
).map(str.strip)
MOMENT = st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC))
DAY = st.dates(dt.date(1920, 1, 1), dt.date(2030, 1, 1))
PID = st.uuids()
INT_ID = st.integers(1, 10**9)


def _choice(choices: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([c.value for c in choices])


def _dec(low: str, high: str, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal(low), Decimal(high), places=places, allow_nan=False, allow_infinity=False)


patients = st.fixed_dictionaries(
    {
        "id": PID,
        "mrn": st.from_regex(r"KC-\d{6}", fullmatch=True),
        "external_mrn": TEXT,
        "given_name": TEXT.filter(bool),
        "family_name": TEXT.filter(bool),
        "date_of_birth": DAY,
        "sex": st.sampled_from(["female", "male", "other", "unknown"]),
        "phone": TEXT,
        "email": TEXT,
        "address": TEXT,
        "emergency_contact_name": TEXT,
        "emergency_contact_phone": TEXT,
        "emergency_contact_relationship": TEXT,
        "entered_in_error_at": st.none() | MOMENT,
        "updated_at": MOMENT,
    }
).map(patient.to_fhir)

_ENTRY = {
    "id": INT_ID,
    "patient_id": PID,
    "status": _choice(EntryStatus),
    "created_at": MOMENT,
    "updated_at": MOMENT,
}

conditions = st.fixed_dictionaries(
    {
        **_ENTRY,
        "code": st.sampled_from(list(CONDITIONS)),
        "onset_year": st.none() | st.integers(1930, 2026),
        "note": TEXT,
    }
).map(condition.to_fhir)

medications = st.fixed_dictionaries(
    {
        **_ENTRY,
        "drug": st.sampled_from(list(DRUGS)),
        "other_name": TEXT,
        "dose": TEXT,
        "started_on": st.none() | DAY,
        "stopped_on": st.none() | DAY,
    }
).map(medication_request.medication)

trials = st.fixed_dictionaries(
    {
        **_ENTRY,
        "drug": st.sampled_from(list(DRUGS)),
        "other_name": TEXT,
        "max_daily_dose_mg": _dec("0.01", "9999", 2),
        "weeks_at_dose": _dec("0", "520", 1),
        "adequate_dose": st.booleans(),
        "dose_optimised": st.booleans(),
        "augmented": st.booleans(),
        "augmentation_agent": TEXT,
        "outcome": _choice(TrialOutcome),
        "current_episode": st.booleans(),
        "started_year": st.none() | st.integers(1950, 2026),
    }
).map(medication_request.trial)

plans = st.fixed_dictionaries(
    {
        "id": PID,
        "patient_id": PID,
        "modality": _choice(PlanModality),
        "protocol": st.just("esketamine_trd"),
        "dose_mg": st.none() | _dec("28", "84", 1),
        "dose_mg_per_kg": _dec("0.1", "1.5", 2),
        "infusion_minutes": st.none() | st.integers(10, 100),
        "start_date": DAY,
        "status": _choice(PlanStatus),
        "approved_at": st.none() | MOMENT,
        "created_at": MOMENT,
        "updated_at": MOMENT,
    }
).map(medication_request.plan)

allergies = st.fixed_dictionaries(
    {
        **_ENTRY,
        "substance": TEXT.filter(bool),
        "category": _choice(AllergyCategory),
        "reaction": TEXT,
        "severity": _choice(Severity),
        "ketamine_related": st.booleans(),
    }
).map(allergy.to_fhir)

sessions = st.fixed_dictionaries(
    {
        "id": PID,
        "patient_id": PID,
        "plan_id": PID,
        "number": st.integers(1, 99),
        "date": DAY,
        "phase": _choice(SessionPhase),
        "status": _choice(SessionStatus),
        "checked_in_at": st.none() | MOMENT,
        "signed_at": st.none() | MOMENT,
        "updated_at": MOMENT,
    }
).map(encounter.treatment)

therapy_sessions = st.fixed_dictionaries(
    {
        "id": PID,
        "patient_id": PID,
        "kind": _choice(TherapyKind),
        "mode": _choice(TherapyMode),
        "starts_at": MOMENT,
        "duration_minutes": st.integers(15, 240),
        "status": _choice(TherapyStatus),
        "updated_at": MOMENT,
    }
).map(encounter.therapy)

vitals = st.fixed_dictionaries(
    {
        "id": INT_ID,
        "session_id": PID,
        "patient_id": PID,
        "taken_at": MOMENT,
        "systolic_mmhg": st.integers(50, 300),
        "diastolic_mmhg": st.integers(20, 200),
        "heart_rate_bpm": st.integers(20, 250),
        "spo2_percent": st.integers(50, 100),
        "updated_at": MOMENT,
    }
).map(lambda row: list(observation.session_vitals(row)))

measurements = st.fixed_dictionaries(
    {
        "id": INT_ID,
        "patient_id": PID,
        "measured_on": DAY,
        "weight_kg": st.none() | _dec("20", "400", 1),
        "height_cm": st.none() | _dec("50", "250", 1),
        "systolic_mmhg": st.none() | st.integers(90, 300),
        "diastolic_mmhg": st.integers(20, 89),
        "heart_rate_bpm": st.none() | st.integers(20, 250),
        "updated_at": MOMENT,
    }
).map(lambda row: list(observation.measurement(row)))


@st.composite
def assessment_rows(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(list(INSTRUMENTS)))
    spec = INSTRUMENTS[kind]
    scores = [draw(st.integers(item.min_score, item.max_score)) for item in spec.items]
    extra = draw(
        st.dictionaries(
            st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
            st.booleans() | st.integers(0, 5) | TEXT,
            max_size=3,
        )
    )
    return {
        "id": draw(INT_ID),
        "patient_id": draw(PID),
        "instrument": kind.value,
        "item_scores": scores,
        "extra_answers": extra,
        "total": draw(st.none() | st.integers(0, 100)),
        "taken_at": draw(MOMENT),
        "source": draw(st.sampled_from(["clinic", "self_report", "portal"])),
        "session_id": draw(st.none() | PID),
        "created_at": draw(MOMENT),
    }


assessments = assessment_rows().map(
    lambda row: [questionnaire.to_fhir(row), *observation.from_assessment(row)]
)
ratings = st.fixed_dictionaries(
    {
        "id": INT_ID,
        "session_id": PID,
        "patient_id": PID,
        "instrument": st.sampled_from(["moaas", "cadss"]),
        "total": st.integers(0, 92),
        "taken_at": MOMENT,
        "updated_at": MOMENT,
    }
).map(observation.rating)

doses = st.fixed_dictionaries(
    {
        "id": INT_ID,
        "session_id": PID,
        "patient_id": PID,
        "plan_id": PID,
        "modality": _choice(PlanModality),
        "amount_mg": _dec("0.1", "500", 1),
        "lot_number": TEXT.filter(bool),
        "started_at": MOMENT,
        "ended_at": st.none() | MOMENT,
        "pump_rate_ml_per_hour": st.none() | _dec("0.1", "999", 1),
        "updated_at": MOMENT,
    }
).map(administration.to_fhir)

adverse_events = st.fixed_dictionaries(
    {
        "id": INT_ID,
        "session_id": PID,
        "patient_id": PID,
        "code": _choice(AdverseEventCode),
        "description": TEXT,
        "severity": _choice(AdverseEventSeverity),
        "onset_at": MOMENT,
        "outcome": _choice(AdverseEventOutcome),
        "created_at": MOMENT,
        "updated_at": MOMENT,
    }
).map(adverse_event.to_fhir)

consents = st.fixed_dictionaries(
    {
        "id": INT_ID,
        "patient_id": PID,
        "signed_at": MOMENT,
        "title": TEXT.filter(bool),
        "version": st.integers(1, 99),
        "modality": _choice(PlanModality),
    }
).map(consent.to_fhir)

provenances = st.fixed_dictionaries({"id": PID, "created_at": MOMENT}).map(provenance.to_fhir)


def _flat(value: Any) -> list[dict[str, Any]]:
    return value if isinstance(value, list) else [value]


chart = st.lists(
    st.one_of(
        patients,
        conditions,
        medications,
        trials,
        plans,
        allergies,
        sessions,
        therapy_sessions,
        vitals,
        measurements,
        assessments,
        ratings,
        doses,
        adverse_events,
        consents,
        provenances,
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chart)
def test_every_mapped_resource_of_a_random_chart_is_valid_r4(rows: list[Any]) -> None:
    for made in rows:
        for resource in _flat(made):
            validate(resource)
            # What the export writes: orjson lines that read back to the same resource.
            assert orjson.loads(orjson.dumps(resource)) == resource
            assert resource["resourceType"] in TYPES


@pytest.mark.django_db
def test_every_resource_of_a_charted_patient_is_valid(charted: PatientModel) -> None:
    made = list(all_resources([charted.pk]))
    assert {r["resourceType"] for r in made} == set(TYPES)
    ids = [(r["resourceType"], r["id"]) for r in made]
    assert len(ids) == len(set(ids))
    for resource in made:
        validate(resource)


def test_ids_are_valid_fhir_ids() -> None:
    import re

    pattern = re.compile(r"^[A-Za-z0-9\-\.]{1,64}$")
    assert pattern.match(f"qr-{10**18}-item12")
    assert pattern.match(f"plan-{uuid.uuid4()}")
