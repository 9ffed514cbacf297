"""Round trip into an empty database: a location's demo patients (one of them fully charted) are
bulk-exported, imported with `ketaclinic fhir_import` into a freshly installed KetaClinic (its own SQLite
database, data folder and key, in subprocesses: fresh_clinic.py), and exported there again; the resources
are the same.

What is compared, exactly: every resource of the types the import recreates (Patient, Condition,
MedicationRequest with `intent=plan`, AllergyIntolerance, QuestionnaireResponse, and the Observations of
body measurements and of questionnaires: `bm-*` and `qr-*`), as canonical JSON, patient by patient, without:
- `id` and `meta` (the receiving database's own rows and write times), `recordedDate` and `authoredOn` (the
  moment a history entry was written), and `encounter` (treatment sessions are not imported);
- the ids inside references: a patient becomes its MRN at the source, the ids of responses and
  measurements (`qr-<n>`, `bm-<n>`) become `qr-#` and `bm-#`;
- the Patient's identifiers, checked apart: the receiving clinic gives its own MRN and keeps the source's
  external MRN, else its MRN, as the external MRN.
Treatment sessions, doses, adverse events and consents (and the vitals and ratings of a session) must be
reported skipped and be absent from the second export; each patient has the receiving clinic's own
Provenance.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from ketaclinic.accounts.models import ClinicLocation, User
from ketaclinic.assessments.actions import do_record_assessment
from ketaclinic.assessments.inputs import AssessmentIn
from ketaclinic.assessments.models import Source
from ketaclinic.fhir import codes, exporter
from ketaclinic.fhir.actions import do_request_export
from ketaclinic.fhir.resources import TYPES
from ketaclinic.fhir.tests import fresh_clinic
from ketaclinic.fhir.tests.charts import chart
from ketaclinic.patients import actions as patient_actions
from ketaclinic.patients import inputs as patient_inputs
from ketaclinic.treatment.tests.helpers import Clock, midday

if TYPE_CHECKING:
    from conftest import World

pytestmark = pytest.mark.django_db

COMPARED = (
    "Patient",
    "Condition",
    "MedicationRequest",
    "AllergyIntolerance",
    "Observation",
    "QuestionnaireResponse",
)
NOT_IMPORTED = ("Encounter", "MedicationAdministration", "AdverseEvent", "Consent")
VOLATILE = {"id", "meta", "recordedDate", "authoredOn", "encounter"}
ROW_IDS = re.compile(r"\b(qr|bm)-\d+")


def _read(folder: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for path in sorted(folder.glob("*.ndjson")) for line in path.open("rb")]


def _patient_keys(resources: list[dict[str, Any]], *, imported: bool) -> dict[str, str]:
    """Each Patient's id -> the MRN it had at the source (what the receiving clinic keeps as external)."""
    keys = {}
    for patient in (r for r in resources if r["resourceType"] == "Patient"):
        by_system = {i["system"]: i["value"] for i in patient["identifier"]}
        if imported:
            keys[patient["id"]] = by_system[codes.EXTERNAL_MRN_SYSTEM]
        else:
            keys[patient["id"]] = by_system.get(codes.EXTERNAL_MRN_SYSTEM) or by_system[codes.MRN_SYSTEM]
    return keys


def _canonical(resources: list[dict[str, Any]], *, imported: bool) -> Counter[bytes]:
    keys = _patient_keys(resources, imported=imported)
    out: Counter[bytes] = Counter()
    for resource in resources:
        if resource["resourceType"] not in COMPARED or resource.get("intent", "plan") != "plan":
            continue
        if resource["resourceType"] == "Observation" and not resource["id"].startswith(("bm-", "qr-")):
            continue  # a session's vitals or rating
        kept = {k: v for k, v in resource.items() if k not in VOLATILE}
        if resource["resourceType"] == "Patient":
            kept["identifier"] = keys[resource["id"]]
        text = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).decode()
        for pid, key in keys.items():
            text = text.replace(f"Patient/{pid}", f"Patient/{key}")
        out[ROW_IDS.sub(lambda m: f"{m.group(1)}-#", text).encode()] += 1
    return out


def _chart_yesterday(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """North's first patient charted at 9 o'clock yesterday (the receiving clinic runs on the real clock,
    and refuses a response taken in its future), with an intake measurement and a self-reported GAD-7."""
    patient = world.patient("north")
    clock = Clock(monkeypatch, midday(patient) - dt.timedelta(days=1))
    chart(patient, clock)
    nurse = User.objects.get(username="nurse.north")
    measured = patient_inputs.MeasurementIn.model_validate({"weight_kg": "71.5", "height_cm": "168.0"})
    patient_actions.do_record_measurement(patient, measured, actor=nurse)
    gad7 = AssessmentIn.model_validate({"instrument": "gad7", "answers": [1, 1, 2, 0, 1, 0, 1]})
    do_record_assessment(patient, gad7, actor=None, source=Source.SELF_REPORT)
    clock.now = dt.datetime.now(dt.UTC)


def test_export_import_into_an_empty_database_and_export_again(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _chart_yesterday(world, monkeypatch)
    north = ClinicLocation.objects.get(slug="north")
    job = do_request_export(
        actor=world.user("prescriber.north"),
        location_ids=[north.pk],
        group=north,
        types=list(TYPES),
        since=None,
        request_url="/fhir/R4/Group/north/$export",
    )
    exported = exporter.job_dir(exporter.run(job.pk).pk)
    first = _read(exported)
    assert {r["resourceType"] for r in first} >= {*COMPARED, *NOT_IMPORTED}

    clinic = fresh_clinic.fresh(tmp_path / "receiving")
    found = clinic.run("setup", module="ketaclinic.fhir.tests.fresh_clinic")
    assert found.strip() == "found 0 networks, 0 staff, 0 patients"  # really empty
    files = [str(p) for p in sorted(exported.glob("*.ndjson"))]
    user, location = fresh_clinic.USER, fresh_clinic.LOCATION
    report = clinic.run("fhir_import", *files, "--user", user, "--location", location)
    summary = report.strip().splitlines()[-1]
    patients = sum(r["resourceType"] == "Patient" for r in first)
    assert f"refused 0 ({patients} patients created)" in summary, report
    for kind in NOT_IMPORTED:
        assert f"{kind} skipped: not imported" in report
    second = _read(Path(clinic.run("export", module="ketaclinic.fhir.tests.fresh_clinic").strip()))

    assert _canonical(second, imported=True) == _canonical(first, imported=False)
    kinds = Counter(r["resourceType"] for r in second)
    assert not any(kinds[kind] for kind in NOT_IMPORTED)
    assert kinds["Provenance"] == patients
    assert kinds["QuestionnaireResponse"] == sum(r["resourceType"] == "QuestionnaireResponse" for r in first)
    assert not any(r["id"].startswith(("vs-", "rating-")) for r in second)
