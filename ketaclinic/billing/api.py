"""API routes of billing (mounted under /api/v1): the price list, coverage and benefits checks, a plan's
course estimate, the invoice of a signed session and its payments.

Each route checks the role, loads through the access getters, calls an action and answers with the output
model; every answer that carries a patient's money writes its read event.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from pydantic import BaseModel, ConfigDict

from ketaclinic.accounts.access import can, location_ids
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin, origin_of
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Via
from ketaclinic.billing import actions, inputs, packet, queries, superbill
from ketaclinic.billing.access import billing_patient_for, get_coverage_for, get_invoice_for
from ketaclinic.billing.schemas import (
    AuthorizationOut,
    AuthorizationPage,
    BenefitCheckOut,
    CoverageOut,
    EstimateOut,
    InvoiceOut,
    PacketOut,
    PricePage,
    SuperbillOut,
)
from ketaclinic.clinicpolicy.clock import local_today
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
from ketaclinic.treatment.models import PlanModality
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


# --- Superbills and prior authorisation (issue 12, items 5 and 6) -----------------------------------------

PDF_ANSWER = {
    "responses": {200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}
}


def _wants_pdf(request: HttpRequest) -> bool:
    return "application/pdf" in request.headers.get("Accept", "")


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _read(request: HttpRequest, patient: Any, obj: Any, fields: list[str]) -> None:
    record(
        Action.PATIENT_READ,
        actor=request.user,
        origin=_origin(request),
        obj=obj,
        patient=patient,
        changed_fields=fields,
    )


@router.get(
    "/invoices/{invoice_id}/superbill",
    response={200: SuperbillOut, **errors(*ANY_OPERATION, NOT_FOUND)},
    summary="An invoice's superbill (front desk); Accept: application/pdf gives the PDF",
    openapi_extra=PDF_ANSWER,
)
def invoice_superbill(request: HttpRequest, invoice_id: str) -> HttpResponse:
    """The superbill of the invoice's session: the practice's NPI and tax id, the rendering clinician's
    NPI, the patient and insurance, the ICD-10-CM diagnoses of the chart's active conditions, each CPT/HCPCS
    line with modifiers, units, charge and place of service, and what was paid. `missing` names what the
    records lack. With `Accept: application/pdf` the answer is the printable PDF."""
    _require(request, Perm.BILLING_HANDLE)
    origin = _origin(request)
    found = get_invoice_for(request.user, invoice_id, origin=origin)
    data = superbill.superbill(found.patient, [found], start=found.service_date, end=found.service_date)
    _read(request, found.patient, found, ["superbill"])
    if _wants_pdf(request):
        return _pdf(superbill.render(data), f"superbill-{found.number}.pdf")
    return HttpResponse(SuperbillOut.model_validate(data).model_dump_json(), content_type="application/json")


class PacketQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    modality: PlanModality = PlanModality.ESKETAMINE_NASAL


@router.get(
    "/patients/{patient_id}/prior-authorization",
    response={200: PacketOut, **errors(*ANY_OPERATION, NOT_FOUND)},
    summary="A patient's prior-authorisation packet for a modality (front desk); PDF on request",
    openapi_extra=PDF_ANSWER,
)
def prior_authorization(request: HttpRequest, patient_id: str, query: Query[PacketQuery]) -> HttpResponse:
    """Written from the chart: `trials` (drug, dose, weeks, and whether each is an adequate failure under
    the clinic's TRD policy), `scores` (latest and first PHQ-9 and MADRS), `screening` (the latest
    contraindication screening of the modality), `height_cm`, `weight_kg`, psychotherapy and
    suicidal-ideation history, diagnoses, patient, insurance and prescriber; `missing` names what the chart
    lacks. `modality` is esketamine_nasal (the default), iv_ketamine or im_ketamine. With
    `Accept: application/pdf` the answer is the PDF."""
    _require(request, Perm.BILLING_HANDLE)
    origin = _origin(request)
    patient = billing_patient_for(request.user, patient_id, origin=origin)
    body = packet.packet(patient, query.modality)
    _read(request, patient, patient, ["prior_authorization"])
    if _wants_pdf(request):
        return _pdf(packet.render(body), "prior-authorization.pdf")
    return HttpResponse(PacketOut.model_validate(body).model_dump_json(), content_type="application/json")


@router.post(
    "/treatment-plans/{plan_id}/prior-authorizations",
    response={201: AuthorizationOut, **WRITTEN},
    summary="Record a payer's prior authorisation of a plan's sessions (front desk)",
)
def add_authorization(request: HttpRequest, plan_id: str, body: inputs.AuthorizationIn) -> HttpResponse:
    """The authorisation's `number`, `approved_from`, `approved_to` and `approved_sessions` (with a `note`),
    under the patient's current coverage. Sessions past the approved count are then flagged on the plan
    and when they are booked. A renewal is a new authorisation; 409 for an ended plan."""
    _require(request, Perm.BILLING_HANDLE)
    origin = _origin(request)
    plan = get_plan_for(request.user, plan_id, perm=Perm.BILLING_HANDLE, origin=origin)
    made = actions.do_record_authorization(plan, body, actor=request.user, origin=origin)
    return _answer(
        request,
        AuthorizationOut,
        queries.authorization_detail(made),
        plan.patient,
        made,
        f"/billing/plans/{plan.pk}/authorization/",
    )


@router.get(
    "/treatment-plans/{plan_id}/prior-authorizations",
    response={200: AuthorizationPage, **errors(*ANY_OPERATION, NOT_FOUND)},
    summary="A plan's prior authorisations and the one in force with the sessions it has left",
)
def list_authorizations(
    request: HttpRequest, plan_id: str, limit: Limit = PAGE_LIMIT_DEFAULT, offset: Offset = 0
) -> HttpResponse:
    """Newest first; `in_force` is the authorisation covering the location's today (or the next to start)
    with the sessions given, booked and remaining, and the planned sessions beyond the approved count."""
    _require(request, Perm.BILLING_HANDLE)
    origin = _origin(request)
    plan = get_plan_for(request.user, plan_id, perm=Perm.BILLING_HANDLE, origin=origin)
    found = queries.plan_authorizations(plan, local_today(plan.location))
    _read(request, plan.patient, plan, ["prior_authorizations"])
    items = found["items"]
    page = {
        "count": len(items),
        "limit": limit,
        "offset": offset,
        "items": items[offset : offset + limit],
        "in_force": found["in_force"],
    }
    return HttpResponse(
        AuthorizationPage.model_validate(page).model_dump_json(), content_type="application/json"
    )
