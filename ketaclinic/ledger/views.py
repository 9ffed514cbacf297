"""Pages of the controlled-substance ledger: balances, events, the forms to record, the witness of a waste
and the report download.

A waste is witnessed from the witness's own signed-in session: the pending waste is listed on their ledger
page, and they confirm it by typing their own password again (it counts against their account's sign-in
limit). The recorder is never offered the button, and is refused if they try.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from ketaclinic.accounts import throttle
from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.clinicpolicy.clock import location_zone
from ketaclinic.errors import Forbidden, InvalidInput, Refused, field_errors
from ketaclinic.ledger import access, actions, form106, inputs, queries, report
from ketaclinic.ledger.actions import WitnessMethod
from ketaclinic.ledger.models import DisposalManner, EventKind, LossStepKind, LossType, Product
from ketaclinic.web.shortcuts import forbidden, form_errors, requires, web_origin
from ketaclinic.web.templating import DASH

PAGE_SIZE = 50
KINDS = {
    "receive": "Receive stock",
    "waste": "Record a waste",
    "breakage": "Record a breakage or spill",
    "dispose": "Dispose of stock",
    "transfer_out": "Transfer to another location",
    "count": "Physical count",
    "adjust": "Adjust a balance",
}
LABELS = {
    "location": "Location",
    "product": "Product",
    "lot_number": "Lot number",
    "quantity": "Quantity",
    "expires_on": "Lot expires on",
    "supplier_name": "Supplier name",
    "supplier_address": "Supplier address",
    "supplier_dea_number": "Supplier DEA number",
    "reason": "Reason",
    "corrects": "Corrects event",
    "manner": "Manner",
    "distributor_name": "Reverse distributor name",
    "distributor_address": "Reverse distributor address",
    "distributor_dea_number": "Reverse distributor DEA number",
    "to_location": "Receiving location",
    "loss_type": "Type of loss",
    "discovered_at": "Discovered at",
    "description": "What happened",
    "items": "Lots",
    "items.0.product": "Product",
    "items.0.lot_number": "Lot number",
    "items.0.quantity": "Quantity",
    "step": "Step",
    "done_at": "Done at",
    "reference": "Reference",
    "password": "Your password",
    "since": "From",
    "until": "To",
    "format": "Format",
}
CSRF_FIELD = "csrfmiddlewaretoken"
WITNESSED = {"waste": "a waste", "breakage": "a breakage", "dispose": "a disposal"}


def plain(value: Decimal | None, places: int = 3) -> str:
    """A quantity as the pages show it: plain notation, at most `places` decimals, no trailing zeros."""
    if value is None:
        return DASH
    rounded = value.quantize(Decimal(1).scaleb(-places))
    return format(rounded.normalize(), "f")


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    locations = context.get("locations", [])
    extra = {"plain": plain, "location_choices": [(loc.slug, loc.name) for loc in locations]}
    return render(request, template, {**extra, **context}, status=status)


def _sent(request: HttpRequest) -> dict[str, Any]:
    """The form's fields, one value each, blanks left out (so a model's defaults apply)."""
    return {k: v for k, v in request.POST.items() if k != CSRF_FIELD and v != ""}


def _messages(errors: dict[str, str]) -> dict[str, str]:
    return form_errors(errors)


@requires(Perm.LEDGER_READ)
def index(request: HttpRequest) -> HttpResponse:
    """Balances per product and lot, wastes waiting for a witness, counts that differ from the book."""
    user = request.user
    readable = location_ids(user, Perm.LEDGER_READ)
    locations = access.locations_for(user)
    context = {
        "balances": queries.balances(locations),
        "pending": list(queries.events(readable, pending_only=True)[:PAGE_SIZE]),
        "discrepancies": list(queries.open_discrepancies(readable)[:PAGE_SIZE]),
        "losses": [
            (r, status)
            for r in queries.losses(readable)[:PAGE_SIZE]
            if (status := actions.loss_status(r)) != "filed"
        ],
        "writable": location_ids(user, Perm.LEDGER_WRITE),
        "kinds": KINDS,
        "locations": locations,
        "many_locations": len(locations) > 1,
    }
    return _page(request, "ledger/index.html", context)


@requires(Perm.LEDGER_READ)
@require_http_methods(["GET"])
def events(request: HttpRequest) -> HttpResponse:
    """Every event of the user's ledgers, newest first, with filters (none of them names a patient)."""
    user = request.user
    readable = location_ids(user, Perm.LEDGER_READ)
    sent = {k: v for k, v in request.GET.items() if k != "page" and v != ""}
    errors: dict[str, str] = {}
    rows: Any = []
    try:
        filters = inputs.EventFilter.model_validate(sent)
        location = access.location_for(user, filters.location, Perm.LEDGER_READ) if filters.location else None
        rows = queries.events(
            readable,
            location=location,
            product=filters.product,
            kind=filters.kind,
            lot_number=filters.lot_number,
            since=filters.since,
            until=filters.until,
        )
    except ValidationError as exc:
        errors = _messages(field_errors(exc))
    except InvalidInput as exc:
        errors = _messages(exc.errors)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "errors": errors,
        "values": sent,
        "labels": LABELS,
        "locations": access.locations_for(user),
        "products": sorted({(p.code, p.form) for p in Product.objects.filter(location_id__in=readable)}),
        "kind_choices": EventKind.choices,
        "query": "&".join(f"{k}={v}" for k, v in sent.items()),
    }
    return _page(request, "ledger/events.html", context, status=422 if errors else 200)


