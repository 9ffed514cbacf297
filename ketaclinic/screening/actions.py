"""Every write of screening: run a screening, acknowledge a finding, record a REMS enrolment.

Each do_* runs in one transaction and leaves one audit row naming the fields written, never their values.
The clinical judgement is the library's (`clinical.eligibility.screen`) under the policy in force at the
patient's location; the action stores it as it was made.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.clinical import eligibility
from ketaclinic.clinical.common import Level
from ketaclinic.clinical.policy import policy_to_json
from ketaclinic.clinical.rules import RULESET_VERSION
from ketaclinic.clinicpolicy.queries import policy_for
from ketaclinic.errors import InvalidInput, Refused
from ketaclinic.patients.models import Patient
from ketaclinic.screening import inputs
from ketaclinic.screening.facts import current_facts, fingerprint
from ketaclinic.screening.models import Acknowledgement, RemsEnrolment, Screening
from ketaclinic.screening.queries import is_stale


def _refuse_if_entered_in_error(patient: Patient) -> None:
    if patient.entered_in_error_at:
        raise Refused("This registration was entered in error", ["Nothing more is recorded on it."])


def _trd_json(a: Any) -> dict[str, Any]:
    return {
        "adequate_failures": a.adequate_failures,
        "current_episode_failures": a.current_episode_failures,
        "is_trd": a.is_trd,
        "mgh_score": str(a.mgh_score),
        "maudsley_score": a.maudsley_score,
        "maudsley_band": a.maudsley_band,
        "maudsley_missing": list(a.maudsley_missing),
    }


@transaction.atomic
def do_run_screening(
    patient: Patient, data: inputs.ScreeningIn, *, actor: Any, origin: Origin = SYSTEM
) -> Screening:
    """Screen the patient's chart as it stands for one modality and keep the result."""
    _refuse_if_entered_in_error(patient)
    facts = current_facts(patient)
    policy = policy_for(patient.location)
    result = eligibility.screen(facts, data.modality, policy)
    screening = Screening.objects.create(
        patient=patient,
        location_id=patient.location_id,
        modality=data.modality,
        decision=result.decision.value,
        findings=[
            {"rule_id": f.rule_id, "level": f.level.value, "message": f.message, "sources": list(f.sources)}
            for f in result.findings
        ],
        trd=_trd_json(result.trd),
        ruleset_version=RULESET_VERSION,
        policy=policy_to_json(policy),
        facts_fingerprint=fingerprint(facts),
        created_at=timezone.now(),
        created_by=actor,
    )
    record(
        Action.SCREENING_RUN,
        actor=actor,
        origin=origin,
        obj=screening,
        patient=patient,
        changed_fields=["modality", "decision", "findings", "trd", "ruleset_version", "policy"],
    )
    return screening


@transaction.atomic
def do_acknowledge(
    screening: Screening, data: inputs.AcknowledgementIn, *, actor: Any, origin: Origin = SYSTEM
) -> Acknowledgement:
    """A prescriber's written acknowledgement of one finding that needs it.

    A contraindication cannot be acknowledged away (Refused); a rule that is not a finding of this screening,
    or one that needs no acknowledgement, is bad input naming rule_id. A finding is acknowledged once: a
    second acknowledgement is refused, so the first reason is never overwritten. A screening the chart has
    moved on from is refused too: screen again, then acknowledge what the new screening finds.
    """
    Screening.objects.select_for_update().filter(pk=screening.pk).exists()  # one acknowledger at a time
    patient = screening.patient
    _refuse_if_entered_in_error(patient)
    finding = next((f for f in screening.findings if f.get("rule_id") == data.rule_id), None)
    if finding is None:
        raise InvalidInput({"rule_id": f"'{data.rule_id}' is not a finding of this screening"})
    if finding["level"] == Level.CONTRAINDICATED:
        raise Refused(
            "A contraindication cannot be acknowledged",
            [f"{finding['message']} ({data.rule_id}): the patient is ineligible for this modality."],
            field="rule_id",
        )
    if finding["level"] != Level.ACKNOWLEDGE:
        raise InvalidInput(
            {"rule_id": f"'{data.rule_id}' is shown for information and needs no acknowledgement"}
        )
    earlier = Acknowledgement.objects.filter(screening=screening, rule_id=data.rule_id).first()
    if earlier is not None:
        raise Refused(
            "This finding is already acknowledged",
            [f"Acknowledged on {earlier.created_at:%Y-%m-%d %H:%M} UTC; the first reason stands."],
            field="rule_id",
        )
    if is_stale(screening):
        raise Refused(
            "This screening is out of date",
            ["The chart has changed since it ran: screen again, then acknowledge the new findings."],
        )
    ack = Acknowledgement.objects.create(
        screening=screening,
        rule_id=data.rule_id,
        reason=data.reason,
        created_at=timezone.now(),
        created_by=actor,
    )
    record(
        Action.SCREENING_ACKNOWLEDGE,
        actor=actor,
        origin=origin,
        obj=ack,
        patient=patient,
        changed_fields=["rule_id", "reason"],
    )
    return ack


@transaction.atomic
def do_record_rems_enrolment(
    patient: Patient, data: inputs.RemsEnrolmentIn, *, actor: Any, origin: Origin = SYSTEM
) -> RemsEnrolment:
    """Record the patient's Spravato REMS enrolment; a later record (a correction) is the one in force."""
    _refuse_if_entered_in_error(patient)
    enrolment = RemsEnrolment.objects.create(
        patient=patient,
        enrolled_on=data.enrolled_on,
        rems_patient_id=data.rems_patient_id,
        created_at=timezone.now(),
        created_by=actor,
    )
    record(
        Action.REMS_ENROL,
        actor=actor,
        origin=origin,
        obj=enrolment,
        patient=patient,
        changed_fields=["enrolled_on", "rems_patient_id"],
    )
    return enrolment
