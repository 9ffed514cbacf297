"""What a client sends to publish a consent document's new version and to record a signed consent."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from pydantic import ConfigDict, StrictInt, field_validator

from ketaclinic.clinical.common import Modality
from ketaclinic.patients.inputs import Strict, Text, one_of

MODALITIES = [m.value for m in Modality]
MODALITIES = [m.value for m in Modality]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"
# A signature drawn on a tablet canvas is a few tens of kilobytes; this bounds what a client may store.
SIGNATURE_MAX_BYTES = 200_000
SIGNATURE_MAX_CHARS = len(DATA_URL_PREFIX) + (SIGNATURE_MAX_BYTES + 2) // 3 * 4


def signature_bytes(value: str) -> bytes:
    """The PNG bytes of a `data:image/png;base64,...` URL; ValueError names what is wrong."""
    if not value.startswith(DATA_URL_PREFIX):
        raise ValueError("must be a data URL starting with data:image/png;base64,")
    try:
        raw = base64.b64decode(value[len(DATA_URL_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not valid base64") from None
    if len(raw) > SIGNATURE_MAX_BYTES:
        raise ValueError(f"is larger than {SIGNATURE_MAX_BYTES // 1000} kB")
    if not raw.startswith(PNG_MAGIC):
        raise ValueError("is not a PNG image")
    return raw


class DocumentIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "modality": "iv_ketamine",
                    "title": "Consent to IV ketamine",
                    "body": "What the treatment is...",
                }
            ]
        }
    )
    modality: Annotated[str, one_of(MODALITIES)]
    title: Annotated[str, Text(200, required=True)]
    body: Annotated[str, Text(20000, required=True)]

    @field_validator("modality")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in MODALITIES:
            raise ValueError(f"'{value}' is not a modality; expected one of: {', '.join(MODALITIES)}")
        return value


class ConsentIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"document_id": 1, "signed_name": "Jordan Avery Smith"}]}
    )
    document_id: StrictInt
    signed_name: Annotated[str, Text(160, required=True)]
    signature_png: Annotated[str, Text(SIGNATURE_MAX_CHARS)] | None = None

    @field_validator("signature_png")
    @classmethod
    def _png(cls, value: str | None) -> str | None:
        if value:
            signature_bytes(value)
        return value or None
