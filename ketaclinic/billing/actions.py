"""Every write of billing. Each do_* runs in one transaction and leaves one audit row naming the record and
the fields, never an amount.

The arithmetic (units from documented minutes, the code by dose, the insurer's and patient's shares,
balances) is coding.py's, with the thresholds read from the code rules in force on the day (CodeRule rows,
versioned data); nothing here restates a threshold.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation, Membership
from ketaclinic.accounts.permissions import Role
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.billing import coding, inputs
from ketaclinic.billing.models import (
    BenefitCheck,
    CardSide,
    ClinicianIdentity,
    CodeRule,
    CodeRuleKind,
    Coverage,
    CoverageCard,
    DiagnosisCode,
    EntryKind,
    Estimate,
    Invoice,
    InvoiceEntry,
    InvoiceLine,
    PayerKind,
    PracticeIdentity,
    Price,
    PriceItem,
    PriorAuthorization,
)
from ketaclinic.clinicpolicy.clock import local_date, local_today
from ketaclinic.errors import InvalidInput, Refused
from ketaclinic.patients.models import Patient
from ketaclinic.treatment.models import (
    Dose,
    PlanModality,
    PlanStatus,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
)

CARD_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
CARD_MAX_BYTES = 5 * 1024 * 1024
# Who renders a billed service: the clinicians whose NPI a superbill names.
CLINICIAN_ROLES = (Role.PRESCRIBER, Role.NURSE, Role.THERAPIST)
ENTRY_ACTIONS = {
    EntryKind.PAYMENT: Action.BILLING_PAYMENT,
    EntryKind.REFUND: Action.BILLING_REFUND,
    EntryKind.WRITE_OFF: Action.BILLING_WRITE_OFF,
    EntryKind.CREDIT_NOTE: Action.BILLING_CREDIT_NOTE,
}


# --- Code rules and prices in force --------------------------------------------------------------------


def rules_in_force(day: dt.date, kind: str) -> list[CodeRule]:
    """The latest version (on `day`) of every code of a rule kind."""
    latest: dict[str, CodeRule] = {}
    rows = CodeRule.objects.filter(rule=kind, effective_from__lte=day).order_by("code", "-effective_from")
    for row in rows:
        latest.setdefault(row.code, row)
    return list(latest.values())


def rule_in_force(day: dt.date, kind: str) -> CodeRule:
    rules = rules_in_force(day, kind)
    if not rules:
        raise Refused("No billing code rule is in force", [f"No code rule '{kind}' is in force on {day}."])
    return rules[0]


def price_in_force(location: ClinicLocation, item: str, day: dt.date, code: str | None = None) -> Price:
    rows = Price.objects.filter(location=location, item=item, effective_from__lte=day)
    if code is not None:
        rows = rows.filter(code=code)
    price = rows.order_by("-effective_from", "-created_at").first()
    if price is None:
        label = PriceItem(item).label + (f" ({code})" if code else "")
        raise Refused(
            "The price list has no price for this",
            [f"{label} has no price at {location.name} on {day}; a clinic admin adds it to the price list."],
            field="price_list",
        )
    return price


def location_currency(location: ClinicLocation) -> str | None:
    return Price.objects.filter(location=location).values_list("currency", flat=True).first()


@transaction.atomic
def do_add_price(
    location: ClinicLocation, data: inputs.PriceIn, *, actor: Any, origin: Origin = SYSTEM
) -> Price:
    """A price of an item, in force from its date; an earlier price of the item stays for earlier days."""
    currency = location_currency(location)
    if currency is not None and currency != data.currency:
        raise InvalidInput({"currency": f"this location's prices are in {currency}"})
    if Price.objects.filter(
        location=location, item=data.item, code=data.code, effective_from=data.effective_from
    ).exists():
        raise InvalidInput({"effective_from": "this item and code already have a price from this day"})
    price = Price.objects.create(
        location=location,
        item=data.item,
        code=data.code,
        amount=data.amount,
        currency=data.currency,
        effective_from=data.effective_from,
        place_of_service=data.place_of_service,
        created_at=timezone.now(),
        created_by=actor,
    )
    record(
        Action.BILLING_PRICE,
        actor=actor,
        origin=origin,
        obj=price,
        location_id=location.pk,
        changed_fields=sorted(data.model_fields_set | {"amount", "code", "effective_from", "item"}),
    )
    return price


# --- Coverage, cards and benefits checks ---------------------------------------------------------------


def _stamp(actor: Any) -> dict[str, Any]:
    now = timezone.now()
    return {"created_at": now, "created_by": actor, "updated_at": now, "updated_by": actor}


@transaction.atomic
def do_add_coverage(
    patient: Patient, data: inputs.CoverageIn, *, actor: Any, origin: Origin = SYSTEM
) -> Coverage:
    if patient.entered_in_error_at is not None:
        raise InvalidInput({"patient": "this registration was entered in error"})
    coverage = Coverage.objects.create(patient=patient, **data.model_dump(), **_stamp(actor))
    record(
        Action.BILLING_COVERAGE,
        actor=actor,
        origin=origin,
        obj=coverage,
        patient=patient,
        changed_fields=sorted(data.model_fields_set | {"member_id", "payer"}),
    )
    return coverage


def card_problem(content_type: str, data: bytes) -> str | None:
    """Why these bytes are not a card image we keep, or None."""
    magic = CARD_TYPES.get(content_type)
    if magic is None:
        return "upload a PNG or JPEG image"
    if not data.startswith(magic):
        return "the file is not the image its type says"
    if len(data) > CARD_MAX_BYTES:
        return "the image is larger than 5 MB"
    return None


@transaction.atomic
def do_store_card(
    coverage: Coverage, side: str, content_type: str, data: bytes, *, actor: Any, origin: Origin = SYSTEM
) -> CoverageCard:
    if side not in CardSide.values:
        raise InvalidInput({"side": "choose front or back"})
    problem = card_problem(content_type, data)
    if problem is not None:
        raise InvalidInput({f"card_{side}": problem})
    card = CoverageCard.objects.create(
        coverage=coverage,
        side=side,
        content_type=content_type,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_at=timezone.now(),
        uploaded_by=actor,
    )
    record(
        Action.BILLING_CARD,
        actor=actor,
        origin=origin,
        obj=card,
        patient=coverage.patient,
        changed_fields=[f"card_{side}"],
    )
    return card


@transaction.atomic
def do_record_benefit_check(
    coverage: Coverage, data: inputs.BenefitCheckIn, *, actor: Any, origin: Origin = SYSTEM
) -> BenefitCheck:
    if coverage.ended_on is not None:
        raise Refused("This coverage has ended", [f"It ended on {coverage.ended_on}."], field="coverage")
    check = BenefitCheck.objects.create(
        coverage=coverage, **data.model_dump(), checked_at=timezone.now(), checked_by=actor
    )
    record(
        Action.BILLING_BENEFIT_CHECK,
        actor=actor,
        origin=origin,
        obj=check,
        patient=coverage.patient,
        changed_fields=sorted(data.model_fields_set | {"covered", "modality"}),
    )
    return check


def current_coverage(patient: Patient) -> Coverage | None:
    return Coverage.objects.filter(patient=patient, ended_on=None).order_by("-created_at").first()


def latest_benefit(coverage: Coverage | None, modality: str) -> BenefitCheck | None:
    if coverage is None:
        return None
    return BenefitCheck.objects.filter(coverage=coverage, modality=modality).order_by("-checked_at").first()


# --- Lines of a session --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    item: str
    code: str
    description: str
    units: int
    unit_amount: Decimal
    amount: Decimal
    currency: str
    place_of_service: str


def _line(price: Price, units: int, description: str) -> Line:
    return Line(
        item=price.item,
        code=price.code,
        description=description,
        units=units,
        unit_amount=price.amount,
        amount=coding.line_amount(price.amount, units),
        currency=price.currency,
        place_of_service=price.place_of_service,
    )


def _coded(location: ClinicLocation, item: str, rule: CodeRule, day: dt.date, units: int) -> Line:
    return _line(price_in_force(location, item, day, rule.code), units, rule.description)


def _priced(location: ClinicLocation, item: str, day: dt.date, units: int = 1) -> Line:
    price = price_in_force(location, item, day)
    described = CodeRule.objects.filter(code=price.code, effective_from__lte=day).order_by("-effective_from")
    rule = described.first()
    return _line(price, units, rule.description if rule else PriceItem(item).label)


def session_lines(
    location: ClinicLocation,
    modality: str,
    day: dt.date,
    *,
    payer_kind: str | None,
    split_billing: bool,
    dose_mg: Decimal | None,
    infusion_minutes: int | None,
) -> list[Line]:
    """The lines one session bills: from the price list in force on `day`, coded by the rules in force.

    IV: 96365 and 96366 units from the infusion minutes, and the drug. IM: the injection and the drug.
    Esketamine for Medicare: G2082 or G2083 by dose. For other payers and self-pay: the drug in J0013 units,
    the monitoring visit, and prolonged service where the payer wants esketamine billed split.
    """
    if modality == PlanModality.IV_KETAMINE:
        if infusion_minutes is None:
            raise Refused(
                "The infusion's times are not documented",
                ["96365 and 96366 need the infusion's documented start and stop times."],
                field="ended_at",
            )
        first = rule_in_force(day, CodeRuleKind.INFUSION_INITIAL)
        more = rule_in_force(day, CodeRuleKind.INFUSION_ADDITIONAL)
        initial = coding.initial_infusion_units(
            infusion_minutes, min_minutes=int(first.params["min_minutes"])
        )
        additional = coding.additional_infusion_units(
            infusion_minutes, beyond_minutes=int(more.params["beyond_minutes"])
        )
        lines = []
        if initial:
            lines.append(_coded(location, PriceItem.IV_INFUSION, first, day, initial))
        if additional:
            lines.append(_coded(location, PriceItem.IV_INFUSION_ADDITIONAL_HOUR, more, day, additional))
        return [*lines, _priced(location, PriceItem.RACEMIC_KETAMINE, day)]
    if modality == PlanModality.IM_KETAMINE:
        return [
            _priced(location, PriceItem.IM_INJECTION, day),
            _priced(location, PriceItem.RACEMIC_KETAMINE, day),
        ]
    assert dose_mg is not None
    if payer_kind == PayerKind.MEDICARE:
        rules = {r.code: r for r in rules_in_force(day, CodeRuleKind.ESKETAMINE_MEDICARE)}
        bounds = [
            (code, Decimal(str(r.params["max_dose_mg"])) if "max_dose_mg" in r.params else None)
            for code, r in rules.items()
        ]
        try:
            code = coding.esketamine_medicare_code(dose_mg, codes=bounds)
        except ValueError as exc:
            raise Refused("No esketamine code fits the dose", [str(exc)]) from exc
        return [_coded(location, PriceItem.ESKETAMINE_MEDICARE, rules[code], day, 1)]
    drug = rule_in_force(day, CodeRuleKind.DRUG_PER_MG)
    units = coding.drug_units(dose_mg, mg_per_unit=Decimal(str(drug.params["mg_per_unit"])))
    lines = [
        _coded(location, PriceItem.ESKETAMINE_DRUG, drug, day, units),
        _priced(location, PriceItem.ESKETAMINE_MONITORING, day),
    ]
    if split_billing:
        lines.append(_priced(location, PriceItem.PROLONGED_SERVICE, day))
    return lines


def _one_currency(lines: Iterable[Line]) -> str:
    currencies = {line.currency for line in lines}
    if len(currencies) != 1:
        raise Refused("The prices are in more than one currency", [", ".join(sorted(currencies))])
    return currencies.pop()


# --- Estimates -----------------------------------------------------------------------------------------


def _summed(per_session: list[list[Line]], splits: list[coding.Split] | None) -> list[dict[str, Any]]:
    """Lines of like item, code and price added up over the sessions, with the insurer's and patient's
    shares spread over a session's lines in proportion."""
    rows: dict[tuple[str, str, Decimal], dict[str, Any]] = {}
    for index, lines in enumerate(per_session):
        charge = sum((line.amount for line in lines), Decimal(0))
        for line in lines:
            row = rows.setdefault(
                (line.item, line.code, line.unit_amount),
                {
                    "item": line.item,
                    "code": line.code,
                    "description": line.description,
                    "units": 0,
                    "unit_amount": line.unit_amount,
                    "amount": Decimal(0),
                    "insurer": Decimal(0),
                    "patient": Decimal(0),
                    "sessions": 0,
                },
            )
            row["units"] += line.units
            row["amount"] += line.amount
            row["sessions"] += 1
            insurer = Decimal(0)
            if splits is not None and charge:
                insurer = coding.money(splits[index].insurer * line.amount / charge)
            row["insurer"] += insurer
            row["patient"] += line.amount - insurer
    return list(rows.values())


