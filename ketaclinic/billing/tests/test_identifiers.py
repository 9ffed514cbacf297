"""The billing identifiers page: a clinic admin keeps the practice's NPI and tax id, clinicians' NPIs and the
ICD-10-CM code of each chart condition; refused input names its field and saves nothing; the front desk
reads them; each change is audited without its value."""

from __future__ import annotations

import pytest

from conftest import World
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.billing.models import ClinicianIdentity, DiagnosisCode, PracticeIdentity


def _url(world: World, slug: str = "north") -> str:
    return f"/billing/identifiers/{world.patient(slug).location_id}/"


def test_an_admin_keeps_the_identifiers(world: World) -> None:
    admin = world.client("admin.north")
    url = _url(world)
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    saved = admin.post(
        url,
        {
            "form": "practice",
            "practice_name": "Harbour Ketamine",
            "npi": "1093817465",
            "tax_id": "84-1029384",
        },
    )
    assert saved.status_code == 302
    prescriber = world.user("prescriber.north")
    assert (
        admin.post(
            url,
            {"form": "clinician", "user_id": str(prescriber.pk), "npi": "1689402751", "credentials": "MD"},
        ).status_code
        == 302
    )
    assert admin.post(url, {"form": "diagnosis", "condition": "ptsd", "icd10": "F43.10"}).status_code == 302
    row = PracticeIdentity.objects.get(location__slug="north")
    assert (row.npi, row.tax_id, row.version) == ("1093817465", "84-1029384", 2)  # the demo's row, changed
    assert ClinicianIdentity.objects.get(user=prescriber).npi == "1689402751"
    assert DiagnosisCode.objects.get(location__slug="north", condition="ptsd").icd10 == "F43.10"
    events = AuditEvent.objects.filter(seq__gt=last, action=Action.BILLING_IDENTIFIERS)
    assert events.count() == 3 and all("1093817465" not in str(e.changed_fields) for e in events)
    shown = world.client("frontdesk.north").get(url)
    assert (
        shown.status_code == 200 and b"1093817465" in shown.content and b"Save practice" not in shown.content
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"form": "practice", "practice_name": "X", "npi": "12345"}, "npi"),
        ({"form": "practice", "practice_name": "X", "tax_id": "ABC"}, "tax_id"),
        ({"form": "practice", "practice_name": "  "}, "practice_name"),
        ({"form": "diagnosis", "condition": "ptsd", "icd10": "43.10"}, "icd10"),
        ({"form": "diagnosis", "condition": "not_a_condition", "icd10": "F43.10"}, "condition"),
        ({"form": "clinician", "user_id": "999999", "npi": "1689402751"}, "user_id"),
        ({"form": "other"}, "form"),
    ],
)
def test_bad_identifiers_are_refused_naming_the_field(world: World, body: dict[str, str], field: str) -> None:
    before = (
        list(PracticeIdentity.objects.values_list("npi", "tax_id", "practice_name", "version")),
        DiagnosisCode.objects.count(),
        ClinicianIdentity.objects.count(),
    )
    response = world.client("admin.north").post(_url(world), body)
    assert response.status_code == 422 and field in response.context["errors"]
    after = (
        list(PracticeIdentity.objects.values_list("npi", "tax_id", "practice_name", "version")),
        DiagnosisCode.objects.count(),
        ClinicianIdentity.objects.count(),
    )
    assert after == before


def test_a_clinician_of_another_location_is_not_named(world: World) -> None:
    south = world.user("prescriber.south")
    response = world.client("admin.north").post(
        _url(world), {"form": "clinician", "user_id": str(south.pk), "npi": "1689402751"}
    )
    assert response.status_code == 422 and "user_id" in response.context["errors"]
    assert not ClinicianIdentity.objects.filter(user=south, npi="1689402751").exists()
