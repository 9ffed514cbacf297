"""What the clinic-policy API returns (the shapes of `patients.schemas`, which sits above this app)."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ketaclinic.clinical.policy import PolicyBasis

T = TypeVar("T")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(Out):
    """Every error answer under /api/: what happened, and for a refused value, a message per field."""

    detail: str
    errors: dict[str, str] | None = None


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    return dict.fromkeys(sorted(statuses), ErrorOut)


ANY_OPERATION = (401, 403, 422, 429, 500)
NOT_FOUND = 404
WITH_BODY = (400, 413)
PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX = 25, 100
PAGE_OFFSET_MAX = 2**31 - 1
Limit = Annotated[int, Field(ge=1, le=PAGE_LIMIT_MAX, description="How many to return (1-100)")]
Offset = Annotated[int, Field(ge=0, le=PAGE_OFFSET_MAX, description="How many to skip")]


class Page(Out, Generic[T]):
    count: int = Field(description="How many there are in all")
    limit: int
    offset: int
    items: list[T]


class PolicyFieldOut(Out):
    name: str
    value: Any = Field(description="In force at the location, in the JSON shape of `values`")
    default: Any = Field(description="The documented default")
    overridden: bool = Field(description="The location set its own value")
    basis: PolicyBasis = Field(
        description="unverified: a clinic-policy default to confirm locally; sources_differ; "
        "verified_default; clinic_choice"
    )
    description: str
    sources: list[str] = Field(description="Source tags of the clinical reference")


class PolicyOut(Out):
    location: int
    time_zone: str
    version: int = Field(description="Changes so far; the ETag, sent back as If-Match to change the policy")
    values: dict[str, Any] = Field(description="Every value in force, by field name")
    defaults: dict[str, Any] = Field(description="Every documented default, by field name")
    overrides: dict[str, Any] = Field(description="The values the location set apart from the defaults")
    fields: list[PolicyFieldOut]


class ChairOut(Out):
    id: int
    name: str
    kind: str
    active: bool
    version: int = Field(description="The ETag of the chair, sent back as If-Match to change it")


ChairPage = Page[ChairOut]
