"""Round trip within one database: a demo patient exported, imported into a second clinic network of the same
database, exported again: the same resources. (Into a really empty database, in its own installation:
test_round_trip_empty_database.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from django.core.management import call_command

from ketaclinic.accounts import actions as accounts
from ketaclinic.accounts.permissions import Role
from ketaclinic.fhir.importer import IMPORTED
from ketaclinic.fhir.resources import all_resources
from ketaclinic.fhir.tests.validate import validate
from ketaclinic.patients.models import Patient

if TYPE_CHECKING:
    from conftest import World

pytestmark = pytest.mark.django_db

# Set by the source system or the moment of writing, so never the same after a round trip.
VOLATILE = {"id", "meta", "recordedDate", "authoredOn"}


def _normalise(resources: list[dict[str, Any]], patient_id: str) -> list[bytes]:
    out = []
    for resource in resources:
        kept = {k: v for k, v in resource.items() if k not in VOLATILE}
        if resource["resourceType"] == "Patient":
            # The new clinic assigns its own MRN and keeps the old one as the external identifier.
            kept["identifier"] = sorted({i["value"] for i in resource["identifier"]})
        text = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).replace(patient_id.encode(), b"P")
        out.append(text)
    return sorted(out)


def _export(patient: Patient) -> list[dict[str, Any]]:
    return [
        r
        for r in all_resources([patient.pk], types=list(IMPORTED))
        if r.get("intent", "plan") == "plan"  # orders (treatment plans) are prescribed, not imported
    ]


def _empty_clinic() -> None:
    """A second clinic network with one location and a front desk, and no patients: the receiving system.

    (The database itself cannot be emptied inside a test: the ledger's tables refuse deletes by trigger.
    A network is the unit a KetaClinic database serves, and this one starts with no patients and its own MRN
    sequence, as a fresh installation does.)"""
    network = accounts.do_create_network("Receiving Clinic", "receiving")
    location = accounts.do_create_location(network, "West Clinic", "west", time_zone="America/Denver")
    user = accounts.do_create_staff(
        network, "frontdesk.west", "a long receiving password 7", first_name="Wes", last_name="Desk"
    )
    accounts.do_grant_role(user, location, Role.FRONT_DESK)


def test_export_import_export_gives_the_same_resources(world: World, tmp_path: Path) -> None:
    source = world.patient("north")
    first = _export(source)
    kinds = {r["resourceType"] for r in first}
    assert {"Patient", "Condition", "MedicationRequest"} <= kinds
    for resource in first:
        validate(resource)
    path = tmp_path / "export.ndjson"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in first))

    _empty_clinic()
    call_command("fhir_import", str(path), user="frontdesk.west", location="west")

    imported = Patient.objects.get(location__slug="west")
    assert imported.external_mrn == (source.external_mrn or source.mrn)
    second = _export(imported)
    assert _normalise(second, str(imported.pk)) == _normalise(first, str(source.pk))
