"""The billing routes of the access matrix (patients/tests/test_access_matrix.py), and the state each needs
for an allowed call to succeed: a coverage, a draft plan, a signed session, an invoice. The patient lives at
north; the state is made through the actions at the treatment matrix's pinned clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from ketaclinic.accounts.models import User
from ketaclinic.billing import actions, inputs
from ketaclinic.billing.models import Coverage, Invoice
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.patients.models import Patient
from ketaclinic.tests import memo
from ketaclinic.treatment.models import TreatmentPlan, TreatmentSession
from ketaclinic.treatment.tests import matrix as treatment_matrix
from ketaclinic.treatment.tests.helpers import plan_today

DESK = {"frontdesk"}
PRICE_READERS = {"admin", "frontdesk"}
ADMINS = {"admin"}
ESTIMATORS = {"prescriber", "frontdesk"}

# A 1x1 PNG: the smallest card image the upload takes.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
COVERAGE: dict[str, Any] = {
    "payer": "Harbour Health",
    "member_id": "HH-1001",
    "plan": "Gold PPO",
    "carve_out": False,
}
BENEFIT: dict[str, Any] = {
    "modality": "esketamine_nasal",
    "covered": True,
    "copay": "40",
    "coinsurance_percent": "20",
    "deductible_remaining": "300",
    "prior_auth_required": True,
}
PAYMENT = {"amount": "10", "method": "cash", "received_on": "{today}"}
B, P = "/billing", "/billing/patients/{pid}"

# (name, method, url template, body, allowed roles, scoped to the patient's location, API?)
ROUTES: list[tuple[str, str, str, Any, set[str], bool, bool]] = [
    ("api price list", "get", "/api/v1/price-list", None, PRICE_READERS, False, True),
    ("api add coverage", "post", "/api/v1/patients/{pid}/coverages", COVERAGE, DESK, True, True),
    ("api benefit check", "post", "/api/v1/coverages/{coverage}/benefit-checks", BENEFIT, DESK, True, True),
    ("api estimate", "post", "/api/v1/treatment-plans/{plan}/estimate", {}, ESTIMATORS, True, True),
    ("api invoice", "post", "/api/v1/sessions/{session}/invoice", {}, DESK, True, True),
    ("api payment", "post", "/api/v1/invoices/{invoice}/payments", PAYMENT, DESK, True, True),
    ("price list page", "get", f"{B}/prices/{{location_id}}/", None, PRICE_READERS, True, False),
    (
        "add price page",
        "post",
        f"{B}/prices/{{location_id}}/",
        {"item": "kap", "code": "90837", "amount": "410", "currency": "USD", "effective_from": "{today}"},
        ADMINS,
        True,
        False,
    ),
    ("patient account page", "get", f"{P}/", None, DESK, True, False),
    ("coverage page", "get", f"{P}/coverage/", None, DESK, True, False),
    ("add coverage page", "post", f"{P}/coverage/", COVERAGE, DESK, True, False),
    (
        "benefit check page",
        "post",
        f"{P}/coverage/{{coverage}}/benefit-check/",
        {**BENEFIT, "covered": "on", "prior_auth_required": "on"},
        DESK,
        True,
        False,
    ),
    ("card upload page", "post", f"{P}/coverage/{{coverage}}/card/", "card", DESK, True, False),
    ("card image", "get", f"{P}/coverage/{{coverage}}/card/front/", None, DESK, True, False),
    ("estimate page", "get", f"{B}/plans/{{plan}}/estimate/", None, ESTIMATORS, True, False),
    ("make estimate page", "post", f"{B}/plans/{{plan}}/estimate/", {}, ESTIMATORS, True, False),
    ("invoice session page", "post", f"{B}/sessions/{{session}}/invoice/", {}, DESK, True, False),
    ("invoice page", "get", f"{B}/invoices/{{invoice}}/", None, DESK, True, False),
    (
        "invoice entry page",
        "post",
        f"{B}/invoices/{{invoice}}/entries/",
        {"kind": "payment", "amount": "10", "method": "cash", "received_on": "{today}"},
        DESK,
        True,
        False,
    ),
]

# Superbills, prior authorisation and reports (items 5-7): money is the front desk's; the reports and the
# identifiers' changes a clinic admin's.
AUTHORIZATION: dict[str, Any] = {
    "number": "PA-1001",
    "approved_from": "{today}",
    "approved_to": "{today}",
    "approved_sessions": 8,
}
ROUTES += [
    ("api superbill", "get", "/api/v1/invoices/{invoice}/superbill", None, DESK, True, True),
    (
        "api prior authorization packet",
        "get",
        "/api/v1/patients/{pid}/prior-authorization?modality=esketamine_nasal",
        None,
        DESK,
        True,
        True,
    ),
    (
        "api add authorization",
        "post",
        "/api/v1/treatment-plans/{plan}/prior-authorizations",
        AUTHORIZATION,
        DESK,
        True,
        True,
    ),
    (
        "api authorizations",
        "get",
        "/api/v1/treatment-plans/{plan}/prior-authorizations",
        None,
        DESK,
        True,
        True,
    ),
    ("invoice superbill page", "get", f"{B}/invoices/{{invoice}}/superbill/", None, DESK, True, False),
    ("period superbill page", "get", f"{P}/superbill/", None, DESK, True, False),
    ("prior authorization page", "get", f"{P}/prior-authorization/", None, DESK, True, False),
    ("plan authorization page", "get", f"{B}/plans/{{plan}}/authorization/", None, DESK, True, False),
    (
        "add authorization page",
        "post",
        f"{B}/plans/{{plan}}/authorization/",
        AUTHORIZATION,
        DESK,
        True,
        False,
    ),
    ("identifiers page", "get", f"{B}/identifiers/{{location_id}}/", None, PRICE_READERS, True, False),
    (
        "save identifiers page",
        "post",
        f"{B}/identifiers/{{location_id}}/",
        {"form": "diagnosis", "condition": "ptsd", "icd10": "F43.10"},
        ADMINS,
        True,
        False,
    ),
    ("reports page", "get", f"{B}/reports/{{location_id}}/", None, ADMINS, True, False),
    ("report csv", "get", f"{B}/reports/{{location_id}}/authorizations.csv", None, ADMINS, True, False),
]

NAMES = {r[0] for r in ROUTES}
SAMPLE_IDS = {
    "coverage": "00000000-0000-4000-8000-000000000000",
    "invoice": "00000000-0000-4000-8000-000000000000",
}


def _staff(patient: Patient, role: str) -> User:
    return User.objects.get(username=f"{role}.{patient.location.slug}")


def coverage_of(patient: Patient) -> Coverage:
    made = Coverage.objects.filter(patient=patient).order_by("created_at").first()
    if made is not None:
        return made
    coverage = actions.do_add_coverage(
        patient, inputs.CoverageIn(**COVERAGE), actor=_staff(patient, "frontdesk")
    )
    actions.do_store_card(coverage, "front", "image/png", PNG, actor=_staff(patient, "frontdesk"))
    return coverage


def draft_plan(patient: Patient) -> TreatmentPlan:
    return plan_today(patient, _staff(patient, "prescriber"), approve=False)


def signed_session(patient: Patient, clock: Any) -> TreatmentSession:
    ids = treatment_matrix.prepare("api amend", patient, clock)
    return TreatmentSession.objects.select_related("plan", "patient", "location").get(pk=ids["session"])


def invoice_of(patient: Patient, clock: Any) -> Invoice:
    session = signed_session(patient, clock)
    return actions.do_invoice(session, actor=_staff(patient, "frontdesk"))


def prepare(name: str, patient: Patient, clock: Any) -> dict[str, Any]:
    ids: dict[str, Any] = {"location_id": patient.location_id}
    if "coverage" in name or "benefit" in name or "card" in name:
        ids["coverage"] = coverage_of(patient).pk
    if "estimate" in name or ("authorization" in name and "packet" not in name):
        ids["plan"] = draft_plan(patient).pk
    if "invoice session" in name or name == "api invoice":
        ids["session"] = signed_session(patient, clock).pk
    if name in {
        "api payment",
        "invoice page",
        "invoice entry page",
        "api superbill",
        "invoice superbill page",
    }:
        ids["invoice"] = invoice_of(patient, clock).pk
    return ids


_PREPARED: dict[tuple[str, Any], tuple[dict[str, Any], Any]] = memo.per_test()


def call(route: tuple[Any, ...], patient: Patient, send: Callable[[str, Any], Any]) -> Any:
    """Prepare the route's state at the pinned clock, then send it (`send(url, body)`) at that clock."""
    name, _, url, body = route[:4]
    with treatment_matrix.frozen(patient) as clock:
        known = _PREPARED.get((name, patient.pk))
        if known is not None:
            ids, clock.now = known
        else:
            ids = prepare(name, patient, clock)
            _PREPARED[(name, patient.pk)] = (ids, clock.now)
        today = local_date(patient.location, clock.now).isoformat()
        target = url.format(pid=patient.pk, **ids)
        if body == "card":
            body = {"side": "back", "image": SimpleUploadedFile("card.png", PNG, content_type="image/png")}
        elif isinstance(body, dict):
            body = {k: today if v == "{today}" else v for k, v in body.items()}
        return send(target, body)
