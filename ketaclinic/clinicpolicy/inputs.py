"""What a client may send to change a location's policy or its chairs, validated once for pages and API.

The rules are those of `patients.inputs` (unknown fields refused, every message naming its field, NUL and
lone surrogates refused as text); clinic policy sits below patients in the layers, so it states them here.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool, StringConstraints, field_validator

from ketaclinic.clinicpolicy.models import CHAIR_NAME_MAX, REASON_MAX, ChairKind

SPACE = " \t\n\r\f\v"
# Something besides spaces, and no NUL: as the OpenAPI document of patients.inputs says it.
SOME_TEXT = r"^[^\x00]*[^\x00 \t\n\r\f\v][^\x00]*$"


def refuse_unsafe_text(value: object) -> object:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if any("\ud800" <= char <= "\udfff" for char in value):
            raise ValueError("contains a character that is not valid text")
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _safe_text(cls, value: object) -> object:
        return refuse_unsafe_text(value)


def _required(value: str) -> str:
    if not value.strip(SPACE):
        raise ValueError("this field is required")
    return value.strip(SPACE)


Reason = Annotated[str, StringConstraints(max_length=REASON_MAX, pattern=SOME_TEXT)]
ChairName = Annotated[str, StringConstraints(max_length=CHAIR_NAME_MAX, pattern=SOME_TEXT)]


class PolicyChangeIn(Strict):
    """Set some values, reset others to their default, and/or change the time zone, with the reason."""

    values: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Policy values to set, by field name, in the shape GET answers (decimals as strings, "
        'blood pressures as {"systolic", "diastolic"}, condition codes as a list; null: not set, where '
        "the field allows it)",
    )
    reset: list[Annotated[str, StringConstraints(max_length=60)]] = Field(
        default_factory=list, max_length=100, description="Fields to put back to their documented default"
    )
    time_zone: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="The location's IANA time zone, e.g. America/New_York"
    )
    reason: Reason = Field(description="Why the clinic changes these values (kept with the change)")

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _required(value)

    @field_validator("values")
    @classmethod
    def _texts(cls, value: dict[str, Any]) -> dict[str, Any]:
        for raw in value.values():
            for text in raw if isinstance(raw, list) else [raw]:
                refuse_unsafe_text(text)
        return value


class ChairIn(Strict):
    name: ChairName = Field(description="What staff call it, unique at the location")
    kind: ChairKind = ChairKind.CHAIR

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _required(value)


class ChairChangeIn(Strict):
    """Rename a chair or room, and/or retire it (`"active": false`); a retired one is never deleted."""

    name: ChairName | None = None
    active: StrictBool | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _required(value)
