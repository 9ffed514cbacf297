"""API routes of billing (mounted under /api/v1): the price list, coverage and benefits checks, a plan's
course estimate, the invoice of a signed session and its payments.

Each route checks the role, loads through the access getters, calls an action and answers with the output
model; every answer that carries a patient's money writes its read event.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from pydantic import BaseModel

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.billing import actions, inputs, queries
from ketaclinic.billing.access import billing_patient_for, get_coverage_for, get_invoice_for
from ketaclinic.billing.schemas import BenefitCheckOut, CoverageOut, EstimateOut, InvoiceOut, PricePage
from ketaclinic.errors import Forbidden
from ketaclinic.patients.schemas import (
    ANY_OPERATION,
    NOT_FOUND,
    PAGE_LIMIT_DEFAULT,
    WITH_BODY,
    Limit,
    Offset,
    errors,
)
from ketaclinic.treatment.access import get_plan_for, get_session_for
from ketaclinic.treatment.schemas import RefusedOut

router = Router(tags=["Billing"])

LISTED = errors(*ANY_OPERATION)
WRITTEN = {**errors(*ANY_OPERATION, NOT_FOUND, *WITH_BODY), 409: RefusedOut}


def _origin(request: HttpRequest) -> Origin:
    return origin_of(request, Via.API)


def _require(request: HttpRequest, perm: Perm) -> None:
    if not can(request.user, perm):
        deny(request.user, _origin(request), str(perm))
        raise Forbidden


def _answer(
    request: HttpRequest, out: type[BaseModel], body: dict[str, Any], patient: Any, obj: Any, location: str
) -> HttpResponse:
    record(Action.PATIENT_READ, actor=request.user, origin=_origin(request), obj=obj, patient=patient)
    response = HttpResponse(
        out.model_validate(body).model_dump_json(), status=201, content_type="application/json"
    )
    response["Location"] = location
    return response


@router.get("/price-list", response={200: PricePage, **LISTED}, summary="The price list of your location")
def price_list(request: HttpRequest, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0) -> HttpResponse:
    """Every price of the locations whose price list you read (front desk, clinic admins), by location,
    item and code, newest first: a price is in force from its `effective_from` until a later one."""
    _require(request, Perm.BILLING_PRICES_READ)
    locations = ClinicLocation.objects.filter(pk__in=location_ids(request.user, Perm.BILLING_PRICES_READ))
    rows = [
        {**row, "location": location.slug}
        for location in locations.order_by("slug")
        for row in queries.price_list(location)
    ]
    page = {"count": len(rows), "limit": limit, "offset": offset, "items": rows[offset : offset + limit]}
    return HttpResponse(PricePage.model_validate(page).model_dump_json(), content_type="application/json")


@router.post(
    "/patients/{patient_id}/coverages",
    response={201: CoverageOut, **WRITTEN},
    summary="Record a patient's insurance coverage (front desk)",
)
def add_coverage(request: HttpRequest, patient_id: str, body: inputs.CoverageIn) -> HttpResponse:
    """`payer` and `member_id`, with the plan, group number, behavioural-health carve-out, the payer kind
    (Medicare chooses G2082/G2083 for esketamine) and the payer id for claims. Card images are uploaded on
    the coverage page."""
    _require(request, Perm.BILLING_HANDLE)
    origin = _origin(request)
    patient = billing_patient_for(request.user, patient_id, origin=origin)
    coverage = actions.do_add_coverage(patient, body, actor=request.user, origin=origin)
    return _answer(
        request,
        CoverageOut,
        queries.coverage_detail(coverage),
        patient,
        coverage,
        f"/billing/patients/{patient.pk}/coverage/",
    )


@router.post(
    "/coverages/{coverage_id}/benefit-checks",
    response={201: BenefitCheckOut, **WRITTEN},
    summary="Record a benefits check of a coverage (front desk)",
)
def add_benefit_check(request: HttpRequest, coverage_id: str, body: inputs.BenefitCheckIn) -> HttpResponse:
    """Covered or not for the modality, copay or coinsurance, the deductible left and whether prior
    authorisation is needed; who checked and when are recorded."""
    _require(request, Perm.BILLING_HANDLE)
    origin = _origin(request)
    coverage = get_coverage_for(request.user, coverage_id, origin=origin)
    check = actions.do_record_benefit_check(coverage, body, actor=request.user, origin=origin)
    return _answer(
        request,
        BenefitCheckOut,
        queries.benefit_detail(check),
        coverage.patient,
        check,
        f"/billing/patients/{coverage.patient_id}/coverage/",
    )


@router.post(
    "/treatment-plans/{plan_id}/estimate",
    response={201: EstimateOut, **WRITTEN},
    summary="Estimate the cost of a plan's course (a new version each time)",
)
def estimate(request: HttpRequest, plan_id: str, body: inputs.EstimateIn) -> HttpResponse:
    """Each planned session priced from the location's price list, what the insurer is expected to pay from
    the latest benefits check of the plan's modality, the patient's share, the self-pay cost beside it and
    integration sessions as their own lines. 409 names a price the list lacks."""
    _require(request, Perm.BILLING_ESTIMATE)
    origin = _origin(request)
    plan = get_plan_for(request.user, plan_id, perm=Perm.BILLING_ESTIMATE, origin=origin)
    made = actions.do_estimate(plan, body, actor=request.user, origin=origin)
    return _answer(
        request,
        EstimateOut,
        queries.estimate_detail(made),
        plan.patient,
        made,
        f"/billing/plans/{plan.pk}/estimate/",
    )


@router.post(
    "/sessions/{session_id}/invoice",
    response={201: InvoiceOut, **WRITTEN},
    summary="Invoice a signed session (front desk)",
)
def invoice(request: HttpRequest, session_id: str, body: inputs.InvoiceIn) -> HttpResponse:
    """The lines come from the price list in force on the session's day and the chart: 96365/96366 units
    from the infusion's documented minutes, G2082/G2083 by dose for Medicare, J0013 units in mg otherwise.
    409 for a session not signed, or one already invoiced (naming its invoice)."""
    _require(request, Perm.BILLING_HANDLE)
    origin = _origin(request)
    session = get_session_for(request.user, session_id, perm=Perm.BILLING_HANDLE, origin=origin)
    made = actions.do_invoice(session, actor=request.user, origin=origin)
    made.patient = session.patient
    return _answer(
        request,
        InvoiceOut,
        queries.invoice_detail(made),
        session.patient,
        made,
        f"/billing/invoices/{made.pk}/",
    )


@router.post(
    "/invoices/{invoice_id}/payments",
    response={201: InvoiceOut, **WRITTEN},
    summary="Record a payment on an invoice (front desk; no card is processed)",
)
def add_payment(request: HttpRequest, invoice_id: str, body: inputs.PaymentIn) -> HttpResponse:
    """`amount`, `method` and `received_on`; the answer is the invoice with its balance fallen by the amount.
    Above the balance: 422 naming `amount`, unless `as_credit` takes the excess as the patient's credit."""
    _require(request, Perm.BILLING_HANDLE)
    origin = _origin(request)
    found = get_invoice_for(request.user, invoice_id, origin=origin)
    actions.do_record_payment(found, body, actor=request.user, origin=origin)
    return _answer(
        request,
        InvoiceOut,
        queries.invoice_detail(found),
        found.patient,
        found,
        f"/billing/invoices/{found.pk}/",
    )
