"""API route of outcome analytics (mounted under /api/v1 by ketaclinic/api/app.py)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from ketaclinic.audit.context import origin_of
from ketaclinic.audit.models import Via
from ketaclinic.outcomes.filters import OutcomesQuery
from ketaclinic.outcomes.schemas import OutcomesOut
from ketaclinic.outcomes.service import read_report
from ketaclinic.patients.schemas import ANY_OPERATION, NOT_FOUND, errors

router = Router(tags=["Outcome analytics"])
READ = errors(*ANY_OPERATION, NOT_FOUND)


@router.get("/outcomes", response={200: OutcomesOut, **READ}, summary="Outcome report of a cohort")
def outcomes(request: HttpRequest, query: Query[OutcomesQuery]) -> Any:
    """Patients started, with a baseline and with follow-up; response and remission at the end of
    induction and at weeks 2, 4, 8 and 12 under two missing-data conventions (completers, and non-responder
    imputation); the attrition funnel; durability of response as a Kaplan-Meier curve with 4- and 8-week
    landmarks; and the published figures whose scale and definitions match. `response_rate` and
    `remission_rate` are the end of induction, completers, as fractions. Rates from fewer patients than the
    small-cell minimum (`min_cell`) are null. Aggregates only, no patient ids; the read is audited.

    `location` (a slug) narrows to one location; without it, the whole network for a user who reads
    outcomes at every location of it, else the user's locations together. Clinic admins and prescribers.
    """
    return read_report(request.user, query, origin=origin_of(request, Via.API))
