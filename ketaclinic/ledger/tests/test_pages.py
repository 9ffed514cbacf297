"""The ledger's pages: balances, events, recording forms, the witness from one's own session, the report."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import World
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.models import Action, AuditEvent, Outcome
from ketaclinic.demo.data import PASSWORD
from ketaclinic.ledger.actions import do_administer
from ketaclinic.ledger.models import LedgerEvent, Lot, WasteWitness
from ketaclinic.ledger.report import COLUMNS
from ketaclinic.ledger.tests.helpers import LOT_ESKETAMINE, LOT_KETAMINE, SUPPLIER, event, stocked


@pytest.fixture
def north(world: World) -> ClinicLocation:
    location = ClinicLocation.objects.get(slug="north")
    stocked(location, world.user("nurse.north"))
    return location


def test_the_ledger_page_shows_balances_and_the_forms_to_those_who_record(
    world: World, north: ClinicLocation
) -> None:
    page = world.client("nurse.north").get("/ledger/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Esketamine nasal spray 28 mg/0.2 mL" in html and "6 devices" in html and "1000 mg" in html
    assert "/ledger/record/receive/" in html
    admin = world.client("admin.north").get("/ledger/").content.decode()
    assert "1000 mg" in admin and "/ledger/record/receive/" not in admin
    assert world.client("frontdesk.north").get("/ledger/").status_code == 403
    assert "1000 mg" not in world.client("nurse.south").get("/ledger/").content.decode()


def test_a_receipt_through_the_form(world: World, north: ClinicLocation) -> None:
    form = {
        "product": "ketamine-100",
        "lot_number": "K100-A",
        "quantity": "3",
        "expires_on": "2030-05-31",
        **SUPPLIER,
    }
    response = world.client("nurse.north").post("/ledger/record/receive/", form)
    assert response.status_code == 302
    assert Lot.objects.get(lot_number="K100-A").balance == Decimal(1500)


def test_a_refused_form_names_the_field_and_saves_nothing(world: World, north: ClinicLocation) -> None:
    before = LedgerEvent.objects.count()
    client = world.client("nurse.north")
    bad = client.post(
        "/ledger/record/receive/", {"product": "ketamine-100", "lot_number": "X", "quantity": "3"}
    )
    assert bad.status_code == 422
    assert "Supplier DEA number" in bad.content.decode()
    over = client.post(
        "/ledger/record/waste/", {"product": "esketamine-28", "lot_number": LOT_ESKETAMINE, "quantity": "7"}
    )
    assert over.status_code == 409
    assert "below zero" in over.content.decode()
    assert LedgerEvent.objects.count() == before


def test_a_waste_is_witnessed_from_another_clinicians_session_with_their_password(
    world: World, north: ClinicLocation
) -> None:
    nurse = world.client("nurse.north")
    assert (
        nurse.post(
            "/ledger/record/waste/",
            {
                "product": "ketamine-50",
                "lot_number": LOT_KETAMINE,
                "quantity": "12.5",
                "reason": "left in vial",
            },
        ).status_code
        == 302
    )
    waste = LedgerEvent.objects.get(kind="waste")
    url = f"/ledger/events/{waste.pk}/witness/"
    assert "Confirm as witness" not in nurse.get(url).content.decode()  # the recorder is not offered it
    assert "Confirm as witness" in world.client("prescriber.north").get(url).content.decode()
    assert nurse.post(url, {"password": PASSWORD}).status_code == 403
    prescriber = world.client("prescriber.north")
    assert f'href="{url}"' in prescriber.get("/ledger/").content.decode()
    wrong = prescriber.post(url, {"password": "not it"})
    assert wrong.status_code == 422 and not WasteWitness.objects.exists()
    assert AuditEvent.objects.filter(
        action=Action.ACCESS_DENIED, outcome=Outcome.DENIED, object_id=str(waste.pk)
    ).exists()
    assert prescriber.post(url, {"password": PASSWORD}).status_code == 302
    witness = WasteWitness.objects.get(event=waste)
    assert (witness.witnessed_by, witness.method) == (world.user("prescriber.north"), "own_session")
    assert world.client("nurse.south").get(url).status_code == 404


def test_the_events_page_filters_without_naming_patients(world: World, north: ClinicLocation) -> None:
    do_administer(
        location=north,
        lot_number=LOT_ESKETAMINE,
        amount_mg=Decimal(56),
        session_ref="s-9",
        actor=world.user("nurse.north"),
        patient=world.patient("north"),
    )
    client = world.client("admin.north")
    page = client.get("/ledger/events/?kind=administer")
    assert page.status_code == 200
    html = page.content.decode()
    assert "session s-9" in html and world.patient("north").family_name not in html
    assert client.get("/ledger/events/?since=2020-01-01").status_code == 422
    assert client.get("/ledger/events/?kind=nonsense").status_code == 422


def _report(world: World, who: str, **extra: str) -> tuple[int, list[list[str]]]:
    today = timezone.localdate()
    since = (today - dt.timedelta(days=365)).isoformat()
    body = {"location": "north", "since": since, "until": today.isoformat(), "format": "csv", **extra}
    response = world.client(who).post("/ledger/report/", body)
    if response.status_code != 200:
        return response.status_code, []
    return 200, list(csv.reader(io.StringIO(response.content.decode())))


def test_the_report_has_every_column_a_dea_inspection_needs(world: World, north: ClinicLocation) -> None:
    """CS-03: substance, form and strength, lot, mg and mL, patient name and address, time, person; receipts
    with the supplier; opening and closing balances."""
    patient = world.patient("north")
    nurse = world.user("nurse.north")
    do_administer(
        location=north,
        lot_number=LOT_KETAMINE,
        amount_mg=Decimal(35),
        session_ref="s-1",
        actor=nurse,
        patient=patient,
    )
    waste = event(north, nurse, "ketamine-50", "waste", "15", LOT_KETAMINE, reason="rest of the draw")
    from ketaclinic.ledger.actions import do_witness_waste

    do_witness_waste(waste, actor=world.user("prescriber.north"))
    status, rows = _report(world, "prescriber.north")
    assert status == 200
    header = rows.index(list(COLUMNS))
    assert COLUMNS[:16] == (
        "date_time",
        "event_id",
        "event",
        "status",
        "substance",
        "form_strength",
        "ndc",
        "lot_number",
        "lot_expires_on",
        "quantity",
        "unit",
        "quantity_mg",
        "quantity_ml",
        "containers",
        "balance_after",
        "patient_name",
    )
    records = [dict(zip(COLUMNS, row, strict=True)) for row in rows[header + 1 :]]
    given = next(r for r in records if r["event"] == "administer")
    assert (given["substance"], given["quantity_mg"], given["quantity_ml"], given["lot_number"]) == (
        "Ketamine hydrochloride",
        "35",
        "0.7",
        LOT_KETAMINE,
    )
    assert given["patient_name"] == f"{patient.given_name} {patient.family_name}"
    assert given["patient_address"] == patient.address and given["person"] == nurse.get_full_name()
    assert given["date_time"][-6:] in ("-08:00", "-07:00")  # north's own zone
    received = next(r for r in records if r["event"] == "receive" and r["lot_number"] == LOT_KETAMINE)
    assert (received["containers"], received["supplier_name"], received["supplier_dea_number"]) == (
        "2",
        SUPPLIER["supplier_name"],
        SUPPLIER["supplier_dea_number"],
    )
    wasted = next(r for r in records if r["event"] == "waste")
    assert (
        wasted["witness"] == world.user("prescriber.north").get_full_name()
        and wasted["status"] == "witnessed"
    )
    balances = {row[0]: row for row in rows[:header] if row and row[0] in (LOT_KETAMINE, LOT_ESKETAMINE)}
    assert balances[LOT_KETAMINE][3:] == ["0", "950"]  # opening, closing
    assert AuditEvent.objects.filter(action=Action.LEDGER_REPORT).count() == 1


def test_a_reader_without_chart_access_gets_the_report_without_patients(
    world: World, north: ClinicLocation
) -> None:
    patient = world.patient("north")
    do_administer(
        location=north,
        lot_number=LOT_KETAMINE,
        amount_mg=Decimal(35),
        session_ref="s-1",
        actor=world.user("nurse.north"),
        patient=patient,
    )
    status, rows = _report(world, "admin.north")
    assert status == 200
    text = "\n".join(",".join(r) for r in rows)
    assert patient.family_name not in text and patient.mrn not in text and "withheld" in text
    assert patient.address not in text
    nurse_status, nurse_rows = _report(world, "nurse.north")
    nurse_text = "\n".join(",".join(r) for r in nurse_rows)
    assert nurse_status == 200 and patient.family_name in nurse_text and patient.mrn in nurse_text


def test_the_report_opens_and_closes_on_the_locations_days(world: World, north: ClinicLocation) -> None:
    status, rows = _report(world, "nurse.north", since="2019-01-01", until="2019-12-31")
    assert status == 200
    assert not [r for r in rows if r and r[0] in (LOT_KETAMINE, LOT_ESKETAMINE)]  # nothing held then


def test_the_pdf_report_is_a_pdf(world: World, north: ClinicLocation) -> None:
    today = timezone.localdate().isoformat()
    response = world.client("admin.north").post(
        "/ledger/report/", {"location": "north", "since": today, "until": today, "format": "pdf"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"location": "south"}, "location"),
        ({"until": "2019-01-01"}, "until"),
        ({"since": "2001-01-01"}, "until"),
        ({"format": "xls"}, "format"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_a_bad_report_request_names_the_field(
    world: World, north: ClinicLocation, body: dict[str, str], field: str
) -> None:
    today = timezone.localdate()
    since = (today - dt.timedelta(days=30)).isoformat()
    response = world.client("admin.north").post(
        "/ledger/report/", {"location": "north", "since": since, "until": today.isoformat(), **body}
    )
    assert response.status_code == 422
    assert f'id="f-{field}"' in response.content.decode() and "Not saved" in response.content.decode()


def test_a_breakage_a_disposal_and_a_transfer_through_their_forms(
    world: World, north: ClinicLocation
) -> None:
    from ketaclinic.ledger import demo

    demo.products(ClinicLocation.objects.get(slug="south"), world.user("nurse.south"))
    nurse, prescriber = world.client("nurse.north"), world.client("prescriber.north")
    for kind in ("breakage", "dispose", "transfer_out"):
        assert nurse.get(f"/ledger/record/{kind}/").status_code == 200
    missing = nurse.post(
        "/ledger/record/breakage/",
        {"product": "esketamine-28", "lot_number": LOT_ESKETAMINE, "quantity": "1"},
    )
    assert missing.status_code == 422 and "What happened" in missing.content.decode()
    broken = nurse.post(
        "/ledger/record/breakage/",
        {
            "product": "esketamine-28",
            "lot_number": LOT_ESKETAMINE,
            "quantity": "1",
            "reason": "Dropped, cracked",
        },
    )
    assert broken.status_code == 302
    destroyed = nurse.post(
        "/ledger/record/dispose/",
        {"product": "ketamine-50", "lot_number": LOT_KETAMINE, "quantity": "100", "manner": "destroyed"},
    )
    assert destroyed.status_code == 302
    moved = nurse.post(
        "/ledger/record/transfer_out/",
        {"product": "ketamine-50", "lot_number": LOT_KETAMINE, "quantity": "400", "to_location": "south"},
    )
    assert moved.status_code == 302
    assert Lot.objects.get(location__slug="south", lot_number=LOT_KETAMINE).balance == Decimal(400)
    assert Lot.objects.get(location__slug="north", lot_number=LOT_KETAMINE).balance == Decimal(500)
    # Both the breakage and the disposal wait for the prescriber's signature on the ledger page.
    index = prescriber.get("/ledger/").content.decode()
    pending = LedgerEvent.objects.filter(kind__in=["breakage", "dispose"])
    assert all(f"/ledger/events/{e.pk}/witness/" in index for e in pending) and pending.count() == 2
    breakage = pending.get(kind="breakage")
    page = prescriber.get(f"/ledger/events/{breakage.pk}/witness/").content.decode()
    assert "Witness a breakage" in page and "cannot be recovered" in page
    assert (
        prescriber.post(f"/ledger/events/{breakage.pk}/witness/", {"password": PASSWORD}).status_code == 302
    )
    assert WasteWitness.objects.filter(event=breakage).exists()
    south_events = world.client("nurse.south").get("/ledger/events/").content.decode()
    assert "from North Clinic" in south_events


def test_a_theft_through_the_pages(world: World, north: ClinicLocation) -> None:
    nurse = world.client("nurse.north")
    assert nurse.get("/ledger/losses/new/").status_code == 200
    discovered = (timezone.localtime() - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = nurse.post(
        "/ledger/losses/new/",
        {
            "loss_type": "theft",
            "discovered_at": discovered,
            "product": "esketamine-28",
            "lot_number": LOT_ESKETAMINE,
            "quantity": "2",
            "description": "Drawer forced",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    page_url = response["Location"]
    assert Lot.objects.get(lot_number=LOT_ESKETAMINE).balance == Decimal(4)
    assert "Theft and loss: DEA steps open" in nurse.get("/ledger/").content.decode()
    page = nurse.get(page_url).content.decode()
    assert "Written notice to the DEA Field Division" in page and "50458-028-02" in page
    step = nurse.post(
        f"{page_url}steps/",
        {"step": "notice", "done_at": discovered, "reference": "Seattle Field Division"},
    )
    assert step.status_code == 302
    twice = nurse.post(f"{page_url}steps/", {"step": "notice", "done_at": discovered, "reference": "again"})
    assert twice.status_code == 409
    csv_text = world.client("admin.north").get(f"{page_url}form-106.csv").content.decode()
    assert "Seattle Field Division" in csv_text and "50458-028-02" in csv_text
    assert world.client("nurse.south").get(page_url).status_code == 404
    bad = nurse.post("/ledger/losses/new/", {"loss_type": "theft", "product": "esketamine-28"})
    assert bad.status_code == 422
