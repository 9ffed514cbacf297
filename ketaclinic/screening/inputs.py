"""What a client sends to run a screening, acknowledge a finding and record a REMS enrolment."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import ConfigDict, field_validator

from ketaclinic.clinical.common import Modality
from ketaclinic.patients.inputs import PastDate, Strict, Text, one_of

MODALITIES = [m.value for m in Modality]
RULE_ID = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")


def known_modality(value: str) -> str:
    if value not in MODALITIES:
        raise ValueError(f"'{value}' is not a modality; expected one of: {', '.join(MODALITIES)}")
    return value


class ScreeningIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"modality": "esketamine_nasal"}]})
    modality: Annotated[str, one_of(MODALITIES)]

    @field_validator("modality")
    @classmethod
    def _known(cls, value: str) -> str:
        return known_modality(value)


class AcknowledgementIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rule_id": "ELIG-ESK-ACK-PSYCHOSIS",
                    "reason": "Discussed with the patient's psychiatrist; benefit outweighs the risk.",
                }
            ]
        }
    )
    rule_id: Annotated[str, Text(60, required=True)]
    reason: Annotated[str, Text(2000, required=True)]


class RemsEnrolmentIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"enrolled_on": "2026-11-02", "rems_patient_id": "SPR-1234567"}]}
    )
    enrolled_on: PastDate
    rems_patient_id: Annotated[str, Text(40, required=True)]
