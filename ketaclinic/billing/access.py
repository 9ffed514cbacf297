"""The only way to load billing records: each getter loads the row, then its patient through
patients.access.get_patient_for (404 outside the user's locations, 403 inside them without the permission,
each denial audited), then checks the billing permission at the patient's location (403, audited)."""

from __future__ import annotations

import uuid
from typing import Any

from ketaclinic.accounts.access import grants
from ketaclinic.accounts.permissions import Perm
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.denials import deny
from ketaclinic.audit.models import Action, Outcome
from ketaclinic.billing.models import Coverage, CoverageCard, Estimate, Invoice
from ketaclinic.errors import Forbidden, NotFound
from ketaclinic.patients.access import get_patient_for
from ketaclinic.patients.models import Patient


def _uuid(value: object) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound from exc


def _deny_record(user: Any, origin: Origin, patient: Patient, model: Any, record_id: object) -> None:
    """A refused record-level access: no such record of this patient (another patient's id, or no one's)."""
    try:
        asked = model(pk=_uuid(record_id))
    except NotFound:
        asked = None
    record(
        Action.ACCESS_DENIED, actor=user, origin=origin, outcome=Outcome.DENIED, obj=asked, patient=patient
    )


def permitted(user: Any, patient: Patient, perm: Perm, origin: Origin) -> None:
    """Inside the patient's location, the role must hold `perm` (403, audited, naming it)."""
    if perm not in grants(user).get(patient.location_id, frozenset()):
        deny(user, origin, str(perm))
        raise Forbidden


def billing_patient_for(
    user: Any, patient_id: object, *, perm: Perm = Perm.BILLING_HANDLE, origin: Origin = SYSTEM
) -> Patient:
    patient = get_patient_for(user, patient_id, origin=origin)
    permitted(user, patient, perm, origin)
    return patient


def get_coverage_for(
    user: Any,
    coverage_id: object,
    *,
    patient: Patient | None = None,
    perm: Perm = Perm.BILLING_HANDLE,
    origin: Origin = SYSTEM,
) -> Coverage:
    """One coverage; under `patient` (a page's URL), another patient's coverage is NotFound, audited."""
    coverage = Coverage.objects.filter(pk=_uuid(coverage_id)).first()
    if patient is not None and (coverage is None or coverage.patient_id != patient.pk):
        _deny_record(user, origin, patient, Coverage, coverage_id)
        raise NotFound
    if coverage is None:
        raise NotFound
    coverage.patient = patient or billing_patient_for(user, coverage.patient_id, perm=perm, origin=origin)
    return coverage


def get_card_for(coverage: Coverage, side: str) -> CoverageCard:
    card = CoverageCard.objects.filter(coverage=coverage, side=side).order_by("-uploaded_at").first()
    if card is None:
        raise NotFound
    return card


def get_invoice_for(
    user: Any,
    invoice_id: object,
    *,
    patient: Patient | None = None,
    perm: Perm = Perm.BILLING_HANDLE,
    origin: Origin = SYSTEM,
) -> Invoice:
    invoice = Invoice.objects.select_related("location").filter(pk=_uuid(invoice_id)).first()
    if patient is not None and (invoice is None or invoice.patient_id != patient.pk):
        _deny_record(user, origin, patient, Invoice, invoice_id)
        raise NotFound
    if invoice is None:
        raise NotFound
    invoice.patient = patient or billing_patient_for(user, invoice.patient_id, perm=perm, origin=origin)
    return invoice


def get_estimate_for(
    user: Any, estimate_id: object, *, perm: Perm = Perm.BILLING_ESTIMATE, origin: Origin = SYSTEM
) -> Estimate:
    estimate = Estimate.objects.select_related("plan").filter(pk=_uuid(estimate_id)).first()
    if estimate is None:
        raise NotFound
    estimate.patient = billing_patient_for(user, estimate.patient_id, perm=perm, origin=origin)
    return estimate
