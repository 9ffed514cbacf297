"""Every write of consent: publish a document's new version, record a signed and witnessed consent.

Each do_* runs in one transaction and leaves one audit row naming the fields written, never their values.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.actions import record
from ketaclinic.audit.context import SYSTEM, Origin
from ketaclinic.audit.models import Action
from ketaclinic.consent import inputs
from ketaclinic.consent.models import Consent, ConsentDocument
from ketaclinic.consent.queries import current_document
from ketaclinic.errors import InvalidInput, Refused
from ketaclinic.patients.models import Patient


def name_words(name: str) -> list[str]:
    """A name as compared with the one on file: accents dropped, case folded, split into words on spaces,
    hyphens and apostrophes ("Zoë  O'Brien-Hale" -> ["zoe", "o", "brien", "hale"])."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    for mark in "-'’.,":
        plain = plain.replace(mark, " ")
    return plain.casefold().split()


def name_matches(signed: str, patient: Patient) -> bool:
    """Whether the typed name is the patient's name on file: the given name's words first and the family
    name's words last, any middle names between, ignoring case, accents and spacing."""
    typed, given, family = name_words(signed), name_words(patient.given_name), name_words(patient.family_name)
    if len(typed) < len(given) + len(family):
        return False
    return typed[: len(given)] == given and typed[len(typed) - len(family) :] == family


@transaction.atomic
def do_publish_document(
    location: ClinicLocation, data: inputs.DocumentIn, *, actor: Any, origin: Origin = SYSTEM
) -> ConsentDocument:
    """Publish the next version of the location's document for a modality; earlier versions are kept.
    Patients who signed an earlier version must sign again before a new plan is approved."""
    ClinicLocation.objects.select_for_update().filter(pk=location.pk).exists()  # one publisher at a time
    latest = ConsentDocument.objects.filter(location=location, modality=data.modality).aggregate(
        v=Max("version")
    )["v"]
    try:
        with transaction.atomic():
            document = ConsentDocument.objects.create(
                location=location,
                modality=data.modality,
                version=(latest or 0) + 1,
                title=data.title,
                body=data.body,
                created_at=timezone.now(),
                created_by=actor,
            )
    except IntegrityError as exc:  # another admin published the same version a moment earlier
        raise Refused("Another version was just published", ["Reload and publish again."]) from exc
    record(
        Action.CONSENT_DOCUMENT_PUBLISH,
        actor=actor,
        origin=origin,
        obj=document,
        location_id=location.pk,
        changed_fields=["modality", "version", "title", "body"],
    )
    return document


@transaction.atomic
def do_sign_consent(
    patient: Patient, data: inputs.ConsentIn, *, actor: Any, origin: Origin = SYSTEM
) -> Consent:
    """The patient's signature on the current version of a document of their location, witnessed by the
    signed-in staff member (the actor)."""
    if patient.entered_in_error_at:
        raise Refused("This registration was entered in error", ["Nothing more is recorded on it."])
    document = ConsentDocument.objects.filter(pk=data.document_id, location_id=patient.location_id).first()
    if document is None:
        raise InvalidInput({"document_id": "no consent document with this id at the patient's location"})
    current = current_document(patient.location_id, document.modality)
    if current is not None and current.pk != document.pk:
        raise InvalidInput(
            {"document_id": f"version {document.version} is not current; sign version {current.version}"}
        )
    if not name_matches(data.signed_name, patient):
        raise InvalidInput({"signed_name": "the typed name must be the patient's full name as on file"})
    consent = Consent.objects.create(
        patient=patient,
        document=document,
        signed_name=data.signed_name,
        signature_png=inputs.signature_bytes(data.signature_png) if data.signature_png else None,
        signed_at=timezone.now(),
        witnessed_by=actor,
    )
    record(
        Action.CONSENT_SIGN,
        actor=actor,
        origin=origin,
        obj=consent,
        patient=patient,
        changed_fields=["document_id", "signed_name"] + (["signature_png"] if data.signature_png else []),
    )
    return consent
