"""Pages of billing: a location's price list, a patient's coverage (with card images) and account (invoices
and balance), a plan's estimate (printable), and an invoice with its payments, refunds, write-offs and credit
notes. Every write goes through the same input models and actions as the API; a refused form is shown again
with the message by its field, and nothing is saved."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import BaseModel, ValidationError

from ketaclinic.accounts.access import can
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action
from ketaclinic.billing import actions, inputs, packet, queries, reports, superbill
from ketaclinic.billing.access import (
    billing_patient_for,
    get_card_for,
    get_coverage_for,
    get_invoice_for,
)
from ketaclinic.billing.models import CardSide, EntryKind, Invoice, PayerKind, PaymentMethod, PriceItem
from ketaclinic.clinical.vocab import CONDITIONS
from ketaclinic.clinicpolicy.access import get_location_for
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.errors import Forbidden, InvalidInput, NotFound, Refused, field_errors
from ketaclinic.treatment.access import get_plan_for, get_session_for
from ketaclinic.treatment.models import PlanModality
from ketaclinic.web.shortcuts import form_errors, requires, web_origin

LABELS = {
    "item": "Item",
    "code": "Code",
    "amount": "Amount",
    "currency": "Currency",
    "effective_from": "In force from",
    "place_of_service": "Place of service",
    "payer": "Payer",
    "member_id": "Member id",
    "plan": "Plan",
    "group_number": "Group number",
    "payer_kind": "Payer kind",
    "payer_id": "Payer id",
    "subscriber_name": "Subscriber",
    "subscriber_relationship": "Relationship to patient",
    "modality": "Modality",
    "copay": "Copay",
    "coinsurance_percent": "Coinsurance (%)",
    "deductible_remaining": "Deductible left",
    "method": "Method",
    "received_on": "Received on",
    "reason": "Reason",
    "kind": "Kind",
    "image": "Card image",
    "card_front": "Front of the card",
    "card_back": "Back of the card",
    "integration_per_session": "Integration sessions per dose session",
}
M = TypeVar("M", bound=BaseModel)
BOOLS = ("carve_out", "split_billing", "covered", "prior_auth_required", "as_credit")


def _read_event(request: HttpRequest, patient: Any, obj: Any, fields: list[str]) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=web_origin(request),
        obj=obj,
        patient=patient,
        changed_fields=fields,
    )


def _parse(request: HttpRequest, model: type[M]) -> M:
    """The POSTed form as the model: a ticked box is true, an empty optional field is left out."""
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name in BOOLS:
            data[name] = name in request.POST
        elif request.POST.get(name, "") != "":
            data[name] = request.POST[name]
        elif field.is_required():
            data[name] = ""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from exc


def _money_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"errors": {}, "values": {}, "labels": LABELS, "refused": None, **extra}


# --- Price list ----------------------------------------------------------------------------------------


@requires(Perm.BILLING_PRICES_READ)
@require_http_methods(["GET", "POST"])
def prices(request: HttpRequest, location_id: int) -> HttpResponse:
    origin = web_origin(request)
    perm = Perm.BILLING_PRICES_MANAGE if request.method == "POST" else Perm.BILLING_PRICES_READ
    if not can(request.user, perm):
        deny(request.user, origin, str(perm))
        raise Forbidden
    location = get_location_for(request.user, location_id, perm, origin=origin)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            data = _parse(request, inputs.PriceIn)
            actions.do_add_price(location, data, actor=request.user, origin=origin)
            return redirect("billing:prices", location.pk)
        except InvalidInput as exc:
            errors, status = form_errors(exc.errors), 422
    today = local_today(location)
    rows = queries.mark_in_force(queries.price_list(location), today)
    context = _money_context(
        request,
        location=location,
        rows=rows,
        items=PriceItem.choices,
        can_manage=can(request.user, Perm.BILLING_PRICES_MANAGE, location.pk),
        errors=errors,
        values=request.POST if errors else {},
        today=today.isoformat(),
        currency=actions.location_currency(location) or "USD",
    )
    return render(request, "billing/prices.html", context, status=status)


# --- A patient's coverage and account ------------------------------------------------------------------


def _coverage_page(request: HttpRequest, patient: Any, status: int = 200, **extra: Any) -> HttpResponse:
    _read_event(request, patient, patient, ["coverages"])
    context = _money_context(
        request,
        patient=patient,
        coverages=queries.coverages_of(patient),
        payer_kinds=PayerKind.choices,
        modalities=PlanModality.choices,
        modality_names=dict(PlanModality.choices),
        sides=CardSide.choices,
        **extra,
    )
    return render(request, "billing/coverage.html", context, status=status)


@requires(Perm.BILLING_HANDLE)
@require_http_methods(["GET", "POST"])
def coverage(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    patient = billing_patient_for(request.user, pk, origin=origin)
    if request.method == "GET":
        return _coverage_page(request, patient)
    try:
        actions.do_add_coverage(
            patient, _parse(request, inputs.CoverageIn), actor=request.user, origin=origin
        )
    except InvalidInput as exc:
        return _coverage_page(request, patient, 422, errors=form_errors(exc.errors), values=request.POST)
    return redirect("billing:coverage", patient.pk)


@requires(Perm.BILLING_HANDLE)
@require_POST
def benefit_check(request: HttpRequest, pk: str, coverage_id: str) -> HttpResponse:
    origin = web_origin(request)
    patient = billing_patient_for(request.user, pk, origin=origin)
    found = get_coverage_for(request.user, coverage_id, patient=patient, origin=origin)
    try:
        data = _parse(request, inputs.BenefitCheckIn)
        actions.do_record_benefit_check(found, data, actor=request.user, origin=origin)
    except InvalidInput as exc:
        return _coverage_page(
            request, patient, 422, errors=form_errors(exc.errors), values=request.POST, open_coverage=found.pk
        )
    except Refused as exc:
        return _coverage_page(request, patient, 409, refused=exc)
    return redirect("billing:coverage", patient.pk)


@requires(Perm.BILLING_HANDLE)
@require_POST
def card_upload(request: HttpRequest, pk: str, coverage_id: str) -> HttpResponse:
    origin = web_origin(request)
    patient = billing_patient_for(request.user, pk, origin=origin)
    found = get_coverage_for(request.user, coverage_id, patient=patient, origin=origin)
    upload = request.FILES.get("image")
    side = request.POST.get("side", "")
    try:
        if upload is None:
            raise InvalidInput({"image": "choose an image of the card"})
        if upload.size is not None and upload.size > actions.CARD_MAX_BYTES:
            raise InvalidInput({"image": "the image is larger than 5 MB"})
        actions.do_store_card(
            found, side, upload.content_type or "", upload.read(), actor=request.user, origin=origin
        )
    except InvalidInput as exc:
        shown = {("image" if k.startswith("card_") else k): v for k, v in exc.errors.items()}
        return _coverage_page(request, patient, 422, errors=form_errors(shown))
    return redirect("billing:coverage", patient.pk)


@requires(Perm.BILLING_HANDLE)
@require_GET
def card_image(request: HttpRequest, pk: str, coverage_id: str, side: str) -> HttpResponse:
    origin = web_origin(request)
    patient = billing_patient_for(request.user, pk, origin=origin)
    found = get_coverage_for(request.user, coverage_id, patient=patient, origin=origin)
    card = get_card_for(found, side)
    _read_event(request, patient, card, [f"card_{side}"])
    response = HttpResponse(bytes(card.data), content_type=card.content_type)
    response["Content-Disposition"] = "inline"
    return response


@requires(Perm.BILLING_HANDLE)
@require_GET
def account(request: HttpRequest, pk: str) -> HttpResponse:
    patient = billing_patient_for(request.user, pk, origin=web_origin(request))
    _read_event(request, patient, patient, ["invoices"])
    return render(
        request,
        "billing/account.html",
        _money_context(request, patient=patient, account=queries.patient_account(patient)),
    )


# --- Estimates -----------------------------------------------------------------------------------------


@requires(Perm.BILLING_ESTIMATE)
@require_http_methods(["GET", "POST"])
def estimate(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    plan = get_plan_for(request.user, pk, perm=Perm.BILLING_ESTIMATE, origin=origin)
    errors: dict[str, str] = {}
    refused = None
    status = 200
    if request.method == "POST":
        try:
            data = _parse(request, inputs.EstimateIn)
            actions.do_estimate(plan, data, actor=request.user, origin=origin)
            return redirect("billing:estimate", plan.pk)
        except InvalidInput as exc:
            errors, status = form_errors(exc.errors), 422
        except Refused as exc:
            refused, status = exc, 409
    latest = queries.latest_estimate(plan)
    _read_event(request, plan.patient, plan, ["estimates"])
    context = _money_context(
        request,
        patient=plan.patient,
        plan=plan,
        estimate=queries.estimate_detail(latest) if latest else None,
        versions=queries.estimates_of(plan),
        modality_names=dict(PlanModality.choices),
        item_names=dict(PriceItem.choices),
        errors=errors,
        refused=refused,
        values=request.POST if errors else {},
    )
    return render(request, "billing/estimate.html", context, status=status)


# --- Invoices ------------------------------------------------------------------------------------------


@requires(Perm.BILLING_HANDLE)
@require_POST
def invoice_session(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    session = get_session_for(request.user, pk, perm=Perm.BILLING_HANDLE, origin=origin)
    try:
        made = actions.do_invoice(session, actor=request.user, origin=origin)
    except Refused as exc:
        _read_event(request, session.patient, session, ["invoices"])
        context = _money_context(
            request, patient=session.patient, account=queries.patient_account(session.patient), refused=exc
        )
        return render(request, "billing/account.html", context, status=409)
    return redirect("billing:invoice", made.pk)


def _invoice_page(request: HttpRequest, invoice: Any, status: int = 200, **extra: Any) -> HttpResponse:
    _read_event(request, invoice.patient, invoice, ["invoice"])
    context = _money_context(
        request,
        patient=invoice.patient,
        invoice=queries.invoice_detail(invoice),
        kinds=EntryKind.choices,
        kind_names=dict(EntryKind.choices),
        methods=PaymentMethod.choices,
        method_names=dict(PaymentMethod.choices),
        item_names=dict(PriceItem.choices),
        today=local_today(invoice.location).isoformat(),
        **extra,
    )
    return render(request, "billing/invoice.html", context, status=status)


@requires(Perm.BILLING_HANDLE)
@require_GET
def invoice(request: HttpRequest, pk: str) -> HttpResponse:
    return _invoice_page(request, get_invoice_for(request.user, pk, origin=web_origin(request)))


@requires(Perm.BILLING_HANDLE)
@require_POST
def invoice_entry(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    found = get_invoice_for(request.user, pk, origin=origin)
    try:
        if request.POST.get("kind") == EntryKind.PAYMENT:
            actions.do_record_payment(
                found, _parse(request, inputs.PaymentIn), actor=request.user, origin=origin
            )
        else:
            actions.do_record_entry(found, _parse(request, inputs.EntryIn), actor=request.user, origin=origin)
    except InvalidInput as exc:
        return _invoice_page(request, found, 422, errors=form_errors(exc.errors), values=request.POST)
    return redirect("billing:invoice", found.pk)


# --- Superbills (issue 12, item 5) ---------------------------------------------------------------------


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@requires(Perm.BILLING_HANDLE)
@require_GET
def invoice_superbill(request: HttpRequest, pk: str) -> HttpResponse:
    found = get_invoice_for(request.user, pk, origin=web_origin(request))
    data = superbill.superbill(found.patient, [found], start=found.service_date, end=found.service_date)
    _read_event(request, found.patient, found, ["superbill"])
    return _pdf_response(superbill.render(data), f"superbill-{found.number}.pdf")


@requires(Perm.BILLING_HANDLE)
@require_GET
def period_superbill(request: HttpRequest, pk: str) -> HttpResponse:
    """The form (from, to); sent with both days, the superbill of the patient's invoices of the period."""
    patient = billing_patient_for(request.user, pk, origin=web_origin(request))
    today = local_today(patient.location)
    errors: dict[str, str] = {}
    if "start" in request.GET or "end" in request.GET:
        try:
            period = inputs.PeriodIn.model_validate(
                {"start": request.GET.get("start", ""), "end": request.GET.get("end", "")}
            )
        except ValidationError as exc:
            errors = form_errors(field_errors(exc))
        else:
            invoices = list(
                Invoice.objects.filter(
                    patient=patient, service_date__gte=period.start, service_date__lte=period.end
                ).select_related("coverage", "rendering_clinician")
            )
            data = superbill.superbill(patient, invoices, start=period.start, end=period.end)
            _read_event(request, patient, patient, ["superbill"])
            return _pdf_response(superbill.render(data), f"superbill-{period.start}-{period.end}.pdf")
    _read_event(request, patient, patient, ["invoices"])
    context = _money_context(
        request,
        patient=patient,
        errors=errors,
        labels={**LABELS, "start": "From", "end": "To"},
        values=request.GET if errors else {},
        start=today.replace(day=1).isoformat(),
        end=today.isoformat(),
        account=queries.patient_account(patient),
    )
    return render(request, "billing/superbill.html", context, status=422 if errors else 200)


