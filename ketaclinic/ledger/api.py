"""/api/v1/ledger: balances, events, the witness of a waste, breakage or disposal, and theft and loss reports
with their DEA steps and Form 106 data. Same actions as the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from pydantic import TypeAdapter

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.errors import Forbidden
from ketaclinic.ledger import access, actions, form106, inputs, queries
from ketaclinic.ledger.actions import WitnessMethod
from ketaclinic.ledger.models import LedgerEvent, LossReport
from ketaclinic.ledger.schemas import (
    BalanceOut,
    EventOut,
    EventPage,
    LossItemOut,
    LossOut,
    LossPage,
)
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


def event_out(event: LedgerEvent, user: Any) -> EventOut:
    """The event as the API answers it; the patient of a dose only for a reader of the location's patients."""
    witness = getattr(event, "witness", None)
    shown = event.patient_id is not None and access.sees_patients(user, event.location_id)
    transferred = getattr(event, "transferred_as", None)
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
        patient_id=event.patient_id if shown else None,
        patient_withheld=event.patient_id is not None and not shown,
        session_ref=event.session_ref,
        counted=event.counted,
        book_balance=event.book_balance,
        discrepancy=event.discrepancy,
        corrects=event.corrects_id,
        witnessed_by=witness.witnessed_by_id if witness else None,
        witnessed_at=witness.witnessed_at if witness else None,
        manner=event.manner,
        distributor_name=event.distributor_name,
        distributor_address=event.distributor_address,
        distributor_dea_number=event.distributor_dea_number,
        counterpart_location=event.counterpart_location.slug if event.counterpart_location else None,
        transfer_of=event.transfer_of_id,
        transferred_as=transferred.pk if transferred else None,
        loss_report=event.loss_report_id,
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
        items=[event_out(e, request.user) for e in rows[offset : offset + limit]],
    )
    return _json(page.model_dump_json())


@router.post("/ledger/events", response={201: EventOut, **WRITTEN}, summary="Record a ledger event")
def create_event(request: HttpRequest, body: inputs.EventIn) -> Any:
    """Record a receipt (`quantity` = containers, with the lot's expiry and the supplier's name, address and
    DEA number), a waste, a breakage (with its circumstances in `reason`) or a disposal (`manner`
    `destroyed`, or `reverse_distributor` with the distributor's name, address and DEA number), each pending
    until another staff member witnesses it; a transfer (`transfer_out`, `to_location` another location of
    the network that stocks the product: both books move together), a physical count or an adjustment (with
    a reason; `corrects` may name the event it settles). `quantity` is in the product's unit otherwise. An
    event that would take a balance below zero is refused (409) and saves nothing."""
    _require(request, Perm.LEDGER_WRITE)
    location = access.location_for(request.user, body.location)
    event = actions.do_record_event(location, body, actor=request.user, origin=_origin(request))
    response = _json(event_out(event, request.user).model_dump_json(), status=201)
    response["Location"] = f"{request.path.rstrip('/')}/{event.pk}"
    return response


@router.get("/ledger/events/{entry_id}", response={200: EventOut, **READ}, summary="Read a ledger event")
def read_event(request: HttpRequest, entry_id: int) -> Any:
    _require(request, Perm.LEDGER_READ)
    return _json(
        event_out(
            access.get_event_for(request.user, entry_id, origin=_origin(request)), request.user
        ).model_dump_json()
    )


@router.post(
    "/ledger/events/{entry_id}/witness", response={200: EventOut, **WITNESSED}, summary="Witness a waste"
)
def witness_event(request: HttpRequest, entry_id: int, body: inputs.WitnessIn) -> Any:
    """Confirm another staff member's waste, breakage (the second signature) or disposal with your own token.
    The recorder cannot witness their own event (403); an event is witnessed once (409)."""
    _require(request, Perm.LEDGER_WRITE)
    origin = _origin(request)
    event = access.get_event_for(request.user, entry_id, write=True, origin=origin)
    try:
        actions.do_witness_waste(event, actor=request.user, method=WitnessMethod.TOKEN, origin=origin)
    except Forbidden:
        deny(request.user, origin, "ledger.witness")
        raise
    event = access.get_event_for(request.user, entry_id, origin=origin)
    return _json(event_out(event, request.user).model_dump_json())


