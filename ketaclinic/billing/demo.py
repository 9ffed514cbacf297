"""Demo billing, through the actions: each location's price list (also in the tests' small network), then,
in the full demo, an insured esketamine patient (coverage, a benefits check and an estimate of their plan),
a self-pay IV patient's estimate, and invoices of the signed esketamine sessions with payments."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from ketaclinic.accounts.models import ClinicLocation, ClinicNetwork, User
from ketaclinic.billing import actions, inputs
from ketaclinic.billing.models import PayerKind, PaymentMethod, PriceItem
from ketaclinic.clinicpolicy.clock import local_today
from ketaclinic.treatment.models import (
    PlanModality,
    PlanStatus,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
)

# Item, code, amount at north (USD). The E/M code of the monitoring visit and racemic ketamine (no drug code
# of its own, reference section 8) are the clinic's own codes.
PRICES: tuple[tuple[str, str, str], ...] = (
    (PriceItem.CONSULTATION, "90791", "350"),
    (PriceItem.PREPARATION, "90837", "200"),
    (PriceItem.IV_INFUSION, "96365", "450"),
    (PriceItem.IV_INFUSION_ADDITIONAL_HOUR, "96366", "150"),
    (PriceItem.IM_INJECTION, "96372", "300"),
    (PriceItem.ESKETAMINE_MONITORING, "KC-ESK-EM", "250"),
    (PriceItem.ESKETAMINE_MEDICARE, "G2082", "880"),
    (PriceItem.ESKETAMINE_MEDICARE, "G2083", "1150"),
    (PriceItem.ESKETAMINE_DRUG, "J0013", "15.50"),
    (PriceItem.RACEMIC_KETAMINE, "KC-KETAMINE", "75"),
    (PriceItem.PROLONGED_SERVICE, "99417", "120"),
    (PriceItem.INTEGRATION, "90837", "180"),
    (PriceItem.KAP, "90837", "400"),
)
# South charges a little more for the infusion, and raised it last month (a newer version of the price).
SOUTH_EXTRA = Decimal("25")


def _user(location: ClinicLocation, role: str) -> User:
    return User.objects.get(username=f"{role}.{location.slug}")


def prices(location: ClinicLocation, today: dt.date) -> None:
    admin = _user(location, "admin")
    year_ago = today - dt.timedelta(days=365)
    for item, code, amount in PRICES:
        value = Decimal(amount) + (SOUTH_EXTRA if location.slug == "south" and item == "iv_infusion" else 0)
        data = inputs.PriceIn(
            item=PriceItem(item), code=code, amount=value, effective_from=year_ago, place_of_service="11"
        )
        actions.do_add_price(location, data, actor=admin)
    if location.slug == "south":
        newer = inputs.PriceIn(
            item=PriceItem.IV_INFUSION,
            code="96365",
            amount=Decimal("495"),
            effective_from=today - dt.timedelta(days=30),
            place_of_service="11",
        )
        actions.do_add_price(location, newer, actor=admin)


def load(network: ClinicNetwork, today: dt.date, rng: random.Random, *, full: bool) -> None:
    for location in network.locations.order_by("slug"):
        prices(location, local_today(location))
        if full:
            _patients(location, rng)


def _insure(plan: TreatmentPlan, desk: User, kind: PayerKind, covered: bool = True) -> None:
    coverage = actions.do_add_coverage(
        plan.patient,
        inputs.CoverageIn(
            payer="Medicare Part B" if kind == PayerKind.MEDICARE else "Harbour Health PPO",
            member_id=f"M{plan.patient.mrn[-6:]}",
            plan="Part B" if kind == PayerKind.MEDICARE else "Gold PPO",
            group_number="" if kind == PayerKind.MEDICARE else "GRP-4410",
            payer_kind=kind,
            payer_id="MCR01" if kind == PayerKind.MEDICARE else "HHP77",
            split_billing=kind == PayerKind.COMMERCIAL,
        ),
        actor=desk,
    )
    actions.do_record_benefit_check(
        coverage,
        inputs.BenefitCheckIn(
            modality=PlanModality(plan.modality),
            covered=covered,
            copay=Decimal("40") if covered else None,
            coinsurance_percent=Decimal("20") if covered else None,
            deductible_remaining=Decimal("300") if covered else None,
            prior_auth_required=covered,
        ),
        actor=desk,
    )


def _patients(location: ClinicLocation, rng: random.Random) -> None:
    desk, prescriber = _user(location, "frontdesk"), _user(location, "prescriber")
    # Invoices of the signed esketamine sessions: the first patient insured (commercial, split billing), the
    # second Medicare, the rest self-pay; each paid in part or in full.
    finished = (
        TreatmentSession.objects.filter(
            location=location,
            status=SessionStatus.SIGNED,
            plan__modality=PlanModality.ESKETAMINE_NASAL,
            plan__status=PlanStatus.ENDED,
        )
        .select_related("plan", "patient", "location")
        .order_by("date")
    )
    for index, session in enumerate(finished):
        if index < 2:
            _insure(session.plan, desk, PayerKind.COMMERCIAL if index == 0 else PayerKind.MEDICARE)
        invoice = actions.do_invoice(session, actor=desk)
        invoice.patient, invoice.location = session.patient, location
        share = (invoice.total * Decimal(rng.choice([25, 50, 100])) / 100).quantize(Decimal("0.01"))
        paid = inputs.PaymentIn(amount=share, method=PaymentMethod.CARD, received_on=session.date)
        actions.do_record_payment(invoice, paid, actor=desk)
    # Estimates: an insured esketamine course and a self-pay IV course.
    for modality, insured in ((PlanModality.ESKETAMINE_NASAL, True), (PlanModality.IV_KETAMINE, False)):
        plan = (
            TreatmentPlan.objects.filter(location=location, modality=modality, status=PlanStatus.ACTIVE)
            .select_related("patient", "location")
            .order_by("created_at")
            .first()
        )
        if plan is None:
            continue
        if insured and not plan.patient.coverages.exists():
            _insure(plan, desk, PayerKind.COMMERCIAL)
        actions.do_estimate(plan, inputs.EstimateIn(), actor=prescriber)