# --- Prior authorisation (issue 12, item 6) -----------------------------------------------------------


@requires(Perm.BILLING_HANDLE)
@require_GET
def prior_authorization(request: HttpRequest, pk: str) -> HttpResponse:
    """The packet written from the chart for the modality asked (esketamine by default); `format=pdf`
    gives the PDF."""
    patient = billing_patient_for(request.user, pk, origin=web_origin(request))
    modality = request.GET.get("modality", PlanModality.ESKETAMINE_NASAL)
    errors: dict[str, str] = {}
    if modality not in PlanModality.values:
        errors = {"modality": "Choose esketamine nasal spray, IV ketamine or IM ketamine"}
        modality = PlanModality.ESKETAMINE_NASAL
    body = packet.packet(patient, modality)
    _read_event(request, patient, patient, ["prior_authorization"])
    if request.GET.get("format") == "pdf" and not errors:
        return _pdf_response(packet.render(body), "prior-authorization.pdf")
    context = _money_context(
        request,
        patient=patient,
        packet=body,
        modality=modality,
        modalities=PlanModality.choices,
        errors=errors,
        labels={**LABELS, "modality": "Modality"},
    )
    return render(request, "billing/prior_authorization.html", context, status=422 if errors else 200)


@requires(Perm.BILLING_HANDLE)
@require_http_methods(["GET", "POST"])
def plan_authorization(request: HttpRequest, pk: str) -> HttpResponse:
    origin = web_origin(request)
    plan = get_plan_for(request.user, pk, perm=Perm.BILLING_HANDLE, origin=origin)
    errors: dict[str, str] = {}
    refused = None
    status = 200
    if request.method == "POST":
        try:
            data = _parse(request, inputs.AuthorizationIn)
            actions.do_record_authorization(plan, data, actor=request.user, origin=origin)
            return redirect("billing:plan_authorization", plan.pk)
        except InvalidInput as exc:
            errors, status = form_errors(exc.errors), 422
        except Refused as exc:
            refused, status = exc, 409
    today = local_today(plan.location)
    _read_event(request, plan.patient, plan, ["prior_authorizations"])
    context = _money_context(
        request,
        patient=plan.patient,
        plan=plan,
        found=queries.plan_authorizations(plan, today),
        modality_names=dict(PlanModality.choices),
        errors=errors,
        refused=refused,
        labels={
            **LABELS,
            "number": "Authorisation number",
            "approved_from": "Approved from",
            "approved_to": "Approved to",
            "approved_sessions": "Sessions approved",
            "note": "Note",
        },
        values=request.POST if errors else {},
        today=today.isoformat(),
    )
    return render(request, "billing/authorization.html", context, status=status)