def loss_out(report: LossReport) -> LossOut:
    steps = {step.step: step for step in report.steps.all()}
    notice, filed = steps.get("notice"), steps.get("form_106")
    return LossOut(
        id=report.pk,
        location=report.location.slug,
        loss_type=report.loss_type,
        status=actions.loss_status(report),
        discovered_at=report.discovered_at,
        description=report.description,
        recorded_by=report.recorded_by_id,
        recorded_at=report.recorded_at,
        notice_due_on=report.notice_due_on,
        form_106_due_on=report.form_106_due_on,
        notice_sent_at=notice.done_at if notice else None,
        notice_reference=notice.reference if notice else "",
        form_106_filed_at=filed.done_at if filed else None,
        form_106_confirmation=filed.reference if filed else "",
        items=[
            LossItemOut(
                event_id=event.pk,
                product=event.product.code,
                substance=event.product.substance,
                form=event.product.form,
                ndc=event.product.ndc,
                lot_number=event.lot.lot_number,
                quantity=-event.delta,
                unit=event.product.unit,
                amount_mg=event.amount_mg,
                volume_ml=event.volume_ml,
            )
            for event in sorted(report.events.all(), key=lambda e: e.pk)
        ],
    )


def _loss(request: HttpRequest, loss_id: int, *, write: bool = False) -> LossReport:
    report = access.get_loss_for(request.user, loss_id, write=write, origin=_origin(request))
    return queries.losses([report.location_id]).get(pk=report.pk)


@router.get(
    "/ledger/losses", response={200: LossPage, **LISTED}, summary="List theft and loss reports (paged)"
)
def list_losses(request: HttpRequest, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0) -> Any:
    """Theft and significant-loss reports of the ledgers you read, newest discovery first, each with its
    status: `notice_due`, `notice_overdue`, `form_106_due`, `form_106_overdue` or `filed`."""
    _require(request, Perm.LEDGER_READ)
    rows = queries.losses(location_ids(request.user, Perm.LEDGER_READ))
    page = LossPage(
        count=rows.count(),
        limit=limit,
        offset=offset,
        items=[loss_out(r) for r in rows[offset : offset + limit]],
    )
    return _json(page.model_dump_json())


@router.post(
    "/ledger/losses", response={201: LossOut, **WRITTEN}, summary="Report a theft or significant loss"
)
def create_loss(request: HttpRequest, body: inputs.LossIn) -> Any:
    """Report a theft or significant loss: each item's quantity (product unit) leaves its lot's book as a
    `loss` event; the answer gives the written notice's due date (one business day after discovery, in the
    location's days) and Form 106's (45 days). A quantity a lot does not hold is refused (409)."""
    _require(request, Perm.LEDGER_WRITE)
    location = access.location_for(request.user, body.location)
    report = actions.do_report_loss(location, body, actor=request.user, origin=_origin(request))
    response = _json(loss_out(queries.losses([location.pk]).get(pk=report.pk)).model_dump_json(), status=201)
    response["Location"] = f"{request.path.rstrip('/')}/{report.pk}"
    return response


@router.get(
    "/ledger/losses/{loss_id}", response={200: LossOut, **READ}, summary="Read a theft or loss report"
)
def read_loss(request: HttpRequest, loss_id: int) -> Any:
    _require(request, Perm.LEDGER_READ)
    return _json(loss_out(_loss(request, loss_id)).model_dump_json())


@router.post(
    "/ledger/losses/{loss_id}/steps",
    response={201: LossOut, **WITNESSED},
    summary="Record the DEA notice or Form 106 of a loss",
)
def create_loss_step(request: HttpRequest, loss_id: int, body: inputs.LossStepIn) -> Any:
    """`notice`: the written notice sent to the DEA Field Division (`reference` names it); `form_106`: Form
    106 filed (`reference` is its confirmation), after the notice. Each step once (409)."""
    _require(request, Perm.LEDGER_WRITE)
    report = _loss(request, loss_id, write=True)
    actions.do_record_loss_step(report, body, actor=request.user, origin=_origin(request))
    response = _json(loss_out(_loss(request, loss_id)).model_dump_json(), status=201)
    response["Location"] = request.path.rstrip("/").rsplit("/", 1)[0]
    return response


# The 200 answer is CSV only, so it is documented here rather than as a JSON response model.
CSV_ANSWER = {
    "responses": {
        200: {
            "description": "The Form 106 data as CSV",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    }
}


@router.get(
    "/ledger/losses/{loss_id}/form-106",
    response={**READ},
    summary="DEA Form 106 data of a loss (CSV)",
    openapi_extra=CSV_ANSWER,
)
def loss_form_106(request: HttpRequest, loss_id: int) -> Any:
    """The loss report's Form 106 data as CSV: dates, and per lot the NDC and the quantities."""
    _require(request, Perm.LEDGER_READ)
    report = _loss(request, loss_id)
    record(
        Action.LEDGER_LOSS_EXPORT,
        actor=request.user,
        origin=_origin(request),
        obj=report,
        location_id=report.location_id,
    )
    response = HttpResponse(form106.to_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="form-106-loss-{report.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response
