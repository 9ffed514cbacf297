"""Demo billing, through the actions: each location's price list and billing identifiers (also in the tests'
small network), then, in the full demo, an insured esketamine patient (coverage, a benefits check and an
estimate of their plan), a self-pay IV patient's estimate, invoices of the signed esketamine sessions with
payments, five months of earlier invoiced sessions (esketamine and IV, insured and self-pay, paid or still
open) for the reports, and a prior authorisation of an esketamine course with one session left."""

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
        identifiers(location)
        if full:
            _patients(location, rng)
            history(location, rng)
            authorization(location, local_today(location))


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


# --- Superbill identifiers and a prior authorisation (issue 12, items 5-7) ---------------------------------

# Each location's identifiers as its admin would type them. The NPIs and tax ids are made up (a demo
# clinic has none); the ICD-10-CM codes are the ones the demo clinic chose for how it documents its
# diagnoses, which a real clinic sets for itself on the identifiers page.
PRACTICE_NPI = {"north": "1093817465", "south": "1548203916"}
PRACTICE_TAX_ID = {"north": "84-1029384", "south": "84-5566778"}
CLINICIAN_NPI = {"prescriber": "1689402751", "nurse": "1265873049"}
DIAGNOSIS_CODES: tuple[tuple[str, str, str], ...] = (
    (
        "major_depressive_disorder",
        "F33.2",
        "Major depressive disorder, recurrent severe without psychotic features",
    ),
    ("generalized_anxiety_disorder", "F41.1", "Generalized anxiety disorder"),
    ("ptsd", "F43.10", "Post-traumatic stress disorder, unspecified"),
    ("bipolar_depression", "F31.4", "Bipolar disorder, current episode depressed, severe"),
)


def identifiers(location: ClinicLocation) -> None:
    admin = _user(location, "admin")
    slug = location.slug
    actions.do_save_practice_identity(
        location,
        inputs.PracticeIdentityIn(
            practice_name=f"{location.name} Ketamine Clinic"
            if "Clinic" not in location.name
            else location.name,
            npi=PRACTICE_NPI.get(slug, ""),
            tax_id=PRACTICE_TAX_ID.get(slug, ""),
            address=f"100 Harbour Street, {location.name}",
            phone="555-0100",
        ),
        actor=admin,
    )
    for role, npi in CLINICIAN_NPI.items():
        user = _user(location, role)
        number = npi[:-1] + str((int(npi[-1]) + (1 if slug == "south" else 0)) % 10)
        credentials = "MD" if role == "prescriber" else "RN"
        actions.do_save_clinician_identity(
            inputs.ClinicianIdentityIn(user_id=user.pk, npi=number, credentials=credentials),
            location=location,
            actor=admin,
        )
    for condition, code, description in DIAGNOSIS_CODES:
        actions.do_save_diagnosis_code(
            location,
            inputs.DiagnosisCodeIn(condition=condition, icd10=code, description=description),
            actor=admin,
        )


def authorization(location: ClinicLocation, today: dt.date) -> None:
    """The insured esketamine course's authorisation, ending in under three weeks with one session left
    for it; the course's later sessions fall after it ends and are flagged."""
    from ketaclinic.billing.authorizations import PLANNED

    plan = (
        TreatmentPlan.objects.filter(
            location=location, modality=PlanModality.ESKETAMINE_NASAL, status=PlanStatus.ACTIVE
        )
        .select_related("patient", "location")
        .order_by("created_at")
        .first()
    )
    if plan is None:
        return
    start, end = min(plan.start_date, today), today + dt.timedelta(days=18)
    planned = TreatmentSession.objects.filter(
        plan=plan, status__in=PLANNED, date__gte=start, date__lte=end
    ).count()
    actions.do_record_authorization(
        plan,
        inputs.AuthorizationIn(
            number=f"PA-{location.slug.upper()}-{plan.patient.mrn[-4:]}",
            approved_from=start,
            approved_to=end,
            approved_sessions=planned + 1,
            note="Approved by phone; letter to follow",
        ),
        actor=_user(location, "frontdesk"),
    )


# Months of invoiced sessions for the reports: on these days before today (about two a month for five
# months), one session each, given, signed and invoiced on its own day as the clinic would have, and paid
# later (by the insurer or the patient) or still open, so that revenue and ageing have something to show.
HISTORY_DAYS_AGO: tuple[int, ...] = (150, 136, 121, 108, 94, 80, 66, 52, 38, 24)


def history(location: ClinicLocation, rng: random.Random) -> None:
    from ketaclinic.treatment import actions as treatment_actions
    from ketaclinic.treatment import demo as treatment_demo
    from ketaclinic.treatment.inputs import CheckInIn, ReasonIn

    desk, prescriber, nurse = (_user(location, r) for r in ("frontdesk", "prescriber", "nurse"))
    today = local_today(location)
    busy = set(
        TreatmentPlan.objects.filter(
            location=location, status__in=[PlanStatus.ACTIVE, PlanStatus.DRAFT]
        ).values_list("patient_id", flat=True)
    )
    candidates = [p for p in location.patients.order_by("mrn") if p.pk not in busy][
        treatment_demo.UNTREATED :
    ]
    if not candidates:
        return
    for index, days_ago in enumerate(HISTORY_DAYS_AGO):
        day = today - dt.timedelta(days=days_ago)
        modality = PlanModality.IV_KETAMINE if index % 3 == 2 else PlanModality.ESKETAMINE_NASAL
        patient = candidates[index % len(candidates)]
        with treatment_demo._clock_at(treatment_demo._local(location, day, 17)):
            if not treatment_demo._cleared(patient, modality, prescriber, nurse):
                continue
            session = treatment_demo._plan(patient, modality, prescriber)
            start = treatment_demo._local(location, day, rng.choice([9, 10, 11]))
            session = treatment_actions.do_check_in(session, CheckInIn(checked_in_at=start), actor=desk)
            treatment_demo._chart(session, "discharged", modality, start, nurse, rng)
            reason = ReasonIn(reason="Course continued at the clinic's other location")
            treatment_actions.do_end_plan(session.plan, reason, actor=prescriber)
            if modality == PlanModality.ESKETAMINE_NASAL and not patient.coverages.exists():
                _insure(session.plan, desk, PayerKind.COMMERCIAL if index % 2 else PayerKind.MEDICARE)
            session = TreatmentSession.objects.select_related("plan", "patient", "location").get(
                pk=session.pk
            )
            invoice = actions.do_invoice(session, actor=desk)
        invoice.patient, invoice.location = patient, location
        if days_ago < 40 and index % 2:
            continue  # recent and still open: the ageing report's current bucket
        paid_on = min(day + dt.timedelta(days=rng.choice([10, 25, 45])), today)
        share = Decimal(rng.choice([40, 70, 100])) / 100
        method = PaymentMethod.INSURER if invoice.coverage_id else PaymentMethod.CARD
        amount = (invoice.total * share).quantize(Decimal("0.01"))
        with treatment_demo._clock_at(treatment_demo._local(location, paid_on, 16)):
            actions.do_record_payment(
                invoice, inputs.PaymentIn(amount=amount, method=method, received_on=paid_on), actor=desk
            )