def _as_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()} for row in rows]


@transaction.atomic
def do_estimate(
    plan: TreatmentPlan, data: inputs.EstimateIn, *, actor: Any, origin: Origin = SYSTEM
) -> Estimate:
    """The course's expected cost, kept with the plan as a new version: each planned session priced, the
    insurer's expected payment from the latest benefits check of the modality, the patient's share, the
    self-pay cost beside it, and integration sessions as their own lines."""
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status == PlanStatus.ENDED:
        raise Refused("This plan has ended", ["An estimate is made for a plan still to come."], field="plan")
    patient, location = plan.patient, plan.location
    sessions = list(plan.sessions.exclude(status=SessionStatus.CANCELLED).order_by("number"))
    coverage = current_coverage(patient)
    benefit = latest_benefit(coverage, plan.modality)
    insured = coverage is not None and benefit is not None and benefit.covered

    def priced(payer_kind: str | None, split: bool) -> list[list[Line]]:
        return [
            session_lines(
                location,
                plan.modality,
                s.date,
                payer_kind=payer_kind,
                split_billing=split,
                dose_mg=plan.dose_mg,
                infusion_minutes=plan.infusion_minutes,
            )
            for s in sessions
        ]

    self_pay = priced(None, False)
    charged = priced(coverage.payer_kind, coverage.split_billing) if insured and coverage else self_pay
    charges = [sum((line.amount for line in lines), Decimal(0)) for lines in charged]
    splits = coding.split_sessions(
        charges,
        coding.Benefit(
            covered=benefit.covered,
            copay=benefit.copay,
            coinsurance_percent=benefit.coinsurance_percent,
            deductible_remaining=benefit.deductible_remaining,
        )
        if insured and benefit
        else None,
    )
    integration: list[list[Line]] = []
    if data.integration_per_session and sessions:
        first_day = sessions[0].date
        integration = [
            [
                _priced(
                    location, PriceItem.INTEGRATION, first_day, data.integration_per_session * len(sessions)
                )
            ]
        ]
    lines = _summed(charged, splits) + _summed(integration, None)
    self_pay_lines = _summed(self_pay, None) + _summed(integration, None)
    every = [line for lines_ in charged + self_pay + integration for line in lines_]
    currency = _one_currency(every) if every else (location_currency(location) or "USD")
    total = sum((row["amount"] for row in lines), Decimal(0))
    insurer = sum((row["insurer"] for row in lines), Decimal(0))
    version = (Estimate.objects.filter(plan=plan).aggregate(v=Max("version"))["v"] or 0) + 1
    estimate = Estimate.objects.create(
        plan=plan,
        patient=patient,
        version=version,
        currency=currency,
        total=total,
        insurer_expected=insurer,
        patient_share=total - insurer,
        self_pay_total=sum((row["amount"] for row in self_pay_lines), Decimal(0)),
        lines=_as_json(lines),
        self_pay_lines=_as_json(self_pay_lines),
        benefit_check=benefit if insured else None,
        payer=coverage.payer if insured and coverage else "",
        integration_per_session=data.integration_per_session,
        created_at=timezone.now(),
        created_by=actor,
    )
    record(
        Action.BILLING_ESTIMATE,
        actor=actor,
        origin=origin,
        obj=estimate,
        patient=patient,
        changed_fields=["lines", "total", "version"],
    )
    return estimate


