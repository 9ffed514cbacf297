"""What a client may send to Spravato REMS, validated once for pages and API alike."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, StrictInt, field_validator

from ketaclinic.patients.inputs import Moment, Strict, Text


class RemsSettingIn(Strict):
    """A location's certified-setting details. `version` is the one last read (0 when there is none yet)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "location": "north",
                    "version": 1,
                    "setting_name": "North Clinic",
                    "address": "1 Harbour Way, Springfield",
                    "certification_id": "SPR-N-0001",
                    "authorised_representative": "Dr Avery Stone",
                    "hcp_name": "Noah Nurse",
                    "hcp_phone": "555-0100",
                    "hcp_email": "monitoring@example.org",
                }
            ]
        }
    )

    location: Annotated[str, Text(40, required=True)] = Field(description="The location's slug")
    version: StrictInt = Field(ge=0, le=2_000_000_000, description="The version last read; 0 for a new one")
    setting_name: Annotated[str, Text(120, required=True)]
    address: Annotated[str, Text(250, required=True)]
    certification_id: Annotated[str, Text(60, required=True)]
    authorised_representative: Annotated[str, Text(120, required=True)]
    hcp_name: Annotated[str, Text(120)] = ""
    hcp_phone: Annotated[str, Text(30)] = ""
    hcp_email: Annotated[str, Text(254)] = ""
    asks_sedation: StrictBool = True
    asks_dissociation: StrictBool = True
    asks_respiratory_depression: StrictBool = True

    @field_validator("hcp_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and ("@" not in value or value.startswith("@") or value.endswith("@") or " " in value):
            raise ValueError("enter a valid e-mail address")
        return value


class SubmissionIn(Strict):
    """The form's submission as made to the REMS (online or by fax)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"submitted_at": "2026-11-20T15:30:00-08:00", "confirmation_number": "RMS-20261120-0042"}
            ]
        }
    )

    submitted_at: Moment = Field(description="When it was submitted, ISO 8601 with offset")
    confirmation_number: Annotated[str, Text(60, required=True)] = Field(
        description="The confirmation the REMS gave (or the fax's transmission reference)"
    )
