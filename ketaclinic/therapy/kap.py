"""Issue 11, item 5: preparation before a KAP plan's first dose and integration after each dose, read from the
therapy records and judged by clinical/kap.py under the clinic policy.

- `preparation_gate` is a treatment dose gate (treatment.actions.add_dose_gate, registered in apps.py): a
  plan whose first dose waits for preparation [KAP-PREPARATION-FIRST-DOSE] has its dose refused, by name,
  until a preparation session of the patient has a signed note.
- `worklist_items` is a worklist source (assessments.worklist.add_worklist_source): each signed dose session
  of an active plan of a KAP patient (a therapist on the care team) with no integration session linked to it
  is `integration_due`: within its protocol's days (low), overdue past them (medium) [KAP-INTEGRATION-DUE].
  One query for the dose sessions whatever the history, plus the policy of each location.

A KAP plan is a plan of a patient with a therapist on the care team: the care team already says who treats
the patient, and a plan needs no second flag that could disagree with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.assessments.worklist import PRIORITY, Item, Kind, Priority
from ketaclinic.clinical import kap, protocols
from ketaclinic.clinicpolicy.clock import local_date
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.therapy.models import (
    CareTeamMember,
    CareTeamRole,
    TherapyKind,
    TherapySession,
    TherapyStatus,
)
from ketaclinic.treatment.models import Dose, PlanStatus, SessionStatus, TreatmentSession


def has_therapist(patient_id: Any) -> bool:
    return CareTeamMember.objects.filter(
        patient_id=patient_id, role=CareTeamRole.THERAPIST, ended_at=None
    ).exists()


def prepared(patient_id: Any) -> bool:
    """A preparation session of the patient whose note is signed (the session is then completed)."""
    return TherapySession.objects.filter(
        patient_id=patient_id, kind=TherapyKind.PREPARATION, status=TherapyStatus.COMPLETED
    ).exists()


def preparation_gate(session: TreatmentSession) -> list[str]:
    """The reason the dose of this session waits for preparation, if it does (three small reads, only
    before a plan's first dose)."""
    from ketaclinic.treatment.actions import session_policy  # the treatment area sits below this one

    plan = session.plan
    if Dose.objects.filter(session__plan_id=plan.pk).exists():
        return []
    policy = session_policy(session)
    required = kap.preparation_required(
        protocol_requires=protocols.preparation_required(plan.protocol, policy),
        kap_plan=has_therapist(session.patient_id),
        policy=policy,
    )
    if not required:
        return []
    return kap.preparation_blockers(required=True, first_dose=True, prepared=prepared(session.patient_id))


def _therapist() -> Any:
    return CareTeamMember.objects.filter(
        patient_id=OuterRef("patient_id"), role=CareTeamRole.THERAPIST, ended_at=None
    )


def _integration() -> Any:
    return TherapySession.objects.filter(dose_session_id=OuterRef("pk"), kind=TherapyKind.INTEGRATION)


def dose_sessions_awaiting_integration(ids: Iterable[int]) -> Any:
    """Signed dose sessions of active plans of KAP patients at these locations with no integration session
    linked, each with the time its dose started (`dose_at`): one query."""
    return (
        TreatmentSession.objects.filter(
            location_id__in=list(ids),
            status=SessionStatus.SIGNED,
            plan__status=PlanStatus.ACTIVE,
            patient__entered_in_error_at__isnull=True,
        )
        .filter(Exists(_therapist()))
        .filter(~Exists(_integration()))
        .annotate(dose_at=Min("doses__started_at"))
        .filter(dose_at__isnull=False)
        .select_related("patient", "plan", "location")
        .order_by("dose_at")
    )


def worklist_items(
    ids: Iterable[int],
    readable: frozenset[int],
    locations: dict[int, ClinicLocation],
    now: dt.datetime | None,
) -> list[Item]:
    moment = now or timezone.now()
    policies: dict[int, Any] = {}  # read only for the locations with a dose awaiting integration
    items = []
    for session in dose_sessions_awaiting_integration(ids):
        if session.location_id not in policies:
            policies[session.location_id] = policy_for(locations[session.location_id])
        policy = policies[session.location_id]
        days = protocols.integration_due_within_days(session.plan.protocol, policy)
        due = kap.integration_due(session.dose_at, integrated=False, due_within_days=days, now=moment)
        if due is None:
            continue
        patient: Any = session.patient
        name = f"{patient.family_name}, {patient.given_name}" if session.location_id in readable else ""
        state = "overdue" if due.overdue else "due"
        detail = (
            f"Integration {state} after dose session {session.number} of "
            f"{local_date(session.location, session.dose_at).isoformat()}: within {days} days "
            f"({kap.RULE_INTEGRATION_DUE.id})"
        )
        kind = Kind.INTEGRATION_DUE
        priority = PRIORITY[kind] if due.overdue else Priority.LOW
        items.append(
            Item(
                kind,
                session.patient_id,
                priority,
                due.due_at,
                detail,
                locations[session.location_id],
                name,
                dose_session_id=session.pk,
            )
        )
    return items