# --- Invoices and their entries ------------------------------------------------------------------------


def _rendering_clinician(session: TreatmentSession) -> Any:
    plan = session.plan
    return plan.approved_by or plan.created_by


@transaction.atomic
def do_invoice(session: TreatmentSession, *, actor: Any, origin: Origin = SYSTEM) -> Invoice:
    """The invoice of a signed session, its lines from the price list in force on the session's day and
    the chart (the dose, the infusion's documented times) under the patient's current coverage."""
    locked = TreatmentSession.objects.select_for_update().get(pk=session.pk)
    existing = Invoice.objects.filter(session_id=session.pk).first()
    if existing is not None:
        raise Refused(
            "This session already has an invoice",
            [f"Invoice {existing.number} was made for it; correct it with a credit note."],
            field="session",
        )
    if locked.status != SessionStatus.SIGNED:
        raise Refused(
            "Only a signed session is invoiced",
            [f"The session is {locked.get_status_display().lower()}; it is invoiced once signed."],
            field="session",
        )
    dose = Dose.objects.filter(session=locked).first()
    if dose is None:
        raise Refused("No dose was given in this session", ["There is nothing to invoice."], field="session")
    plan = session.plan
    coverage = current_coverage(session.patient)
    day = locked.date
    minutes = coding.documented_minutes(dose.started_at, dose.ended_at)
    lines = session_lines(
        session.location,
        plan.modality,
        day,
        payer_kind=coverage.payer_kind if coverage else None,
        split_billing=coverage.split_billing if coverage else False,
        dose_mg=dose.amount_mg,
        infusion_minutes=minutes,
    )
    currency = _one_currency(lines)
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                number=f"INV-{uuid.uuid4().hex[:10].upper()}",
                patient=session.patient,
                location=session.location,
                session=locked,
                coverage=coverage,
                rendering_clinician=_rendering_clinician(session),
                service_date=day,
                currency=currency,
                total=sum((line.amount for line in lines), Decimal(0)),
                created_at=timezone.now(),
                created_by=actor,
            )
    except IntegrityError as exc:
        raise Refused("This session already has an invoice", ["Another invoice was just made."]) from exc
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                number=number,
                item=line.item,
                code=line.code,
                description=line.description,
                units=line.units,
                unit_amount=line.unit_amount,
                amount=line.amount,
                place_of_service=line.place_of_service,
            )
            for number, line in enumerate(lines, 1)
        ]
    )
    record(
        Action.BILLING_INVOICE,
        actor=actor,
        origin=origin,
        obj=invoice,
        patient=session.patient,
        changed_fields=["lines", "total"],
    )
    return invoice


