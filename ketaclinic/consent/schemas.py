"""What the consent API answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ketaclinic.consent.models import Consent, ConsentDocument
from ketaclinic.patients.schemas import Out


class DocumentOut(Out):
    id: int
    modality: str
    version: int
    title: str
    location: str


class ConsentOut(Out):
    id: int
    document_id: int
    version: int
    signed_at: dt.datetime
    # The witness: the staff member signed in when the consent was recorded (their username).
    witnessed_by: str
    witness_name: str
    signed_name: str
    has_signature: bool


def document_out(d: ConsentDocument, location_slug: str) -> dict[str, Any]:
    return DocumentOut(
        id=d.pk, modality=d.modality, version=d.version, title=d.title, location=location_slug
    ).model_dump(mode="json")


def consent_out(c: Consent) -> dict[str, Any]:
    witness = c.witnessed_by
    return ConsentOut(
        id=c.pk,
        document_id=c.document_id,
        version=c.document.version,
        signed_at=c.signed_at,
        witnessed_by=witness.username,
        witness_name=witness.get_full_name() or witness.username,
        signed_name=c.signed_name,
        has_signature=c.signature_png is not None,
    ).model_dump(mode="json")