# --- Billing identifiers (clinic admins) ----------------------------------------------------------------

IDENTIFIER_FORMS: dict[str, type[BaseModel]] = {
    "practice": inputs.PracticeIdentityIn,
    "clinician": inputs.ClinicianIdentityIn,
    "diagnosis": inputs.DiagnosisCodeIn,
}


@requires(Perm.BILLING_PRICES_READ)
@require_http_methods(["GET", "POST"])
def identifiers(request: HttpRequest, location_id: int) -> HttpResponse:
    """The practice's NPI and tax id, the clinicians' NPIs and the ICD-10-CM code of each chart condition:
    read by whoever reads the price list, kept by clinic admins."""
    origin = web_origin(request)
    perm = Perm.BILLING_PRICES_MANAGE if request.method == "POST" else Perm.BILLING_PRICES_READ
    if not can(request.user, perm):
        deny(request.user, origin, str(perm))
        raise Forbidden
    location = get_location_for(request.user, location_id, perm, origin=origin)
    errors: dict[str, str] = {}
    form = request.POST.get("form", "")
    if request.method == "POST":
        try:
            model = IDENTIFIER_FORMS.get(form)
            if model is None:
                raise InvalidInput({"form": "not a form of this page"})
            data: Any = _parse(request, model)
            if form == "practice":
                actions.do_save_practice_identity(location, data, actor=request.user, origin=origin)
            elif form == "clinician":
                actions.do_save_clinician_identity(data, location=location, actor=request.user, origin=origin)
            else:
                actions.do_save_diagnosis_code(location, data, actor=request.user, origin=origin)
            return redirect("billing:identifiers", location.pk)
        except InvalidInput as exc:
            errors = form_errors(exc.errors)
    context = _money_context(
        request,
        location=location,
        found=queries.identifiers_of(location),
        can_manage=can(request.user, Perm.BILLING_PRICES_MANAGE, location.pk),
        conditions=[(c.code, c.display) for c in CONDITIONS.values()],
        errors=errors,
        form=form,
        labels={
            **LABELS,
            "practice_name": "Practice name",
            "npi": "NPI",
            "tax_id": "Tax id (EIN)",
            "address": "Billing address",
            "phone": "Phone",
            "user_id": "Clinician",
            "credentials": "Credentials",
            "condition": "Chart condition",
            "icd10": "ICD-10-CM code",
            "description": "Description",
        },
        values=request.POST if errors else {},
    )
    return render(request, "billing/identifiers.html", context, status=422 if errors else 200)


