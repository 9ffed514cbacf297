"""/api/v1/ledger: balances, events and the witness of a waste. Same actions as the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from pydantic import TypeAdapter

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Via
from ketaclinic.errors import Forbidden
from ketaclinic.ledger import access, actions, inputs, queries
from ketaclinic.ledger.actions import WitnessMethod
from ketaclinic.ledger.models import LedgerEvent
from ketaclinic.ledger.schemas import BalanceOut, EventOut, EventPage
from ketaclinic.patients.schemas import (
    ANY_OPERATION,
    NOT_FOUND,
    PAGE_LIMIT_DEFAULT,
    WITH_BODY,
    Limit,
    Offset,
    errors,
)

router = Router(tags=["Controlled-substance ledger"])
LISTED = errors(*ANY_OPERATION)
READ = errors(*ANY_OPERATION, NOT_FOUND)
WRITTEN = errors(*ANY_OPERATION, 409, *WITH_BODY)
WITNESSED = errors(*ANY_OPERATION, NOT_FOUND, 409, *WITH_BODY)


def _origin(request: HttpRequest) -> Any:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


BALANCES = TypeAdapter(list[BalanceOut])


def _json(body: bytes | str, status: int = 200) -> HttpResponse:
    """pydantic writes the JSON (so decimals come out as `schemas.Dec` says: "6", "37.5")."""
    return HttpResponse(body, status=status, content_type="application/json")


def event_out(event: LedgerEvent) -> EventOut:
    witness = getattr(event, "witness", None)
    return EventOut(
        id=event.pk,
        location=event.location.slug,
        product=event.product.code,
        lot_number=event.lot.lot_number,
        kind=event.kind,
        status=queries.event_status(event),
        occurred_at=event.occurred_at,
        recorded_by=event.recorded_by_id,
        reason=event.reason,
        delta=event.delta,
        balance_after=event.balance_after,
        unit=event.product.unit,
        amount_mg=event.amount_mg,
        volume_ml=event.volume_ml,
        containers=event.containers,
        supplier_name=event.supplier_name,
        supplier_address=event.supplier_address,
        supplier_dea_number=event.supplier_dea_number,
        patient_id=event.patient_id,
        session_ref=event.session_ref,
        counted=event.counted,
        book_balance=event.book_balance,
        discrepancy=event.discrepancy,
        corrects=event.corrects_id,
        witnessed_by=witness.witnessed_by_id if witness else None,
        witnessed_at=witness.witnessed_at if witness else None,
    )


@router.get("/ledger/balances", response={200: list[BalanceOut], **LISTED}, summary="Ledger balances")
def list_balances(request: HttpRequest) -> Any:
    """The book balance of every controlled-substance product at the locations whose ledger you read:
    mg for ketamine vials, devices for esketamine (28 mg each)."""
    _require(request, Perm.LEDGER_READ)
    rows = [
        BalanceOut(location=b.location.slug, product=b.product.code, balance=b.balance, unit=b.unit)
        for b in queries.balances(access.locations_for(request.user))
    ]
    return _json(BALANCES.dump_json(rows))


@router.get("/ledger/events", response={200: EventPage, **LISTED}, summary="List ledger events (paged)")
def list_events(
    request: HttpRequest,
    filters: Query[inputs.EventFilter],
    limit: Limit = PAGE_LIMIT_DEFAULT,
    offset: Offset = 0,
) -> Any:
    """Events of the ledgers you read, newest first. `since` and `until` count days in the location's zone
    and need `location`."""
    _require(request, Perm.LEDGER_READ)
    readable = location_ids(request.user, Perm.LEDGER_READ)
    location = (
        access.location_for(request.user, filters.location, Perm.LEDGER_READ) if filters.location else None
    )
    rows = queries.events(
        readable,
        location=location,
        product=filters.product,
        kind=filters.kind,
        lot_number=filters.lot_number,
        since=filters.since,
        until=filters.until,
    )
    page = EventPage(
        count=rows.count(),
        limit=limit,
        offset=offset,
        items=[event_out(e) for e in rows[offset : offset + limit]],
    )
    return _json(page.model_dump_json())


@router.post("/ledger/events", response={201: EventOut, **WRITTEN}, summary="Record a ledger event")
def create_event(request: HttpRequest, body: inputs.EventIn) -> Any:
    """Record a receipt (`quantity` = containers, with the lot's expiry and the supplier's name, address and
    DEA number), a waste (pending until another staff member witnesses it), a physical count or an
    adjustment (with a reason; `corrects` may name the event it settles). `quantity` is in the product's
    unit otherwise. An event that would take a balance below zero is refused (409) and saves nothing."""
    _require(request, Perm.LEDGER_WRITE)
    location = access.location_for(request.user, body.location)
    event = actions.do_record_event(location, body, actor=request.user, origin=_origin(request))
    response = _json(event_out(event).model_dump_json(), status=201)
    response["Location"] = f"{request.path.rstrip('/')}/{event.pk}"
    return response


@router.get("/ledger/events/{entry_id}", response={200: EventOut, **READ}, summary="Read a ledger event")
def read_event(request: HttpRequest, entry_id: int) -> Any:
    _require(request, Perm.LEDGER_READ)
    return _json(
        event_out(access.get_event_for(request.user, entry_id, origin=_origin(request))).model_dump_json()
    )


@router.post(
    "/ledger/events/{entry_id}/witness", response={200: EventOut, **WITNESSED}, summary="Witness a waste"
)
def witness_event(request: HttpRequest, entry_id: int, body: inputs.WitnessIn) -> Any:
    """Confirm another staff member's waste with your own token. The recorder cannot witness their own
    waste (403); a waste is witnessed once (409)."""
    _require(request, Perm.LEDGER_WRITE)
    origin = _origin(request)
    event = access.get_event_for(request.user, entry_id, write=True, origin=origin)
    try:
        actions.do_witness_waste(event, actor=request.user, method=WitnessMethod.TOKEN, origin=origin)
    except Forbidden:
        deny(request.user, origin, "ledger.witness")
        raise
    return _json(event_out(access.get_event_for(request.user, entry_id, origin=origin)).model_dump_json())
