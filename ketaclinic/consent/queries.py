"""Reads of consent documents and signed consents, and the consent gate of a treatment plan's approval."""

from __future__ import annotations

from ketaclinic.clinical.common import parse_modality
from ketaclinic.consent.models import Consent, ConsentDocument
from ketaclinic.patients.models import Patient
from ketaclinic.patients.picture import MODALITY_LABELS


def current_document(location_id: int, modality: str) -> ConsentDocument | None:
    """The version in force of a location's consent document for a modality (the highest), or None."""
    return (
        ConsentDocument.objects.filter(location_id=location_id, modality=modality)
        .order_by("-version")
        .first()
    )


def current_documents(location_ids: list[int], modality: str | None = None) -> list[ConsentDocument]:
    """The current version of every document of these locations (optionally one modality)."""
    rows = ConsentDocument.objects.filter(location_id__in=location_ids)
    if modality:
        rows = rows.filter(modality=modality)
    latest: dict[tuple[int, str], ConsentDocument] = {}
    for d in rows.order_by("location_id", "modality", "-version"):
        latest.setdefault((d.location_id, d.modality), d)
    return list(latest.values())


def latest_consent(patient: Patient, modality: str) -> Consent | None:
    return (
        Consent.objects.filter(patient=patient, document__modality=modality)
        .select_related("document")
        .order_by("-signed_at", "-id")
        .first()
    )


def consent_blockers(patient: Patient, modality: str) -> list[str]:
    """Every reason the patient lacks consent to the current version for the modality; empty if current."""
    try:
        kind = parse_modality(modality)
    except ValueError as exc:
        return [str(exc)]
    label = MODALITY_LABELS[kind]
    document = current_document(patient.location_id, kind.value)
    if document is None:
        return [f"This location has no consent document for {label}: a clinic admin publishes one first."]
    signed = (
        Consent.objects.filter(
            patient=patient, document__modality=kind.value, document__location_id=patient.location_id
        )
        .order_by("-document__version")
        .values_list("document__version", flat=True)
        .first()
    )
    if signed is None:
        return [f"No signed consent for {label}: the patient signs version {document.version} first."]
    if signed != document.version:
        return [
            f"Consent for {label} was signed to version {signed}; the current version is "
            f"{document.version}: the patient signs it again."
        ]
    return []


def consent_is_current(patient: Patient, modality: str) -> bool:
    """Whether the patient has signed the current version of their location's document for the modality."""
    return not consent_blockers(patient, modality)