def _record_context(request: HttpRequest, kind: str, **extra: Any) -> dict[str, Any]:
    writable = access.locations_for(request.user, Perm.LEDGER_WRITE)
    products = list(
        Product.objects.filter(location__in=writable, active=True)
        .select_related("location")
        .order_by("location__name", "code")
    )
    networks = {location.network_id for location in writable}
    destinations = ClinicLocation.objects.filter(network_id__in=networks).order_by("name")
    if len(writable) == 1:  # a transfer goes to another location than one's own
        destinations = destinations.exclude(pk=writable[0].pk)
    return {
        "kind": kind,
        "title": KINDS[kind],
        "manner_choices": DisposalManner.choices,
        "destination_choices": [(loc.slug, loc.name) for loc in destinations],
        "locations": writable,
        "product_choices": [
            (p.code, p.form if len(writable) == 1 else f"{p.form} ({p.location.name})") for p in products
        ],
        "labels": LABELS,
        "errors": {},
        "values": {},
        **extra,
    }


@requires(Perm.LEDGER_WRITE)
@require_http_methods(["GET", "POST"])
def record_event(request: HttpRequest, kind: str) -> HttpResponse:
    """The form for a receipt, a waste, a breakage, a disposal, a transfer, a count or an adjustment; one
    action each, as the API's."""
    if request.method == "GET":
        return _page(request, "ledger/record.html", _record_context(request, kind))
    sent = {**_sent(request), "kind": kind}
    if isinstance(sent.get("corrects"), str) and sent["corrects"].isdigit():
        sent["corrects"] = int(sent["corrects"])
    status = 422
    try:
        data = inputs.EventIn.model_validate(sent)
        location = access.location_for(request.user, data.location)
        actions.do_record_event(location, data, actor=request.user, origin=web_origin(request))
    except ValidationError as exc:
        errors = _messages(field_errors(exc))
    except InvalidInput as exc:
        errors = _messages(exc.errors)
    except Refused as exc:
        errors, status = {exc.field or "quantity": "; ".join([exc.detail, *exc.reasons])}, 409
    else:
        return redirect("ledger:index")
    values = {k: v for k, v in sent.items() if k != "kind"}
    return _page(
        request,
        "ledger/record.html",
        _record_context(request, kind, errors=errors, values=values),
        status=status,
    )