def entries_of(invoice: Invoice) -> list[tuple[str, Decimal]]:
    return list(InvoiceEntry.objects.filter(invoice=invoice).values_list("kind", "amount"))


def balance_of(invoice: Invoice) -> Decimal:
    return coding.balance(invoice.total, entries_of(invoice))


def _add_entry(invoice: Invoice, fields: dict[str, Any], *, actor: Any, origin: Origin) -> InvoiceEntry:
    entry = InvoiceEntry.objects.create(
        invoice=invoice, created_at=timezone.now(), created_by=actor, **fields
    )
    record(
        ENTRY_ACTIONS[EntryKind(entry.kind)],
        actor=actor,
        origin=origin,
        obj=entry,
        patient=invoice.patient,
        changed_fields=sorted(k for k, v in fields.items() if v not in ("", None, False)),
    )
    return entry


def _lock(invoice: Invoice) -> Invoice:
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    locked.patient, locked.location = invoice.patient, invoice.location
    return locked


def _received(invoice: Invoice, day: dt.date | None, field: str = "received_on") -> None:
    if day is not None and day > local_today(invoice.location):
        raise InvalidInput({field: "cannot be after today at the clinic"})


@transaction.atomic
def do_record_payment(
    invoice: Invoice, data: inputs.PaymentIn, *, actor: Any, origin: Origin = SYSTEM
) -> InvoiceEntry:
    """A payment received (no card is processed here). Above the balance it is refused, unless taken as the
    patient's credit."""
    invoice = _lock(invoice)
    _received(invoice, data.received_on)
    owed = balance_of(invoice)
    if data.amount > owed and not data.as_credit:
        raise InvalidInput(
            {"amount": f"is above the balance of {owed} {invoice.currency}; record it as a credit to take it"}
        )
    return _add_entry(
        invoice,
        {
            "kind": EntryKind.PAYMENT,
            "amount": data.amount,
            "method": data.method,
            "received_on": data.received_on,
            "as_credit": data.as_credit,
        },
        actor=actor,
        origin=origin,
    )


