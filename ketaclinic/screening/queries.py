"""Reads of screenings and REMS enrolment, and the gate a treatment plan's approval asks.

`approval_blockers(patient, modality)` is what treatment calls before approving a plan: every reason, in
plain words, why the patient's screening for that modality does not yet allow it. An empty list means the
screening side of approval is satisfied (consent is `consent.queries.consent_blockers`).
"""

from __future__ import annotations

from collections.abc import Iterable

from ketaclinic.clinical.common import Level, Modality, parse_modality
from ketaclinic.patients.models import Patient
from ketaclinic.patients.picture import MODALITY_LABELS
from ketaclinic.screening.facts import current_facts, fingerprint
from ketaclinic.screening.models import Acknowledgement, RemsEnrolment, Screening


def latest_screening(patient: Patient, modality: str) -> Screening | None:
    return Screening.objects.filter(patient=patient, modality=modality).order_by("-created_at", "-id").first()


def latest_screenings(patient: Patient) -> dict[str, Screening]:
    """The latest screening of each modality the patient was screened for (one query)."""
    latest: dict[str, Screening] = {}
    for s in Screening.objects.filter(patient=patient).order_by("modality", "-created_at", "-id"):
        latest.setdefault(s.modality, s)
    return latest


def is_stale(screening: Screening, current_fingerprint: str | None = None) -> bool:
    """Whether the chart facts the screening read have changed since it ran."""
    if current_fingerprint is None:
        current_fingerprint = fingerprint(current_facts(screening.patient))
    return screening.facts_fingerprint != current_fingerprint


def acknowledged_rules(screening: Screening) -> frozenset[str]:
    return frozenset(Acknowledgement.objects.filter(screening=screening).values_list("rule_id", flat=True))


def findings_at(screening: Screening, level: Level) -> list[dict[str, object]]:
    return [f for f in screening.findings if f.get("level") == level.value]


def open_acknowledgements(
    screening: Screening, acknowledged: Iterable[str] | None = None
) -> list[dict[str, object]]:
    """The findings that need a prescriber's acknowledgement and have none yet."""
    done = frozenset(acknowledged) if acknowledged is not None else acknowledged_rules(screening)
    return [f for f in findings_at(screening, Level.ACKNOWLEDGE) if f["rule_id"] not in done]


def rems_enrolment(patient: Patient) -> RemsEnrolment | None:
    """The patient's Spravato REMS enrolment in force (the latest recorded), or None."""
    return RemsEnrolment.objects.filter(patient=patient).order_by("-created_at", "-id").first()


def approval_blockers(patient: Patient, modality: str) -> list[str]:
    """Every reason the screening side of a plan's approval is refused; empty when nothing blocks.

    Reasons: no screening for the modality; the screening is stale (the chart changed since); each
    contraindication; each finding still to acknowledge; esketamine without a REMS enrolment recorded.
    """
    try:
        kind = parse_modality(modality)
    except ValueError as exc:
        return [str(exc)]
    label = MODALITY_LABELS[kind]
    reasons: list[str] = []
    screening = latest_screening(patient, kind.value)
    if screening is None:
        reasons.append(f"No screening for {label}: run one from the chart.")
    else:
        if is_stale(screening):
            reasons.append(
                f"The {label} screening is out of date: the chart has changed since it ran. Screen again."
            )
        for f in findings_at(screening, Level.CONTRAINDICATED):
            reasons.append(f"Contraindicated for {label}: {f['message']} ({f['rule_id']})")
        for f in open_acknowledgements(screening):
            reasons.append(f"Not yet acknowledged by a prescriber: {f['message']} ({f['rule_id']})")
    if kind is Modality.ESKETAMINE_NASAL and rems_enrolment(patient) is None:
        reasons.append(
            "No Spravato REMS patient enrolment recorded: enrol the patient before the first session."
        )
    return reasons
