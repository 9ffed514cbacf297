"""The trail's filters take only the fields and values the form offers; its CSV export cannot run formulas.

Anything else sent (an unknown field, in the form or the address, a value outside its choices or too long,
a field twice) is refused with its name on the page (422), shows no events and is never passed on to the
database. Every cell of the export that a spreadsheet would read as a formula starts with a quote (OWASP,
CSV injection).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import pytest

from ketaclinic.accounts.actions import do_create_staff, do_grant_role
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin
from ketaclinic.audit.models import Action, AuditEvent, Via
from ketaclinic.audit_review.views import FORMULA_STARTS
from ketaclinic.patients.models import Patient

if TYPE_CHECKING:
    from conftest import World


def _reviews() -> int:
    return AuditEvent.objects.filter(action__in=[Action.AUDIT_READ, Action.AUDIT_EXPORT]).count()


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"patient__mrn__startswith": "KC"}, "patient__mrn__startswith"),  # a lookup, not a filter
        ({"actor_id": "1"}, "actor_id"),
        ({"direction": "sideways"}, "direction"),
        ({"export": "xlsx"}, "export"),
        ({"page": "two"}, "page"),
        ({"page": "0"}, "page"),
        ({"patient_mrn": "K" * 21}, "patient_mrn"),
        ({"username": "u" * 151}, "username"),
        ({"sort": "actor__password"}, "sort"),
        ({"action": "patient.read'; --"}, "action"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_to"),
    ],
)
def test_an_unknown_field_or_value_is_refused_by_name(world: World, sent: dict[str, str], field: str) -> None:
    admin = world.client("admin.north")
    before = _reviews()
    response = admin.post("/audit/", sent)
    assert response.status_code == 422
    assert list(response.context["errors"]) == [field]
    page = response.content.decode()
    assert f'<a href="#f-{field}">' in page and "Correct the filters above to see events." in page
    assert not response.context["page"].object_list  # nothing shown that ignored part of the filter
    assert "patient__mrn" not in "".join(name for name, _ in response.context["carried"])
    assert _reviews() == before  # a refused filter reviews nothing


def test_the_address_may_carry_only_the_page(world: World) -> None:
    """Filters in a URL would put an MRN in access logs: the address takes the page number alone."""
    admin = world.client("admin.north")
    assert admin.get("/audit/?page=1").status_code == 200
    refused = admin.get("/audit/?patient_mrn=KC-000001&page=1")
    assert refused.status_code == 422 and list(refused.context["errors"]) == ["patient_mrn"]
    assert admin.post("/audit/?sort=user", {"sort": "user"}).status_code == 422


def test_a_field_sent_twice_is_refused(world: World) -> None:
    response = world.client("admin.north").post("/audit/", {"sort": ["user", "time"]})
    assert response.status_code == 422 and response.context["errors"] == {"sort": "Send this filter once."}


def test_a_long_unknown_name_is_shown_cut_and_escaped(world: World) -> None:
    name = "<script>x</script>" + "y" * 100
    response = world.client("admin.north").post("/audit/", {name: "1"})
    assert response.status_code == 422
    [(shown, message)] = response.context["errors"].items()
    assert len(shown) == 41 and shown.endswith("…") and message == "Not a filter of the audit trail."
    assert "<script>x" not in response.content.decode()


def test_known_filters_still_work_and_are_what_the_review_event_names(world: World) -> None:
    admin = world.client("admin.north")
    response = admin.post(
        "/audit/", {"username": "admin.north", "sort": "user", "direction": "asc", "page": "1"}
    )
    assert response.status_code == 200 and response.context["errors"] == {}
    event = AuditEvent.objects.filter(action=Action.AUDIT_READ).latest("seq")
    assert event.changed_fields == ["direction", "sort", "username"]


HOSTILE = {
    "user": "@SUM(1+1)",
    "location": '=HYPERLINK("http://evil.example","x")',
    "patient_mrn": "+1+cmd",
    "fields": "-2+3",
    "request_id": "\t=1+1",
}


def _plant(world: World) -> None:
    """A read whose every text column the export shows begins like a formula."""
    patient = world.patient("north")
    ClinicLocation.objects.filter(pk=patient.location_id).update(name=HOSTILE["location"])
    Patient.objects.filter(pk=patient.pk).update(mrn=HOSTILE["patient_mrn"])
    patient.refresh_from_db()
    admin = world.user("admin.north")
    user = do_create_staff(
        world.network("admin.north"), HOSTILE["user"], "a long enough password 1", actor=admin
    )
    do_grant_role(user, patient.location, "nurse", actor=admin)
    origin = Origin(via=Via.WEB, request_id=HOSTILE["request_id"], source_ip="::1")
    record(
        Action.PATIENT_READ,
        actor=user,
        origin=origin,
        obj=patient,
        patient=patient,
        changed_fields=[HOSTILE["fields"]],
    )


def test_export_cells_that_would_start_a_formula_are_quoted(world: World) -> None:
    _plant(world)
    response = world.client("admin.north").post("/audit/", {"export": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, body = rows[0], rows[1:]
    cells = [cell for row in body for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    planted = next(dict(zip(header, row, strict=True)) for row in body if row[2] == "'" + HOSTILE["user"])
    for column, value in HOSTILE.items():
        assert planted[column] == "'" + value, column
    assert planted["source_ip"] == "::1"  # a value that starts no formula is left as it is


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_neutralised(start: str) -> None:
    from ketaclinic.audit_review.views import neutralised

    assert neutralised(start + "cmd") == "'" + start + "cmd"
    assert neutralised("cmd" + start) == "cmd" + start
    assert neutralised(-5) == -5  # numbers are not text a spreadsheet parses


def test_an_unknown_field_in_the_address_is_named_as_such(world: World) -> None:
    refused = world.client("admin.north").get("/audit/?actor__password=x")
    assert refused.status_code == 422
    assert refused.context["errors"] == {
        "actor__password": "Not a filter the address may carry; use the form."
    }
