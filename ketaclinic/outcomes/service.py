"""One report read, as the page, the CSV and the API all make it: scope, policy, extract, compute, audit."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ketaclinic.audit.actions import record
from ketaclinic.audit.context import Origin
from ketaclinic.audit.models import Action
from ketaclinic.outcomes import queries
from ketaclinic.outcomes.access import get_scope_for, policy_of
from ketaclinic.outcomes.body import report_body
from ketaclinic.outcomes.cohort import DEFAULT_CONVENTIONS, Conventions
from ketaclinic.outcomes.filters import OutcomesQuery


def conventions() -> Conventions:
    """The report's conventions, with the small-cell minimum from settings (OUTCOMES_MIN_CELL, default 10)."""
    minimum = int(getattr(settings, "OUTCOMES_MIN_CELL", DEFAULT_CONVENTIONS.min_cell))
    return Conventions(**{**_fields(DEFAULT_CONVENTIONS), "min_cell": max(1, minimum)})


def _fields(c: Conventions) -> dict[str, Any]:
    return {name: getattr(c, name) for name in c.__dataclass_fields__}


def read_report(
    user: Any, query: OutcomesQuery, *, origin: Origin, action: str = Action.OUTCOMES_READ
) -> dict[str, Any]:
    scope = get_scope_for(user, query.location, origin=origin)
    policy, note = policy_of(scope)
    cohort = queries.Cohort(
        [loc.pk for loc in scope.locations],
        modality=query.modality,
        protocol=query.protocol,
        dose_band=query.dose_band,
        start_from=query.from_,
        start_to=query.to,
    )
    report = queries.report(cohort, query.instrument, policy, conventions())
    filters = {
        "instrument": query.instrument,
        "location": query.location,
        "modality": query.modality,
        "protocol": query.protocol,
        "dose_band": query.dose_band,
        "from": query.from_.isoformat() if query.from_ else "",
        "to": query.to.isoformat() if query.to else "",
    }
    scope_out = {"label": scope.label, "network": scope.network, "location": scope.slug, "policy_note": note}
    body = report_body(report, scope=scope_out, modality=query.modality, filters=filters)
    # Aggregates, but of PHI: the read is audited, naming the scope and filters (never a patient).
    record(
        action,
        actor=user,
        origin=origin,
        location_id=scope.locations[0].pk if len(scope.locations) == 1 else None,
        changed_fields=[f"{k}={v}" for k, v in filters.items() if v],
    )
    return body
