"""Billing reports: the sums are the invoices' (Hypothesis over the pure functions, and over the database
through the page's CSV), clinic admins only, another location sees nothing, and the list that names
patients names them only to an admin who also handles the money, each named patient audited as read."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import World
from ketaclinic.accounts.models import Membership
from ketaclinic.audit.models import Action, AuditEvent
from ketaclinic.billing import actions, inputs, reports
from ketaclinic.billing.models import EntryKind, Invoice, PaymentMethod
from ketaclinic.billing.reports import AGE_BUCKETS, Billed
from ketaclinic.billing.tests import matrix
from ketaclinic.treatment.tests import matrix as treatment_matrix

TODAY = dt.date(2026, 11, 27)
cents = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c) / 100)
positive = st.integers(min_value=1, max_value=200_000).map(lambda c: Decimal(c) / 100)
entry = st.tuples(st.sampled_from([k.value for k in EntryKind]), positive)
billed = st.builds(
    Billed,
    service_date=st.dates(min_value=dt.date(2025, 1, 1), max_value=TODAY),
    modality=st.sampled_from(["esketamine_nasal", "iv_ketamine", "im_ketamine"]),
    payer=st.sampled_from(["Self-pay", "Harbour Health PPO", "Medicare Part B"]),
    currency=st.sampled_from(["USD", "CAD"]),
    total=cents,
    entries=st.lists(entry, max_size=4).map(tuple),
)


def _by_currency(rows: list[dict[str, object]], key: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for row in rows:
        currency = str(row["currency"])
        out[currency] = out.get(currency, Decimal(0)) + Decimal(str(row[key]))
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(billed, max_size=30),
    st.sampled_from([("month",), ("modality",), ("payer",), reports.REVENUE_KEYS]),
)
def test_revenue_totals_are_the_invoices(facts: list[Billed], keys: tuple[str, ...]) -> None:
    rows = reports.revenue(facts, keys)
    for currency in {f.currency for f in facts}:
        mine = [f for f in facts if f.currency == currency]
        charged = sum((f.total for f in mine), Decimal(0))
        assert _by_currency(rows, "charged")[currency] == charged
        assert _by_currency(rows, "outstanding")[currency] == sum((f.balance for f in mine), Decimal(0))
        credited = sum((a for f in mine for k, a in f.entries if k == "credit_note"), Decimal(0))
        assert _by_currency(rows, "net")[currency] == charged - credited
    assert sum(int(str(r["invoices"])) for r in rows) == len(facts)
    # Each row: what was charged is what was credited, collected, written off and is still outstanding.
    for r in rows:
        assert r["charged"] == r["credited"] + r["collected"] + r["written_off"] + r["outstanding"]


@settings(max_examples=150, deadline=None)
@given(st.lists(billed, max_size=30))
def test_ageing_buckets_sum_to_the_open_balances(facts: list[Billed]) -> None:
    rows = reports.ageing(facts, TODAY)
    names = [b[0] for b in AGE_BUCKETS]
    for row in rows:
        assert sum((row[n] for n in names), Decimal(0)) == row["total"]
        assert all(row[n] >= 0 for n in names)
    for currency in {f.currency for f in facts}:
        open_balances = sum(
            (f.balance for f in facts if f.currency == currency and f.balance > 0), Decimal(0)
        )
        assert _by_currency(rows, "total").get(currency, Decimal(0)) == open_balances


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (-1, "0-30"),
    ],
)
def test_age_buckets_edges(days: int, bucket: str) -> None:
    assert reports.bucket_of(days) == bucket


def _invoices(world: World) -> list[Invoice]:
    """Two invoiced sessions at north, one partly paid, one with a write-off."""
    patient = world.patient("north")
    desk = world.user("frontdesk.north")
    with treatment_matrix.frozen(patient) as clock:
        first = matrix.invoice_of(patient, clock)
        first.patient = patient
        actions.do_record_payment(
            first,
            inputs.PaymentIn(amount=Decimal("100"), method=PaymentMethod.CASH, received_on=clock.now.date()),
            actor=desk,
        )
        actions.do_record_entry(
            first,
            inputs.EntryIn(kind=EntryKind.WRITE_OFF, amount=Decimal("18"), reason="courtesy"),
            actor=desk,
        )
    return [first]


def _csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_the_report_page_and_revenue_csv_sum_the_invoices(world: World) -> None:
    invoices = _invoices(world)
    north = invoices[0].location
    admin = world.client("admin.north")
    page = admin.get(f"/billing/reports/{north.pk}/", {"start": "2025-01-01", "end": "2027-12-31"})
    assert page.status_code == 200
    html = page.content.decode()
    for section in ('id="revenue"', 'id="ageing"', 'id="expiring"'):
        assert section in html
    assert invoices[0].patient.family_name not in html  # revenue and ageing name no patient
    got = admin.get(f"/billing/reports/{north.pk}/revenue.csv", {"start": "2025-01-01", "end": "2027-12-31"})
    assert got.status_code == 200 and got["Content-Type"].startswith("text/csv")
    rows = _csv(got.content)
    assert sum(Decimal(r["charged"]) for r in rows) == sum(
        i.total for i in Invoice.objects.filter(location=north)
    )
    assert sum(Decimal(r["collected"]) for r in rows) == Decimal("100")
    assert sum(Decimal(r["written_off"]) for r in rows) == Decimal("18")
    ageing = _csv(admin.get(f"/billing/reports/{north.pk}/ageing.csv").content)
    assert sum(Decimal(r["total"]) for r in ageing) == invoices[0].total - Decimal("118")
    assert AuditEvent.objects.filter(action=Action.BILLING_REPORT).count() == 3


def test_a_bad_period_is_refused_naming_the_field(world: World) -> None:
    north = world.patient("north").location
    admin = world.client("admin.north")
    page = admin.get(f"/billing/reports/{north.pk}/", {"start": "2026-05-01", "end": "2026-04-01"})
    assert page.status_code == 422 and "end" in page.context["errors"]
    got = admin.get(f"/billing/reports/{north.pk}/revenue.csv", {"start": "nope"})
    assert got.status_code == 422 and b"start" in got.content
    assert admin.get(f"/billing/reports/{north.pk}/secrets.csv").status_code == 404


def _expiring(world: World) -> None:
    patient = world.patient("north")
    with treatment_matrix.frozen(patient) as clock:
        plan = matrix.draft_plan(patient)
        today = clock.now.date()
        data = inputs.AuthorizationIn(
            number="PA-SOON",
            approved_from=today,
            approved_to=today + dt.timedelta(days=10),
            approved_sessions=3,
        )
        actions.do_record_authorization(plan, data, actor=world.user("frontdesk.north"))
        far = inputs.AuthorizationIn(
            number="PA-LATER",
            approved_from=today,
            approved_to=today + dt.timedelta(days=90),
            approved_sessions=3,
        )
        other = matrix.draft_plan(world.patient("north", 1))
        actions.do_record_authorization(other, far, actor=world.user("frontdesk.north"))


def test_expiring_authorizations_name_no_patient_to_an_admin(world: World) -> None:
    _expiring(world)
    patient = world.patient("north")
    admin = world.client("admin.north")
    before = AuditEvent.objects.filter(action=Action.PATIENT_READ).count()
    rows = _csv(admin.get(f"/billing/reports/{patient.location_id}/authorizations.csv").content)
    assert [r["number"] for r in rows] == ["PA-SOON"]  # PA-LATER ends in 90 days
    assert "patient_name" not in rows[0] and rows[0]["sessions_remaining"] == "3"
    page = admin.get(f"/billing/reports/{patient.location_id}/")
    assert b"PA-SOON" in page.content and patient.family_name.encode() not in page.content
    assert AuditEvent.objects.filter(action=Action.PATIENT_READ).count() == before


def test_an_admin_who_handles_money_sees_names_and_each_is_a_read(world: World) -> None:
    _expiring(world)
    patient = world.patient("north")
    user = world.user("admin.north")
    # An admin who is also front desk (a second admin approves such a grant: set up directly here).
    Membership.objects.create(user=user, location=patient.location, role="front_desk")
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    got = world.client("admin.north").get(f"/billing/reports/{patient.location_id}/authorizations.csv")
    rows = _csv(got.content)
    assert rows[0]["patient_name"] == f"{patient.family_name}, {patient.given_name}"
    reads = AuditEvent.objects.filter(seq__gt=before, action=Action.PATIENT_READ)
    assert list(reads.values_list("patient_id", flat=True)) == [patient.pk]


@pytest.mark.parametrize("who", ["frontdesk.north", "nurse.north", "therapist.north", "prescriber.north"])
def test_only_clinic_admins_read_reports(world: World, who: str) -> None:
    north = world.patient("north").location
    for url in (f"/billing/reports/{north.pk}/", f"/billing/reports/{north.pk}/revenue.csv"):
        assert world.client(who).get(url).status_code == 403


def test_another_locations_admin_sees_nothing(world: World) -> None:
    _invoices(world)
    north = world.patient("north").location
    client = world.client("admin.south")
    for url in (f"/billing/reports/{north.pk}/", f"/billing/reports/{north.pk}/revenue.csv"):
        response = client.get(url)
        assert response.status_code == 404 and b"PA-" not in response.content


def test_anonymous_is_sent_to_sign_in(world: World) -> None:
    north = world.patient("north").location
    response = world.client(None).get(f"/billing/reports/{north.pk}/ageing.csv")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