@requires(Perm.LEDGER_WRITE)
@require_http_methods(["GET", "POST"])
def witness(request: HttpRequest, event_id: int) -> HttpResponse:
    """Witness another staff member's waste, breakage or disposal from your own session, confirming with your
    own password."""
    origin = web_origin(request)
    event = access.get_event_for(request.user, event_id, write=True, origin=origin)
    context: dict[str, Any] = {
        "event": event,
        "what": WITNESSED.get(event.kind, "an event"),
        "status": queries.event_status(event),
        "errors": {},
        "labels": LABELS,
    }
    own = event.recorded_by_id == request.user.pk
    if request.method == "GET":
        return _page(request, "ledger/witness.html", {**context, "own": own})
    if own:
        deny(request.user, origin, "ledger.witness")
        return forbidden(request)
    password = request.POST.get("password", "")
    if not throttle.take_password_check(request.user.username).allowed:
        throttle.spend_a_password_check(password)
        context["errors"] = {"password": "Too many wrong passwords: wait before trying again."}
        return _page(request, "ledger/witness.html", {**context, "own": own}, status=429)
    if not password or not request.user.check_password(password):
        record(
            Action.ACCESS_DENIED,
            actor=request.user,
            origin=origin,
            outcome=Outcome.DENIED,
            obj=event,
            location_id=event.location_id,
            changed_fields=["password"],
        )
        context["errors"] = {"password": "This is not your password."}
        return _page(request, "ledger/witness.html", {**context, "own": own}, status=422)
    throttle.reset(throttle.account_key(request.user.username))
    try:
        actions.do_witness_waste(event, actor=request.user, method=WitnessMethod.SESSION, origin=origin)
    except Forbidden:
        deny(request.user, origin, "ledger.witness")
        return forbidden(request)
    except Refused as exc:
        context["errors"] = {"password": "; ".join([exc.detail, *exc.reasons])}
        return _page(request, "ledger/witness.html", {**context, "own": own}, status=409)
    return redirect("ledger:index")


