"""The export of a charted patient validates offline against the R4 StructureDefinitions and the vendored US
Core profiles (tests/fhir-validate, a Node validator on @medplum/core), and the check bites."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

from ketaclinic.fhir.codes import PROFILE
from ketaclinic.fhir.resources import TYPES, all_resources

if TYPE_CHECKING:
    from ketaclinic.patients.models import Patient as PatientModel

VALIDATOR = Path(__file__).resolve().parents[3] / "tests" / "fhir-validate"


def _node() -> str:
    """The node binary; fail (never skip) when the validator cannot run, so CI cannot pass without it."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not installed: the FHIR profile validation needs Node.js 20.19+ (see docs/fhir.md)"
        )
    if not (VALIDATOR / "node_modules" / "@medplum" / "core").is_dir():
        pytest.fail(
            f"the validator's packages are missing: run `npm ci --prefix {VALIDATOR}` (make test does)"
        )
    return node


def _write(folder: Path, resources: list[dict[str, Any]]) -> list[Path]:
    """One NDJSON file per resource type, as the bulk export writes them."""
    by_type: dict[str, list[bytes]] = defaultdict(list)
    for resource in resources:
        by_type[resource["resourceType"]].append(orjson.dumps(resource))
    files = []
    for name, lines in by_type.items():
        path = folder / f"{name}.ndjson"
        path.write_bytes(b"\n".join(lines) + b"\n")
        files.append(path)
    return files


def _validate(files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_node(), str(VALIDATOR / "validate.mjs"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
def test_the_export_of_a_charted_patient_passes_r4_and_us_core(charted: PatientModel, tmp_path: Path) -> None:
    made = list(all_resources([charted.pk]))
    assert {r["resourceType"] for r in made} == set(TYPES)
    result = _validate(_write(tmp_path, made))
    assert result.returncode == 0, result.stdout + result.stderr
    # Every US Core profile the export names was checked, not only the R4 base.
    assert "is not vendored" not in result.stdout, result.stdout
    assert " 0 errors" in result.stderr
    # ... and every US Core profile KetaClinic names was exercised by the sample.
    named = {url.rsplit("/", 1)[1] for url in PROFILE.values() if "/us/core/" in url}
    assert {name for name in named if f"{name}=" not in result.stderr} == set(), result.stderr


@pytest.mark.django_db
def test_a_patient_without_identifier_fails_us_core(charted: PatientModel, tmp_path: Path) -> None:
    patient = next(r for r in all_resources([charted.pk], ["Patient"]))
    del patient["identifier"]
    result = _validate(_write(tmp_path, [patient]))
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(row for row in result.stdout.splitlines() if "\terror:" in row)
    assert line.split("\t")[:3] == ["Patient.ndjson", f"Patient/{patient['id']}", "Patient.identifier"]
    assert "us-core-patient" in line.lower() or "USCorePatientProfile" in line


@pytest.mark.django_db
def test_r4_structure_and_us_core_fixed_values_are_checked(charted: PatientModel, tmp_path: Path) -> None:
    observations = list(all_resources([charted.pk], ["Observation"]))
    pressure = next(r for r in observations if r["id"].endswith("-bp"))
    pressure["component"][1]["valueQuantity"]["code"] = "mmHg"  # US Core fixes UCUM "mm[Hg]"
    rate = next(r for r in observations if r["id"].endswith("-hr"))
    rate["heartRate"] = 80  # not an R4 Observation element
    problem = next(all_resources([charted.pk], ["Condition"]))
    # US Core's required category slice is bound to problem-list-item / health-concern.
    problem["category"][0]["coding"][0]["code"] = "encounter-diagnosis"
    result = _validate(_write(tmp_path, [pressure, rate, problem]))
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [row.split("\t") for row in result.stdout.splitlines() if "\terror:" in row]
    assert sorted(row[1:3] for row in errors) == [
        [f"Condition/{problem['id']}", "Condition.category:us-core"],
        [f"Observation/{pressure['id']}", "Observation.component[1].valueQuantity.code"],
        [f"Observation/{rate['id']}", "Observation.heartRate"],
    ], result.stdout
