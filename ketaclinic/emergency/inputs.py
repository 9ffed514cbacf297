"""What a clinician sends to open emergency access, and what an admin sends to review it.

Pages validate through these models (pydantic, unknown fields refused); each message names its field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.conf import settings
from pydantic import Field, StringConstraints, field_validator, model_validator

from ketaclinic.emergency.models import NOTE_MAX_CHARS, REASON_MAX_CHARS
from ketaclinic.patients.inputs import Strict

# The MRN KetaClinic assigns ("KC-000123"); typed in any case, with or without the prefix and zeros.
Mrn = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=20, pattern=r"^((?i:kc)-?)?\d{1,9}$|^$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class EmergencyAccessIn(Strict):
    """The patient, by MRN or by exact name and date of birth, and why their chart is needed now."""

    mrn: Mrn = ""
    given_name: Name = ""
    family_name: Name = ""
    date_of_birth: dt.date | None = None
    reason: str = Field(max_length=REASON_MAX_CHARS)
    confirm: bool = False

    @field_validator("given_name", "family_name")
    @classmethod
    def _names(cls, value: str) -> str:
        return _no_nul(value)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        value = _no_nul(" ".join(value.split()))
        shortest = settings.KETACLINIC_BREAK_GLASS_REASON_MIN_CHARS
        if len(value) < shortest:
            raise ValueError(f"write the reason in at least {shortest} characters")
        return value

    @field_validator("confirm")
    @classmethod
    def _confirmed(cls, value: bool) -> bool:
        if not value:
            raise ValueError("confirm that this is an emergency")
        return value

    @model_validator(mode="after")
    def _one_way_to_find(self) -> EmergencyAccessIn:
        by_name = self.given_name or self.family_name or self.date_of_birth
        if self.mrn and by_name:
            raise ValueError("mrn: enter either the MRN or the name and date of birth, not both")
        if not self.mrn:
            for field in ("family_name", "given_name", "date_of_birth"):
                if not getattr(self, field):
                    raise ValueError(f"{field}: enter the MRN, or the full name and date of birth")
        return self

    @property
    def mrn_number(self) -> int | None:
        """The MRN's number ("kc-123" and "000123" are both 123), None when the patient is found by name."""
        return int(self.mrn.upper().removeprefix("KC").lstrip("-")) if self.mrn else None

    @property
    def identified_by(self) -> list[str]:
        """The fields the patient was looked up by, for the audit row (names only, never the values)."""
        return ["mrn"] if self.mrn else ["family_name", "given_name", "date_of_birth"]


class ReviewIn(Strict):
    note: str = Field(default="", max_length=NOTE_MAX_CHARS)

    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        return _no_nul(value.strip())