@requires(Perm.LEDGER_READ)
@require_http_methods(["GET", "POST"])
def report_download(request: HttpRequest) -> HttpResponse:
    """The DEA record for a date range as CSV or PDF. A POST, so the choice stays out of the address."""
    locations = access.locations_for(request.user)
    context: dict[str, Any] = {"locations": locations, "errors": {}, "values": {}, "labels": LABELS}
    if request.method == "GET":
        return _page(request, "ledger/report.html", context)
    sent = _sent(request)
    try:
        data = inputs.ReportIn.model_validate(sent)
        location = access.location_for(request.user, data.location, Perm.LEDGER_READ)
    except ValidationError as exc:
        context["errors"] = _messages(field_errors(exc))
    except InvalidInput as exc:
        context["errors"] = _messages(exc.errors)
    if context["errors"]:
        return _page(request, "ledger/report.html", {**context, "values": sent}, status=422)
    names_shown = can(request.user, Perm.PATIENT_READ, location.pk)
    built = report.build(location, data.since, data.until, user=request.user, names_shown=names_shown)
    record(
        Action.LEDGER_REPORT,
        actor=request.user,
        origin=web_origin(request),
        location_id=location.pk,
        changed_fields=["patient_name", "patient_address"] if names_shown else [],
    )
    name = f"ledger-{location.slug}-{data.since.isoformat()}-{data.until.isoformat()}.{data.format}"
    if data.format == "pdf":
        response = HttpResponse(report.to_pdf(built), content_type="application/pdf")
    else:
        response = HttpResponse(report.to_csv(built), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _aware(location: ClinicLocation, sent: dict[str, Any], name: str) -> None:
    """A page's datetime-local field is the location's wall clock: give it the location's offset."""
    value = sent.get(name)
    if (
        isinstance(value, str)
        and value
        and "+" not in value[10:]
        and "Z" not in value
        and value.count("-") == 2
    ):
        try:
            naive = dt.datetime.fromisoformat(value)
        except ValueError:
            return
        sent[name] = naive.replace(tzinfo=location_zone(location)).isoformat()


@requires(Perm.LEDGER_READ)
@require_http_methods(["GET"])
def losses(request: HttpRequest) -> HttpResponse:
    """Theft and significant-loss reports of the user's ledgers, with the DEA steps due."""
    readable = location_ids(request.user, Perm.LEDGER_READ)
    rows = [(r, actions.loss_status(r)) for r in queries.losses(readable)[:PAGE_SIZE]]
    context = {
        "rows": rows,
        "writable": location_ids(request.user, Perm.LEDGER_WRITE),
        "locations": access.locations_for(request.user),
    }
    return _page(request, "ledger/losses.html", context)


def _loss_form_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    context = _record_context(request, "waste", **extra)
    return {**context, "title": "Report a theft or significant loss", "loss_types": LossType.choices}


@requires(Perm.LEDGER_WRITE)
@require_http_methods(["GET", "POST"])
def loss_new(request: HttpRequest) -> HttpResponse:
    """Report a theft or significant loss of one lot (the API takes several lots at once)."""
    if request.method == "GET":
        return _page(request, "ledger/loss_new.html", _loss_form_context(request))
    sent = _sent(request)
    status = 422
    try:
        location = access.location_for(request.user, str(sent.get("location", "")))
        _aware(location, sent, "discovered_at")
        item = {k: sent.pop(k) for k in ("product", "lot_number", "quantity") if k in sent}
        data = inputs.LossIn.model_validate({**sent, "items": [item]})
        report_ = actions.do_report_loss(location, data, actor=request.user, origin=web_origin(request))
    except ValidationError as exc:
        errors = _messages(field_errors(exc))
    except InvalidInput as exc:
        errors = _messages(exc.errors)
    except Refused as exc:
        errors, status = {"items.0.quantity": "; ".join([exc.detail, *exc.reasons])}, 409
    else:
        return redirect("ledger:loss", report_.pk)
    values = {**_sent(request)}
    return _page(
        request,
        "ledger/loss_new.html",
        _loss_form_context(request, errors=errors, values=values),
        status=status,
    )


def _loss_page(request: HttpRequest, loss_id: int, errors: dict[str, str], status: int = 200) -> HttpResponse:
    origin = web_origin(request)
    found = access.get_loss_for(request.user, loss_id, origin=origin)
    report_ = queries.losses([found.location_id]).get(pk=found.pk)
    context = {
        "r": report_,
        "status": actions.loss_status(report_),
        "steps": {step.step: step for step in report_.steps.all()},
        "items": sorted(report_.events.all(), key=lambda e: e.pk),
        "can_write": can(request.user, Perm.LEDGER_WRITE, report_.location_id),
        "step_choices": LossStepKind.choices,
        "errors": errors,
        "labels": LABELS,
        "values": _sent(request) if errors else {},
        "containers": form106.containers,
    }
    return _page(request, "ledger/loss.html", context, status=status)


@requires(Perm.LEDGER_READ)
@require_http_methods(["GET"])
def loss(request: HttpRequest, loss_id: int) -> HttpResponse:
    """One theft or loss report: what was lost, the deadlines, the steps done and the Form 106 data."""
    return _loss_page(request, loss_id, {})


@requires(Perm.LEDGER_WRITE)
@require_http_methods(["POST"])
def loss_step(request: HttpRequest, loss_id: int) -> HttpResponse:
    """Record the written notice sent to the DEA Field Division, or Form 106 filed."""
    origin = web_origin(request)
    report_ = access.get_loss_for(request.user, loss_id, write=True, origin=origin)
    sent = _sent(request)
    _aware(report_.location, sent, "done_at")
    status = 422
    try:
        data = inputs.LossStepIn.model_validate(sent)
        actions.do_record_loss_step(report_, data, actor=request.user, origin=origin)
    except ValidationError as exc:
        errors = _messages(field_errors(exc))
    except InvalidInput as exc:
        errors = _messages(exc.errors)
    except Refused as exc:
        errors, status = {exc.field or "step": "; ".join([exc.detail, *exc.reasons])}, 409
    else:
        return redirect("ledger:loss", report_.pk)
    return _loss_page(request, loss_id, errors, status)


@requires(Perm.LEDGER_READ)
@require_http_methods(["GET"])
def loss_form_106(request: HttpRequest, loss_id: int) -> HttpResponse:
    """The loss report's DEA Form 106 data as CSV (no patient is named in it)."""
    origin = web_origin(request)
    found = access.get_loss_for(request.user, loss_id, origin=origin)
    report_ = queries.losses([found.location_id]).get(pk=found.pk)
    record(
        Action.LEDGER_LOSS_EXPORT,
        actor=request.user,
        origin=origin,
        obj=report_,
        location_id=report_.location_id,
    )
    response = HttpResponse(form106.to_csv(report_), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="form-106-loss-{report_.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response
