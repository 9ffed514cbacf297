"""What staff and patients send to the portal's writes, each check naming its field."""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import Field, field_validator

from ketaclinic.clinical.common import Modality
from ketaclinic.patients.inputs import Strict
from ketaclinic.portal.models import EMAIL_MAX, PREPARATION_TEXT_MAX

PASSWORD_MAX = 200
# The modalities whose preparation the clinic words itself (the reference gives no verified facts).
CLINIC_WORDED = frozenset({Modality.IV_KETAMINE.value, Modality.IM_KETAMINE.value})


class InviteIn(Strict):
    """Staff invite a patient to the portal: the e-mail address the patient will sign in with."""

    email: Annotated[str, Field(max_length=EMAIL_MAX)]
    # Whether to e-mail the link (through Django's e-mail backend) besides showing it to staff.
    send_email: bool = False

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        try:
            validate_email(value)
        except DjangoValidationError as exc:
            raise ValueError("enter a valid e-mail address") from exc
        return value


class PasswordIn(Strict):
    """The password a patient sets from an invitation, typed twice."""

    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]
    password_again: Annotated[str, Field(max_length=PASSWORD_MAX)]


def email_key(email: str) -> str:
    return email.strip().casefold()


class PreparationIn(Strict):
    """A location's preparation instructions for one modality the clinic words itself (IV, IM ketamine)."""

    modality: str
    text: Annotated[str, Field(min_length=1, max_length=PREPARATION_TEXT_MAX)]
    # The version the admin saw (0 when there was none yet): a stale edit is refused.
    version: int = 0

    @field_validator("modality")
    @classmethod
    def _modality(cls, value: str) -> str:
        if value not in CLINIC_WORDED:
            raise ValueError(f"expected one of: {', '.join(sorted(CLINIC_WORDED))}")
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("enter the instructions")
        return value