@transaction.atomic
def do_record_entry(
    invoice: Invoice, data: inputs.EntryIn, *, actor: Any, origin: Origin = SYSTEM
) -> InvoiceEntry:
    """A refund (at most what was paid), a write-off (at most the balance) or a credit note (at most what the
    invoice still charges), each with its reason."""
    invoice = _lock(invoice)
    _received(invoice, data.received_on)
    entries = entries_of(invoice)
    limit = {
        EntryKind.REFUND: (coding.refundable(entries), "what was paid and not yet refunded"),
        EntryKind.WRITE_OFF: (coding.balance(invoice.total, entries), "the balance"),
        EntryKind.CREDIT_NOTE: (coding.creditable(invoice.total, entries), "what the invoice still charges"),
    }[EntryKind(data.kind)]
    if data.amount > limit[0]:
        raise InvalidInput(
            {"amount": f"is above {limit[1]} ({max(limit[0], Decimal(0))} {invoice.currency})"}
        )
    fields: dict[str, Any] = {"kind": data.kind, "amount": data.amount, "reason": data.reason}
    if data.kind == EntryKind.REFUND:
        fields |= {"method": data.method, "received_on": data.received_on or local_today(invoice.location)}
    return _add_entry(invoice, fields, actor=actor, origin=origin)


