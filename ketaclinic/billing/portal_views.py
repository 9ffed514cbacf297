"""The patient's own course estimates in the portal: the latest version of each of their plans' estimates,
never another patient's (the portal account names the patient; no id is taken from the URL)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from ketaclinic.audit.actions import record
from ketaclinic.audit.models import Action
from ketaclinic.billing import queries
from ketaclinic.billing.models import Estimate, PriceItem
from ketaclinic.portal.auth import patient_page, portal_origin
from ketaclinic.portal.models import PatientAccount
from ketaclinic.treatment.models import PlanModality, PlanStatus


@never_cache
@patient_page
def estimates(request: HttpRequest, account: PatientAccount) -> HttpResponse:
    latest: dict[object, Estimate] = {}
    rows = (
        Estimate.objects.filter(patient=account.patient)
        .exclude(plan__status=PlanStatus.ENDED)
        .select_related("plan")
        .order_by("plan_id", "-version")
    )
    for row in rows:
        latest.setdefault(row.plan_id, row)
    shown = [(e.plan, queries.estimate_detail(e)) for e in latest.values()]
    record(
        Action.PATIENT_READ,
        actor=account,
        origin=portal_origin(request),
        patient=account.patient,
        changed_fields=["estimates"],
    )
    return render(
        request,
        "billing/portal_estimate.html",
        {
            "account": account,
            "patient": account.patient,
            "estimates": shown,
            "modality_names": dict(PlanModality.choices),
            "item_names": dict(PriceItem.choices),
            "section": "estimate",
        },
    )