# --- Reports (issue 12, item 7; clinic admins) -----------------------------------------------------------

REPORT_NAMES = ("revenue", "ageing", "authorizations")


def _report_location(request: HttpRequest, location_id: int) -> Any:
    return get_location_for(request.user, location_id, Perm.BILLING_REPORTS, origin=web_origin(request))


def _report_period(request: HttpRequest, today: Any) -> tuple[Any, dict[str, str]]:
    default_start = (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
    raw = {
        "start": request.GET.get("start") or default_start.isoformat(),
        "end": request.GET.get("end") or today.isoformat(),
    }
    try:
        return inputs.PeriodIn.model_validate(raw), {}
    except ValidationError as exc:
        return inputs.PeriodIn(start=default_start, end=today), form_errors(field_errors(exc))


def _names_patients(request: HttpRequest, location: Any) -> bool:
    """The authorisation list names patients only to an admin who also handles the location's money."""
    return can(request.user, Perm.BILLING_HANDLE, location.pk)


def _report_data(request: HttpRequest, location: Any) -> dict[str, Any]:
    today = local_today(location)
    period, errors = _report_period(request, today)
    facts = reports.billed_at(location, period.start, period.end)
    named = _names_patients(request, location)
    return {
        "today": today,
        "period": period,
        "errors": errors,
        "by_month": reports.revenue(facts, ("month",)),
        "by_modality": reports.revenue(facts, ("modality",)),
        "by_payer": reports.revenue(facts, ("payer",)),
        "revenue": reports.revenue(facts),
        "ageing": reports.ageing(reports.billed_at(location), today),
        "expiring": queries.expiring_rows(location, today, named=named),
        "names_patients": named,
    }


def _report_event(request: HttpRequest, location: Any, name: str, rows: list[dict[str, Any]]) -> None:
    """The report's own event; a report naming patients is also a read of each patient it names."""
    origin = web_origin(request)
    record(Action.BILLING_REPORT, actor=request.user, origin=origin, obj=location, changed_fields=[name])
    for row in rows:
        if row.get("patient") is not None:
            record(
                Action.PATIENT_READ,
                actor=request.user,
                origin=origin,
                obj=row["patient"],
                patient=row["patient"],
                changed_fields=["prior_authorizations"],
            )


@requires(Perm.BILLING_REPORTS)
@require_GET
def report_page(request: HttpRequest, location_id: int) -> HttpResponse:
    location = _report_location(request, location_id)
    data = _report_data(request, location)
    _report_event(request, location, "reports", data["expiring"])
    context = _money_context(
        request,
        location=location,
        **data,
        modality_names=reports.MODALITY_NAMES,
        buckets=[b[0] for b in reports.AGE_BUCKETS],
        labels={**LABELS, "start": "From", "end": "To"},
        values=request.GET,
    )
    return render(request, "billing/reports.html", context, status=422 if data["errors"] else 200)


@requires(Perm.BILLING_REPORTS)
@require_GET
def report_csv(request: HttpRequest, location_id: int, report: str) -> HttpResponse:
    location = _report_location(request, location_id)
    if report not in REPORT_NAMES:
        raise NotFound
    data = _report_data(request, location)
    if data["errors"]:
        problems = "; ".join(f"{k}: {v}" for k, v in data["errors"].items())
        return HttpResponse(problems, status=422, content_type="text/plain; charset=utf-8")
    header, rows = queries.report_table(report, data)
    _report_event(request, location, report, data["expiring"] if report == "authorizations" else [])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{report}-{location.slug}.csv"'
    response["Cache-Control"] = "no-store"
    return response