def local_day_of(location: ClinicLocation, moment: dt.datetime) -> dt.date:
    return local_date(location, moment)


# --- Superbill identifiers (clinic admins) ---------------------------------------------------------------


@transaction.atomic
def do_save_practice_identity(
    location: ClinicLocation, data: inputs.PracticeIdentityIn, *, actor: Any, origin: Origin = SYSTEM
) -> PracticeIdentity:
    """Set the location's billing identifiers (one row, changed in place; the audit row names the fields
    that changed, never their values)."""
    values = data.model_dump()
    row = PracticeIdentity.objects.select_for_update().filter(location=location).first()
    if row is None:
        row = PracticeIdentity.objects.create(
            location=location, updated_at=timezone.now(), updated_by=actor, **values
        )
        changed = sorted(k for k, v in values.items() if v)
    else:
        changed = sorted(k for k, v in values.items() if getattr(row, k) != v)
        for key, value in values.items():
            setattr(row, key, value)
        row.version += 1
        row.updated_at, row.updated_by = timezone.now(), actor
        row.save()
    record(Action.BILLING_IDENTIFIERS, actor=actor, origin=origin, obj=row, changed_fields=changed)
    return row


@transaction.atomic
def do_save_clinician_identity(
    data: inputs.ClinicianIdentityIn, *, location: ClinicLocation, actor: Any, origin: Origin = SYSTEM
) -> ClinicianIdentity:
    """A clinician's NPI and credentials; the clinician must work at `location` (the admin's)."""
    member = (
        Membership.objects.filter(
            location=location, user_id=data.user_id, user__is_active=True, role__in=CLINICIAN_ROLES
        )
        .select_related("user")
        .first()
    )
    if member is None:
        raise InvalidInput({"user_id": "no clinician of this location has this id"})
    row, _ = ClinicianIdentity.objects.update_or_create(
        user=member.user,
        defaults={
            "npi": data.npi,
            "credentials": data.credentials,
            "updated_at": timezone.now(),
            "updated_by": actor,
        },
    )
    record(
        Action.BILLING_IDENTIFIERS, actor=actor, origin=origin, obj=row, changed_fields=["npi", "credentials"]
    )
    return row


@transaction.atomic
def do_save_diagnosis_code(
    location: ClinicLocation, data: inputs.DiagnosisCodeIn, *, actor: Any, origin: Origin = SYSTEM
) -> DiagnosisCode:
    """The ICD-10-CM code the location bills a chart condition under (one per condition; replaced)."""
    row, _ = DiagnosisCode.objects.update_or_create(
        location=location,
        condition=data.condition,
        defaults={
            "icd10": data.icd10,
            "description": data.description,
            "updated_at": timezone.now(),
            "updated_by": actor,
        },
    )
    record(Action.BILLING_IDENTIFIERS, actor=actor, origin=origin, obj=row, changed_fields=["icd10"])
    return row


# --- Prior authorisations (front desk) -------------------------------------------------------------------


@transaction.atomic
def do_record_authorization(
    plan: TreatmentPlan, data: inputs.AuthorizationIn, *, actor: Any, origin: Origin = SYSTEM
) -> PriorAuthorization:
    """Record a payer's prior authorisation of the plan's sessions under the patient's current coverage.
    Appended: a renewal or a correction is a new row (the latest covering a day is in force on it)."""
    if plan.status == PlanStatus.ENDED:
        raise Refused(
            "This plan has ended",
            ["An authorisation is recorded against a plan still to be given."],
            field="plan",
        )
    made = PriorAuthorization.objects.create(
        plan=plan,
        patient=plan.patient,
        coverage=current_coverage(plan.patient),
        created_at=timezone.now(),
        created_by=actor,
        **data.model_dump(),
    )
    record(
        Action.BILLING_AUTHORIZATION,
        actor=actor,
        origin=origin,
        obj=made,
        patient=plan.patient,
        changed_fields=sorted(data.model_fields_set | {"number", "approved_sessions"}),
    )
    return made
