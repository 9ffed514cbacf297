"""Reading the ledger: balances per product and lot, filtered event lists, and the status of a waste."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, QuerySet, Sum

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.clinicpolicy.clock import day_bounds
from ketaclinic.ledger.models import WITNESSED_KINDS, EventKind, LedgerEvent, LossReport, Lot, Product


@dataclass(frozen=True)
class Balance:
    location: ClinicLocation
    product: Product
    balance: Decimal
    lots: list[Lot]

    @property
    def unit(self) -> str:
        return self.product.unit


def balances(locations: Iterable[ClinicLocation]) -> list[Balance]:
    """Every product of the locations with its balance (the sum of its lots') and its lots holding stock."""
    locations = list(locations)
    by_id = {location.pk: location for location in locations}
    lots: dict[int, list[Lot]] = {}
    for lot in Lot.objects.filter(location_id__in=by_id).order_by("expires_on", "lot_number"):
        lots.setdefault(lot.product_id, []).append(lot)
    return [
        Balance(
            location=by_id[product.location_id],
            product=product,
            balance=sum((lot.balance for lot in lots.get(product.pk, [])), Decimal(0)),
            lots=[lot for lot in lots.get(product.pk, []) if lot.balance > 0],
        )
        for product in Product.objects.filter(location_id__in=by_id).order_by("location__name", "code")
    ]


def event_status(event: LedgerEvent) -> str:
    """ "pending" for a waste, breakage or disposal not yet witnessed, "witnessed" once it is, "recorded" for
    every other event."""
    if event.kind not in WITNESSED_KINDS:
        return "recorded"
    return "witnessed" if hasattr(event, "witness") else "pending"


def events(
    location_ids: Iterable[int],
    *,
    location: ClinicLocation | None = None,
    product: str = "",
    kind: str = "",
    lot_number: str = "",
    pending_only: bool = False,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[LedgerEvent]:
    """Events of the given locations, newest first, narrowed by the filters (days in the location's zone)."""
    rows = LedgerEvent.objects.filter(location_id__in=list(location_ids))
    if location is not None:
        rows = rows.filter(location=location)
        if since is not None:
            rows = rows.filter(occurred_at__gte=day_bounds(location, since)[0])
        if until is not None:
            rows = rows.filter(occurred_at__lt=day_bounds(location, until)[1])
    if product:
        rows = rows.filter(product__code=product)
    if kind:
        rows = rows.filter(kind=kind)
    if lot_number:
        rows = rows.filter(lot__lot_number=lot_number)
    if pending_only:
        rows = rows.filter(kind__in=WITNESSED_KINDS, witness__isnull=True)
    return rows.select_related(
        "product", "lot", "location", "recorded_by", "witness__witnessed_by", "counterpart_location"
    ).order_by("-occurred_at", "-id")


def balance_at(lot_ids: Iterable[int], moment: dt.datetime) -> dict[int, Decimal]:
    """Each lot's book balance just before `moment`: the sum of its earlier events."""
    rows = (
        LedgerEvent.objects.filter(lot_id__in=list(lot_ids), occurred_at__lt=moment)
        .values("lot_id")
        .annotate(total=Sum("delta"))
    )
    return {row["lot_id"]: row["total"] or Decimal(0) for row in rows}


def open_discrepancies(location_ids: Iterable[int]) -> QuerySet[LedgerEvent]:
    """Counts that differ from the book balance and that no adjustment references yet."""
    rows = LedgerEvent.objects.filter(
        location_id__in=list(location_ids), kind=EventKind.COUNT, corrections__isnull=True
    ).select_related("product", "lot", "location")
    return rows.exclude(counted=F("book_balance"))


def losses(location_ids: Iterable[int]) -> QuerySet[LossReport]:
    """Theft and significant-loss reports of the given locations, newest discovery first."""
    return (
        LossReport.objects.filter(location_id__in=list(location_ids))
        .select_related("location", "recorded_by")
        .prefetch_related("steps", "events__product", "events__lot")
        .order_by("-discovered_at", "-id")
    )
