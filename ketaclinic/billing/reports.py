"""Billing reports of a location for its clinic admins: revenue by modality, payer and month; outstanding
balances by age; prior authorisations ending in the next 30 days.

The arithmetic is in pure functions over `Billed` facts (one per invoice, with its money entries), so that
the totals are tested against the invoices they come from (tests/test_reports.py, Hypothesis); `billed_at`
loads the facts in three queries whatever the number of invoices.

Revenue is what was invoiced (`charged`, by the month of the service day), less credit notes (`net`);
`collected` is payments less refunds; `outstanding` the balances still open (below zero: credit). A balance's
age is counted in days from the service day to the location's today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ketaclinic.billing import coding
from ketaclinic.billing.models import EntryKind, Invoice, InvoiceEntry, PriorAuthorization
from ketaclinic.treatment.models import PlanModality

SELF_PAY = "Self-pay"
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)
EXPIRY_DAYS = 30
REVENUE_KEYS = ("month", "modality", "payer")
MONEY = ("charged", "credited", "net", "collected", "written_off", "outstanding")


@dataclass(frozen=True)
class Billed:
    """One invoice as the reports read it."""

    service_date: dt.date
    modality: str
    payer: str
    currency: str
    total: Decimal
    entries: tuple[tuple[str, Decimal], ...] = field(default=())

    @property
    def balance(self) -> Decimal:
        return coding.balance(self.total, self.entries)

    def summed(self, kind: str) -> Decimal:
        return sum((a for k, a in self.entries if k == kind), Decimal(0))


def revenue(facts: Iterable[Billed], keys: Sequence[str] = REVENUE_KEYS) -> list[dict[str, Any]]:
    """One row per combination of `keys` (of month, modality, payer) and currency, sorted by them."""
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for f in facts:
        values = {"month": f.service_date.strftime("%Y-%m"), "modality": f.modality, "payer": f.payer}
        key = (*(values[k] for k in keys), f.currency)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                **{k: values[k] for k in keys},
                "currency": f.currency,
                "invoices": 0,
                **{m: Decimal(0) for m in MONEY},
            }
        credited = f.summed(EntryKind.CREDIT_NOTE)
        row["invoices"] += 1
        row["charged"] += f.total
        row["credited"] += credited
        row["net"] += f.total - credited
        row["collected"] += f.summed(EntryKind.PAYMENT) - f.summed(EntryKind.REFUND)
        row["written_off"] += f.summed(EntryKind.WRITE_OFF)
        row["outstanding"] += f.balance
    return [rows[k] for k in sorted(rows)]


def bucket_of(age_days: int) -> str:
    for name, low, high in AGE_BUCKETS:
        if age_days >= low and (high is None or age_days <= high):
            return name
    return AGE_BUCKETS[0][0]  # a service day after today (a clock's slack) is current


def ageing(facts: Iterable[Billed], today: dt.date) -> list[dict[str, Any]]:
    """Open balances (above zero) by payer and currency, in the age buckets, with their total."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for f in facts:
        balance = f.balance
        if balance <= 0:
            continue
        key = (f.payer, f.currency)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "payer": f.payer,
                "currency": f.currency,
                "invoices": 0,
                **{name: Decimal(0) for name, _, _ in AGE_BUCKETS},
                "total": Decimal(0),
            }
        row["invoices"] += 1
        row[bucket_of((today - f.service_date).days)] += balance
        row["total"] += balance
    return [rows[k] for k in sorted(rows)]


def billed_at(location: Any, start: dt.date | None = None, end: dt.date | None = None) -> list[Billed]:
    """The location's invoices (of service days in [start, end] when given) as facts: three queries."""
    invoices = Invoice.objects.filter(location=location).select_related("coverage", "session__plan")
    if start is not None:
        invoices = invoices.filter(service_date__gte=start)
    if end is not None:
        invoices = invoices.filter(service_date__lte=end)
    found = list(
        invoices.only("id", "service_date", "currency", "total", "coverage__payer", "session__plan__modality")
    )
    entries: dict[Any, list[tuple[str, Decimal]]] = {i.pk: [] for i in found}
    for invoice_id, kind, amount in InvoiceEntry.objects.filter(
        invoice__in=[i.pk for i in found]
    ).values_list("invoice_id", "kind", "amount"):
        entries[invoice_id].append((kind, amount))
    return [
        Billed(
            service_date=i.service_date,
            modality=i.session.plan.modality,
            payer=i.coverage.payer if i.coverage_id and i.coverage else SELF_PAY,
            currency=i.currency,
            total=i.total,
            entries=tuple(entries[i.pk]),
        )
        for i in found
    ]


def expiring(location: Any, today: dt.date, days: int = EXPIRY_DAYS) -> list[PriorAuthorization]:
    """The location's prior authorisations whose last day is within `days` from today (today included),
    the latest recorded per plan only (a renewal supersedes the one it renews)."""
    rows = list(
        PriorAuthorization.objects.filter(plan__location=location)
        .select_related("plan", "patient", "coverage")
        .order_by("plan_id", "-created_at")
    )
    latest: dict[Any, PriorAuthorization] = {}
    for row in rows:
        latest.setdefault(row.plan_id, row)
    last_day = today + dt.timedelta(days=days)
    soon = [a for a in latest.values() if today <= a.approved_to <= last_day]
    return sorted(soon, key=lambda a: (a.approved_to, a.number))


MODALITY_NAMES = dict(PlanModality.choices)
